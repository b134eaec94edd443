# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The advisor's own outgoing mail server.

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

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import email_normalize

_logger = logging.getLogger(__name__)

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


class IrMailServer(models.Model):
    _inherit = "ir.mail_server"

    o2s_esign_user_id = fields.Many2one(
        "res.users", string="Advisor", readonly=True, index="btree_not_null", ondelete="cascade",
        help="The advisor whose own server this is (set from their preferences).")

    # -------------------------------------------------------------- constrains
    @api.constrains("from_filter", "o2s_esign_user_id")
    def _check_o2s_esign_personal_from_filter(self):
        """An advisor's own server is never a catch-all: its filter is exactly one address, the
        advisor's own."""
        for server in self.sudo().filtered("o2s_esign_user_id"):
            expected = email_normalize(server.o2s_esign_user_id.email or "")
            if not expected or server.from_filter != expected:
                raise ValidationError(_(
                    "The outgoing server of %(user)s sends from their own address only: its "
                    "“from” filter must be exactly %(address)s.",
                    user=server.o2s_esign_user_id.name, address=expected or "?"))

    # -------------------------------------------------------------------- CRUD
    # Outgoing servers are system administrators' records (access rights of base); the module's
    # own code changes an advisor's server as superuser. Said again here, whatever access rights
    # another module adds: they route every mail of the database.
    @api.model_create_multi
    def create(self, vals_list):
        self._o2s_esign_check_server_admin()
        return super().create(vals_list)

    def write(self, vals):
        self._o2s_esign_check_server_admin()
        return super().write(vals)

    def unlink(self):
        self._o2s_esign_check_server_admin()
        return super().unlink()

    @api.model
    def _o2s_esign_check_server_admin(self):
        if not (self.env.su or self.env.user._is_system()):
            raise AccessError(_("Only administrators may change the outgoing mail servers."))

    # ---------------------------------------------------------------- routing
    @api.model
    def _find_mail_server(self, email_from, mail_servers=None):
        """An advisor's own server sends its owner's mail only: it is chosen for an exact match
        of its owner's current address, and never as a fallback (Odoo would otherwise send any
        mail through it when no other server matches, or when it is the only one)."""
        if mail_servers is None:
            mail_servers = self.sudo().search([], order="sequence")
        personal = mail_servers.filtered("o2s_esign_user_id")
        if not personal:
            return super()._find_mail_server(email_from, mail_servers=mail_servers)
        sender = email_normalize(email_from or "")
        for server in personal.filtered("active"):
            owner = server.sudo().o2s_esign_user_id
            if sender and server.from_filter == sender == email_normalize(owner.email or "") \
                    and owner._esign_smtp_allowed():
                return server, email_from
        return super()._find_mail_server(email_from, mail_servers=mail_servers - personal)


class ResUsers(models.Model):
    _inherit = "res.users"  # pylint: disable=consider-merging-classes-inherited

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
    esign_smtp_test_times = fields.Char(copy=False, groups="base.group_system")

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ESIGN_SMTP_READABLE

    @property
    def SELF_WRITEABLE_FIELDS(self):
        # Only the users who may have their own server may write its settings on themselves.
        if self.env.user._esign_smtp_allowed():
            return super().SELF_WRITEABLE_FIELDS + ESIGN_SMTP_FIELDS
        return super().SELF_WRITEABLE_FIELDS

    def _compute_esign_smtp_password(self):
        for user in self:
            user.esign_smtp_password = False
            user.esign_smtp_password_set = bool(user.sudo().esign_mail_server_id.smtp_pass)

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        passwords = [vals.pop("esign_smtp_password", None) for vals in vals_list]
        users = super().create(vals_list)
        for user, vals, password in zip(users, vals_list, passwords, strict=True):
            if vals.get("esign_smtp_use_own") or password:
                user._esign_check_smtp_allowed()
                user._esign_sync_mail_server_sudo(password)
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
        return res

    # ----------------------------------------------------------------- helpers
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
        if not (self.esign_smtp_host or "").strip():
            problems.append(_("Enter the address of your SMTP server."))
        if not 0 < (self.esign_smtp_port or 0) < 65536:
            problems.append(_("The SMTP port must be between 1 and 65535."))
        return problems

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


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    def write(self, vals):
        res = super().write(vals)
        if "email" in vals:
            # A user's address is their partner's: whoever changes it, their own server follows
            # (and the change is refused when the new address is reserved).
            servers = self.env["ir.mail_server"].sudo().search([
                ("o2s_esign_user_id.partner_id", "in", self.ids)])
            for user in servers.o2s_esign_user_id:
                user._esign_sync_mail_server_sudo()
        return res
