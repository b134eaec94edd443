# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import base64
import binascii

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib.errors import PkiError

OPTIONS_GROUP = "o2s_esign.group_esign_options"


class O2sEsignIdentityImport(models.TransientModel):
    """Import a PKCS#12 (.p12 / .pfx) from a certification authority as the company's signing
    identity.

    The file and its password never reach the database: ``create`` (which the dialog's
    "Import" button triggers when it saves the record) takes them out of the values, imports
    the identity (keys encrypted, see o2s.esign.signing.identity) and stores only a summary.
    A wrong password or a bad file raises a clear error and nothing is saved.
    """

    _name = "o2s.esign.identity.import"
    _description = "Import a signing certificate"

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company)
    pkcs12_file = fields.Binary(string="Certificate file (.p12, .pfx)", attachment=False)
    pkcs12_filename = fields.Char(string="File name")
    password = fields.Char()
    summary = fields.Text(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.user.has_group(OPTIONS_GROUP):
            raise AccessError(_("You need the “E-signature options management” right to change "
                                "the signing identity."))
        for vals in vals_list:
            data = vals.pop("pkcs12_file", None)
            password = vals.pop("password", None)
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            if company not in self.env.user.company_ids:
                raise AccessError(_("You cannot change the signing identity of %(company)s.",
                                    company=company.name))
            vals["summary"] = self._import(company, data, password)
        return super().create(vals_list)

    def write(self, vals):
        if {"pkcs12_file", "password"}.intersection(vals):
            raise UserError(_("Open the import again to import another certificate."))
        return super().write(vals)

    @api.model
    def _import(self, company, data, password):
        if not data:
            raise UserError(_("Choose the certificate file (.p12 or .pfx) to import."))
        try:
            raw = base64.b64decode(data, validate=True) if isinstance(data, (str, bytes)) else b""
        except (binascii.Error, ValueError) as exc:
            raise UserError(_("The certificate file cannot be read.")) from exc
        messages = {
            "pkcs12_invalid": _("This file is not a PKCS#12 certificate (.p12 or .pfx)."),
            "pkcs12_password": _("The password does not open this certificate file."),
            "pkcs12_no_key": _("This file holds no private key matching its certificate: "
                               "export the certificate with its private key."),
        }
        try:
            identity = self.env["o2s.esign.signing.identity"]._create_from_pkcs12_sudo(
                company, raw, (password or "").encode("utf-8") or None)
        except PkiError as exc:
            raise UserError(messages.get(exc.code, _("The certificate cannot be imported (%(code)s).",
                                                     code=exc.code))) from exc
        finally:
            raw = password = None
        return _("Imported. Company seal: %(seal)s (SHA-256 %(fingerprint)s). Signing CA: %(ca)s.",
                 seal=identity.seal_subject, fingerprint=identity.seal_fingerprint,
                 ca=identity.ca_subject)

    def action_import(self):
        """The import itself happened when the dialog saved the record: close it."""
        self.ensure_one()
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {"message": self.summary, "type": "success", "sticky": False,
                       "next": {"type": "ir.actions.act_window_close"}},
        }
