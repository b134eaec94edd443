# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The advisor's own outgoing mail server (see res_users.py) knows whose it is."""
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import email_normalize


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
