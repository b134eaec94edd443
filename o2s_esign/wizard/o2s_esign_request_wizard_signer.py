# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A signer line of the send wizard (o2s_esign_request_wizard.py)."""
from odoo import api, fields, models

from .o2s_esign_request_wizard import PRESENCES, SIGNER_ROLES


class O2sEsignRequestWizardSigner(models.TransientModel):
    _name = "o2s.esign.request.wizard.signer"
    _description = "Signer proposed in the send wizard"
    _order = "sequence, id"

    wizard_id = fields.Many2one(
        "o2s.esign.request.wizard", required=True, index=True, ondelete="cascade")
    sequence = fields.Integer(string="Order", default=10)
    partner_id = fields.Many2one("res.partner", string="Contact", required=True)
    role = fields.Selection(SIGNER_ROLES, string="Capacity", required=True, default="signer")
    represented_partner_id = fields.Many2one(
        "res.partner", string="On behalf of",
        help="The company or protected person this signer signs for.")
    presence = fields.Selection(PRESENCES, required=True, default="remote")
    email = fields.Char(related="partner_id.email")
    mobile = fields.Char(compute="_compute_checks")
    id_document_valid = fields.Boolean(compute="_compute_checks", string="Valid ID")
    problems = fields.Text(compute="_compute_checks", string="To complete")

    @api.depends("partner_id", "role", "represented_partner_id")
    def _compute_checks(self):
        """What the contact lacks to sign (the same checks as at send time)."""
        company = self.env.company
        for line in self:
            partner = line.partner_id._origin
            if not partner:
                line.update({"mobile": False, "id_document_valid": False, "problems": False})
                continue
            request = self.env["o2s.esign.request"].new({"company_id": company.id})
            signer = self.env["o2s.esign.signer"].new({
                "request_id": request, "partner_id": partner.id, "role": line.role or "signer"})
            line.mobile = partner.mobile or partner.phone
            line.id_document_valid = bool(partner._esign_valid_id_document())
            line.problems = "\n".join(signer._get_send_problems()) or False
