# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the addon adds to ``ir.ui.menu``: for the users of the "E-signature access" group, the
Dashboards app opens "My Dashboard" (which holds the E-signature block) instead of the
spreadsheet dashboards' page while no spreadsheet dashboard is published to them (that page
would be empty)."""
from odoo import api, models


class IrUiMenu(models.Model):
    _inherit = "ir.ui.menu"

    @api.model
    def load_menus(self, debug):
        menus = super().load_menus(debug)
        data = self.env["ir.model.data"]
        app_id = data._xmlid_to_res_id("spreadsheet_dashboard.spreadsheet_dashboard_menu_root",
                                       raise_if_not_found=False)
        board_action_id = data._xmlid_to_res_id("board.open_board_my_dash_action",
                                                raise_if_not_found=False)
        if not (app_id and board_action_id and app_id in menus) \
                or not self.env.user.has_group("o2s_esign.group_esign_user") \
                or self.env["spreadsheet.dashboard"].search_count([("is_published", "=", True)], limit=1):
            return menus
        # super() returns its cached value: change a copy.
        menus = dict(menus)
        menus[app_id] = dict(menus[app_id], action="ir.actions.act_window,%d" % board_action_id)
        return menus
