# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from lxml import etree

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .o2s_esign_request_home import HOME_STATES

# The per-user switch of each status the home block can show.
HOME_STATE_FIELDS = {state: "esign_home_show_%s" % state for state in HOME_STATES}
HOME_SETTING_FIELDS = ["esign_home_enabled", "esign_home_signed_days", *HOME_STATE_FIELDS.values()]


class ResUsers(models.Model):
    """Per-user settings of the E-signature home block, and its place on "My Dashboard"."""

    # Each part of the module extends the model in a file of its own (TEAM.md).
    _inherit = "res.users"  # pylint: disable=consider-merging-classes-inherited

    esign_home_enabled = fields.Boolean(
        string="E-signature block on My Dashboard",
        compute="_compute_esign_home_enabled", inverse="_inverse_esign_home_enabled",
        help="Show the E-signature block (signature tracking at a glance) on your dashboard. "
             "There, you can drag it to another place or remove it.")
    esign_home_show_in_progress = fields.Boolean(string="In progress", default=True)
    esign_home_show_signed = fields.Boolean(string="Signed", default=True)
    esign_home_show_refused = fields.Boolean(string="Refused", default=True)
    esign_home_show_cancelled = fields.Boolean(string="Cancelled", default=True)
    esign_home_show_expired = fields.Boolean(string="Expired", default=True)
    esign_home_show_error = fields.Boolean(string="Error", default=True)
    esign_home_signed_days = fields.Integer(
        string="Limit signed requests to", default=30,
        help="Signed requests older than this number of days are not counted on the E-signature "
             "block (0: no limit).")

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + HOME_SETTING_FIELDS

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return super().SELF_WRITEABLE_FIELDS + HOME_SETTING_FIELDS

    # ---------------------------------------------------------------- computes
    def _compute_esign_home_enabled(self):
        board_view, action = self._esign_board_refs()
        for user in self:
            enabled = False
            if board_view and action:
                custom = user._esign_board_custom_sudo(board_view)
                if custom:
                    enabled = bool(user._esign_board_nodes(etree.fromstring(custom.arch), action))
            user.esign_home_enabled = enabled

    def _inverse_esign_home_enabled(self):
        for user in self:
            if user.esign_home_enabled and not user.has_group("o2s_esign.group_esign_user"):
                raise UserError(_(
                    "You need the “E-signature access” right to show the E-signature block."))
            user._esign_home_put_on_board(user.esign_home_enabled)

    @api.constrains("esign_home_signed_days")
    def _check_esign_home_signed_days(self):
        for user in self:
            if user.esign_home_signed_days < 0 or user.esign_home_signed_days > 36500:
                raise ValidationError(_(
                    "The number of days of signed requests to show must be between 0 (no limit) "
                    "and 36,500."))

    # ----------------------------------------------------------------- actions
    @api.model
    def action_esign_home_settings(self):
        """The current user's E-signature block settings, in a dialog."""
        return {
            "type": "ir.actions.act_window",
            "name": _("E-signature block"),
            "res_model": "res.users",
            "res_id": self.env.uid,
            "views": [[self.env.ref("o2s_esign.res_users_view_form_esign_home").id, "form"]],
            "target": "new",
        }

    # --------------------------------------------------------- private helpers
    def _esign_home_settings(self):
        """The home block settings of this user: ``states`` (the statuses shown, in display
        order), ``signed_days`` and ``on_dashboard``."""
        self.ensure_one()
        user = self.sudo()
        return {
            "states": [state for state in HOME_STATES if user[HOME_STATE_FIELDS[state]]],
            "signed_days": max(user.esign_home_signed_days, 0),
            "on_dashboard": user.esign_home_enabled,
        }

    def _esign_board_refs(self):
        """The "My Dashboard" view and the block's window action (board embeds window actions),
        from the cached xml id lookup (no query)."""
        data = self.env["ir.model.data"]
        view_id = data._xmlid_to_res_id("board.board_my_dash_view", raise_if_not_found=False)
        action_id = data._xmlid_to_res_id("o2s_esign.o2s_esign_home_board_action",
                                          raise_if_not_found=False)
        return (self.env["ir.ui.view"].browse(view_id),
                self.env["ir.actions.act_window"].browse(action_id))

    def _esign_board_custom_sudo(self, board_view):
        """The user's own layout of "My Dashboard" (sudo: the board module keeps each user's
        layout in ir.ui.view.custom and reads and writes it as superuser, per user)."""
        self.ensure_one()
        return self.env["ir.ui.view.custom"].sudo().search(
            [("user_id", "=", self.id), ("ref_id", "=", board_view.id)],
            order="create_date desc, id desc", limit=1)

    @api.model
    def _esign_board_nodes(self, tree, action):
        return tree.xpath("//action[@name=$name]", name=str(action.id))

    def _esign_home_put_on_board(self, enabled):
        """Add the E-signature block at the top of the user's dashboard, or remove it. The board
        itself then lets the user drag it elsewhere, fold it or close it."""
        self.ensure_one()
        board_view, action = self._esign_board_refs()
        if not (board_view and action):
            return
        custom = self._esign_board_custom_sudo(board_view)
        if custom:
            arch = custom.arch
        else:
            arch = self.env["board.board"].with_user(self).get_view(board_view.id, "form")["arch"]
        tree = etree.fromstring(arch)
        nodes = self._esign_board_nodes(tree, action)
        if enabled and not nodes:
            column = tree.find("./board/column")
            if column is None:
                return
            column.insert(0, etree.Element("action", {
                "name": str(action.id),
                "string": self.with_context(lang=self.lang).env._("E-signature"),
                "view_mode": "list",
                "context": "{}",
                "domain": "[]",
            }))
        elif not enabled and nodes:
            for node in nodes:
                node.getparent().remove(node)
        else:
            return
        new_arch = etree.tostring(tree, encoding="unicode")
        if custom:
            custom.write({"arch": new_arch})
        else:
            self.env["ir.ui.view.custom"].sudo().create(
                {"user_id": self.id, "ref_id": board_view.id, "arch": new_arch})
