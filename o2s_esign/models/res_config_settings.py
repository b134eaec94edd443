# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The "E-signature" block of Odoo's Settings: it opens the module's own settings page
(o2s.esign.settings, see o2s_esign_settings.py), which the options-management group uses."""
from odoo import models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    def action_open_esign_settings(self):
        return self.env["o2s.esign.settings"]._esign_action_open()
