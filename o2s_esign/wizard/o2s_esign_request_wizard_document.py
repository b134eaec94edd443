# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A document line of the send wizard (o2s_esign_request_wizard.py)."""
from odoo import api, fields, models

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
        Document = self.env["o2s.esign.document"]
        name = self.name or self.attachment_id.name
        result = Document._esign_normalised(name, self.attachment_id.raw or b"")
        # attached to nothing: readable by its creator only (a wizard line's files would be
        # readable by whoever may read the line); removed with the wizard's abandoned uploads
        preview = self.env["ir.attachment"].create({
            "name": Document._esign_pdf_name(name, result), "raw": result.pdf,
            "mimetype": "application/pdf", "description": PREVIEW_MARK,
        })
        return {"type": "ir.actions.act_url", "target": "new",
                "url": "/web/content/%d?download=false" % preview.id}
