# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""“Cancel the signature”: cancel requests in progress, with an optional reason."""
from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from ..models.o2s_esign_request import OPEN_STATES


class O2sEsignRequestCancel(models.TransientModel):
    _name = "o2s.esign.request.cancel"
    _description = "Cancel signature requests"

    request_ids = fields.Many2many(
        "o2s.esign.request", "o2s_esign_request_cancel_rel", "wizard_id", "request_id",
        string="Requests", required=True)
    request_count = fields.Integer(compute="_compute_request_count")
    reason = fields.Text(
        help="Optional. Kept in the request's audit trail and given to the signers.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if "request_ids" in fields_list and not values.get("request_ids") \
                and context.get("active_model") == "o2s.esign.request" and context.get("active_ids"):
            values["request_ids"] = [Command.set(context["active_ids"])]
        return values

    @api.depends("request_ids")
    def _compute_request_count(self):
        for wizard in self:
            wizard.request_count = len(wizard.request_ids)

    def action_confirm(self):
        """Cancel the requests (all or none); the signers who had not signed are told."""
        self.ensure_one()
        closed = self.request_ids.filtered(lambda r: r.state not in OPEN_STATES)
        if closed:
            states = dict(self.env["o2s.esign.request"]._fields["state"]._description_selection(self.env))
            raise UserError(_(
                "Only requests in progress can be cancelled. These ones cannot: %(requests)s.",
                requests=", ".join("%s (%s)" % (r.reference or r.name, states[r.state]) for r in closed)))
        self.request_ids.action_cancel(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
