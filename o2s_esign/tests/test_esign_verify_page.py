# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The public verification page (/esign/verify and the QR code's /esign/verify/<token>), and the
evidence download routes."""
import re

from odoo.tests import HttpCase, tagged

from ..controllers import verify as verify_controller
from .common_signing import O2sEsignSigningCommon

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@tagged("post_install", "-at_install")
class TestEsignVerifyPage(O2sEsignSigningCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_t")
        cls.request = cls._send(documents=1)
        cls.document = cls.request.document_ids
        first, second = cls.request.signer_ids.sorted("sequence")
        cls._portal_sign(first)
        cls.intermediate = cls.document.signed_attachment_id.raw
        cls._portal_sign(second)
        cls.final = cls.document.signed_attachment_id.raw

    def setUp(self):
        super().setUp()
        verify_controller.rate_limiter._hits.clear()
        self.addCleanup(verify_controller.rate_limiter._hits.clear)

    def _csrf(self):
        response = self.url_open("/esign/verify")
        self.assertEqual(response.status_code, 200)
        return CSRF_RE.search(response.text).group(1)

    def _upload(self, data, csrf=None):
        return self.url_open("/esign/verify", data={"csrf_token": csrf or self._csrf()},
                             files={"pdf": ("document.pdf", data, "application/pdf")})

    def assertNoPersonalData(self, html):
        for signer in self.request.signer_ids:
            self.assertNotIn(signer.email, html)
            self.assertNotIn(signer.mobile, html)
            self.assertNotIn(signer.id_doc_number, html)
        self.assertNotIn(self.advisor.name, html)

    def test_form(self):
        response = self.url_open("/esign/verify")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Verify a signed document", response.text)
        self.assertIn('type="file" name="pdf"', response.text)

    def test_final_file_is_recognised(self):
        response = self._upload(self.final)
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn("exactly one of the documents", html)
        self.assertIn("It is the final version", html)
        for signer in self.request.signer_ids:
            self.assertIn(signer.name, html)
        self.assertIn("Signed", html)
        self.assertNoPersonalData(html)

    def test_intermediate_and_sent_versions_are_recognised(self):
        html = self._upload(self.intermediate).text
        self.assertIn("exactly one of the documents", html)
        self.assertIn("earlier version", html)
        html = self._upload(self.document.prepared_attachment_id.raw).text
        self.assertIn("the version sent for signature", html)

    def test_modified_or_foreign_file_is_not_recognised(self):
        tampered = bytearray(self.final)
        tampered[len(tampered) // 3] ^= 0x01
        for data in (bytes(tampered), self.final + b"\n", self.document.original_attachment_id.raw):
            response = self._upload(data)
            self.assertEqual(response.status_code, 200)
            self.assertIn("not one of our signed documents", response.text)
            self.assertNotIn(self.request.signer_ids[0].name, response.text)

    def test_post_needs_the_csrf_token(self):
        with self.assertLogs("odoo.http", "WARNING") as logs:
            response = self._upload(self.final, csrf="not-the-token")
        self.assertIn("CSRF validation failed", logs.output[0])
        self.assertEqual(response.status_code, 400)
        self.assertNotIn("exactly one of the documents", response.text)

    def test_rate_and_size_limits(self):
        self.env["ir.config_parameter"].sudo().set_param("o2s_esign.verify_rate_limit", "3")
        csrf = self._csrf()
        codes = [self._upload(b"%PDF-1.7 small", csrf=csrf).status_code for _i in range(4)]
        self.assertEqual(codes, [200, 200, 200, 429])
        verify_controller.rate_limiter._hits.clear()
        self.env["ir.config_parameter"].sudo().set_param("o2s_esign.verify_max_mb", "1")
        response = self._upload(b"%PDF-1.7 " + b"0" * (1024 * 1024 + 10), csrf=csrf)
        self.assertEqual(response.status_code, 413)
        self.assertIn("too large", response.text)

    def test_qr_code_target_shows_status_and_signers(self):
        appearance = self.request.signer_ids[0]._esign_appearance(self.document, self.request.date_sent)
        token = self.document.verification_token
        self.assertEqual(appearance.qr_url, "%s/esign/verify/%s" % (self.request.get_base_url(), token))
        response = self.url_open("/esign/verify/%s" % token)
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn(self.document.name, html)
        self.assertIn("Signed", html)
        for signer in self.request.signer_ids:
            self.assertIn(signer.name, html)
        self.assertIn("signed on", html)
        self.assertNoPersonalData(html)
        for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "short", token + "x" * 80):
            response = self.url_open("/esign/verify/%s" % bad)
            self.assertEqual(response.status_code, 404)
            self.assertNotIn(self.request.signer_ids[0].name, response.text)


@tagged("post_install", "-at_install")
class TestEsignEvidenceDownload(O2sEsignSigningCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_b", tsa=False)
        cls.request = cls._send(documents=1)
        cls._sign_all(cls.request)

    def test_download_routes_check_access(self):
        action = self.request.with_user(self.advisor).action_download_evidence()
        signer = self.request.signer_ids[0]
        signer.with_user(self.advisor).action_download_attestation()
        attestation_url = "/esign/evidence/%d/attestation/%d" % (self.request.id, signer.id)
        # not logged in: to the login page, no file
        response = self.url_open(action["url"], allow_redirects=False)
        self.assertIn(response.status_code, (303, 302))
        self.assertIn("/web/login", response.headers["Location"])
        # an advisor who cannot read the request: not found
        self.authenticate("esign_advisor2", "esign_advisor2")
        self.assertEqual(self.url_open(action["url"]).status_code, 404)
        self.assertEqual(self.url_open(attestation_url).status_code, 404)
        # the advisor of the request gets the very file stored
        self.authenticate("esign_advisor", "esign_advisor")
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, self.request.evidence_attachment_id.raw)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        response = self.url_open(attestation_url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, signer.attestation_attachment_id.raw)
        self.assertEqual(self.url_open(
            "/esign/evidence/%d/attestation/%d" % (self.request.id, 999999)).status_code, 404)
        # each download the advisor made is logged (by the route), none of the refused ones
        events = self.request.event_ids.filtered(lambda e: e.event_type == "evidence_downloaded")
        self.assertEqual(len(events), 1)
        events = self.request.event_ids.filtered(lambda e: e.event_type == "attestation_downloaded")
        self.assertEqual(len(events), 1)
