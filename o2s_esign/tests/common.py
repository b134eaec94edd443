# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared set-up for o2s_esign's Odoo tests: users per group, clients, a tiny PDF."""
import base64
import io
from datetime import timedelta

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from odoo import fields
from odoo.tests import TransactionCase, new_test_user


def make_pdf(text="Document à signer", pages=1):
    """A small valid PDF made with reportlab (bytes)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    for number in range(pages):
        pdf.drawString(72, 760, "%s — page %d" % (text, number + 1))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class O2sEsignCommon(TransactionCase):
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
        cls.advisor = new_test_user(
            cls.env, login="esign_advisor", name="Alice Advisor", email="alice@advisor.example.com",
            groups="base.group_user,base.group_partner_manager,o2s_esign.group_esign_user")
        cls.advisor2 = new_test_user(
            cls.env, login="esign_advisor2", name="Bob Advisor", email="bob@advisor.example.com",
            groups="base.group_user,base.group_partner_manager,o2s_esign.group_esign_user")
        cls.esign_manager = new_test_user(
            cls.env, login="esign_manager", name="Mona Manager", email="mona@advisor.example.com",
            groups="base.group_user,base.group_partner_manager,o2s_esign.group_esign_manager")
        cls.plain_user = new_test_user(
            cls.env, login="esign_nobody", name="Nora Nobody", email="nora@advisor.example.com",
            groups="base.group_user,base.group_partner_manager")
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
