# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Public verification page (/esign/verify), the target of the QR code on every signature.

It tells whether an uploaded PDF is exactly one of the files this database produced (any
stored revision: sent for signature, after a signature, final), and for a document's token the
status of the request with the signers' names and signing dates. No other personal data.
"""
import collections
import re
import threading
import time

from odoo import http
from odoo.http import request
from odoo.tools import consteq

from ..lib import validation_report as lib_validation
from ..lib.errors import EvidenceError
from .portal import FRAME_HEADERS

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")
DEFAULT_MAX_MB = 25
DEFAULT_RATE = 20          # uploads per IP address ...
RATE_WINDOW = 60.0         # ... per this many seconds
#: bounds of the validation report of a PDF uploaded by anyone
PUBLIC_VALIDATION_TIMEOUT = 30.0
PUBLIC_MAX_SIGNATURES = 50


class _RateLimiter:
    """Sliding-window counter per client address (per Odoo worker process)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._hits = collections.defaultdict(collections.deque)

    def allow(self, key, limit, window=RATE_WINDOW):
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            if len(self._hits) > 10000:  # forget idle addresses
                for address in [k for k, v in self._hits.items() if not v]:
                    del self._hits[address]
            return True


rate_limiter = _RateLimiter()


class O2sEsignVerify(http.Controller):

    def _documents_sudo(self):
        """sudo: the page is public (a visitor holding a signed PDF or its QR code); it finds
        the document by the upload's hash or by the QR code's token (checked in constant time)
        and shows only what ``_document_values`` selects."""
        return request.env["o2s.esign.document"].sudo()

    def _limits(self):
        """The page's limits (system parameters; sudo: read by public visitors)."""
        params = request.env["ir.config_parameter"].sudo()
        max_mb = int(params.get_param("o2s_esign.verify_max_mb") or DEFAULT_MAX_MB)
        rate = int(params.get_param("o2s_esign.verify_rate_limit") or DEFAULT_RATE)
        return max_mb * 1024 * 1024, rate

    def _render(self, values, status=200):
        max_bytes, _rate = self._limits()
        values = dict(values, max_mb=max_bytes // (1024 * 1024))
        response = request.render("o2s_esign.verify_page", values)
        response.status_code = status
        response.headers.update(FRAME_HEADERS)
        return response

    @http.route("/esign/verify", type="http", auth="public", methods=["GET", "POST"],
                sitemap=False)
    def verify(self, **kwargs):
        """GET: the upload form. POST (with CSRF token): is the uploaded PDF one of ours?"""
        if request.httprequest.method != "POST":
            return self._render({})
        data, refusal = self._read_upload("pdf")
        if refusal:
            return refusal
        match = self._documents_sudo()._esign_match_content(data)
        values = {"checked": True, "sha256": match["sha256"]}
        if match["document"]:
            values.update(self._document_values(match["document"]), revision=match["revision"])
        return self._render(values)

    @http.route("/esign/verify/<string:token>", type="http", auth="public", methods=["GET"],
                sitemap=False)
    def verify_token(self, token, **kwargs):
        """The page the QR code of a signature opens: that document's status."""
        document_sudo = self._documents_sudo()
        found = document_sudo.browse()
        if TOKEN_RE.match(token or ""):
            found = document_sudo.search([("verification_token", "=", token)], limit=1)
        if not found or not consteq(found.verification_token or "", token):
            return self._render({"error": "unknown_token"}, status=404)
        return self._render(dict(self._document_values(found), from_token=True))

    def _upload_refusal(self, max_bytes, error_key="error"):
        """The page refusing an upload before it is read (too many from this address, or a
        body larger than ``max_bytes``), or None. ``error_key``: the page's error slot."""
        _max_pdf, rate = self._limits()
        if not rate_limiter.allow(request.httprequest.remote_addr or "?", rate):
            return self._render({"error": "rate"}, status=429)
        length = request.httprequest.content_length
        if length is not None and length > max_bytes + 65536:
            return self._render({error_key: "too_large"}, status=413)
        return None

    def _read_upload(self, name):
        """``(bytes, None)`` of the uploaded file ``name`` (at most the PDF size limit), or
        ``(None, refusal page)``: rate limit, too large, missing or empty."""
        max_bytes, _rate = self._limits()
        refusal = self._upload_refusal(max_bytes)
        if refusal:
            return None, refusal
        upload = request.httprequest.files.get(name)
        data = upload.read(max_bytes + 1) if upload else b""
        if len(data) > max_bytes:
            return None, self._render({"error": "too_large"}, status=413)
        if not data:
            return None, self._render({"error": "missing"}, status=400)
        return data, None

    def _document_values(self, document_sudo):
        return {"document": document_sudo._esign_public_summary()}

    # ------------------------------------------------ validation report of an uploaded PDF
    @http.route("/esign/verify/signatures", type="http", auth="public", methods=["POST"],
                sitemap=False)
    def verify_signatures(self, **kwargs):
        """POST (with CSRF token) a signed PDF: the validation report of its signatures, as
        the evidence file states it (pyHanko's AdES validation, names and dates only), whoever
        signed it; trusted are the signing CAs of this database's companies (signatures and
        seals) and their timestamp authorities' roots (time-stamp tokens)."""
        data, refusal = self._read_upload("pdf")
        if refusal:
            return refusal
        trust_roots, tsa_roots = self._validation_roots_sudo()
        try:
            results = lib_validation.validate_pdf_signatures(
                data, trust_roots=trust_roots, tsa_roots=tsa_roots,
                timeout=PUBLIC_VALIDATION_TIMEOUT, max_signatures=PUBLIC_MAX_SIGNATURES)
        except EvidenceError as exc:
            return self._render({"error": "too_complex", "max_signatures": PUBLIC_MAX_SIGNATURES},
                                status=422 if exc.code == "too_many_signatures" else 503)
        return self._render({"validation_checked": True, "validation": [
            {"field": r.field_name, "timestamp": r.kind == "doc_timestamp",
             "name": r.signer_name, "indication": r.indication,
             "sub_indication": r.sub_indication, "covers": r.covers_document,
             "signing_time": r.signing_time, "timestamp_time": r.timestamp_time,
             "clause": lib_validation.SECTIONS.get(r.process, "")} for r in results]})

    def _validation_roots_sudo(self):
        """``(signature roots, time-stamp roots)``: the certificates signatures and seals of
        this database chain to (``o2s.esign.signing.identity._trust_anchors_sudo``: the same
        list the evidence check pins) and the timestamp authorities' configured roots. sudo:
        public certificates only, read for a visitor (the settings have no right for anyone)."""
        from asn1crypto import x509 as asn1_x509

        env = request.env
        roots = [asn1_x509.Certificate.load(der)
                 for der in env["o2s.esign.signing.identity"]._trust_anchors_sudo()]
        tsa_roots = []
        for company in env["res.company"].sudo().search([]):
            tsa_roots += company._esign_tsa_roots()
        return roots, tsa_roots
