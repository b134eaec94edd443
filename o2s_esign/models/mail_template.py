# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The module's own mail templates: their wording is the options group's, their recipients not.

The options-management group edits the e-signature templates (subject, body, translations;
see security/o2s_esign_security.xml). Who a module template is sent to, from whom,
to whom replies go and through which server are the module's: nobody but the superuser (the
module's data files) changes them, so that nobody can add themselves in copy of every signing
link. Nor does anybody delete them: the signature process sends them by external id.
"""
from odoo import _, api, models
from odoo.exceptions import AccessError

# Fields of mail.template that decide where a mail goes (or who it claims to come from).
ROUTING_FIELDS = {
    "email_from", "email_to", "email_cc", "partner_to", "reply_to", "use_default_to",
    "mail_server_id", "model_id", "model",
}


class MailTemplate(models.Model):
    _inherit = "mail.template"

    def write(self, vals):
        if not self.env.su and ROUTING_FIELDS.intersection(vals) and self._o2s_esign_module_templates_sudo():
            raise AccessError(_(
                "The recipients and the sender of the e-signature mail templates cannot be "
                "changed: only their subject and text can."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_o2s_esign_templates(self):
        if not self.env.su and self._o2s_esign_module_templates_sudo():
            raise AccessError(_(
                "The e-signature mail templates are sent by the signature process and cannot be "
                "deleted: change their subject and text instead."))

    def _o2s_esign_module_templates_sudo(self):
        """Those of these templates that are the module's own (external id o2s_esign.*). (sudo:
        external ids are read whatever the caller may read.)"""
        data = self.env["ir.model.data"].sudo().search([
            ("module", "=", "o2s_esign"), ("model", "=", "mail.template"), ("res_id", "in", self.ids)])
        return self.browse(data.mapped("res_id"))
