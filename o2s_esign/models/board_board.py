# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the addon adds to ``board.board`` ("My Dashboard"): the E-signature block is on it by
default for the users of the "E-signature access" group.

The board shows a user's own layout once they changed it (moved, folded or closed a block, or
added one): that layout is kept as it is. Until then, such a user's dashboard is the default
one with the E-signature block at the top of its first column, so that it never opens empty.
"""
from lxml import etree

from odoo import api, models


class Board(models.AbstractModel):
    _inherit = "board.board"

    @api.model
    def get_view(self, view_id=None, view_type="form", **options):
        res = super().get_view(view_id, view_type, **options)
        if view_type == "form" and not res.get("custom_view_id"):
            user = self.env.user
            board_view, action = user._esign_board_refs()
            if board_view and view_id == board_view.id and user._esign_home_on_by_default():
                tree = etree.fromstring(res["arch"])
                if user._esign_board_insert_block(tree, action):
                    res["arch"] = etree.tostring(tree, encoding="unicode")
        return res
