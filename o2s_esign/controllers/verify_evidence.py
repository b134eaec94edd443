# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The verification page's trust section (extends /esign/verify): the company CA fingerprints
to compare, the verifier to download with its SHA-256 (a copy no evidence ZIP can change), and
the check of an uploaded evidence ZIP on the server: the shipped ``lib/verify.py --strict``,
pinned to the certification authorities of this database, in a process of its own (bounded in
time, nothing stored: the page only logs the ZIP's SHA-256 and the result)."""
import functools
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from odoo import http
from odoo.http import request

from ..lib import verify as lib_verify
from .portal import FRAME_HEADERS
from .verify import O2sEsignVerify

_logger = logging.getLogger(__name__)

VERIFIER = Path(lib_verify.__file__)
DEFAULT_EVIDENCE_MAX_MB = 100
VERIFY_TIMEOUT = 300   # seconds for one evidence ZIP (pyHanko validates every signature)
RESULT_STATUSES = ("PASS", "FAIL", "SKIP")


@functools.lru_cache(maxsize=1)
def verifier_source():
    """(bytes, SHA-256) of the verifier as shipped in the module (lib/verify.py); read once per
    process (the module's files change only with a restart), not on every page render."""
    data = VERIFIER.read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def parse_results(output):
    """[{status, name, detail}] of verify.py's check lines."""
    results = []
    for line in output.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in RESULT_STATUSES:
            results.append({"status": parts[0], "name": parts[1],
                            "detail": parts[2] if len(parts) > 2 else ""})
    return results


class O2sEsignVerifyTrust(O2sEsignVerify):

    def _identities_sudo(self):
        """sudo: signing identities are readable by nobody; the public page uses only their
        certificates (public by nature: every evidence file and signature carries them), to
        show the CA fingerprints and pin the server-side check; never a key."""
        return request.env["o2s.esign.signing.identity"].sudo().with_context(
            active_test=False).search([], order="company_id, active desc, id desc")

    def _trusted_cas(self):
        """DER certificates the uploaded evidence may chain to (the same list the PDF report
        of the page trusts: see ``o2s.esign.signing.identity._trust_anchors_sudo``)."""
        return request.env["o2s.esign.signing.identity"]._trust_anchors_sudo()

    def _evidence_max_bytes(self):
        """The evidence upload limit (system parameter; sudo: read by public visitors)."""
        value = request.env["ir.config_parameter"].sudo().get_param(
            "o2s_esign.verify_evidence_max_mb")
        return int(value or DEFAULT_EVIDENCE_MAX_MB) * 1024 * 1024

    def _render(self, values, status=200):
        _data, sha256 = verifier_source()
        cas = [{"company": identity.company_id.name, "subject": identity.ca_subject,
                "fingerprint": identity.ca_fingerprint, "active": identity.active}
               for identity in self._identities_sudo() if identity.ca_fingerprint]
        trust = {"company_cas": cas, "verifier_sha256": sha256,
                 "evidence_max_mb": self._evidence_max_bytes() // (1024 * 1024)}
        return super()._render(dict(trust, **values), status=status)

    @http.route("/esign/verify/verify.py", type="http", auth="public", methods=["GET"],
                sitemap=False)
    def verifier_download(self, **kwargs):
        """The verifier, as shipped in the module (its SHA-256 is on the page)."""
        data, _sha256 = verifier_source()
        return request.make_response(data, headers=[
            ("Content-Type", "text/x-python; charset=utf-8"),
            ("Content-Disposition", 'attachment; filename="verify.py"'),
            ("X-Content-Type-Options", "nosniff"), *FRAME_HEADERS])

    @http.route("/esign/verify/evidence", type="http", auth="public", methods=["POST"],
                sitemap=False)
    def verify_evidence(self, **kwargs):
        """POST (with CSRF token) an evidence ZIP: verify.py --strict on the server, trusting
        only this database's company CAs."""
        max_bytes = self._evidence_max_bytes()
        refusal = self._upload_refusal(max_bytes, error_key="evidence_error")
        if refusal:
            return refusal
        upload = request.httprequest.files.get("evidence")
        if not upload:
            return self._render({"evidence_error": "missing"}, status=400)
        with tempfile.TemporaryDirectory(prefix="o2s-esign-verify-") as folder:
            path = os.path.join(folder, "evidence.zip")
            digest = hashlib.sha256()
            size = 0
            with open(path, "wb") as out:
                while chunk := upload.read(1 << 20):
                    size += len(chunk)
                    if size > max_bytes:
                        return self._render({"evidence_error": "too_large"}, status=413)
                    digest.update(chunk)
                    out.write(chunk)
            if not size:
                return self._render({"evidence_error": "missing"}, status=400)
            results, ok = self._run_verifier(folder, path)
        sha256 = digest.hexdigest()
        _logger.info("Evidence ZIP checked on the verification page: SHA-256 %s, %s", sha256,
                     "pass" if ok else "fail")
        return self._render({"evidence_checked": True, "evidence_ok": ok,
                             "evidence_results": results, "evidence_sha256": sha256})

    def _run_verifier(self, folder, path):
        """(results, passed) of the shipped verify.py --strict on ``path``, pinned to the
        company CAs (--trust), in a process of its own."""
        command = [sys.executable, str(VERIFIER), "--strict", path]
        trusted = self._trusted_cas()
        if not trusted:  # never trust the file's own CA: nothing to pin, nothing trusted
            return [{"status": "FAIL", "name": "company_ca", "detail": ""}], False
        for number, der in enumerate(trusted, start=1):
            pem = os.path.join(folder, "trust-%d.pem" % number)
            with open(pem, "wb") as fh:
                fh.write(lib_verify.pem_armor(der))
            command[2:2] = ["--trust", pem]
        try:
            # no shell; the interpreter, the shipped verifier and files of our own temp folder
            proc = subprocess.run(command, capture_output=True, timeout=VERIFY_TIMEOUT,  # noqa: S603
                                  check=False, cwd=folder, env={"PATH": os.environ.get("PATH", "")})
        except subprocess.TimeoutExpired:
            return [{"status": "FAIL", "name": "timeout", "detail": ""}], False
        results = parse_results(proc.stdout.decode("utf-8", "replace"))
        ok = proc.returncode == 0 and bool(results) and all(
            r["status"] != "FAIL" for r in results)
        return results, ok
