# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The signer's PAdES signature on every document of the request (hook ``_sign_documents``,
called by the signing page once the SMS code and the consent are checked)."""
import hashlib
import logging

from asn1crypto import cms

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date

from ..lib import pki, signing
from ..tools import internal_write, is_internal_write

_logger = logging.getLogger(__name__)

SIGNER_SIGNING_FIELDS = {"signing_certificate", "signing_certificate_chain", "date_signature_applied",
                         "attestation_attachment_id"}
OPEN_STATES = ("in_progress", "error")
NO_TSA_NOTE = "none: B-B only"


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def timestamp_time(token_der):
    """The genTime (UTC, naive) of an RFC 3161 token (CMS ContentInfo, DER), or None."""
    if not token_der:
        return None
    try:
        content = cms.ContentInfo.load(token_der)
        tst_info = content["content"]["encap_content_info"]["content"].parsed
        return tst_info["gen_time"].native.replace(tzinfo=None)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _signature_sha256(signature):
    """SHA-256 of the signature image the signing page kept (dict from the portal part), or of
    raw bytes/text; None without one."""
    if isinstance(signature, dict):
        if signature.get("image_sha256"):
            return signature["image_sha256"]
        signature = signature.get("image")
    if isinstance(signature, str):
        signature = signature.encode("utf-8")
    if isinstance(signature, bytes) and signature:
        return hashlib.sha256(signature).hexdigest()
    return None


class O2sEsignSigner(models.Model):
    _inherit = "o2s.esign.signer"  # pylint: disable=consider-merging-classes-inherited

    signing_certificate = fields.Text(
        string="Signature certificate", readonly=True, copy=False,
        help="The one-time certificate issued in the signer's name for their signature (PEM). "
             "Its private key was destroyed right after signing.")
    signing_certificate_chain = fields.Text(string="Certificate chain", readonly=True, copy=False)
    date_signature_applied = fields.Datetime(
        string="Signature applied on", readonly=True, copy=False,
        help="When the signer's PAdES signature was added to every document.")
    attestation_attachment_id = fields.Many2one(
        "ir.attachment", string="Attestation", readonly=True, copy=False, ondelete="restrict",
        help="The latest attestation of this signer (their own data only, sealed).")

    @api.model_create_multi
    def create(self, vals_list):
        if not is_internal_write() and any(SIGNER_SIGNING_FIELDS.intersection(v) for v in vals_list):
            raise UserError(_("The status of a signer follows the signature process."))
        return super().create(vals_list)

    def write(self, vals):
        if SIGNER_SIGNING_FIELDS.intersection(vals) and not is_internal_write():
            raise UserError(_("The status of a signer follows the signature process."))
        return super().write(vals)

    def action_download_attestation(self):
        """Download this signer's sealed attestation (their own data only); built now and
        logged in the audit trail."""
        self.ensure_one()
        self.check_access("read")
        request = self.request_id
        request.check_access("read")
        request._esign_build_attestation(self)
        return {
            "type": "ir.actions.act_url",
            "url": "/esign/evidence/%d/attestation/%d" % (request.id, self.id),
            "target": "download",
        }

    # ------------------------------------------------------------------ labels
    def _esign_field_name(self):
        """The name of this signer's signature field in every document (stable)."""
        self.ensure_one()
        return "Signature%d" % self.id

    def _esign_capacity_label(self):
        """The capacity line of the signature box, e.g. "Legal representative of X"."""
        self.ensure_one()
        represented = self.represented_partner_id.display_name
        if self.role == "legal_representative":
            if represented:
                return self.env._("Legal representative of %(name)s", name=represented)
            return self.env._("Legal representative")
        if self.role == "company_representative":
            if represented:
                return self.env._("For the account of %(name)s", name=represented)
            return self.env._("Company representative")
        if represented:
            return self.env._("For the account of %(name)s", name=represented)
        return ""

    def _esign_appearance(self, document, moment):
        """The visible signature: "Signed electronically", the name, the date and time (UTC)
        and a QR code to the document's public verification page, in the signer's language."""
        self.ensure_one()
        signer = self.with_context(lang=self.lang or "en_US")
        env = signer.env
        base_url = document.request_id.get_base_url()
        return signing.Appearance(
            signer_name=self.name or "",
            lines=[
                env._("Signed electronically"),
                env._("by %(name)s", name=self.name or ""),
                env._("on %(date)s at %(time)s UTC",
                      date=format_date(env, moment.date(), lang_code=env.lang),
                      time=moment.strftime("%H:%M")),
            ],
            qr_url="%s/esign/verify/%s" % (base_url, document.sudo().verification_token),
        )

    # -------------------------------------------------------------- signature
    def _sign_documents(self, signature=None):
        """Sign every document of the request for this signer: one incremental PAdES signature
        per document (ETSI.CAdES.detached, SHA-256, signing-certificate-v2) in the signer's
        field, at the company's level, with a one-time certificate in the signer's name issued
        by the company CA now; its private key is dropped right after. Then super() (the
        signing page's part: the ``signed`` event with the documents' new hashes).

        All or nothing: every document's new bytes are computed first and stored only when
        all succeeded, so a timestamp authority that fails (``lib.errors.TsaError``, transient,
        raised to the caller) leaves every document unchanged. Calling it again once applied
        does nothing (retries). ``signature`` is what the signing page kept (a dict with
        ``image_sha256``, ``name``, ``date``...; see the portal part): its image hash is
        recorded with each document signature.

        Works on sudo'ed records: the signing page calls it for a signer without any access
        right, after its own token, SMS code and consent checks.
        """
        self.ensure_one()
        signer_sudo = self.sudo()
        request_sudo = signer_sudo.request_id
        if signer_sudo.date_signature_applied:
            return False
        if request_sudo.state not in OPEN_STATES:
            raise UserError(_("This request is no longer open for signature."))
        if signer_sudo.state not in ("pending", "signed"):
            raise UserError(_("%(name)s cannot sign this request now.", name=signer_sudo.name))
        documents = request_sudo.document_ids.sorted(lambda d: (d.sequence, d.id))
        if not documents:
            raise UserError(_("This request has no document to sign."))
        context = request_sudo.company_id._esign_signing_context(request_sudo.pades_level)
        moment = fields.Datetime.now()
        reason = signer_sudo.with_context(lang=signer_sudo.lang or "en_US").env._(
            "Electronic signature")
        one_time = pki.issue_one_time_identity(
            context.material.ca, name=signer_sudo.name or "", email=signer_sudo.email or "")
        results = []
        try:
            for document in documents:
                current = document.signed_attachment_id.raw
                result = context.pades.sign(
                    current, field_name=signer_sudo._esign_field_name(), identity=one_time,
                    level=context.level, tsa=context.tsa,
                    appearance=signer_sudo._esign_appearance(document, moment),
                    trust_roots=context.trust_roots, extra_crls=context.extra_crls,
                    reason=reason)
                results.append((document, result))
        finally:
            # The one-time key is used for these signatures only: drop every reference to it.
            one_time.key = None
        cert_pem = one_time.cert_pem().decode("ascii")
        chain_pem = one_time.chain_pem().decode("ascii")
        cert_der = one_time.cert.dump()
        del one_time
        signature_sha256 = _signature_sha256(signature)
        for document, result in results:
            document._append_signed_revision(result.data, "signature", signer=signer_sudo, payload={
                "signer": signer_sudo.name,
                "field": signer_sudo._esign_field_name(),
                "level": result.level,
                "level_requested": request_sudo.pades_level or result.level,
                "tsa": context.tsa_url or NO_TSA_NOTE,
                "timestamped": bool(result.timestamp_token),
                "signing_time": _iso(result.signing_time.replace(tzinfo=None)),
                "timestamp_time": _iso(timestamp_time(result.timestamp_token)),
                "timestamp_token_sha256": hashlib.sha256(result.timestamp_token).hexdigest()
                if result.timestamp_token else None,
                "certificate_sha256": hashlib.sha256(cert_der).hexdigest(),
                "certificate_serial": "%x" % pki.cert_from_pem_or_der(cert_der).serial_number,
                "signature_image_sha256": signature_sha256,
            })
            with internal_write():
                document.write({"pades_level_achieved": result.level})
        with internal_write():
            signer_sudo.write({
                "signing_certificate": cert_pem,
                "signing_certificate_chain": chain_pem,
                "date_signature_applied": fields.Datetime.now(),
            })
        parent = getattr(super(), "_sign_documents", None)
        if parent is not None:  # the signing page's part (its ``signed`` event)
            parent(signature)
        return True
