# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Documents: the signature page (or band) prepared at send time, the seal state, and what the
public verification page may say about a document."""
import hashlib

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..lib import pdf as lib_pdf
from ..lib.errors import PdfError
from ..tools import is_internal_write

DOCUMENT_SIGNING_FIELDS = {"date_sealed"}


class O2sEsignDocument(models.Model):
    _inherit = "o2s.esign.document"  # pylint: disable=consider-merging-classes-inherited

    date_sealed = fields.Datetime(
        string="Sealed on", readonly=True, copy=False,
        help="When the company seal (and, at B-LTA, the document timestamp) was added.")

    @api.model_create_multi
    def create(self, vals_list):
        if not is_internal_write() and any(DOCUMENT_SIGNING_FIELDS.intersection(v) for v in vals_list):
            raise UserError(_("The hashes and signed files of a document are set by the signature process."))
        return super().create(vals_list)

    def write(self, vals):
        if DOCUMENT_SIGNING_FIELDS.intersection(vals) and not is_internal_write():
            raise UserError(_("The hashes and signed files of a document are set by the signature process."))
        return super().write(vals)

    def _prepare_for_signing(self, data):
        """The original plus one incremental update holding one empty signature field per
        signer (a signature page appended, or a band at the bottom of the last page, as the
        company chose), so the original stays a byte prefix of what is signed."""
        self.ensure_one()
        request = self.request_id
        lang = request.partner_id.lang or self.env.user.lang or "en_US"
        document = self.with_context(lang=lang)
        slots = [lib_pdf.SignatureSlot(signer._esign_field_name(), signer.name or "",
                                       signer.with_context(lang=lang)._esign_capacity_label())
                 for signer in request.signer_ids.sorted(lambda s: (s.sequence, s.id))]
        if not slots:
            return super()._prepare_for_signing(data)
        placement = request.company_id.esign_signature_placement or "signature_page"
        try:
            return lib_pdf.prepare_for_signing(
                data, slots, placement=placement, labels=document._esign_page_labels())
        except PdfError as exc:
            raise UserError(self._pdf_error_message(self.name, exc, self._max_bytes())) from exc

    def _esign_page_labels(self):
        """The texts of the signature page, translated in the context's language."""
        self.ensure_one()
        return {
            "title": self.env._("Signature page"),
            "document_label": self.env._("Document"),
            "document_name": self.name or "",
            "reference_label": self.env._("Request reference"),
            "reference": self.request_id.reference or "",
            "signer_label": self.env._("Signer"),
            "intro": self.env._("This page was added to the document to receive its electronic "
                                "signatures. The document itself is unchanged."),
        }

    # ---------------------------------------------------------- verification
    @api.model
    def _esign_match_content(self, data):
        """Is ``data`` exactly one of the files stored for a document (the copy sent for
        signature, a revision after a signature, the sealed final file; never the file as
        uploaded, which carries nothing of ours)? Candidates are found
        by Odoo's attachment checksum, then confirmed by SHA-256 of the stored bytes.

        Returns ``{"sha256", "document" (sudo record or empty), "revision"}`` where revision is
        ``final``, ``current`` (the latest of a request still open), ``earlier`` or ``sent``."""
        sha256 = hashlib.sha256(data).hexdigest()
        result = {"sha256": sha256, "document": self.browse(), "revision": None}
        attachments = self.env["ir.attachment"].sudo().search([
            ("res_model", "=", self._name),
            ("checksum", "=", self.env["ir.attachment"]._compute_checksum(data))], limit=20)
        for attachment in attachments:
            if hashlib.sha256(attachment.raw or b"").hexdigest() != sha256:
                continue
            document = self.sudo().browse(attachment.res_id).exists()
            if not document or attachment == document.original_attachment_id:
                # the file as uploaded is not one of ours (and the same template may be sent
                # to many clients: recognising it would show other clients' signers)
                continue
            if attachment == document.signed_attachment_id:
                revision = "final" if document.date_sealed else "current"
            elif attachment == document.prepared_attachment_id:
                revision = "sent"
            else:
                revision = "earlier"
            result.update(document=document, revision=revision)
            break
        return result

    def _esign_public_summary(self):
        """What the public verification page shows: the document, its issuer and status, the
        signers' names and signing dates. Nothing else about the people."""
        self.ensure_one()
        request = self.request_id
        states = dict(request._fields["state"]._description_selection(self.env))
        levels = dict(self._fields["pades_level_achieved"]._description_selection(self.env))
        return {
            "name": self.name,
            "company": request.company_id.name,
            "reference": request.reference,
            "state": request.state,
            "state_label": states.get(request.state, request.state),
            "sealed": bool(self.date_sealed),
            "date_sealed": self.date_sealed,
            "level": levels.get(self.pades_level_achieved, ""),
            "signers": [
                {"name": signer.name, "signed": signer.state == "signed",
                 "date_signed": signer.date_signed}
                for signer in request.signer_ids.sorted(lambda s: (s.sequence, s.id))
            ],
        }
