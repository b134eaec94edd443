# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A document line of the send wizard (o2s_esign_request_wizard.py)."""
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib import convert as lib_convert
from ..lib.errors import PdfError
from .o2s_esign_request_wizard import PREVIEW_MARK, SOURCES


class O2sEsignRequestWizardDocument(models.TransientModel):
    _name = "o2s.esign.request.wizard.document"
    _description = "Document to send for signature"
    _order = "sequence, id"

    wizard_id = fields.Many2one(
        "o2s.esign.request.wizard", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(default=10)
    attachment_id = fields.Many2one("ir.attachment", string="File", required=True, ondelete="cascade")
    name = fields.Char(required=True)
    document_type_id = fields.Many2one("o2s.esign.document.type", string="Type", required=True)
    source = fields.Selection(SOURCES, string="From", readonly=True)
    file_size = fields.Integer(related="attachment_id.file_size", string="Size (bytes)")
    conversion_note = fields.Text(
        string="Before signing", compute="_compute_conversion_note",
        help="What is done to the file to make the PDF that is signed (conversion, scripts "
             "removed...); empty when the PDF is signed as it is.")
    field_placements = fields.Json(
        string="Fields", compute="_compute_field_placements", store=True, readonly=False,
        help="Where each signer signs, initials, dates, fills or ticks on this document: a list "
             "of {signer, type, page, x, y, width, height, required, label}, signers numbered "
             "in signing order from 1, in PDF points from the page's bottom-left corner. Filled "
             "from the fields saved for the document's type.")
    field_count = fields.Integer(string="Fields placed", compute="_compute_field_count")
    placement_note = fields.Text(
        string="Where they sign", compute="_compute_placement_note",
        help="The boxes placed on the document, or the tags ({{signature:1}}...) found in it, "
             "and the signers who sign on a signature page added to it.")

    @api.depends("document_type_id")
    def _compute_field_placements(self):
        """The fields saved for the document's type (o2s.esign.field.template)."""
        Template = self.env["o2s.esign.field.template"]
        for line in self:
            line.field_placements = Template._esign_placements_for(line.document_type_id)

    @api.constrains("field_placements")
    def _check_field_placements(self):
        """The editor writes the placements as JSON: each must be well formed."""
        Template = self.env["o2s.esign.field.template"]
        for line in self:
            Template._esign_clean_placements(line.field_placements)

    @api.depends("field_placements")
    def _compute_field_count(self):
        for line in self:
            line.field_count = len(line.field_placements or [])

    @api.depends("attachment_id", "name", "field_placements", "wizard_id.signer_line_ids.partner_id")
    def _compute_placement_note(self):
        """What the send will do about where each signer signs on this document."""
        Document = self.env["o2s.esign.document"]
        for line in self:
            count = len(line.wizard_id.signer_line_ids.filtered("partner_id"))
            placements = line.field_placements or []
            source = "editor"
            if not placements and line.attachment_id:
                try:
                    pdf = Document._esign_normalised(line.name or line.attachment_id.name,
                                                     line.attachment_id.raw or b"").pdf
                except ValidationError:
                    line.placement_note = False  # the conversion note says why
                    continue
                placements = [p for p in Document._esign_find_anchors(pdf) if p["found"]]
                source = "anchor"
            line.placement_note = line._esign_placement_sentence(placements, count, source)

    def _esign_placement_sentence(self, placements, count, source):
        signatures = {}
        for placement in placements:
            if placement["type"] == "signature":
                signatures.setdefault(placement["signer"], placement["page"])
        if not placements:
            return self.env._("No box placed: the signers sign on a signature page added to "
                              "the document.")
        parts = [self.env._("Signature tags found: %(list)s.", list=", ".join(
            self.env._("signer %(number)s on page %(page)s", number=number, page=page)
            for number, page in sorted(signatures.items())))
            if source == "anchor" and signatures else
            self.env._("%(count)s box(es) placed.", count=len(placements))]
        missing = [str(number) for number in range(1, count + 1) if number not in signatures]
        if missing:
            parts.append(self.env._("No signature box for signer(s) %(numbers)s: they sign on a "
                                    "signature page added to the document.",
                                    numbers=", ".join(missing)))
        extra = sorted({p["signer"] for p in placements if p["signer"] > count})
        if count and extra and source == "anchor":
            parts.append(self.env._("Tags of signer(s) %(numbers)s are left out: the request "
                                    "has %(count)s signer(s).",
                                    numbers=", ".join(map(str, extra)), count=count))
        elif count and extra:
            parts.append(self.env._("Boxes for signer(s) %(numbers)s, whom the request does not "
                                    "have: give them to a signer or remove them before sending.",
                                    numbers=", ".join(map(str, extra))))
        return " ".join(parts)

    @api.depends("attachment_id", "name")
    def _compute_conversion_note(self):
        Document = self.env["o2s.esign.document"]
        max_bytes = Document._max_bytes()
        for line in self:
            line.conversion_note = False
            if not line.attachment_id:
                continue
            name = line.name or line.attachment_id.name
            try:
                result = lib_convert.normalise(
                    line.attachment_id.raw or b"", name, max_bytes=max_bytes,
                    timeout=Document._esign_conversion_timeout())
            except PdfError as exc:
                line.conversion_note = Document._pdf_error_message(name, exc, max_bytes)
                continue
            line.conversion_note = Document._esign_conversion_note(
                result.source_kind, result.source_mimetype, result.removed, result.repaired,
                result.decrypted)

    def action_esign_preview(self):
        """Open the PDF that will be signed, as it will be made from this file."""
        self.ensure_one()
        preview = self._esign_preview_attachment()
        return {"type": "ir.actions.act_url", "target": "new",
                "url": "/web/content/%d?download=false" % preview.id}

    def esign_field_editor_data(self):
        """What the placement editor shows: the PDF that will be signed (made from the file as
        it will be, readable by the caller only), the signers in signing order, the fields
        placed, the anchors found in the document, whether the caller may save a template."""
        self.ensure_one()
        self.check_access("write")
        wizard = self.wizard_id
        signers = [
            {"number": index + 1, "name": line.partner_id.display_name}
            for index, line in enumerate(
                wizard.signer_line_ids.sorted(lambda line: (line.sequence, line.id)).filtered(
                    "partner_id"))
        ]
        return {
            "name": self.name,
            "pdf_url": "/web/content/%d" % self._esign_preview_attachment().id,
            "signers": signers,
            "placements": self.field_placements or [],
            "anchors": self._esign_anchor_placements(),
            "can_save_template": bool(self.document_type_id) and self.env.user.has_group(
                "o2s_esign.group_esign_options"),
            "document_type": self.document_type_id.display_name or "",
            "document_type_id": self.document_type_id.id,
        }

    def _esign_preview_attachment(self):
        """The PDF that will be signed, as it will be made from this file, in an attachment
        attached to nothing (readable by its creator only: a wizard line's files would be
        readable by whoever may read the line), removed with the wizard's abandoned uploads."""
        Document = self.env["o2s.esign.document"]
        name = self.name or self.attachment_id.name
        result = Document._esign_normalised(name, self.attachment_id.raw or b"")
        return self.env["ir.attachment"].create({
            "name": Document._esign_pdf_name(name, result), "raw": result.pdf,
            "mimetype": "application/pdf", "description": PREVIEW_MARK,
        })

    def _esign_anchor_placements(self):
        """The text anchors ({{signature:1}}...) of the document as placements, each with
        ``found``; an empty list while anchors cannot be detected (o2s.esign.document's
        _esign_find_anchors, from the backend of issue 17)."""
        Document = self.env["o2s.esign.document"]
        name = self.name or self.attachment_id.name
        result = Document._esign_normalised(name, self.attachment_id.raw or b"")
        return Document._esign_find_anchors(
            result.pdf, signer_count=len(self.wizard_id.signer_line_ids.filtered("partner_id")))
