# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The advisor's own outgoing mail server.

An advisor who ticks "Use my own SMTP server" in their preferences gets an Odoo outgoing mail
server (ir.mail_server) whose "from" filter is their own address. The e-signature mails of their
requests are sent from that address, so Odoo picks that server for them; every other mail (other
advisors' requests included) keeps the company's servers. The password lives where Odoo keeps
every SMTP password (on the mail server, readable by system administrators only) and is never
shown back in the preferences.
"""
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import email_normalize

ESIGN_SMTP_FIELDS = [
    "esign_smtp_use_own", "esign_smtp_host", "esign_smtp_port", "esign_smtp_encryption",
    "esign_smtp_user", "esign_smtp_password",
]
ESIGN_SMTP_READABLE = ESIGN_SMTP_FIELDS + ["esign_smtp_password_set", "esign_mail_server_id"]


class IrMailServer(models.Model):
    _inherit = "ir.mail_server"

    o2s_esign_user_id = fields.Many2one(
        "res.users", string="Advisor", readonly=True, index="btree_not_null", ondelete="cascade",
        help="The advisor whose own server this is (set from their preferences).")


class ResUsers(models.Model):
    _inherit = "res.users"  # pylint: disable=consider-merging-classes-inherited

    esign_smtp_use_own = fields.Boolean(string="Use my own SMTP server")
    esign_smtp_host = fields.Char(string="SMTP server")
    esign_smtp_port = fields.Integer(string="SMTP port", default=587)
    esign_smtp_encryption = fields.Selection(
        [("none", "None"), ("starttls", "TLS (STARTTLS)"), ("ssl", "SSL/TLS")],
        string="Connection security", default="starttls")
    esign_smtp_user = fields.Char(string="SMTP user name")
    esign_smtp_password = fields.Char(
        string="SMTP password", compute="_compute_esign_smtp_password", readonly=False,
        help="Write-only: type a new password to replace the one saved.")
    esign_smtp_password_set = fields.Boolean(
        string="SMTP password saved", compute="_compute_esign_smtp_password")
    esign_mail_server_id = fields.Many2one(
        "ir.mail_server", string="My outgoing mail server", readonly=True, copy=False)

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ESIGN_SMTP_READABLE

    @property
    def SELF_WRITEABLE_FIELDS(self):
        return super().SELF_WRITEABLE_FIELDS + ESIGN_SMTP_FIELDS

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
            if vals.get("esign_smtp_use_own"):
                user._esign_sync_mail_server_sudo(password)
        return users

    def write(self, vals):
        password = vals.pop("esign_smtp_password", None)
        res = super().write(vals)
        if password or set(ESIGN_SMTP_FIELDS + ["email", "name"]).intersection(vals):
            for user in self:
                if user.esign_smtp_use_own or user.esign_mail_server_id:
                    user._esign_sync_mail_server_sudo(password)
        return res

    # ----------------------------------------------------------------- helpers
    def _esign_smtp_problems(self):
        self.ensure_one()
        problems = []
        if not email_normalize(self.email or ""):
            problems.append(_("Your user needs a valid email address to send from your own server."))
        if not (self.esign_smtp_host or "").strip():
            problems.append(_("Enter the address of your SMTP server."))
        if not 0 < (self.esign_smtp_port or 0) < 65536:
            problems.append(_("The SMTP port must be between 1 and 65535."))
        return problems

    def _esign_sync_mail_server_sudo(self, password=None):
        """Create, update or archive this user's own outgoing mail server.

        As superuser: users may edit their own preferences but not the outgoing mail servers;
        only this user's own server (o2s_esign_user_id) is ever touched here."""
        self.ensure_one()
        server_sudo = self.sudo().esign_mail_server_id
        if not self.esign_smtp_use_own:
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
        outgoing servers are administrators' records; the user may only test their own.)"""
        self.ensure_one()
        if self != self.env.user and not self.env.user._is_admin():
            raise AccessError(_("You can only test your own mail server."))
        server_sudo = self.sudo().esign_mail_server_id
        if not (self.esign_smtp_use_own and server_sudo):
            raise UserError(_("Tick “Use my own SMTP server” and save your settings first."))
        return server_sudo.test_smtp_connection()
