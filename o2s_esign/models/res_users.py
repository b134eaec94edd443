# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the addon adds to ``res.users``: the settings of the E-signature home block and its
place on "My Dashboard", and the advisor's own outgoing mail server.

An advisor who ticks "Use my own SMTP server" in their preferences gets an Odoo outgoing mail
server (ir.mail_server) whose "from" filter is their own address. The e-signature mails of their
requests are sent from that address, so Odoo picks that server for them; every other mail (other
advisors' requests included) keeps the company's servers. The password lives where Odoo keeps
every SMTP password (on the mail server, readable by system administrators only) and is never
shown back in the preferences.

Such a server carries only its owner's own mail, whatever else is configured:

* only internal users of the "E-signature access" group may have one (checked on every write,
  whoever writes; a user who leaves the group or the company's staff loses it);
* its "from" filter is exactly the owner's normalized address, which may not be one the company
  or another user sends from (company addresses, catch-all, bounce and default "from" addresses,
  other servers' filters, other users' addresses), checked again when the owner's address changes;
* Odoo never falls back on it for another sender (``_find_mail_server``);
* the connection test is limited per user and answers "connected" or "failed", nothing more.
"""
import json
import logging
from datetime import timedelta

from lxml import etree

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import email_normalize

from ..lib import netguard
from .o2s_esign_request import HOME_STATES

_logger = logging.getLogger(__name__)

# The per-user switch of each status the home block can show.
HOME_STATE_FIELDS = {state: "esign_home_show_%s" % state for state in HOME_STATES}
HOME_SETTING_FIELDS = ["esign_home_enabled", "esign_home_start_page", "esign_home_signed_days",
                       *HOME_STATE_FIELDS.values()]
ESIGN_SMTP_FIELDS = [
    "esign_smtp_use_own", "esign_smtp_host", "esign_smtp_port", "esign_smtp_encryption",
    "esign_smtp_user", "esign_smtp_password",
]
ESIGN_SMTP_READABLE = ESIGN_SMTP_FIELDS + ["esign_smtp_password_set", "esign_mail_server_id"]
ESIGN_USER_GROUP = "o2s_esign.group_esign_user"
# Connection tests a user may run in SMTP_TEST_WINDOW (each one opens a connection to a host and
# port of their choice: not a port scanner).
SMTP_TEST_MAX = 5
SMTP_TEST_WINDOW = timedelta(minutes=10)


class ResUsers(models.Model):
    _inherit = "res.users"

    # ------------------------------------------------------------------ fields
    # The E-signature home block
    esign_home_enabled = fields.Boolean(
        string="E-signature block on My Dashboard",
        compute="_compute_esign_home_enabled", inverse="_inverse_esign_home_enabled",
        help="Show the E-signature block (signature tracking at a glance) on your dashboard. "
             "There, you can drag it to another place or remove it.")
    esign_home_start_page = fields.Boolean(
        string="Start on My Dashboard",
        compute="_compute_esign_home_start_page", inverse="_inverse_esign_home_start_page",
        help="Open Odoo on My Dashboard, which holds the E-signature block (your home action).")
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
    # The advisor's own SMTP server
    esign_smtp_use_own = fields.Boolean(string="Use my own SMTP server", copy=False)
    esign_smtp_host = fields.Char(string="SMTP server", copy=False)
    esign_smtp_port = fields.Integer(string="SMTP port", default=587, copy=False)
    esign_smtp_encryption = fields.Selection(
        [("none", "None"), ("starttls", "TLS (STARTTLS)"), ("ssl", "SSL/TLS")],
        string="Connection security", default="starttls", copy=False)
    esign_smtp_user = fields.Char(string="SMTP user name", copy=False)
    esign_smtp_password = fields.Char(
        string="SMTP password", compute="_compute_esign_smtp_password", readonly=False,
        help="Write-only: type a new password to replace the one saved.")
    esign_smtp_password_set = fields.Boolean(
        string="SMTP password saved", compute="_compute_esign_smtp_password")
    esign_mail_server_id = fields.Many2one(
        "ir.mail_server", string="My outgoing mail server", readonly=True, copy=False)
    # When this user's last connection tests ran (JSON list of UTC times): the rate limit.
    esign_smtp_test_times = fields.Char(
        string="SMTP connection tests", copy=False, groups="base.group_system")

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + HOME_SETTING_FIELDS + ESIGN_SMTP_READABLE

    @property
    def SELF_WRITEABLE_FIELDS(self):
        # Only the users who may have their own server may write its settings on themselves.
        if self.env.user._esign_smtp_allowed():
            return super().SELF_WRITEABLE_FIELDS + HOME_SETTING_FIELDS + ESIGN_SMTP_FIELDS
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

    def _compute_esign_home_start_page(self):
        action = self._esign_start_action()
        for user in self:
            user.esign_home_start_page = bool(action) and user.sudo().action_id.id == action.id

    def _inverse_esign_home_start_page(self):
        action = self._esign_start_action()
        if not action:
            return
        for user in self:
            if user.esign_home_start_page:
                if not user.has_group(ESIGN_USER_GROUP):
                    raise UserError(_("You need the “E-signature access” right to start on the "
                                      "E-signature block."))
                if not user.esign_home_enabled:
                    user._esign_home_put_on_board(True)
                user.action_id = action.id
            elif user.action_id.id == action.id:
                user.action_id = False

    def _compute_esign_smtp_password(self):
        for user in self:
            user.esign_smtp_password = False
            user.esign_smtp_password_set = bool(user.sudo().esign_mail_server_id.smtp_pass)

    # ------------------------------------------------------------- constraints
    @api.constrains("esign_home_signed_days")
    def _check_esign_home_signed_days(self):
        for user in self:
            if user.esign_home_signed_days < 0 or user.esign_home_signed_days > 36500:
                raise ValidationError(_(
                    "The number of days of signed requests to show must be between 0 (no limit) "
                    "and 36,500."))

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        passwords = [vals.pop("esign_smtp_password", None) for vals in vals_list]
        users = super().create(vals_list)
        for user, vals, password in zip(users, vals_list, passwords, strict=True):
            if vals.get("esign_smtp_use_own") or password:
                user._esign_check_smtp_allowed()
                user._esign_sync_mail_server_sudo(password)
        users._esign_home_on_by_default()
        return users

    def write(self, vals):
        password = vals.pop("esign_smtp_password", None)
        smtp_change = bool(password) or any(
            name in vals for name in ESIGN_SMTP_FIELDS if name != "esign_smtp_use_own") \
            or bool(vals.get("esign_smtp_use_own"))
        if smtp_change:
            for user in self:
                user._esign_check_smtp_allowed()
        res = super().write(vals)
        if password or set(ESIGN_SMTP_FIELDS + ["email", "name"]).intersection(vals):
            for user in self:
                if user.esign_smtp_use_own or user.esign_mail_server_id:
                    user._esign_sync_mail_server_sudo(password)
        self._esign_drop_unallowed_servers_sudo()
        if any(name == "groups_id" or name.startswith(("in_group_", "sel_groups_")) for name in vals):
            self._esign_home_on_by_default()
        return res

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

    def action_esign_test_smtp(self):
        """Test the connection to this user's own SMTP server (login included). (sudo: the
        outgoing servers are administrators' records; the user may only test their own.)

        At most SMTP_TEST_MAX tests per user in SMTP_TEST_WINDOW, and the answer is only
        "connected" or "failed" (the reason goes to the server log): the button must not tell
        which hosts and ports answer."""
        self.ensure_one()
        if self != self.env.user and not self.env.user._is_admin():
            raise AccessError(_("You can only test your own mail server."))
        self._esign_check_smtp_allowed()
        server_sudo = self.sudo().esign_mail_server_id
        if not (self.esign_smtp_use_own and server_sudo.active):
            raise UserError(_("Tick “Use my own SMTP server” and save your settings first."))
        self._esign_count_smtp_test_sudo()
        try:
            server_sudo.test_smtp_connection()
        except UserError as exc:
            _logger.info("Connection test of the own SMTP server of user %s failed: %s", self.id, exc)
            message, kind = _("The connection to your SMTP server failed."), "danger"
        else:
            message, kind = _("Connected: your SMTP server accepted the connection."), "success"
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {"message": message, "type": kind, "sticky": False},
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
        return self.env["ir.ui.view.custom"].sudo().search_fetch(
            [("user_id", "=", self.id), ("ref_id", "=", board_view.id)], ["arch"],
            order="create_date desc, id desc", limit=1)

    @api.model
    def _esign_board_nodes(self, tree, action):
        return tree.xpath("//action[@name=$name]", name=str(action.id))

    @api.model
    def _esign_start_action(self):
        """The home action that opens "My Dashboard" (the board's own window action)."""
        action_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "board.open_board_my_dash_action", raise_if_not_found=False)
        return self.env["ir.actions.act_window"].browse(action_id)

    @api.model
    def _esign_home_on_by_default_all(self):
        """At install and update: the block on the dashboard of every user of the group who
        has no layout of their own yet (data/res_users_data.xml)."""
        self.sudo().search([("share", "=", False)])._esign_home_on_by_default()

    def _esign_home_on_by_default(self):
        """Put the block on the dashboard of those of these users who are in the "E-signature
        access" group and still have the default layout (never changed it: a user who took the
        block off keeps it off). Called whenever users join a group."""
        board_view, action = self._esign_board_refs()
        if not (board_view and action):
            return
        for user in self:
            if user.has_group(ESIGN_USER_GROUP) and not user._esign_board_custom_sudo(board_view):
                user._esign_home_put_on_board(True)

    def _esign_board_insert_block(self, tree, action):
        """Put the block at the top of the first column of the board ``tree`` (in place) unless
        it is there already; returns whether it was added."""
        self.ensure_one()
        column = tree.find("./board/column")
        if column is None or self._esign_board_nodes(tree, action):
            return False
        column.insert(0, etree.Element("action", {
            "name": str(action.id),
            "string": self.with_context(lang=self.lang).env._("E-signature"),
            "view_mode": "list",
            "context": "{}",
            "domain": "[]",
        }))
        return True

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
            if not self._esign_board_insert_block(tree, action):
                return
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

    def _esign_smtp_allowed(self):
        """Whether this user may send from their own SMTP server: an internal user of the
        "E-signature access" group (an empty recordset: no)."""
        if len(self) != 1:
            return False
        user_sudo = self.sudo()
        return user_sudo.active and not user_sudo.share and user_sudo._has_group(ESIGN_USER_GROUP)

    def _esign_check_smtp_allowed(self):
        self.ensure_one()
        if not self._esign_smtp_allowed():
            raise AccessError(_("Only internal users with the “E-signature access” right may send "
                                "from their own SMTP server."))

    def _esign_drop_unallowed_servers_sudo(self):
        """Archive the own server of users who may no longer have one (left the group, became
        portal users, archived). (sudo: the servers are administrators' records, and the
        user's groups may have been changed by anyone allowed to.)"""
        for user in self.sudo().filtered(lambda u: u.esign_mail_server_id.active):
            if not user._esign_smtp_allowed():
                user.esign_mail_server_id.active = False
                user.esign_smtp_use_own = False

    def _esign_smtp_problems(self):
        self.ensure_one()
        problems = []
        address = email_normalize(self.email or "")
        if not address:
            problems.append(_("Your user needs a valid email address to send from your own server."))
        elif address in self._esign_reserved_addresses_sudo():
            problems.append(_(
                "Your email address %(address)s is one the company or another user sends from: "
                "your own server can only send from an address that is yours alone.",
                address=address))
        host = (self.esign_smtp_host or "").strip()
        if not host:
            problems.append(_("Enter the address of your SMTP server."))
        if not 0 < (self.esign_smtp_port or 0) < 65536:
            problems.append(_("The SMTP port must be between 1 and 65535."))
        elif host:
            problems += self._esign_smtp_host_problems(host)
        return problems

    def _esign_smtp_host_problems(self, host):
        """The server connects to the advisor's SMTP host on their behalf (server-side request
        forgery): a public address only (loopback when the company allows it: tests and the
        local demo), and credentials never sent over a connection without encryption, except
        to loopback."""
        Company = self.env["res.company"]
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host  # an IPv6 address, as a URL writes it
        url = "https://%s:%d" % (host, self.esign_smtp_port)
        problem = Company._esign_url_problem(url)
        if problem == "address":
            return [_("The SMTP server is on a private, loopback, link-local or reserved network "
                      "address: your own server must be a public one.")]
        if problem == "resolve":
            return [_("The SMTP server %(host)s cannot be found.", host=self.esign_smtp_host)]
        if problem:
            return [_("The SMTP server %(host)s is not a valid server name or address.",
                      host=self.esign_smtp_host)]
        # passed with the company's loopback allowance, refused without it: a loopback host
        loopback = netguard.url_problem(url, allow_localhost=False, resolve=False) == "address"
        if (self.esign_smtp_encryption or "none") == "none" and self.esign_smtp_user \
                and not loopback:
            return [_("Choose TLS (STARTTLS) or SSL/TLS for your SMTP server: your user name and "
                      "password must not travel unencrypted.")]
        return []

    def _esign_reserved_addresses_sudo(self):
        """The normalized addresses this user's own server may not send from: those of the
        companies, their catch-all, bounce and default "from" addresses, the "from" filters of
        the other outgoing servers and the addresses of every other user. (sudo: companies,
        alias domains, servers and other users are read whatever this user may read.)"""
        self.ensure_one()
        env = self.sudo().with_context(active_test=False).env
        addresses = set(env["res.company"].search([]).mapped("email"))
        for domain in env["mail.alias.domain"].search([]):
            addresses.update((domain.catchall_email, domain.bounce_email, domain.default_from_email))
        addresses.add(tools.config.get("email_from"))
        for server in env["ir.mail_server"].search([("id", "!=", self.sudo().esign_mail_server_id.id)]):
            addresses.update((server.from_filter or "").split(","))
        others = env["res.users"].search([("id", "!=", self.id)])
        addresses.update(others.mapped("email"))
        return {email_normalize(a.strip()) for a in addresses if a and "@" in a} - {False}

    def _esign_sync_mail_server_sudo(self, password=None):
        """Create, update or archive this user's own outgoing mail server.

        As superuser: users may edit their own preferences but not the outgoing mail servers;
        only this user's own server (o2s_esign_user_id) is ever touched here."""
        self.ensure_one()
        server_sudo = self.sudo().esign_mail_server_id
        if not (self.esign_smtp_use_own and self._esign_smtp_allowed()):
            if server_sudo.active:
                server_sudo.active = False
            return
        problems = self._esign_smtp_problems()
        if problems:
            raise UserError("\n".join(problems))
        values = {
            "name": _("E-signature: %(name)s", name=self.name),
            "from_filter": email_normalize(self.email),
            "smtp_host": self.esign_smtp_host.strip(),
            "smtp_port": self.esign_smtp_port,
            "smtp_encryption": self.esign_smtp_encryption or "none",
            "smtp_authentication": "login",
            "smtp_user": (self.esign_smtp_user or "").strip() or False,
            "sequence": 5,
            "active": True,
            "o2s_esign_user_id": self.id,
        }
        if password:
            values["smtp_pass"] = password
        if server_sudo:
            server_sudo.write(values)
        else:
            server_sudo = self.env["ir.mail_server"].sudo().create(values)
            self.sudo().esign_mail_server_id = server_sudo

    def _esign_count_smtp_test_sudo(self):
        """Count one connection test of this user, or refuse it past the limit. (sudo: the
        times are kept on the user, in a field that only administrators may read or write.)"""
        self.ensure_one()
        user_sudo = self.sudo()
        now = fields.Datetime.now()
        try:
            times = [fields.Datetime.to_datetime(t) for t in json.loads(user_sudo.esign_smtp_test_times or "[]")]
        except (ValueError, TypeError):
            times = []
        times = [t for t in times if t and now - SMTP_TEST_WINDOW < t <= now]
        if len(times) >= SMTP_TEST_MAX:
            wait = max(1, round((min(times) + SMTP_TEST_WINDOW - now).total_seconds() / 60))
            raise UserError(_("You tested your SMTP server %(count)s times in the last %(window)s "
                              "minutes: try again in %(minutes)s minutes.", count=len(times),
                              window=int(SMTP_TEST_WINDOW.total_seconds() // 60), minutes=wait))
        times.append(now)
        user_sudo.esign_smtp_test_times = json.dumps([fields.Datetime.to_string(t) for t in times])
