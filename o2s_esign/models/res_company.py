# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What the addon adds to ``res.company``: the e-signature settings (SMS transport, signature
level and placement, workflow), who may change them, the secrets kept encrypted at rest, and
the signing settings (its signing identity, see o2s.esign.signing.identity; the timestamp
authority and the PAdES level actually used).

URLs the server calls (SMS gateways, timestamp authority): ``https://`` to a public address only
(no private, loopback, link-local or reserved address: the server would call them on the
settings' behalf). Checked on every write (the URL as written), when the settings are saved
(every address the host name resolves to) and before each call. Plain ``http://`` to
127.0.0.1/localhost is allowed only while the system parameter ``o2s_esign.allow_http_localhost``
is set (the tests and the local demo). A change of the SMS transport or of one of those URLs is
an event (``settings_changed``: who, old and new value, secrets never) in the trail of every
open request of the company, the requests whose codes and timestamps it affects."""
import base64
import binascii
import functools
import hashlib
import logging
import os
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config, str2bool

from ..lib import crypto, netguard, signing
from ..lib import sms as lib_sms
from ..lib.errors import PkiError, TsaError
from ..tools import PADES_LEVELS, get_master_key
from .o2s_esign_request import OPEN_STATES

_logger = logging.getLogger(__name__)

OPTIONS_GROUP = "o2s_esign.group_esign_options"

# The e-signature settings (with the TSA login and the signature placement): only the
# options-management group changes them (the superuser too, for the module's own code).
ESIGN_SETTING_FIELDS = {
    "esign_sms_transport", "esign_sms_sender", "esign_twilio_base_url", "esign_twilio_account_sid",
    "esign_twilio_auth_token", "esign_twilio_from", "esign_webhook_url", "esign_webhook_token",
    "esign_tsa_url", "esign_tsa_username", "esign_tsa_password", "esign_tsa_ca_cert", "esign_pades_level",
    "esign_signature_placement", "esign_validity_days", "esign_reminder_first_days",
    "esign_reminder_interval_days", "esign_reminder_max", "esign_max_upload_mb",
    "esign_signing_page_text", "esign_signing_page_texts", "esign_server_clock_accepted",
    "esign_retention_years",
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
# Trusted time by default: the timestamp authority of a new company (FreeTSA, a well-known free
# RFC 3161 service). ``o2s_esign_default_tsa_url`` in the Odoo configuration file, else the
# O2S_ESIGN_DEFAULT_TSA_URL environment variable, replaces it (empty: no default authority).
DEFAULT_TSA_URL = "https://freetsa.org/tsr"
DEFAULT_TSA_URL_OPTION = "o2s_esign_default_tsa_url"
DEFAULT_TSA_URL_ENV = "O2S_ESIGN_DEFAULT_TSA_URL"


def default_tsa_url():
    """The timestamp authority URL a new company starts with ("" for none)."""
    if config.get(DEFAULT_TSA_URL_OPTION) is not None:
        return (config.get(DEFAULT_TSA_URL_OPTION) or "").strip()
    if DEFAULT_TSA_URL_ENV in os.environ:
        return os.environ[DEFAULT_TSA_URL_ENV].strip()
    return DEFAULT_TSA_URL
# Markers, not secrets.
SECRET_PREFIX = "o2s-enc:"  # noqa: S105
SECRET_KEY_PURPOSE = "o2s_esign/company-secrets"  # noqa: S105

_pades = None
_pades_lock = threading.Lock()


@functools.lru_cache(maxsize=16)
def _tsa_roots_from_pem(text):
    """The certificates of a PEM text (a tuple of asn1crypto objects, empty when it does not
    parse). Cached per process: each signature reads the company's TSA roots, and a full parse
    costs ~1.5 ms per certificate; the objects are only read."""
    try:
        certs = tuple(asn1_x509.Certificate.load(der) for _type, _headers, der
                      in asn1_pem.unarmor(text.encode("ascii"), multiple=True))
        for cert in certs:
            _ = cert.native  # a full parse: garbage fails here
        return certs
    except (ValueError, TypeError, UnicodeEncodeError):
        return ()


def pades_signer():
    """The process-wide ``lib.signing.PadesSigner`` (one event loop, one HTTP session, cached
    timestampers; it re-creates them itself after a fork of the Odoo worker)."""
    global _pades  # one signer per process, by design
    if _pades is None:
        with _pades_lock:
            if _pades is None:
                _pades = signing.PadesSigner()
    return _pades


@dataclass
class SigningContext:
    """Everything one signature or seal needs (plain Python)."""

    pades: object
    material: object
    level: str
    level_requested: str
    tsa: object
    trust_roots: list = field(default_factory=list)
    extra_crls: list = field(default_factory=list)

    @property
    def tsa_url(self):
        return self.tsa.url if self.tsa else None


class ResCompany(models.Model):
    _inherit = "res.company"

    # ------------------------------------------------------------------ fields
    # SMS transport -------------------------------------------------------------------------
    esign_sms_transport = fields.Selection(
        [("iap", "Odoo SMS (IAP)"), ("twilio", "Twilio"), ("webhook", "JSON webhook"),
         ("outbox", "Outbox (sends nothing)")],
        string="SMS transport", default="iap", required=True, groups=OPTIONS_GROUP)
    esign_sms_sender = fields.Char(string="SMS sender name", groups=OPTIONS_GROUP)
    esign_twilio_base_url = fields.Char(
        string="Twilio base URL", default="https://api.twilio.com", groups=OPTIONS_GROUP)
    esign_twilio_account_sid = fields.Char(string="Twilio account SID", groups=OPTIONS_GROUP)
    esign_twilio_auth_token = fields.Char(string="Twilio auth token", groups=OPTIONS_GROUP)
    esign_twilio_from = fields.Char(string="Twilio sender number", groups=OPTIONS_GROUP)
    esign_webhook_url = fields.Char(string="SMS webhook URL", groups=OPTIONS_GROUP)
    esign_webhook_token = fields.Char(string="SMS webhook token", groups=OPTIONS_GROUP)
    # Signature -----------------------------------------------------------------------------
    esign_tsa_url = fields.Char(string="Timestamp authority URL", groups=OPTIONS_GROUP,
                                default=lambda self: default_tsa_url() or False)
    esign_tsa_username = fields.Char(string="Timestamp authority user", groups=OPTIONS_GROUP)
    esign_tsa_password = fields.Char(string="Timestamp authority password", groups=OPTIONS_GROUP)
    esign_tsa_ca_cert = fields.Text(
        string="Timestamp authority root certificate", groups=OPTIONS_GROUP,
        help="The root certificate (PEM) the timestamp authority's certificate chains up to. "
             "It is put in the evidence files so that anyone can check the timestamps, and it "
             "anchors the validation data embedded at the B-LT and B-LTA levels.")
    esign_pades_level = fields.Selection(
        PADES_LEVELS, string="Signature level", required=True,
        default=lambda self: "b_t" if default_tsa_url() else "b_b")
    esign_server_clock_accepted = fields.Boolean(
        string="Sign without trusted time", groups=OPTIONS_GROUP,
        # a server configured without a default authority chose it for its new companies
        default=lambda self: not default_tsa_url(),
        help="Ticked by the options manager who chose signatures dated by the server's clock "
             "only (PAdES B-B, or no timestamp authority).")
    esign_signature_placement = fields.Selection(
        [("signature_page", "On a signature page added at the end"),
         ("last_page", "On the last page of the document")],
        string="Signature placement", default="signature_page", required=True)
    esign_level_note = fields.Char(
        string="Level actually used", compute="_compute_esign_level_note", groups=OPTIONS_GROUP)
    esign_identity_source = fields.Selection(
        [("generated", "Generated by the module"), ("pkcs12", "Imported certificate (PKCS#12)")],
        string="Signing identity", compute="_compute_esign_identity", groups=OPTIONS_GROUP)
    esign_identity_ca_subject = fields.Char(
        string="Signing CA", compute="_compute_esign_identity", groups=OPTIONS_GROUP)
    esign_identity_ca_fingerprint = fields.Char(
        string="Signing CA fingerprint (SHA-256)", compute="_compute_esign_identity",
        groups=OPTIONS_GROUP,
        help="Publish this fingerprint: whoever checks an evidence file compares it with the one "
             "of certificates/company-ca.pem.")
    esign_identity_seal_subject = fields.Char(
        string="Company seal", compute="_compute_esign_identity", groups=OPTIONS_GROUP)
    esign_identity_seal_fingerprint = fields.Char(
        string="Seal fingerprint (SHA-256)", compute="_compute_esign_identity", groups=OPTIONS_GROUP)
    esign_identity_seal_valid_until = fields.Datetime(
        string="Seal valid until", compute="_compute_esign_identity", groups=OPTIONS_GROUP)
    # Workflow ------------------------------------------------------------------------------
    esign_validity_days = fields.Integer(string="Default validity (days)", default=30)
    esign_reminder_first_days = fields.Integer(string="First reminder after (days)", default=2)
    esign_reminder_interval_days = fields.Integer(string="Then remind every (days)", default=3)
    esign_reminder_max = fields.Integer(string="Maximum number of reminders", default=3)
    esign_max_upload_mb = fields.Integer(string="Maximum file size (MB)", default=20)
    esign_retention_years = fields.Integer(
        string="Keep personal data for (years)", default=5,
        help="How long the identity-document scans and the signers' personal data are kept once "
             "a request is closed (5 years: French anti-money-laundering practice). Then a "
             "scheduled action purges them; the evidence file and the hashes stay.")
    esign_signing_page_text = fields.Html(
        string="Signing page text", translate=True, sanitize=True, groups=OPTIONS_GROUP)
    # Per language code: {"intro": sanitized HTML, "consent": plain text}, written by the
    # settings page; a language without an entry shows the default text (translated).
    esign_signing_page_texts = fields.Json(string="Signing page texts", groups=OPTIONS_GROUP)

    # ---------------------------------------------------------------- computes
    @api.depends("esign_tsa_url", "esign_pades_level")
    def _compute_esign_level_note(self):
        labels = dict(self._fields["esign_pades_level"]._description_selection(self.env))
        for company in self:
            if not (company.esign_tsa_url or "").strip():
                company.esign_level_note = _(
                    "No timestamp authority: signatures are PAdES B-B only (the signing time is "
                    "the server's clock, not a trusted time).")
            else:
                company.esign_level_note = labels.get(company.esign_pades_level, "")

    def _compute_esign_identity(self):
        identities = self.env["o2s.esign.signing.identity"]
        for company in self:
            info = identities._public_info_sudo(company) if company.id else {}
            company.esign_identity_source = info.get("source", False)
            company.esign_identity_ca_subject = info.get("ca_subject", False)
            company.esign_identity_ca_fingerprint = info.get("ca_fingerprint", False)
            company.esign_identity_seal_subject = info.get("seal_subject", False)
            company.esign_identity_seal_fingerprint = info.get("seal_fingerprint", False)
            company.esign_identity_seal_valid_until = info.get("seal_valid_until", False)

    # -------------------------------------------------------------- constrains
    @api.constrains("esign_pades_level", "esign_tsa_url")
    def _check_esign_level_needs_tsa(self):
        for company in self.sudo():
            if company.esign_pades_level != "b_b" and not (company.esign_tsa_url or "").strip():
                raise ValidationError(_(
                    "The signature levels B-T, B-LT and B-LTA need a timestamp authority: enter "
                    "its URL, or choose PAdES B-B."))

    @api.constrains("esign_tsa_ca_cert")
    def _check_esign_tsa_ca_cert(self):
        for company in self.sudo():
            if company.esign_tsa_ca_cert and not company._esign_tsa_roots():
                raise ValidationError(_(
                    "The timestamp authority root certificate must be a PEM certificate "
                    "(-----BEGIN CERTIFICATE-----)."))

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
        if "name" in vals:
            self._esign_seal_follows_name()
        return res

    def _esign_seal_follows_name(self):
        """After a rename, new seals carry the new name (a new seal certificate, see
        ``o2s.esign.signing.identity._renew_seal_if_renamed_sudo``)."""
        identities = self.env["o2s.esign.signing.identity"]
        for company in self:
            identities._renew_seal_if_renamed_sudo(company)

    def _esign_check_settings_access(self, vals):
        if self.env.su or not ESIGN_SETTING_FIELDS.intersection(vals):
            return
        if not self.env.user.has_group(OPTIONS_GROUP):
            raise AccessError(_(
                "Only the “E-signature options management” group may change the e-signature "
                "settings."))

    # ----------------------------------------------------------------- actions
    def _esign_check_options_right(self):
        if not self.env.user.has_group(OPTIONS_GROUP):
            raise AccessError(_("You need the “E-signature options management” right to change "
                                "the signing identity."))

    def action_esign_generate_identity(self):
        """Create a new signing CA and seal for the company (the previous ones are archived:
        signatures made with them stay valid)."""
        self._esign_check_options_right()
        for company in self:
            self.env["o2s.esign.signing.identity"]._create_generated_sudo(company)
        return True

    def action_esign_import_identity(self):
        """Open the wizard that imports a PKCS#12 from a certification authority."""
        self.ensure_one()
        self._esign_check_options_right()
        return {
            "type": "ir.actions.act_window",
            "name": _("Import a signing certificate"),
            "res_model": "o2s.esign.identity.import",
            "view_mode": "form",
            "target": "new",
            "context": {"default_company_id": self.id},
        }

    # -------------------------------------------------------- business methods
    def _esign_post_init(self):
        """At install (post_init_hook), for every company: its signing identity (CA + seal)."""
        identities = self.env["o2s.esign.signing.identity"]
        for company in self:
            identities._get_signing_material_sudo(company, create=True)
        return True

    def _esign_sms_config(self):
        """The company's SMS settings, as ``lib.sms`` expects them per transport.

        sudo: the settings fields are restricted to the options-management group, and a code is
        sent for any visitor of a signing page. The one place that reads them (their storage
        may change)."""
        self.ensure_one()
        company_sudo = self.sudo()
        sender = (company_sudo.esign_sms_sender or "").strip()
        return {
            "transport": company_sudo.esign_sms_transport or "iap",
            "sender": sender,
            "twilio": {
                "base_url": company_sudo.esign_twilio_base_url or lib_sms.TWILIO_BASE_URL,
                "account_sid": company_sudo.esign_twilio_account_sid or "",
                "auth_token": company_sudo._esign_get_secret("twilio_auth_token") or "",
                "from": company_sudo.esign_twilio_from or sender,
            },
            "webhook": {
                "url": company_sudo.esign_webhook_url or "",
                "token": company_sudo._esign_get_secret("webhook_token") or "",
                "sender": sender,
            },
            "outbox": {},
        }

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

    # ----------------------------------------------------------------- signing
    def _esign_tsa_password(self):
        """The TSA password, read in this one place (from the encrypted secret store; sudo
        there: the field belongs to the options group, and signing runs for signers without
        any right)."""
        self.ensure_one()
        return self._esign_get_secret("tsa_password")

    def _esign_tsa_config(self):
        """The company's TSA as a ``lib.signing.TsaConfig``, or None when none is configured
        (sudo: see :meth:`_esign_tsa_password`)."""
        self.ensure_one()
        company_sudo = self.sudo()
        url = (company_sudo.esign_tsa_url or "").strip()
        if not url:
            return None
        return signing.TsaConfig(
            url=url, username=(company_sudo.esign_tsa_username or "").strip() or None,
            password=self._esign_tsa_password() or None,
            timeout=float(self.env["ir.config_parameter"].sudo().get_param(
                "o2s_esign.tsa_timeout") or 15))

    def _esign_tsa_roots(self):
        """The TSA root certificate(s) configured (asn1crypto), possibly empty."""
        self.ensure_one()
        text = (self.sudo().esign_tsa_ca_cert or "").strip()
        return list(_tsa_roots_from_pem(text)) if text else []

    def _esign_signing_context(self, requested=None):
        """The :class:`SigningContext` of the company for a requested level (the private keys
        come from o2s.esign.signing.identity's private helper)."""
        self.ensure_one()
        level, tsa = self._esign_effective_level(requested)
        problem = tsa is not None and self._esign_url_problem(tsa.url)
        if problem:
            # Checked before each use (its host may resolve elsewhere since it was saved); a
            # refused one fails like an authority that cannot be reached.
            _logger.info("Timestamp authority of company %s not called: its URL is not allowed (%s)",
                         self.id, problem)
            raise TsaError("tsa_unreachable", {"url": tsa.url})
        material = self.env["o2s.esign.signing.identity"]._get_signing_material_sudo(self)
        roots = list(material.trust_roots)
        for cert in self._esign_tsa_roots():
            if cert.dump() not in {r.dump() for r in roots}:
                roots.append(cert)
        return SigningContext(
            pades=pades_signer(), material=material, level=level,
            level_requested=requested or level, tsa=tsa, trust_roots=roots,
            extra_crls=material.crls() if level in ("b_lt", "b_lta") else [])

    def _esign_server_clock_only(self):
        """Whether signatures made now carry the server's clock only (no timestamp authority,
        or the B-B level): the send wizard and the requests say so. (sudo: the settings belong
        to the options group; any advisor sees the consequence.)"""
        self.ensure_one()
        company_sudo = self.sudo()
        return not (company_sudo.esign_tsa_url or "").strip() or company_sudo.esign_pades_level == "b_b"

    def _esign_effective_level(self, requested=None):
        """``(level, tsa)`` actually used: with no TSA configured, B-B (said plainly in the
        settings and in the evidence, never a silent downgrade of a working TSA)."""
        self.ensure_one()
        tsa = self._esign_tsa_config()
        if tsa is None:
            return "b_b", None
        return requested or self.sudo().esign_pades_level or "b_b", tsa
