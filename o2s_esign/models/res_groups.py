# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the addon adds to ``res.groups``: users who join the "E-signature access" group from a
group's form (its users, or a group that implies it) find the E-signature block on their
dashboard, as those given the group from their own form (see res.users)."""
from odoo import models


class ResGroups(models.Model):
    _inherit = "res.groups"

    def write(self, vals):
        group = ("users" in vals or "implied_ids" in vals) \
            and self.env.ref("o2s_esign.group_esign_user", raise_if_not_found=False)
        before = group.sudo().users if group else None
        res = super().write(vals)
        if group:
            (group.sudo().users - before)._esign_home_on_by_default()
        return res
