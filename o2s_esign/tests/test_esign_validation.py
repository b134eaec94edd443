# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 14, items 4 and 5: the validation report of each signed document (validation/ in the
evidence ZIP, a page of evidence.pdf, the public verification page) and the lock the company
seal sets on the final PDF."""
import io
import json
import re
import subprocess
import threading
import zipfile
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from ..controllers import verify as verify_controller
from ..lib import validation_report as lib_validation
from ..lib.errors import EvidenceError
from .common_signing import SUPPORT, O2sEsignSigningCommon  # noqa: F401  (SUPPORT: sys.path)

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_annotation(data):
    """``data`` with a sticky note added in an incremental update (tests/support/pdf_tamper.py,
    on sys.path once common_signing is imported)."""
    import pdf_tamper

    return pdf_tamper.add_annotation(data)


@tagged("post_install", "-at_install")
class TestEsignValidationReport(O2sEsignSigningCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_t")
        cls.request = cls._send(documents=2)
        cls._sign_all(cls.request)
        cls.documents = cls.request.document_ids.sorted(lambda d: (d.sequence, d.id))
        cls.final = cls.documents[0].signed_attachment_id.raw
        with zipfile.ZipFile(io.BytesIO(cls.request.evidence_attachment_id.raw)) as zf:
            cls.entries = {name: zf.read(name) for name in zf.namelist()}

    def setUp(self):
        super().setUp()
        verify_controller.rate_limiter._hits.clear()
        self.addCleanup(verify_controller.rate_limiter._hits.clear)

    # ------------------------------------------------------------------ evidence
    def test_validation_files_in_the_evidence(self):
        self.assertEqual(self.request.state, "signed")
        manifest = json.loads(self.entries["manifest.json"])
        signers = self.request.signer_ids.sorted("sequence")
        for index, document in enumerate(self.documents, start=1):
            path = "validation/%d-doc%d.json" % (index, index - 1)
            self.assertIn(path, manifest["files"], "listed and hashed in the manifest")
            report = json.loads(self.entries[path])
            self.assertEqual(report["format"], lib_validation.FORMAT)
            self.assertEqual(report["sha256"], document.signed_sha256)
            signatures = report["signatures"]
            self.assertEqual([s["signer_name"] for s in signatures[:2]], signers.mapped("name"))
            self.assertTrue(signatures[2]["signer_name"].endswith("Electronic Seal"))
            for signature in signatures:
                self.assertEqual((signature["indication"], signature["sub_indication"],
                                  signature["process"], signature["covers_document"]),
                                 (lib_validation.PASSED, None, "with_time", True), signature)
                self.assertTrue(signature["timestamp_time"])
            self.assertNotIn(signers[0].email, self.entries[path].decode())

    def test_validation_page_of_the_evidence_report(self):
        text = subprocess.run(["pdftotext", "-", "-"], input=self.entries["evidence.pdf"],
                              capture_output=True, check=True, timeout=60).stdout.decode()
        self.assertIn("Validation report", text)
        self.assertGreaterEqual(text.count("TOTAL-PASSED"), 6)  # 2 signers + seal, 2 documents
        self.assertIn("validation/1-doc0.json", text)
        self.assertNotIn("server's clock only", text)  # a TSA is configured

    # ------------------------------------------------------------------ lock
    def test_final_pdf_is_locked_and_an_annotation_is_reported(self):
        """The seal locks the final PDF: an annotation added with pyHanko in an incremental
        update leaves the signed bytes intact, yet validators say the signatures no longer
        cover the document."""
        self.assertAllValid(self.final, 3)
        tampered = add_annotation(self.final)
        reports = {r.field_name: r for r in self._validate(tampered)}
        seal = reports[next(name for name in reports if name.startswith("CompanySeal"))]
        self.assertIs(seal.docmdp_ok, False)
        self.assertFalse(seal.bottom_line)
        trust = self.env["o2s.esign.signing.identity"]._get_signing_material_sudo(self.company)
        results = lib_validation.validate_pdf_signatures(
            tampered, trust_roots=trust.trust_roots, tsa_roots=[self.pki.root_cert])
        self.assertTrue(results)
        for result in results:
            self.assertEqual((result.indication, result.sub_indication, result.covers_document),
                             (lib_validation.FAILED, "HASH_FAILURE", False), result)

    # ------------------------------------------------------------- public page
    def _validate_upload(self, data):
        csrf = CSRF_RE.search(self.url_open("/esign/verify").text).group(1)
        return self.url_open("/esign/verify/signatures", data={"csrf_token": csrf},
                             files={"pdf": ("document.pdf", data, "application/pdf")})

    def test_page_shows_the_report_of_an_uploaded_pdf(self):
        response = self._validate_upload(self.final)
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertEqual(html.count("o_o2s_esign_validation_total_passed"), 3)
        for signer in self.request.signer_ids:
            self.assertIn(signer.name, html)
            self.assertNotIn(signer.email, html)
            self.assertNotIn(signer.mobile, html)
        self.assertNotIn("o_o2s_esign_validation_total_failed", html)

    def test_page_reports_a_changed_pdf_and_a_foreign_one(self):
        html = self._validate_upload(add_annotation(self.final)).text
        self.assertEqual(html.count("o_o2s_esign_validation_total_failed"), 3)
        self.assertIn("The document was changed after this signature", html)
        self.assertNotIn("o_o2s_esign_validation_total_passed", html)
        html = self._validate_upload(self.documents[0].original_attachment_id.raw).text
        self.assertIn("No signature was found", html)

    def test_page_refuses_get_and_missing_file(self):
        # GET is the QR code's token route: no such token, no report
        response = self.url_open("/esign/verify/signatures")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("o_o2s_esign_verify_validation", response.text)
        csrf = CSRF_RE.search(self.url_open("/esign/verify").text).group(1)
        response = self.url_open("/esign/verify/signatures", data={"csrf_token": csrf})
        self.assertEqual(response.status_code, 400)

    def test_page_bounds_a_hostile_upload(self):
        """A PDF with more signatures than the page validates, or whose validation does not
        end in time, gets a clear refusal instead of holding the worker."""
        with patch.object(verify_controller, "PUBLIC_MAX_SIGNATURES", 2):
            response = self._validate_upload(self.final)  # 2 signers + the seal
        self.assertEqual(response.status_code, 422)
        self.assertIn("o_o2s_esign_too_complex", response.text)
        self.assertNotIn("o_o2s_esign_validation_total_passed", response.text)
        release = threading.Event()

        async def stuck(data, spec):
            release.wait(30)
            return []

        self.addCleanup(release.set)
        with patch.object(lib_validation, "_validate_all", stuck), \
                patch.object(verify_controller, "PUBLIC_VALIDATION_TIMEOUT", 0.05):
            response = self._validate_upload(self.final)
        self.assertEqual(response.status_code, 503)
        self.assertIn("o_o2s_esign_too_complex", response.text)

    def test_library_bounds(self):
        with self.assertRaises(EvidenceError) as caught:
            lib_validation.validate_pdf_signatures(self.final, trust_roots=[], max_signatures=2)
        self.assertEqual(caught.exception.code, "too_many_signatures")
        results = lib_validation.validate_pdf_signatures(
            self.final, trust_roots=[], max_signatures=3, timeout=120)
        self.assertEqual(len(results), 3)
