# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A document line of the send wizard (o2s_esign_request_wizard.py)."""
from odoo import fields, models

from .o2s_esign_request_wizard import SOURCES


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
