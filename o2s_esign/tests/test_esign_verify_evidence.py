# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Evidence nobody can forge (issue #14 items 1, 2 and 9), on evidence ZIPs built by the models:
the forgery of the issue (tests/support/forgery.py) fails the shipped verify.py --strict with
and without --trust, and so does a ZIP carrying another request's report, while the genuine ZIP
passes both ways; the public verification page shows the company CA fingerprint, offers the
verifier with its SHA-256 and checks an uploaded evidence ZIP on the server, as a visitor uses
it over HTTP; evidence.pdf states the fingerprint and the eIDAS level."""
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import zipfile

from odoo.tests import HttpCase, tagged

from ..controllers import verify as verify_controller
from ..lib import verify as lib_verify
from .common_signing import O2sEsignSigningCommon

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VERIFIER = lib_verify.__file__


def run_verify(*args):
    """(exit status, output) of the shipped verify.py (the module's, not a ZIP's copy)."""
    proc = subprocess.run([sys.executable, VERIFIER, *map(str, args)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout


def failed_checks(output):
    last = output.strip().splitlines()[-1]
    return [] if last.startswith("RESULT: PASS") else last.split(": ", 2)[2].split(", ")


@tagged("post_install", "-at_install")
class TestEsignVerifyEvidence(O2sEsignSigningCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import forgery  # tests/support, on the path once common_signing ran

        cls.forgery = forgery
        cls._configure("b_t")
        cls.request = cls._send(documents=1)
        cls._sign_all(cls.request)
        cls.other = cls._send(documents=1)
        cls._sign_all(cls.other)
        cls.folder = tempfile.mkdtemp(prefix="o2s-forgery-")
        cls.genuine = os.path.join(cls.folder, "EVIDENCE.zip")
        with open(cls.genuine, "wb") as fh:
            fh.write(cls.request.evidence_attachment_id.raw)
        cls.ca_pem = os.path.join(cls.folder, "company-ca.pem")
        with open(cls.ca_pem, "wb") as fh:
            fh.write(lib_verify.pem_armor(cls.material.ca.cert.dump()))
        cls.ca_fingerprint = lib_verify.fingerprint(cls.material.ca.cert.dump())
        with zipfile.ZipFile(io.BytesIO(cls.other.evidence_attachment_id.raw)) as zf:
            other_report = zf.read("evidence.pdf")
        cls.forged = str(forgery.forge(cls.genuine, os.path.join(cls.folder, "forged.zip")))
        cls.other_report_zip = str(forgery.forge(
            cls.genuine, os.path.join(cls.folder, "other-report.zip"), evidence_pdf=other_report,
            edit_trail=False))

    def setUp(self):
        super().setUp()
        verify_controller.rate_limiter._hits.clear()
        self.addCleanup(verify_controller.rate_limiter._hits.clear)

    # --- the shipped verifier -------------------------------------------------------------

    def test_genuine_passes_and_forgeries_fail_with_and_without_trust(self):
        for pin in ([], ["--trust", self.ca_pem]):
            rc, output = run_verify("--strict", *pin, self.genuine)
            self.assertEqual(rc, 0, output)
            self.assertIn("company CA certificates/company-ca.pem SHA-256 %s"
                          % self.ca_fingerprint, output)
            self.assertIn("PASS  evidence_report", output)
            rc, output = run_verify("--strict", *pin, self.forged)
            self.assertEqual(rc, 1, output)
            self.assertEqual(set(failed_checks(output)), {"manifest_seal", "evidence_report"},
                             output)
            self.assertIn("PASS  chain ", output)   # re-chained by the forger: only trust tells
            rc, output = run_verify("--strict", *pin, self.other_report_zip)
            self.assertEqual(rc, 1, output)
            self.assertLessEqual({"manifest_seal", "evidence_report"},
                                 set(failed_checks(output)), output)
        # the ZIP's own verify.py is the shipped one (but nobody should have to trust it)
        with zipfile.ZipFile(self.genuine) as zf:
            self.assertEqual(zf.read("verify.py"), open(VERIFIER, "rb").read())

    def test_report_states_fingerprint_chain_head_and_eidas_level(self):
        with zipfile.ZipFile(self.genuine) as zf:
            report = zf.read("evidence.pdf")
            readme = zf.read("README.txt").decode()
        generated = self.request.event_ids.filtered(lambda e: e.event_type == "evidence_generated")
        events = self.request.event_ids.filtered(lambda e: e.sequence < generated.sequence)
        head = events.sorted("sequence")[-1].hash
        self.assertIn(("chain_head=%s event_count=%d" % (head, len(events))).encode(), report)
        text = subprocess.run(["pdftotext", "-", "-"], input=report, capture_output=True,
                              check=True, timeout=60).stdout.decode()
        self.assertIn(self.ca_fingerprint, "".join(text.split()))
        flat = " ".join(text.split())
        self.assertIn("not a qualified electronic signature", flat)
        self.assertIn("sole control", flat)
        self.assertIn("%s/esign/verify" % self.request.get_base_url(), readme)
        self.assertIn("a forger could", readme)
        self.assertIn("--ca-fingerprint", readme)

    # --- the verification page, as a visitor uses it ----------------------------------------

    def _csrf(self):
        response = self.url_open("/esign/verify")
        self.assertEqual(response.status_code, 200)
        return CSRF_RE.search(response.text).group(1)

    def _upload(self, path_or_data, csrf=None):
        data = path_or_data
        if isinstance(path_or_data, str):
            with open(path_or_data, "rb") as fh:
                data = fh.read()
        return self.url_open("/esign/verify/evidence", data={"csrf_token": csrf or self._csrf()},
                             files={"evidence": ("EVIDENCE.zip", data, "application/zip")})

    def test_page_shows_the_company_ca_and_the_verifier(self):
        html = self.url_open("/esign/verify").text
        self.assertIn(self.ca_fingerprint, html)
        with open(VERIFIER, "rb") as fh:
            shipped = fh.read()
        self.assertIn(hashlib.sha256(shipped).hexdigest(), html)
        self.assertIn('href="/esign/verify/verify.py"', html)
        self.assertIn('type="file" name="evidence"', html)
        response = self.url_open("/esign/verify/verify.py")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, shipped)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        self.assertEqual(response.headers["X-Frame-Options"], "DENY")

    def test_uploaded_evidence_is_checked_on_the_server(self):
        events = self.env["o2s.esign.event"].search_count([])
        attachments = self.env["ir.attachment"].search_count([])
        csrf = self._csrf()
        response = self._upload(self.genuine, csrf=csrf)
        self.assertEqual(response.status_code, 200)
        self.assertIn("RESULT: PASS.", response.text)
        self.assertNotIn("RESULT: FAIL.", response.text)
        self.assertIn("evidence_report", response.text)
        for path in (self.forged, self.other_report_zip):
            response = self._upload(path, csrf=csrf)
            self.assertEqual(response.status_code, 200)
            self.assertIn("RESULT: FAIL.", response.text)
            self.assertIn("not by the company seal certificate", response.text)
        # nothing stored, nothing logged in any trail
        self.assertEqual(self.env["o2s.esign.event"].search_count([]), events)
        self.assertEqual(self.env["ir.attachment"].search_count([]), attachments)

    def test_evidence_signed_by_another_service_fails(self):
        """The server pins its own CAs: a complete evidence of another company (its own CA,
        consistent throughout) is refused."""
        forged = self.forgery.forge(self.genuine, os.path.join(self.folder, "other-ca.zip"),
                               replace_seal_cert=True, replace_ca=True)
        html = self._upload(str(forged)).text
        self.assertIn("RESULT: FAIL.", html)
        self.assertIn("is not the pinned certificate", html)

    def test_evidence_upload_needs_csrf_and_is_size_limited(self):
        with self.assertLogs("odoo.http", "WARNING") as logs:
            response = self._upload(self.genuine, csrf="not-the-token")
        self.assertIn("CSRF validation failed", logs.output[0])
        self.assertEqual(response.status_code, 400)
        self.assertNotIn("RESULT: PASS", response.text)
        self.env["ir.config_parameter"].sudo().set_param("o2s_esign.verify_evidence_max_mb", "1")
        response = self._upload(b"PK" + b"0" * (1024 * 1024 + 10))
        self.assertEqual(response.status_code, 413)
        self.assertIn("too large", response.text)
        response = self._upload(b"not a zip at all")
        self.assertEqual(response.status_code, 200)
        self.assertIn("RESULT: FAIL.", response.text)
