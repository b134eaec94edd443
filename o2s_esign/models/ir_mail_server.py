# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The advisor's own outgoing mail server (see res_users.py) knows whose it is."""
from odoo import fields, models


class IrMailServer(models.Model):
    _inherit = "ir.mail_server"

    o2s_esign_user_id = fields.Many2one(
        "res.users", string="Advisor", readonly=True, index="btree_not_null", ondelete="cascade",
        help="The advisor whose own server this is (set from their preferences).")
