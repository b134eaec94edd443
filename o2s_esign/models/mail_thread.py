# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, models


class MailThread(models.AbstractModel):
    """Bounces of e-signature mails reach the mail report (sudo, as for the mail queue)."""
    _inherit = "mail.thread"

    @api.model
    def _routing_handle_bounce(self, email_message, message_dict):
        res = super()._routing_handle_bounce(email_message, message_dict)
        bounced_message = message_dict.get("bounced_message")
        if bounced_message:
            self.env["o2s.esign.mail.log"].sudo()._on_bounce(bounced_message, message_dict)
        return res
