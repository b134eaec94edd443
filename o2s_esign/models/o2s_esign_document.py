# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A document to sign (``o2s.esign.document``): the PDF as uploaded, frozen and hashed when the
request is sent, the copy prepared for signing (a signature page or band), every signed
revision (append-only), the seal state, and what the public verification page may say of it."""
import base64
import binascii
import hashlib
import logging
import re
import secrets
from datetime import UTC, timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..lib import anchors as lib_anchors
from ..lib import convert as lib_convert
from ..lib import pdf as lib_pdf
from ..lib import signing as lib_signing
from ..lib.errors import PdfError
from ..tools import PADES_LEVELS, internal_write, is_internal_write

_logger = logging.getLogger(__name__)

DOCUMENT_INTERNAL_FIELDS = {
    "original_sha256", "prepared_attachment_id", "prepared_sha256", "signed_attachment_id",
    "signed_sha256", "page_count", "prepared_page_count",
    "file_size", "verification_token", "pades_level_achieved",
    "date_sealed", "archive_timestamp_expiry", "archive_timestamp_date",
    "source_attachment_id", "source_sha256", "source_mimetype", "source_kind",
    "conversion_removed", "conversion_repaired", "conversion_decrypted",
}
SOURCE_KINDS = [("pdf", "PDF"), ("image", "Image"), ("office", "Office document")]
#: B-LTA upkeep: a new archive timestamp this many days before the last one's certificate
#: expires (system parameter o2s_esign.archive_renewal_days)
DEFAULT_ARCHIVE_RENEWAL_DAYS = 60


class O2sEsignDocument(models.Model):
    _name = "o2s.esign.document"
    _description = "Document to sign"
    _order = "request_id, sequence, id"

    # ------------------------------------------------------------------ fields
    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    request_id = fields.Many2one(
        "o2s.esign.request", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="request_id.company_id", store=True, index=True)
    request_state = fields.Selection(related="request_id.state", string="Request status")
    document_type_id = fields.Many2one("o2s.esign.document.type", string="Document type")
    original_attachment_id = fields.Many2one(
        "ir.attachment", string="Original file", required=True, ondelete="restrict",
        help="The PDF exactly as it was uploaded.")
    original_sha256 = fields.Char(string="Original SHA-256", readonly=True, copy=False, index=True)
    prepared_attachment_id = fields.Many2one(
        "ir.attachment", string="File sent for signature", readonly=True, copy=False,
        ondelete="restrict",
        help="The PDF as the signers see it (the original with its signature page).")
    prepared_sha256 = fields.Char(string="Sent SHA-256", readonly=True, copy=False, index=True)
    signed_attachment_id = fields.Many2one(
        "ir.attachment", string="Signed file", readonly=True, copy=False, ondelete="restrict")
    signed_sha256 = fields.Char(string="Signed SHA-256", readonly=True, copy=False, index=True)
    page_count = fields.Integer(string="Pages", readonly=True, copy=False)
    field_ids = fields.One2many("o2s.esign.field", "document_id", string="Fields")
    has_fields = fields.Boolean(
        compute="_compute_has_fields", store=True,
        help="Boxes are placed on the document (read with the document: the signing page looks "
             "for them only then).")
    prepared_page_count = fields.Integer(
        string="Pages to sign", readonly=True, copy=False,
        help="The pages the signers see: the document's and the signature page(s) added to it.")
    file_size = fields.Integer(string="Size (bytes)", readonly=True, copy=False)
    verification_token = fields.Char(readonly=True, copy=False, index=True, groups="base.group_user")
    pades_level_achieved = fields.Selection(PADES_LEVELS, string="Level achieved", readonly=True, copy=False)
    date_sealed = fields.Datetime(
        string="Sealed on", readonly=True, copy=False,
        help="When the company seal (and, at B-LTA, the document timestamp) was added.")
    archive_timestamp_expiry = fields.Datetime(
        string="Archive timestamp valid until", readonly=True, copy=False, index=True,
        help="B-LTA: when the certificate of the last document timestamp expires; a scheduled "
             "action adds a new one before.")
    archive_timestamp_date = fields.Datetime(
        string="Last archive timestamp", readonly=True, copy=False)
    # the uploaded file, when the PDF to sign was made from it (lib.convert)
    source_attachment_id = fields.Many2one(
        "ir.attachment", string="Uploaded file", readonly=True, copy=False, ondelete="restrict",
        help="The file exactly as it was uploaded, when the PDF to sign was made from it (an "
             "image or Office document converted, a PDF neutralised, repaired or decrypted).")
    source_sha256 = fields.Char(string="Uploaded SHA-256", readonly=True, copy=False)
    source_mimetype = fields.Char(string="Uploaded type", readonly=True, copy=False)
    source_kind = fields.Selection(SOURCE_KINDS, string="Uploaded as", readonly=True, copy=False)
    conversion_removed = fields.Char(
        string="Removed before signing", readonly=True, copy=False,
        help="Codes of the active content removed from the uploaded PDF (scripts, actions...).")
    conversion_repaired = fields.Boolean(string="Repaired", readonly=True, copy=False)
    conversion_decrypted = fields.Boolean(string="Decrypted", readonly=True, copy=False)
    conversion_note = fields.Text(string="Conversion", compute="_compute_conversion_note")

    _sql_constraints = [
        ("verification_token_uniq", "unique(verification_token)", "Verification tokens are unique."),
    ]

    @api.depends("source_kind", "source_mimetype", "conversion_removed", "conversion_repaired",
                 "conversion_decrypted")
    def _compute_conversion_note(self):
        for document in self:
            document.conversion_note = self._esign_conversion_note(
                document.source_kind, document.source_mimetype,
                (document.conversion_removed or "").split(",") if document.conversion_removed else [],
                document.conversion_repaired, document.conversion_decrypted)

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # a document's name never keeps a path or control characters, whatever the entry
            # point (wizard, API, ORM)
            if not vals.get("name") and vals.get("original_attachment_id"):
                attachment = self.env["ir.attachment"].browse(vals["original_attachment_id"])
                vals["name"] = attachment.name
            if vals.get("name"):
                vals["name"] = self._safe_file_name(vals["name"])
        for vals in vals_list:
            self._check_protected_fields(vals, create=True)
            attachment = self._check_original_readable(vals)
            if attachment and not vals.get("name"):
                vals["name"] = attachment.name
        documents = super().create(vals_list)
        documents._take_originals()
        documents._esign_normalise_originals()
        documents._check_original_is_pdf()
        return documents

    def write(self, vals):
        if vals.get("name"):
            vals = dict(vals, name=self._safe_file_name(vals["name"]))
        self._check_protected_fields(vals)
        if "original_attachment_id" in vals:
            self._check_original_readable(vals)
        res = super().write(vals)
        if "original_attachment_id" in vals:
            self._take_originals()
            if not self.env.context.get("o2s_esign_normalised"):
                self._esign_normalise_originals()
            self._check_original_is_pdf()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if self.filtered(lambda d: d.request_id.state not in (False, "draft")):
            raise UserError(_("The documents of a sent request are kept for its evidence."))

    def _check_protected_fields(self, vals, create=False):
        """The one guard of the fields only the signature process writes (hashes, signed files)
        and of the documents of a sent request, for ``create`` (``vals`` of one new document)
        and ``write`` alike."""
        if is_internal_write():
            return
        if DOCUMENT_INTERNAL_FIELDS.intersection(vals):
            raise UserError(_("The hashes and signed files of a document are set by the signature process."))
        if create:
            self.env["o2s.esign.request"].browse(vals.get("request_id"))._esign_check_draft(
                _("Documents cannot be added to a request once it is sent."))
        elif self.filtered(lambda d: d.request_id.state != "draft"):
            raise UserError(_("The documents of a request cannot be changed once it is sent."))
        elif vals.get("request_id"):
            # nor can a draft document be moved into a sent request (never frozen nor hashed)
            self.env["o2s.esign.request"].browse(vals["request_id"])._esign_check_draft(
                _("Documents cannot be added to a request once it is sent."))

    # ------------------------------------------------------------ the original
    @api.model
    def _check_original_readable(self, vals):
        """The attachment ``vals`` sets as original, if the user may read it (else AccessError),
        on create and on write alike: the file is later copied with the module's rights."""
        attachment = self.env["ir.attachment"].browse(vals.get("original_attachment_id"))
        if attachment:
            # ir.attachment's own check: the rights on the record the file belongs to
            # (check_access only looks at the attachment model's rules).
            attachment.check("read")
        return attachment

    def _take_originals(self):
        """Make each document's original file its own, at the moment it is set: an uploaded
        file attached to nothing becomes the document's (an attachment attached to nothing is
        readable by its creator only); a file of another record is copied. The original's
        access then follows the request's, it is frozen with the document once the request is
        sent, and the other record's file can change without changing what is signed."""
        for document in self:
            original = document.original_attachment_id
            if not original or (original.res_model, original.res_id) == (self._name, document.id):
                continue
            if not original.res_model and not original.res_id:
                original.write({"res_model": self._name, "res_id": document.id})
                continue
            copy = self.env["ir.attachment"].create({
                "name": self._safe_file_name(original.name), "raw": original.raw,
                "mimetype": original.mimetype or "application/pdf",
                "res_model": self._name, "res_id": document.id,
            })
            document.write({"original_attachment_id": copy.id})

    # ------------------------------------------------------ any kind of file
    def _esign_normalise_originals(self):
        """Make each document's file the PDF that is signed (lib.convert.normalise): a PDF
        accepted as it is stays untouched; an image or an Office document is converted, a PDF
        with active content neutralised, a damaged one repaired, an owner-password one
        decrypted: the new PDF becomes the original and the uploaded file is kept as
        ``source_attachment_id``, with its hash, its type and what was done (the evidence
        states them). A file that cannot become a PDF raises a translated ValidationError
        (the create/write is rolled back with what it made)."""
        for document in self:
            uploaded = document.original_attachment_id
            if not uploaded or uploaded == document.source_attachment_id:
                continue
            data = uploaded.sudo().raw or b""
            result = document._esign_normalised(document.name, data)
            if not result.converted:
                continue
            name = document._esign_pdf_name(document.name, result)
            pdf = self.env["ir.attachment"].create({
                "name": name, "raw": result.pdf, "mimetype": "application/pdf",
                "res_model": self._name, "res_id": document.id,
            })
            values = {
                "original_attachment_id": pdf.id,
                "source_attachment_id": uploaded.id,
                "source_sha256": hashlib.sha256(data).hexdigest(),
                "source_mimetype": result.source_mimetype,
                "source_kind": result.source_kind,
                "conversion_removed": ",".join(result.removed) or False,
                "conversion_repaired": result.repaired,
                "conversion_decrypted": result.decrypted,
            }
            if result.source_kind != "pdf":
                values["name"] = name
            with internal_write():
                document.with_context(o2s_esign_normalised=True).write(values)

    def _esign_normalised(self, name, data):
        """lib.convert.normalise of ``data`` with the company's limits, or a translated
        ValidationError."""
        try:
            return lib_convert.normalise(data, name or "", max_bytes=self._max_bytes(),
                                         timeout=self._esign_conversion_timeout())
        except PdfError as exc:
            raise ValidationError(self._pdf_error_message(name, exc, self._max_bytes())) from None

    @api.model
    def _esign_conversion_timeout(self):
        """Seconds LibreOffice may take to convert one document (system parameter
        ``o2s_esign.conversion_timeout``, default 60; sudo: a technical setting)."""
        value = self.env["ir.config_parameter"].sudo().get_param("o2s_esign.conversion_timeout")
        try:
            return max(5.0, float(value)) if value else 60.0
        except ValueError:
            return 60.0

    @api.model
    def _esign_pdf_name(self, name, result):
        """The name of the PDF made from the file ``name``: its stem with ".pdf" (a PDF keeps
        its name)."""
        name = self._safe_file_name(name)
        if result.source_kind == "pdf":
            return name
        stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name).strip() or name
        return stem + ".pdf"

    @api.model
    def _esign_conversion_note(self, kind, mimetype, removed, repaired, decrypted):
        """What was done to the uploaded file, as the advisor reads it (translated), or False
        when the PDF is signed as uploaded."""
        lines = []
        if kind == "image":
            lines.append(_("Converted from an image (%(type)s): one page per image.",
                           type=(mimetype or "").split("/")[-1].upper()))
        elif kind == "office":
            lines.append(_("Converted to PDF from an Office document by LibreOffice."))
        labels = self._esign_removed_labels()
        removed = [code for code in removed or [] if code]
        if removed:
            lines.append(_("Neutralised before signing (what you see is what is signed); "
                           "removed: %(items)s.",
                           items="; ".join(labels.get(code, code) for code in removed)))
        if repaired:
            lines.append(_("The PDF was damaged and has been repaired."))
        if decrypted:
            lines.append(_("The PDF's owner password (restricting changes) was removed."))
        return "\n".join(lines) or False

    @api.model
    def _esign_removed_labels(self):
        """lib.convert.REMOVED_LABELS, translated."""
        return {
            "javascript": _("scripts (JavaScript)"),
            "open_action": _("an action run when the document opens"),
            "additional_actions": _("actions triggered by events (page opened, field changed...)"),
            "launch": _("commands launching programs"),
            "submit_form": _("form submission to a web address"),
            "import_data": _("data import actions"),
            "reset_form": _("form reset actions"),
            "remote_goto": _("links opening other files"),
            "uri_script": _("links running scripts or opening local files"),
            "multimedia": _("multimedia or 3D content"),
            "xfa": _("a dynamic XFA form"),
            "embedded_files": _("attached files"),
            "fields_flattened": _("fillable fields, flattened into the page with their values"),
        }

    # -------------------------------------------------------------- validation
    def _max_bytes(self):
        company = self.request_id.company_id or self.env.company
        return int((company.esign_max_upload_mb or 20) * 1024 * 1024)

    def _check_original_is_pdf(self):
        problems = []
        for document in self:
            problems += document._get_pdf_problems()
        if problems:
            raise ValidationError("\n".join(problems))

    def _get_pdf_problems(self):
        """Reasons the uploaded file cannot be signed (empty, too large, unsupported...)."""
        self.ensure_one()
        data = self.original_attachment_id.sudo().raw or b""
        return self.env["o2s.esign.document"]._pdf_problems(self.name, data, self._max_bytes())

    @api.model
    def _upload_size_problem(self, name, size):
        """The sentence refusing a file of ``size`` bytes (over the company's limit), or None.
        Checked before a file is stored, so that a refused upload leaves nothing behind."""
        max_bytes = self._max_bytes()
        if size <= max_bytes:
            return None
        from ..lib import errors as lib_errors
        return self._pdf_error_message(
            name, lib_errors.PdfError("too_large", {"size": size, "max_bytes": max_bytes}),
            max_bytes)

    @api.model
    def _pdf_problems(self, name, data, max_bytes):
        """Why ``data`` cannot become the PDF to sign (lib.convert: a PDF accepted as it is,
        or a file it converts, neutralises, repairs or decrypts), as translated sentences."""
        try:
            lib_convert.normalise(data, name or "", max_bytes=max_bytes,
                                  timeout=self._esign_conversion_timeout())
        except PdfError as exc:
            return [self._pdf_error_message(name, exc, max_bytes)]
        return []

    @api.model
    def _pdf_error_message(self, name, exc, max_bytes):
        """A translated sentence for a lib.errors.PdfError."""
        messages = {
            "empty": _("%(name)s is empty.", name=name),
            "too_large": _("%(name)s is larger than the %(size)s MB allowed.",
                           name=name, size=round(max_bytes / 1024 / 1024, 1)),
            "not_pdf": _("%(name)s is not a PDF file.", name=name),
            "corrupt": _("%(name)s is a damaged PDF that cannot be read.", name=name),
            "encrypted": _("%(name)s is protected by a password or encrypted: send an unprotected PDF.", name=name),
            "too_many_pages": _("%(name)s has too many pages.", name=name),
            "active_content": _(
                "%(name)s contains active content (scripts or actions), which cannot be signed.", name=name),
            "decompression_bomb": _("%(name)s expands to an abnormal size and was refused.", name=name),
            "unsupported_type": _(
                "%(name)s cannot be signed: send a PDF, an image (JPEG, PNG, TIFF, HEIC) or an "
                "Office document (Word, Excel, OpenDocument, RTF).", name=name),
            "image_too_large": _("%(name)s is an image with too many pixels and was refused.", name=name),
            "image_corrupt": _("%(name)s is a damaged image that cannot be read.", name=name),
            "heic_unavailable": _(
                "%(name)s is a HEIC photo, which this server cannot read: send it as JPEG, or "
                "ask your administrator to install pillow-heif.", name=name),
            "office_unavailable": _(
                "%(name)s is an Office document: converting it needs LibreOffice on the server. "
                "Ask your administrator to install it (soffice on the PATH, e.g. apt install "
                "libreoffice-writer-nogui libreoffice-calc-nogui), or send a PDF.", name=name),
            "conversion_failed": _("%(name)s could not be converted to PDF by LibreOffice.", name=name),
            "conversion_timeout": _(
                "%(name)s took too long to convert to PDF and was refused.", name=name),
            "field_outside_page": _(
                "A box placed on %(name)s lies outside its page.", name=name),
            "field_on_rotated_page": _(
                "%(name)s has turned pages (rotated in the PDF): boxes cannot be placed on "
                "them. Place the boxes on other pages, or none (the signers then sign on a "
                "signature page added to the document).", name=name),
            "anchors_timeout": _(
                "Looking for the signature tags of %(name)s took too long.", name=name),
            "anchors_too_much_text": _(
                "%(name)s holds too much text to look for signature tags in it.", name=name),
        }
        return messages.get(exc.code, _("%(name)s cannot be signed (%(code)s).", name=name, code=exc.code))

    def _get_send_problems(self):
        self.ensure_one()
        if not self.original_attachment_id:
            return [_("The document %(name)s has no file.", name=self.name)]
        return self._get_pdf_problems() or self._esign_check_fields()

    # ------------------------------------------------------------------- send
    def _freeze_for_send(self):
        """Hash the originals (before any signer can see them) and prepare the signing copy."""
        for document in self:
            data = document.original_attachment_id.sudo().raw
            info = self._inspect(data, document._max_bytes())
            digest = hashlib.sha256(data).hexdigest()
            prepared = document._prepare_for_signing(data)
            prepared_att = self.env["ir.attachment"].sudo().create({
                "name": document.name if document.name.lower().endswith(".pdf") else document.name + ".pdf",
                "raw": prepared,
                "mimetype": "application/pdf",
                "res_model": "o2s.esign.document",
                "res_id": document.id,
            })
            with internal_write():
                document.write({
                    "original_sha256": digest,
                    "prepared_attachment_id": prepared_att.id,
                    "prepared_sha256": hashlib.sha256(prepared).hexdigest(),
                    "signed_attachment_id": prepared_att.id,
                    "signed_sha256": hashlib.sha256(prepared).hexdigest(),
                    "page_count": info.page_count,
                    "prepared_page_count": document._prepared_page_count(prepared, info.page_count),
                    "file_size": len(data),
                    "verification_token": secrets.token_urlsafe(16),
                })

    @api.model
    def _prepared_page_count(self, prepared, page_count):
        """The page count of the prepared PDF (the original's ``page_count`` if unreadable)."""
        try:
            return lib_pdf.count_pages(prepared)
        except PdfError:  # our own output: never expected, but a count must not stop a send
            _logger.info("o2s_esign: page count of a prepared PDF unreadable", exc_info=True)
            return page_count

    @api.model
    def _inspect(self, data, max_bytes):
        return lib_pdf.inspect_pdf(data, max_bytes=max_bytes)

    def _prepare_for_signing(self, data):
        """The PDF the signers will see: the original plus one incremental update holding one
        empty signature field per signer (a signature page appended, or a band at the bottom of
        the last page, as the company chose), so the original stays a byte prefix of what is
        signed."""
        self.ensure_one()
        request = self.request_id
        lang = request.partner_id.lang or self.env.user.lang or "en_US"
        document = self.with_context(lang=lang)
        placed = self._esign_placed_signatures()
        slots = []
        for signer in request.signer_ids.sorted(lambda s: (s.sequence, s.id)):
            box = placed.get(signer.id)
            slots.append(lib_pdf.SignatureSlot(
                signer._esign_field_name(), signer.name or "",
                signer.with_context(lang=lang)._esign_capacity_label(),
                page=box.page - 1 if box else None, box=box._esign_rect() if box else None))
        if not slots:
            return data
        placement = request.company_id.esign_signature_placement or "signature_page"
        form_fields = [
            lib_pdf.FormField(field._esign_pdf_field_name(), field.field_type, field.page - 1,
                              field._esign_rect(), field.label or "")
            for field in self.field_ids if field.field_type != "signature"]
        try:
            prepared = lib_pdf.prepare_for_signing(
                data, slots, placement=placement, labels=document._esign_page_labels(),
                form_fields=form_fields, cover=self._esign_anchor_covers(data))
        except PdfError as exc:
            raise UserError(self._pdf_error_message(self.name, exc, self._max_bytes())) from exc
        with internal_write():
            for field in self.field_ids:
                field.pdf_field_name = field.signer_id._esign_field_name() \
                    if field.field_type == "signature" else field._esign_pdf_field_name()
        return prepared

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

    def _event_summary(self):
        self.ensure_one()
        return {
            "id": self.id,
            "name": self.name,
            "type": self.document_type_id.name or None,
            "original_sha256": self.original_sha256,
            "prepared_sha256": self.prepared_sha256,
            "pages": self.page_count,
            "size": self.file_size,
        }

    def _append_signed_revision(self, new_data, kind, signer=None, payload=None):
        """Store a new signed revision of the document (append-only: the previous revision must
        be a byte prefix of the new one) and log it."""
        self.ensure_one()
        return self._append_signed_revisions([(self, new_data, payload)], kind, signer=signer)

    @api.model
    def _append_signed_revisions(self, revisions, kind, signer=None):
        """``_append_signed_revision`` for several documents of one request at once:
        ``revisions`` is a list of ``(document, new_data, payload)``. The files are created in
        one batch and the events appended in one (a constant number of queries, whatever the
        number of documents). Returns the new attachments, in the order of ``revisions``."""
        attachments, events = self._store_signed_revisions(revisions, kind, signer=signer)
        for request, entries in events.items():
            request._log_events(entries)
        return attachments

    @api.model
    def _store_signed_revisions(self, revisions, kind, signer=None):
        """The files of ``_append_signed_revisions`` without their events: returns the new
        attachments and ``{request: [event entries]}`` for the caller to log (with others of
        its own in the same batch)."""
        if not revisions:
            return self.env["ir.attachment"], {}
        checked = []
        for document, new_data, payload in revisions:
            current = document.signed_attachment_id.sudo().raw or b""
            if not new_data.startswith(current):
                raise UserError(_("Refusing to store a revision of %(name)s that rewrites its "
                                  "history.", name=document.name))
            checked.append((document, new_data, payload, document.signed_sha256,
                            hashlib.sha256(new_data).hexdigest()))
        with internal_write():  # a sent document's files are frozen (ir_attachment.py)
            attachments = self.env["ir.attachment"].sudo().create([{
                "name": document.prepared_attachment_id.name or document.name,
                "raw": new_data,
                "mimetype": "application/pdf",
                "res_model": "o2s.esign.document",
                "res_id": document.id,
            } for document, new_data, _payload, _before, _after in checked])
            for (document, *_rest, new_sha), attachment in zip(checked, attachments, strict=True):
                document.write({"signed_attachment_id": attachment.id, "signed_sha256": new_sha})
        events = {}
        for document, new_data, payload, previous_sha, new_sha in checked:
            events.setdefault(document.request_id, []).append({
                "event_type": "document_" + kind, "signer": signer, "payload": dict(
                    payload or {}, document_id=document.id, document=document.name,
                    sha256_before=previous_sha, sha256_after=new_sha, size=len(new_data)),
            })
        return attachments, events

    def _esign_set_archive_expiry(self, data, when):
        """Record when the last document timestamp of ``data`` (this document's signed file)
        stops being verifiable, and when it was added."""
        self.ensure_one()
        expiry = lib_signing.archive_timestamp_expiry(data)
        with internal_write():
            self.write({
                "archive_timestamp_expiry": expiry.astimezone(UTC).replace(tzinfo=None) if expiry else False,
                "archive_timestamp_date": when,
            })

    def _esign_renew_archive_timestamp(self, now=None):
        """Add a new archive timestamp (B-LTA) to the signed file, as a new signed revision and
        an event of the request. (sudo: the signed files and the signing identity belong to
        the module; runs from the scheduled action.)"""
        self.ensure_one()
        document_sudo = self.sudo()
        company = document_sudo.request_id.company_id
        now = now or fields.Datetime.now()
        context = company._esign_signing_context("b_lta")
        if context.tsa is None:
            _logger.info("o2s_esign: archive timestamp of document %s not renewed: no timestamp "
                         "authority", document_sudo.id)
            with internal_write():
                document_sudo.write({"archive_timestamp_date": now})
            return
        before = document_sudo.archive_timestamp_expiry
        result = context.pades.renew_archive_timestamp(
            document_sudo.signed_attachment_id.raw, tsa=context.tsa,
            trust_roots=context.trust_roots, extra_crls=context.material.crls())
        expiry = lib_signing.archive_timestamp_expiry(result.data)
        document_sudo._append_signed_revision(result.data, "timestamp", payload={
            "archive_timestamp": True, "tsa": context.tsa_url,
            "previous_valid_until": fields.Datetime.to_string(before) if before else None,
            "valid_until": expiry.strftime("%Y-%m-%dT%H:%M:%SZ") if expiry else None,
        })
        document_sudo._esign_set_archive_expiry(result.data, now)

    @api.model
    def _cron_renew_archive_timestamps(self, batch_size=None, now=None):
        """Renew, in one bounded batch, the archive timestamps (B-LTA) whose certificate
        expires within ``o2s_esign.archive_renewal_days`` days (default 60), at most once a day
        per document. ``now``: the moment of the check (tests move it)."""
        self.env.flush_all()
        now = now or fields.Datetime.now()
        try:
            days = int(self.env["ir.config_parameter"].sudo().get_param(
                "o2s_esign.archive_renewal_days") or DEFAULT_ARCHIVE_RENEWAL_DAYS)
        except ValueError:
            days = DEFAULT_ARCHIVE_RENEWAL_DAYS
        due = SQL("""
            SELECT d.id FROM o2s_esign_document d
             WHERE d.archive_timestamp_expiry <= %(limit)s
               AND (d.archive_timestamp_date IS NULL OR d.archive_timestamp_date <= %(day_ago)s)
             ORDER BY d.archive_timestamp_expiry, d.id
        """, limit=now + timedelta(days=days), day_ago=now - timedelta(days=1))
        return self.env["o2s.esign.request"]._esign_cron_batch(
            "o2s_esign.ir_cron_esign_renew_archive_timestamps", self, due, batch_size,
            lambda document: document._esign_renew_archive_timestamp(now), lambda document: None)

    # ------------------------------------------------------------ verification
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
            if not document or attachment in (document.original_attachment_id,
                                              document.source_attachment_id):
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

    # ---------------------------------------------------------- input helpers
    @api.model
    def _values_from_input(self, document):
        """Values for a new document from create_and_send()'s input dict."""
        document = dict(document or {})
        attachment = self.env["ir.attachment"]
        if document.get("attachment_id"):
            source = attachment.browse(int(document["attachment_id"])).exists()
            if not source:
                raise UserError(_("Attachment %(id)s does not exist.", id=document["attachment_id"]))
            try:
                source.check("read")  # the rights on the record the file belongs to
            except AccessError as exc:
                raise UserError(_("You cannot read the attachment %(name)s.", name=source.name)) from exc
            name, raw = source.name, source.raw
        elif "datas" in document:  # an empty file is refused by the PDF check, by name
            name = document.get("name") or _("Document.pdf")
            try:
                raw = base64.b64decode(document["datas"] or b"", validate=True)
            except (binascii.Error, ValueError) as exc:
                raise UserError(_("The content of %(name)s is not valid base64.", name=name)) from exc
        else:
            raise UserError(_("Each document needs an attachment_id or a name and datas."))
        name = self._safe_file_name(name)
        too_large = self._upload_size_problem(name, len(raw or b""))
        if too_large:  # before the file is written: a refused upload leaves no file behind
            self.env["o2s.esign.request"]._raise_send_problems([too_large])
        # kept byte for byte (Odoo would shrink a big photo or scan at upload)
        new_attachment = attachment.with_context(image_no_postprocess=True).create({
            "name": name, "raw": raw, "mimetype": self._esign_guess_mimetype(raw, name),
        })
        return {
            "name": name,
            "original_attachment_id": new_attachment.id,
            "document_type_id": document.get("document_type_id") or False,
        }

    @api.model
    def _esign_guess_mimetype(self, raw, name):
        """The type of an uploaded file from its bytes; an unknown one is typed by its name
        (a ".pdf" stays application/pdf, as it was named), the conversion then saying why it
        cannot be signed."""
        try:
            return lib_convert.detect_kind(raw or b"", name or "")[1]
        except PdfError:
            if (name or "").lower().endswith(".pdf"):
                return "application/pdf"
            return "application/octet-stream"

    @api.model
    def _safe_file_name(self, name):
        """A file name with no path part and no control characters."""
        name = (name or "").replace("\\", "/").split("/")[-1]
        name = "".join(ch for ch in name if ch.isprintable()).strip().strip(".")
        return name[:200] or _("Document.pdf")

    @api.model
    def _default_subject(self, names):
        """The default subject of a request of documents named ``names``: the names, without
        their ".pdf" (a subject, not a file name), or False when there is none."""
        stems = [re.sub(r"\.pdf$", "", self._safe_file_name(name), flags=re.IGNORECASE).strip()
                 for name in names if name]
        return ", ".join(stem for stem in stems if stem) or False

    # ---------------------------------------------------- fields placed on the document (#17)
    @api.depends("field_ids")
    def _compute_has_fields(self):
        for document in self:
            document.has_fields = bool(document.field_ids)

    def _esign_pdf_data(self):
        """The PDF the signers will sign (the uploaded file was made into it at create)."""
        self.ensure_one()
        return self.original_attachment_id.sudo().raw or b""

    @api.model
    def _esign_find_anchors(self, pdf, signer_count=None):
        """The text anchors of ``pdf`` (``{{signature:1}}``, ``{{initials:2}}``..., see
        lib/anchors.py) as placements (PDF points from the page's bottom-left corner, pages and
        signers numbered from 1), each with ``found`` True; with ``signer_count``, one
        placement with ``found`` False per signer 1..signer_count without a signature tag (they
        sign on the signature page)."""
        try:
            anchors = lib_anchors.find_anchors(pdf, max_pages=self._esign_anchor_max_pages())
        except PdfError:
            return []  # the send check reports an unreadable PDF
        placements = []
        for anchor in anchors:
            x1, y1, x2, y2 = lib_anchors.field_box(anchor, anchor.page_box)
            placements.append({
                "signer": anchor.signer, "type": anchor.kind, "page": anchor.page + 1,
                "x": round(x1, 2), "y": round(y1, 2), "width": round(x2 - x1, 2),
                "height": round(y2 - y1, 2), "required": True, "label": "", "found": True,
                "tag": anchor.tag,
            })
        if signer_count:
            signed = {p["signer"] for p in placements if p["type"] == "signature"}
            placements += [{"signer": number, "type": "signature", "found": False}
                           for number in range(1, signer_count + 1) if number not in signed]
        return placements

    @api.model
    def _esign_anchor_max_pages(self):
        """Pages searched for anchors (a long annex is not read to its end)."""
        return 500

    def _esign_anchor_covers(self, data):
        """The anchor tags to hide under the fields placed from them: (page index, rect)."""
        self.ensure_one()
        if not self.field_ids.filtered(lambda field: field.source == "anchor"):
            return []
        try:
            return [(anchor.page, anchor.rect) for anchor in lib_anchors.find_anchors(
                data, max_pages=self._esign_anchor_max_pages())]
        except PdfError:
            return []

    def _esign_placed_signatures(self):
        """{signer id: its signature field on this document}, for the signers who have one."""
        self.ensure_one()
        return {field.signer_id.id: field for field in self.field_ids.sorted(
            lambda f: (f.sequence, f.id)) if field.field_type == "signature"}

    def _esign_place(self, placements, signers, source):
        """Create the fields of ``placements`` (dicts as the editor's and the API's: signer
        numbered from 1 in ``signers``' order, page from 1, PDF points) on this document.
        Placements of a signer the request does not have are refused for the editor and the
        API, ignored for anchors and templates (made for another number of signers)."""
        self.ensure_one()
        cleaned = self.env["o2s.esign.field.template"]._esign_clean_placements(placements)
        values = []
        for index, item in enumerate(cleaned):
            if item["signer"] > len(signers):
                if source in ("anchor", "template"):
                    continue
                raise UserError(_(
                    "A field of %(document)s is for signer %(number)s, but the request has "
                    "%(count)s signer(s).", document=self.name, number=item["signer"],
                    count=len(signers)))
            values.append({
                "document_id": self.id, "signer_id": signers[item["signer"] - 1].id,
                "field_type": item["type"], "page": item["page"], "x": item["x"], "y": item["y"],
                "width": item["width"], "height": item["height"], "required": item["required"],
                "label": item["label"] or False, "source": source,
                "sequence": 10 * (index + 1),
            })
        return self.env["o2s.esign.field"].create(values)

    def _esign_place_default(self, signers, require_anchors=False):
        """The fields of a document sent without placements: its anchors when it has some,
        else the fields saved for its type; ``require_anchors``: refuse a document without a
        tag (the API's ``anchors=True``)."""
        self.ensure_one()
        anchors = [p for p in self._esign_find_anchors(self._esign_pdf_data()) if p["found"]]
        if anchors:
            return self._esign_place(anchors, signers, "anchor")
        if require_anchors:
            raise UserError(_(
                "No signature tag such as {{signature:1}} was found in %(document)s.",
                document=self.name))
        placements = self.env["o2s.esign.field.template"]._esign_placements_for(
            self.document_type_id)
        return self._esign_place(placements, signers, "template") if placements else \
            self.env["o2s.esign.field"]

    def _esign_check_fields(self):
        """Before sending: one signature box per signer and document, every box inside its
        page (problems as translated sentences)."""
        problems = []
        for document in self.filtered("field_ids"):
            counts = {}
            for field in document.field_ids.filtered(lambda f: f.field_type == "signature"):
                counts[field.signer_id] = counts.get(field.signer_id, 0) + 1
            for signer, count in counts.items():
                if count > 1:
                    problems.append(_(
                        "%(name)s has %(count)s signature boxes on %(document)s: one per "
                        "document (use initials for the other pages).", name=signer.name,
                        count=count, document=document.name))
            try:
                sizes = lib_pdf.page_sizes(document._esign_pdf_data())
            except PdfError:
                continue  # reported by the PDF check
            try:
                document.field_ids._esign_check_in_page(sizes)
            except UserError as exc:
                problems.append(exc.args[0])
        return problems
