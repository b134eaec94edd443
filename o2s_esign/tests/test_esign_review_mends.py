# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Found by reading the models as an attacker would use them (session 4 review): a signing
link readable in the signer's messages, draft lines moved into a sent request, and the files
of other models' binary fields listed to users outside the E-signature group."""
import base64

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import O2sEsignCommon, make_pdf

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
