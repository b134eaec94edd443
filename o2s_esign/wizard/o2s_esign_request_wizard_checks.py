# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The send wizard's part of the input checks (models/o2s_esign_input_checks.py): no NUL
character stored, and a default subject made of the documents' names as they will be stored."""
from odoo import api, models


class O2sEsignRequestWizard(models.TransientModel):
    _inherit = "o2s.esign.request.wizard"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self.env["o2s.esign.request"]._check_storable_text(vals)
        return super().create(vals_list)

    def write(self, vals):
        self.env["o2s.esign.request"]._check_storable_text(vals)
        return super().write(vals)

    def _prepare_request_values(self, document_lines):
        values = super()._prepare_request_values(document_lines)
        if not (self.name or "").strip() and document_lines:
            # the default subject: the documents' names, as the documents will be named
            Document = self.env["o2s.esign.document"]
            values["name"] = ", ".join(
                Document._safe_file_name(line.name or line.attachment_id.name)
                for line in document_lines.sorted("sequence"))[:250]
        return values
