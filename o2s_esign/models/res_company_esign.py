# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Company e-signature settings: who may change them, and the secrets kept encrypted at rest.

The fields themselves are declared in res_company.py (the core); this file, owned by the
automation part, adds their access rule and the secrets' encryption.
"""
import base64
import binascii

from odoo import _, api, models
from odoo.exceptions import AccessError, UserError

from ..lib import crypto
from ..lib.errors import PkiError
from ..tools import get_master_key

OPTIONS_GROUP = "o2s_esign.group_esign_options"

# The settings of contract.md (plus the TSA login and the signature placement): only the
# options-management group changes them (the superuser too, for the module's own code).
ESIGN_SETTING_FIELDS = {
    "esign_sms_transport", "esign_sms_sender", "esign_twilio_base_url", "esign_twilio_account_sid",
    "esign_twilio_auth_token", "esign_twilio_from", "esign_webhook_url", "esign_webhook_token",
    "esign_tsa_url", "esign_tsa_username", "esign_tsa_password", "esign_tsa_ca_cert", "esign_pades_level",
    "esign_signature_placement", "esign_validity_days", "esign_reminder_first_days",
    "esign_reminder_interval_days", "esign_reminder_max", "esign_max_upload_mb",
    "esign_signing_page_text",
}
# Secret name (for _esign_get_secret) -> res.company field holding its encrypted blob.
SECRET_FIELDS = {
    "twilio_auth_token": "esign_twilio_auth_token",
    "webhook_token": "esign_webhook_token",
    "tsa_password": "esign_tsa_password",
}
# Markers, not secrets.
SECRET_PREFIX = "o2s-enc:"  # noqa: S105
SECRET_KEY_PURPOSE = "o2s_esign/company-secrets"  # noqa: S105


class ResCompany(models.Model):
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    # -------------------------------------------------------------------- CRUD
    @api.model_create_multi
    def create(self, vals_list):
        secrets_list = []
        for vals in vals_list:
            self._esign_check_settings_access(vals)
            secrets_list.append({f: vals.pop(f) for f in SECRET_FIELDS.values() if f in vals})
        companies = super().create(vals_list)
        for company, secrets in zip(companies, secrets_list, strict=True):
            if secrets:
                super(ResCompany, company).write(company._esign_encrypt_secrets(secrets))
        return companies

    def write(self, vals):
        self._esign_check_settings_access(vals)
        secrets = {f: vals.pop(f) for f in SECRET_FIELDS.values() if f in vals}
        res = super().write(vals) if vals else True
        if secrets:
            for company in self:
                super(ResCompany, company).write(company._esign_encrypt_secrets(secrets))
        return res

    def _esign_check_settings_access(self, vals):
        if self.env.su or not ESIGN_SETTING_FIELDS.intersection(vals):
            return
        if not self.env.user.has_group(OPTIONS_GROUP):
            raise AccessError(_(
                "Only the “E-signature options management” group may change the e-signature "
                "settings."))

    # ----------------------------------------------------------------- secrets
    def _esign_secret_key(self):
        return crypto.derive_key(get_master_key(self.env), SECRET_KEY_PURPOSE)

    def _esign_secret_aad(self, field_name):
        self.ensure_one()
        return ("res.company/%s/%s" % (self.id, field_name)).encode()

    def _esign_encrypt_secrets(self, secrets):
        """{field: clear value} -> {field: stored value} (an empty value forgets the secret)."""
        self.ensure_one()
        stored = {}
        key = self._esign_secret_key()
        for field_name, value in secrets.items():
            if not value:
                stored[field_name] = False
                continue
            blob = crypto.encrypt_secret(key, str(value).encode("utf-8"), self._esign_secret_aad(field_name))
            stored[field_name] = SECRET_PREFIX + base64.b64encode(blob).decode("ascii")
        return stored

    def _esign_get_secret(self, name):
        """The clear value of one e-signature secret of this company, or False when none is set.

        ``name``: ``"twilio_auth_token"``, ``"webhook_token"`` or ``"tsa_password"``. Reads the
        stored blob as superuser: it is meant for the module's SMS and timestamp code, which
        runs for signers without any right on the settings; never return it to a user.
        Raises UserError when the stored value cannot be decrypted (master key changed)."""
        self.ensure_one()
        if name not in SECRET_FIELDS:
            raise ValueError("unknown e-signature secret %r" % name)
        field_name = SECRET_FIELDS[name]
        stored = self.sudo()[field_name]
        if not stored:
            return False
        if not stored.startswith(SECRET_PREFIX):
            raise UserError(_("The %(secret)s of %(company)s is not stored encrypted: enter it again "
                              "in the e-signature settings.", secret=self._esign_secret_label(name),
                              company=self.name))
        try:
            blob = base64.b64decode(stored[len(SECRET_PREFIX):], validate=True)
            clear = crypto.decrypt_secret(self._esign_secret_key(), blob, self._esign_secret_aad(field_name))
        except (binascii.Error, ValueError, PkiError) as exc:
            raise UserError(_("The %(secret)s of %(company)s cannot be decrypted (the module's master "
                              "key changed?): enter it again in the e-signature settings.",
                              secret=self._esign_secret_label(name), company=self.name)) from exc
        return clear.decode("utf-8")

    def _esign_has_secret(self, name):
        """Whether the secret ``name`` is set (without decrypting it)."""
        self.ensure_one()
        return bool(self.sudo()[SECRET_FIELDS[name]])

    def _esign_secret_label(self, name):
        return {
            "twilio_auth_token": _("Twilio auth token"),
            "webhook_token": _("SMS webhook token"),
            "tsa_password": _("timestamp authority password"),
        }[name]
