# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Download of evidence files and signer attestations, for users who can read the request.
Each download is an event of the request, logged as the file is streamed (ir_binary.py)."""
from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request


class O2sEsignEvidence(http.Controller):

    def _request_or_404(self, request_id):
        """The request, if the user may read it (ACL and record rules); else 404."""
        esign_request = request.env["o2s.esign.request"].browse(request_id)
        try:
            esign_request.check_access("read")
            esign_request.exists().ensure_one()
        except (AccessError, MissingError, ValueError):
            raise request.not_found() from None
        return esign_request

    def _request_sudo(self, esign_request):
        """sudo: the evidence and attestation attachments are written by the signature process
        only and their fields on the request are internal; the caller checked, through
        ``_request_or_404``, that the user may read this request."""
        return esign_request.sudo()

    def _send(self, attachment_sudo):
        if not attachment_sudo:
            raise request.not_found()
        stream = request.env["ir.binary"]._get_stream_from(attachment_sudo, "raw")
        response = stream.get_response(
            as_attachment=True, content_security_policy="default-src 'none'; frame-ancestors 'none'")
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @http.route("/esign/evidence/<int:request_id>/download", type="http", auth="user",
                methods=["GET"])
    def download_evidence(self, request_id, **kwargs):
        """The latest evidence ZIP (built by action_download_evidence); logged."""
        esign_request = self._request_or_404(request_id)
        return self._send(self._request_sudo(esign_request).evidence_attachment_id)

    @http.route("/esign/evidence/<int:request_id>/attestation/<int:signer_id>", type="http",
                auth="user", methods=["GET"])
    def download_attestation(self, request_id, signer_id, **kwargs):
        """A signer's latest attestation (built by action_download_attestation); logged."""
        esign_request = self._request_or_404(request_id)
        signer_sudo = self._request_sudo(esign_request).signer_ids.filtered(lambda s: s.id == signer_id)
        if not signer_sudo:
            raise request.not_found()
        return self._send(signer_sudo.attestation_attachment_id)
