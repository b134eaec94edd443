# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the addon adds to ``board.board`` ("My Dashboard"): the E-signature block's title in
the language of the user who opens the dashboard (the board keeps the title written in the
user's saved layout, which may predate a change of language or the translations)."""
from lxml import etree

from odoo import api, models


class Board(models.AbstractModel):
    _inherit = "board.board"

    @api.model
    def get_view(self, view_id=None, view_type="form", **options):
        res = super().get_view(view_id, view_type, **options)
        _board_view, action = self.env.user._esign_board_refs()
        if view_type == "form" and action and 'name="%d"' % action.id in res.get("arch", ""):
            tree = etree.fromstring(res["arch"])
            nodes = self.env["res.users"]._esign_board_nodes(tree, action)
            for node in nodes:
                node.set("string", self.env._("E-signature"))
            if nodes:
                res["arch"] = etree.tostring(tree, encoding="unicode")
        return res
