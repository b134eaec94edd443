# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 17 in a real browser on a phone, in French: the signer fills and ticks their fields on
the document, draws their signature and signs (tour ``o2s_esign_fields_phone``); the signed PDF
has their signature in the placed box and the values in its fields."""
import subprocess
import tempfile

from odoo.tests import tagged

from .esign_portal_common import BrowserSmsGateway, EsignHttpCommon
from .test_esign_fields_page import field_box
from .test_esign_fields_sign import field_value, widgets
from .test_esign_portal_ui import tour_url


@tagged("post_install", "-at_install")
class TestEsignFieldsPhoneTour(EsignHttpCommon):
    gateway_class = BrowserSmsGateway
    browser_size = "375x667"
    touch_enabled = True

    def test_sign_where_the_document_says_on_a_phone(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.client.lang = "fr_FR"
        draft = self._draft_request()
        signer = draft.signer_ids
        Field = self.env["o2s.esign.field"].with_user(self.advisor)
        signature, lieu, checkbox = Field.create([
            field_box(draft, signer, "signature", x=320, y=60, width=180, height=60),
            field_box(draft, signer, "text", x=72, y=700, width=160, height=24, label="Lieu"),
            field_box(draft, signer, "checkbox", x=300, y=705, width=14, height=14,
                      label="J'accepte"),
        ])
        draft.action_send()
        request = draft.sudo()
        self.start_tour(tour_url(self, signer), "o2s_esign_fields_phone")
        self.env.invalidate_all()
        self.assertEqual(request.signer_ids.state, "signed")
        self.assertEqual(request.state, "signed")
        self.assertEqual(request.signer_ids.signature_type, "drawn")
        self.assertEqual((lieu.sudo().value, checkbox.sudo().value), ("Paris", "1"))
        self.assertTrue(lieu.sudo().date_filled and checkbox.sudo().date_filled)
        self.assertFalse(signature.sudo().value)
        # the signed PDF: the signature in its box on page 1, the values in the fields, no
        # page appended, the signature valid
        document = request.document_ids
        data = document.signed_attachment_id.raw
        page, rect = widgets(data)[request.signer_ids._esign_field_name()]
        self.assertEqual(page, 0)
        for found, expected in zip(rect, [320, 60, 500, 120], strict=True):
            self.assertAlmostEqual(found, expected, delta=1.0)
        self.assertEqual(field_value(data, lieu.sudo().pdf_field_name), "Paris")
        self.assertEqual(field_value(data, checkbox.sudo().pdf_field_name), "/Yes")
        self.assertEqual(document.prepared_page_count or document.page_count, 1)
        with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
            handle.write(data)
            handle.flush()
            out = subprocess.run(["pdfsig", handle.name], capture_output=True, text=True,
                                 check=False).stdout
        self.assertIn("Signature is Valid.", out)
