# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Company e-signature settings: who may change them, and the secrets kept encrypted at rest.

The fields themselves are declared in res_company.py (the core); this file, owned by the
automation part, adds their access rule, the secrets' encryption, the rules on the URLs the
server calls (SMS gateways, timestamp authority) and the audit of their changes.

URLs: ``https://`` to a public address only (no private, loopback, link-local or reserved
address: the server would call them on the settings' behalf). Checked on every write (the URL
as written), when the settings are saved (every address the host name resolves to) and before
each call. Plain ``http://`` to 127.0.0.1/localhost is allowed only while the system parameter
``o2s_esign.allow_http_localhost`` is set (the tests and the local demo).

Audit: a change of the SMS transport or of one of those URLs is an event
(``settings_changed``: who, old and new value, secrets never) in the trail of every open
request of the company, the requests whose codes and timestamps it affects.
"""
import base64
import binascii
import hashlib
import logging
from urllib.parse import urlsplit

from odoo import _, api, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import str2bool

from ..lib import crypto, netguard
from ..lib.errors import PkiError
from ..tools import get_master_key
from .o2s_esign_request import OPEN_STATES

_logger = logging.getLogger(__name__)

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
# URLs the server calls, and the settings whose changes are audit events.
URL_SETTING_FIELDS = ("esign_twilio_base_url", "esign_webhook_url", "esign_tsa_url")
AUDITED_SETTING_FIELDS = ("esign_sms_transport", *URL_SETTING_FIELDS)
ALLOW_HTTP_LOCALHOST_PARAM = "o2s_esign.allow_http_localhost"
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
            self._esign_check_url_values(vals)
            secrets_list.append({f: vals.pop(f) for f in SECRET_FIELDS.values() if f in vals})
        companies = super().create(vals_list)
        for company, secrets in zip(companies, secrets_list, strict=True):
            if secrets:
                super(ResCompany, company).write(company._esign_encrypt_secrets(secrets))
        return companies

    def write(self, vals):
        self._esign_check_settings_access(vals)
        self._esign_check_url_values(vals)
        audited = [name for name in AUDITED_SETTING_FIELDS if name in vals]
        before = {company.id: {name: company.sudo()[name] for name in audited} for company in self} \
            if audited else {}
        secrets = {f: vals.pop(f) for f in SECRET_FIELDS.values() if f in vals}
        res = super().write(vals) if vals else True
        if secrets:
            for company in self:
                super(ResCompany, company).write(company._esign_encrypt_secrets(secrets))
        if audited:
            for company in self:
                company._esign_log_settings_change_sudo(before[company.id])
        return res

    def _esign_check_settings_access(self, vals):
        if self.env.su or not ESIGN_SETTING_FIELDS.intersection(vals):
            return
        if not self.env.user.has_group(OPTIONS_GROUP):
            raise AccessError(_(
                "Only the “E-signature options management” group may change the e-signature "
                "settings."))

    # -------------------------------------------------------------------- URLs
    @api.model
    def _esign_allow_http_localhost(self):
        """Whether http:// and loopback addresses are allowed (tests, local demo). (sudo: a
        system parameter, read for any visitor of a signing page.)"""
        return str2bool(self.env["ir.config_parameter"].sudo().get_param(
            ALLOW_HTTP_LOCALHOST_PARAM) or "", default=False)

    @api.model
    def _esign_url_problem(self, url, resolve=True):
        """Why the server may not call ``url`` (a ``lib.netguard`` code), or None."""
        return netguard.url_problem(url, allow_localhost=self._esign_allow_http_localhost(), resolve=resolve)

    @api.model
    def _esign_url_problem_message(self, label, problem):
        return {
            "scheme": _("%(field)s must be an https:// address.", field=label),
            "host": _("%(field)s is not a valid address (it holds no user name or password).", field=label),
            "address": _("%(field)s points to a private, loopback, link-local or reserved network "
                         "address: it must be a public https:// address.", field=label),
            "resolve": _("%(field)s names a server that cannot be found.", field=label),
        }[problem]

    @api.model
    def _esign_check_url_values(self, vals):
        """The URLs written must be https:// (http:// to localhost in tests) and not name a
        non-public address (host names are resolved when the settings are saved and before
        each call, not here)."""
        for name in URL_SETTING_FIELDS:
            url = (vals.get(name) or "").strip()
            problem = url and self._esign_url_problem(url, resolve=False)
            if problem:
                label = self._fields[name].get_description(self.env)["string"]
                raise ValidationError(self._esign_url_problem_message(label, problem))

    # ------------------------------------------------------------------- audit
    @api.model
    def _esign_url_for_log(self, url):
        """A URL as the audit trail shows it: scheme, host, port and path; a query string or
        fragment (which may hold a token) is replaced by a short fingerprint of the whole URL."""
        url = (url or "").strip()
        if not url:
            return ""
        try:
            parts = urlsplit(url)
            shown = "%s://%s%s" % (parts.scheme, parts.hostname or "", ":%s" % parts.port if parts.port else "")
        except ValueError:
            return "[invalid] sha256:%s" % hashlib.sha256(url.encode()).hexdigest()[:12]
        shown += parts.path
        if parts.query or parts.fragment or parts.username or parts.password:
            shown += " [sha256:%s]" % hashlib.sha256(url.encode()).hexdigest()[:12]
        return shown

    def _esign_log_settings_change_sudo(self, before):
        """Append a ``settings_changed`` event to every open request of this company when the
        SMS transport or a URL changed (``before``: the old values). (sudo: the person who
        changes the settings need not see the requests; the events are written by the module
        only.)"""
        self.ensure_one()
        company_sudo = self.sudo()
        changes = []
        for name, old in before.items():
            new = company_sudo[name]
            if (old or "") == (new or ""):
                continue
            if name in URL_SETTING_FIELDS:
                old, new = self._esign_url_for_log(old), self._esign_url_for_log(new)
            changes.append({"setting": name, "old": old or "", "new": new or ""})
        if not changes:
            return
        user = self.env.user
        payload = {"user_id": user.id, "user": user.name, "company_id": self.id, "changes": changes}
        _logger.info("E-signature settings of company %s changed by user %s: %s", self.id, user.id,
                     ", ".join("%(setting)s %(old)r -> %(new)r" % change for change in changes))
        requests = self.env["o2s.esign.request"].sudo().search([
            ("company_id", "=", self.id), ("state", "in", OPEN_STATES)], order="id")
        for request in requests:
            request._log_event("settings_changed", payload=payload)

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
