# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared set-up for o2s_esign's Odoo tests: users per group, clients, a tiny PDF."""
import base64
import io
import xmlrpc.client
from datetime import timedelta
from unittest.mock import patch

from lxml import etree
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from odoo import fields
from odoo.tests import TransactionCase, new_test_user

from ..models import res_company as res_company_module

# Short names ``esign_user`` accepts in its groups, besides full xml ids and o2s_esign's groups.
GROUP_SHORTHANDS = {
    "internal": "base.group_user",
    "staff": "base.group_user,base.group_partner_manager",  # an internal user who manages contacts
}


def esign_user(env, login, groups, **values):
    """A test user made by Odoo's ``new_test_user`` (password = login). ``groups`` is a
    comma-separated list of group xml ids, where ``internal`` and ``staff`` stand for the groups of
    ``GROUP_SHORTHANDS`` and any other name without a dot for o2s_esign's group of that name
    (``"staff,options"``: internal user, contacts, ``o2s_esign.group_esign_options``)."""
    xmlids = []
    for name in groups.split(","):
        name = name.strip()
        if name in GROUP_SHORTHANDS:
            xmlids.append(GROUP_SHORTHANDS[name])
        elif "." in name:
            xmlids.append(name)
        else:
            xmlids.append("o2s_esign.group_esign_%s" % name)
    return new_test_user(env, login=login, groups=",".join(xmlids), **values)


def make_pdf(text="Document à signer", pages=1):
    """A small valid PDF made with reportlab (bytes)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for number in range(pages):
        pdf.drawString(72, 760, "%s — page %d" % (text, number + 1))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class EsignBoardMixin:
    """My Dashboard (board module) and the action of the E-signature block on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.board_view = cls.env.ref("board.board_my_dash_view")
        cls.block_action = cls.env.ref("o2s_esign.o2s_esign_home_board_action")

    def _board_columns(self, user):
        """The action ids (strings) in each column of ``user``'s My Dashboard."""
        arch = self.env["board.board"].with_user(user).get_view(self.board_view.id, "form")["arch"]
        return [[action.get("name") for action in column.iter("action")]
                for column in etree.fromstring(arch).iter("column")]


class XmlRpcMixin:
    """Calls over XML-RPC as a test user, as an attacker or a client application would (for
    HttpCase classes; test users' password is their login)."""

    def _rpc(self, login, model, method, *args):
        """One execute_kw as ``login``."""
        self.env.flush_all()
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, login, login, {})
        self.assertTrue(uid, login)
        try:
            return self.xmlrpc_object.execute_kw(db, uid, login, model, method, list(args))
        finally:
            self.env.invalidate_all()

    def _rpc_fault(self, login, model, method, *args):
        """The error of a call: "UserError: ..." or "AccessError: ..." (from the fault code)."""
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._rpc(login, model, method, *args)
        kind = {2: "UserError", 4: "AccessError"}.get(caught.exception.faultCode, "Fault")
        return "%s: %s" % (kind, caught.exception.faultString)


class EsignSealingMixin:
    """The sealing that follows the last signature runs in a scheduled action triggered after
    the signer's transaction commits (issue 19): tests run it where they expect it done."""

    @classmethod
    def esign_run_sealing(cls):
        """What the triggered sealing scheduled action does (no commit)."""
        return cls.env["o2s.esign.request"].sudo()._cron_seal_requests()


class O2sEsignCommon(EsignSealingMixin, TransactionCase):
    """Users for each group, complete clients, and helpers to build requests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True,
                                       mail_notrack=True, no_reset_password=True))
        cls.company = cls.env.company
        cls.company.write({"country_id": cls.env.ref("base.fr").id})
        # The tests' SMS gateway and timestamp authority listen over http on 127.0.0.1, which
        # the settings refuse unless this system parameter allows it.
        cls.env["ir.config_parameter"].sudo().set_param("o2s_esign.allow_http_localhost", "True")
        # Tests never call the internet: a new company gets no default timestamp authority
        # (it would be FreeTSA), and this one starts without one (B-B, chosen knowingly).
        cls.startClassPatcher(patch.object(res_company_module, "default_tsa_url", return_value=""))
        cls.company.sudo().write({"esign_tsa_url": False, "esign_pades_level": "b_b",
                                  "esign_server_clock_accepted": True})
        cls.advisor = esign_user(cls.env, "esign_advisor", "staff,user", name="Alice Advisor",
                                 email="alice@advisor.example.com")
        cls.advisor2 = esign_user(cls.env, "esign_advisor2", "staff,user", name="Bob Advisor",
                                  email="bob@advisor.example.com")
        cls.esign_manager = esign_user(cls.env, "esign_manager", "staff,manager", name="Mona Manager",
                                       email="mona@advisor.example.com")
        cls.plain_user = esign_user(cls.env, "esign_nobody", "staff", name="Nora Nobody",
                                    email="nora@advisor.example.com")
        cls.client = cls._make_client("Jeanne Martin", "jeanne@example.com", "+33612345678",
                                      salesperson=cls.advisor)
        cls.client2 = cls._make_client("Louis Durand", "louis@example.com", "+33623456789",
                                       salesperson=cls.advisor)

    @classmethod
    def _make_client(cls, name, email, mobile, salesperson=None, with_id=True, **values):
        partner = cls.env["res.partner"].create(dict({
            "name": name, "email": email, "mobile": mobile,
            "country_id": cls.env.ref("base.fr").id,
            "user_id": salesperson.id if salesperson else False,
        }, **values))
        if with_id:
            cls._add_id_document(partner)
        return partner

    # Clients under a legal protection: protection -> name, email, mobile.
    PROTECTED_CLIENTS = {"tutelle": ("Marc Tutelle", "marc@example.com", "+33656789012"),
                         "curatelle": ("Anne Curatelle", "anne@example.com", "+33667890123"),
                         "minor": ("Léo Mineur", "leo@example.com", "+33678901234"),
                         "habilitation_familiale": ("Hélène Habilitée", "helene@example.com", "+33689012345"),
                         "mandat_protection_future": ("Max Mandant", "max@example.com", "+33690123456")}
    #: the supporting document of each protected client (a judgment, a mandate)
    PROTECTION_FILE = b"%PDF-1.4 judgment of the tribunal judiciaire"

    @classmethod
    def _protected_client(cls, protection, representative=None, with_document=True):
        """A client of Alice's under ``protection`` (Marc Tutelle under guardianship, Anne Curatelle
        under curatorship, Léo Mineur a minor...), whose legal representatives are
        ``representative`` (none if not given), with their supporting document unless told."""
        name, email, mobile = cls.PROTECTED_CLIENTS[protection]
        partner = cls._make_client(name, email, mobile, salesperson=cls.advisor, esign_protection=protection)
        if representative:
            partner.esign_legal_representative_ids = representative
        if with_document:
            partner.write({"esign_protection_file": base64.b64encode(cls.PROTECTION_FILE),
                           "esign_protection_file_name": "judgment.pdf",
                           "esign_protection_reference": "TJ Lyon, 12/03/2024, RG 24/00123"})
        return partner

    @classmethod
    def _add_id_document(cls, partner, days_valid=3650):
        return cls.env["o2s.esign.id.document"].create({
            "partner_id": partner.id,
            "doc_type": "id_card",
            "number": "ID%06d" % partner.id,
            "date_expiry": fields.Date.today() + timedelta(days=days_valid),
            "file": base64.b64encode(b"scan of " + partner.name.encode()),
            "file_name": "id.png",
        })

    def _attachment(self, data=None, name="contract.pdf", user=None):
        env = self.env(user=user) if user else self.env
        return env["ir.attachment"].create({
            "name": name, "raw": data if data is not None else make_pdf(name),
            "mimetype": "application/pdf",
        })

    def _draft_request(self, partner=None, user=None, signers=None, documents=1, **values):
        """A draft request for ``partner`` (default: self.client), created as ``user``."""
        user = user or self.advisor
        partner = partner or self.client
        env = self.env(user=user)
        docs = [
            {"name": "doc%d.pdf" % i, "original_attachment_id": self._attachment(
                make_pdf("Document %d" % i), "doc%d.pdf" % i, user=user).id}
            for i in range(documents)
        ]
        signer_vals = signers if signers is not None else partner._esign_default_signers()
        return env["o2s.esign.request"].create(dict({
            "name": "Test request",
            "partner_id": partner.id,
            "document_ids": [fields.Command.create(d) for d in docs],
            "signer_ids": [fields.Command.create(s) for s in signer_vals],
        }, **values))

    def _sent_request(self, **kwargs):
        request = self._draft_request(**kwargs)
        request.action_send()
        return request
