# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Found by reading the models as an attacker would use them (session 4 review): a signing
link readable in the signer's messages, draft lines moved into a sent request, and the files
of other models' binary fields listed to users outside the E-signature group."""
import base64
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import O2sEsignCommon, XmlRpcMixin, esign_user, make_pdf

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@tagged("post_install", "-at_install")
class TestEsignReviewMends(O2sEsignCommon):

    def test_signing_link_only_in_the_outgoing_mail(self):
        request = self._sent_request()
        signer = request.signer_ids
        token = signer.sudo()._get_signing_token()
        messages = self.env["mail.message"].with_user(self.advisor).search_read(
            [("model", "=", "o2s.esign.signer"), ("res_id", "=", signer.id)], ["body"])
        self.assertTrue(messages, "the advisor sees the signer's mail in its chatter")
        for message in messages:
            self.assertNotIn(token, message["body"] or "")
        mails = self.env["mail.mail"].sudo().search(
            [("model", "=", "o2s.esign.signer"), ("res_id", "=", signer.id)])
        self.assertTrue(mails)
        self.assertIn(token, mails[0].body_html, "kept to be sent (and sent again)")

    def test_draft_lines_cannot_move_into_a_sent_request(self):
        sent = self._sent_request()
        draft = self._draft_request(partner=self.client2)
        with self.assertRaisesRegex(UserError, "once it is sent"):
            draft.signer_ids.with_user(self.advisor).write({"request_id": sent.id})
        with self.assertRaisesRegex(UserError, "once it is sent"):
            draft.document_ids.with_user(self.advisor).write({"request_id": sent.id})
        self.assertEqual(len(sent.signer_ids), 1)
        self.assertEqual(len(sent.document_ids), 1)

    def test_open_request_keeps_an_expiry_date(self):
        request = self._sent_request()
        deadline = request.date_deadline
        self.assertTrue(deadline)
        with self.assertRaisesRegex(UserError, "keeps an expiry date"):
            request.with_user(self.advisor).write({"date_deadline": False})
        self.assertEqual(request.date_deadline, deadline)
        later = fields.Date.add(deadline, days=7)
        request.with_user(self.advisor).write({"date_deadline": later})
        self.assertEqual(request.date_deadline, later)

    def test_field_files_stay_out_of_searches(self):
        """A user outside the E-signature group does not list the files of binary fields
        (a contact's avatar here), as Odoo never lists them."""
        partner = self.env["res.partner"].create({"name": "Avatar", "image_1920": base64.b64encode(PNG)})
        field_files = self.env["ir.attachment"].sudo().search([
            ("res_model", "=", "res.partner"), ("res_id", "=", partner.id),
            ("res_field", "!=", False)])
        self.assertTrue(field_files)
        plain = self.env["ir.attachment"].with_user(self.plain_user)
        found = plain.search([("res_model", "=", "res.partner"), ("res_id", "=", partner.id)])
        self.assertFalse(found & field_files)
        mine = plain.create({"name": "notes.pdf", "raw": make_pdf("notes"),
                             "res_model": "res.partner", "res_id": partner.id})
        self.assertIn(mine, plain.search([("res_model", "=", "res.partner"),
                                          ("res_id", "=", partner.id)]))


@tagged("post_install", "-at_install")
class TestEsignOriginRecordChecked(XmlRpcMixin, HttpCase):
    """The record that asks for a signature is told when the request ends (as the module):
    an advisor cannot name a record they may not change, over RPC as an attacker would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, no_reset_password=True))
        env.company.country_id = env.ref("base.fr")
        cls.advisor = esign_user(env, "origin_advisor", "staff,user", lang="en_US")
        cls.nobody = esign_user(env, "origin_nobody", "staff", lang="en_US")
        cls.client = env["res.partner"].create({
            "name": "Orla Origin", "email": "orla@example.com", "mobile": "+33612340001",
            "country_id": env.ref("base.fr").id, "user_id": cls.advisor.id})
        env["o2s.esign.id.document"].create({
            "partner_id": cls.client.id, "doc_type": "passport", "number": "OR1",
            "date_expiry": fields.Date.today() + timedelta(days=365)})

    def _values(self, **origin):
        return dict({"partner_id": self.client.id, "documents": [
            {"name": "a.pdf", "datas": base64.b64encode(make_pdf("Origin")).decode()}]}, **origin)

    @mute_logger("odoo.http")
    def test_origin_must_be_a_record_the_caller_may_change(self):
        Request = self.env["o2s.esign.request"]
        before = Request.search_count([])
        admin = self.env.ref("base.user_admin")
        fault = self._rpc_fault("origin_advisor", "o2s.esign.request", "create_and_send",
                                self._values(origin_model="res.users", origin_id=admin.id))
        self.assertTrue(fault.startswith("AccessError"), fault)
        fault = self._rpc_fault("origin_advisor", "o2s.esign.request", "create_and_send",
                                self._values(origin_model="res.partner", origin_id=10**9))
        self.assertIn("does not exist", fault)
        self.assertEqual(Request.search_count([]), before)
        # their own client is fine; and a draft's origin cannot be moved to another's record
        request_id = self._rpc("origin_advisor", "o2s.esign.request", "create", {
            "name": "Draft", "partner_id": self.client.id,
            "origin_model": "res.partner", "origin_id": self.client.id})
        fault = self._rpc_fault("origin_advisor", "o2s.esign.request", "write", [request_id],
                                {"origin_model": "res.users", "origin_id": admin.id})
        self.assertTrue(fault.startswith("AccessError"), fault)
        self.assertEqual(Request.browse(request_id).origin_model, "res.partner")

    @mute_logger("odoo.http")
    def test_who_signs_for_a_client_is_set_by_the_esignature_group_only(self):
        """A user outside the E-signature group (who may edit contacts) cannot change who
        signs for a client: the protection, the legal representatives, the company's signer."""
        stranger = self.env["res.partner"].create({"name": "Stranger", "email": "s@example.com"})
        for values in ({"esign_protection": "tutelle"},
                       {"esign_legal_representative_ids": [(6, 0, [stranger.id])]},
                       {"esign_minor_signature": "one"},
                       {"esign_representative_id": stranger.id}):
            with self.subTest(values=values):
                fault = self._rpc_fault("origin_nobody", "res.partner", "write",
                                        [self.client.id], values)
                self.assertTrue(fault.startswith("AccessError"), fault)
        self.assertEqual(self.client.esign_protection, "none")
        self.assertFalse(self.client.esign_legal_representative_ids)
        # their ordinary contact fields stay theirs to edit; the advisor sets the protection
        self._rpc("origin_nobody", "res.partner", "write", [self.client.id], {"phone": "0102"})
        self._rpc("origin_advisor", "res.partner", "write", [self.client.id],
                  {"esign_protection": "curatelle"})
        self.assertEqual(self.client.esign_protection, "curatelle")
