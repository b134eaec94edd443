# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The "E-signature" settings page.

Odoo's own Settings (res.config.settings) are for administrators only (its execute() refuses
anyone else), while the e-signature options are managed by the options-management group, whose
members need not be administrators. The page is therefore a form of its own,
``o2s.esign.settings``, readable and writable by that group only (access rights), reached from
E-signature > Configuration > Settings and from an "E-signature" block in Odoo's Settings.
Secrets are write-only: the form shows whether each is set, never its value (a typed secret
leaves the form's record once saved to the company).

There is one settings record per company (``_esign_action_open`` finds it, or creates it the
first time, and reloads it from the company): the page has a title and a breadcrumb instead of
a new record at each visit. The company holds the values; the record is the form.

The signing-page text is edited per language: an introduction (HTML) and the consent paragraph
(plain text, never empty), stored on the company per language code
(``esign_signing_page_texts``); a language without its own text shows the default one, in that
language, and "Restore the default" goes back to it.
"""
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html_sanitize, is_html_empty

from ..lib import signing
from ..lib.errors import EsignError
from ..tools import PADES_LEVELS
from .res_company import OPTIONS_GROUP, SECRET_FIELDS, URL_SETTING_FIELDS, pades_signer

# Settings copied as they are between the form and the company.
PLAIN_FIELDS = (
    "esign_sms_transport", "esign_sms_sender", "esign_twilio_base_url", "esign_twilio_account_sid",
    "esign_twilio_from", "esign_webhook_url", "esign_tsa_url", "esign_tsa_username", "esign_tsa_ca_cert",
    "esign_pades_level", "esign_signature_placement", "esign_validity_days",
    "esign_reminder_first_days", "esign_reminder_interval_days", "esign_reminder_max",
    "esign_max_upload_mb", "esign_server_clock_accepted", "esign_retention_years",
)


def _company_selection(field_name):
    def selection(model):
        return model.env["res.company"]._fields[field_name]._description_selection(model.env)
    return selection


# Sample values of the placeholders in the preview of the signing-page text.
def _placeholder_samples(env, company):
    return {
        "signer": env._("Marie Martin"),
        "client": env._("Marie Martin"),
        "advisor": env.user.name,
        "company": company.name,
        "documents": env._("Mission letter.pdf"),
        "request": env._("Mission letter"),
        "reference": "SIG/2026/0001",
        "deadline": fields.Date.to_string(fields.Date.today()),
    }


class O2sEsignSettings(models.Model):
    _name = "o2s.esign.settings"
    _description = "E-signature settings"
    _order = "id desc"

    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company)
    # SMS ------------------------------------------------------------------------------------
    esign_sms_transport = fields.Selection(
        _company_selection("esign_sms_transport"), string="SMS transport", required=True,
        default="iap")
    esign_sms_sender = fields.Char(string="SMS sender name",
                                   help="At most 11 letters or digits, shown as the sender of the codes.")
    esign_twilio_base_url = fields.Char(string="Twilio base URL")
    esign_twilio_account_sid = fields.Char(string="Twilio account SID")
    esign_twilio_auth_token = fields.Char(
        string="Twilio auth token", help="Write-only: type a new token to replace the one saved.")
    esign_twilio_auth_token_set = fields.Boolean(string="Twilio auth token saved", readonly=True)
    esign_twilio_from = fields.Char(string="Twilio sender number")
    esign_webhook_url = fields.Char(string="SMS webhook URL")
    esign_webhook_token = fields.Char(
        string="SMS webhook token", help="Write-only: type a new token to replace the one saved.")
    esign_webhook_token_set = fields.Boolean(string="SMS webhook token saved", readonly=True)
    # Signature ------------------------------------------------------------------------------
    esign_tsa_url = fields.Char(string="Timestamp authority URL")
    esign_tsa_username = fields.Char(string="Timestamp authority user")
    esign_tsa_password = fields.Char(
        string="Timestamp authority password",
        help="Write-only: type a new password to replace the one saved.")
    esign_tsa_password_set = fields.Boolean(string="Timestamp authority password saved", readonly=True)
    esign_tsa_ca_cert = fields.Text(string="Timestamp authority root certificate")
    esign_level_note = fields.Char(related="company_id.esign_level_note")
    esign_server_clock_accepted = fields.Boolean(
        string="Sign without trusted time",
        help="Signatures without a timestamp authority (or at PAdES B-B) carry the server's "
             "clock only: nothing but this server vouches for their date. Tick to choose it.")
    # The company's signing identity (the signing part of the module), shown here.
    esign_identity_source = fields.Selection(related="company_id.esign_identity_source")
    esign_identity_ca_subject = fields.Char(related="company_id.esign_identity_ca_subject")
    esign_identity_ca_fingerprint = fields.Char(related="company_id.esign_identity_ca_fingerprint")
    esign_identity_seal_subject = fields.Char(related="company_id.esign_identity_seal_subject")
    esign_identity_seal_fingerprint = fields.Char(related="company_id.esign_identity_seal_fingerprint")
    esign_identity_seal_valid_until = fields.Datetime(related="company_id.esign_identity_seal_valid_until")
    esign_pades_level = fields.Selection(
        PADES_LEVELS, string="Signature level", required=True, default="b_b")
    esign_signature_placement = fields.Selection(
        _company_selection("esign_signature_placement"), string="Signature placement", required=True,
        default="signature_page")
    # Workflow -------------------------------------------------------------------------------
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
    # Signing page ---------------------------------------------------------------------------
    signing_page_lang = fields.Selection(
        "_selection_lang", string="Language of the text",
        default=lambda self: self._default_signing_page_lang())
    signing_page_intro = fields.Html(
        string="Introduction", sanitize=True,
        help="Shown to the signers above the documents. Empty: the default introduction.")
    signing_page_consent = fields.Text(
        string="Consent paragraph",
        help="Always shown to the signers, next to the box they tick to sign; it cannot be empty.")
    signing_page_custom = fields.Boolean(
        string="Own text", readonly=True,
        help="This language has a text of the company's own (else the default text is shown).")
    signing_page_preview = fields.Html(
        string="Preview", compute="_compute_signing_page_preview", sanitize=False)
    signing_page_placeholders = fields.Json(
        string="Placeholders", compute="_compute_signing_page_placeholders")

    @api.depends("company_id")
    @api.depends_context("lang")
    def _compute_display_name(self):
        for settings in self:
            settings.display_name = self.env._("E-signature settings")

    @api.depends("signing_page_lang", "signing_page_intro", "signing_page_consent")
    @api.depends_context("lang")
    def _compute_signing_page_preview(self):
        Signer = self.env["o2s.esign.signer"]
        for settings in self:
            lang = settings.signing_page_lang or self.env.lang
            this = Signer.with_context(lang=lang)
            intro = settings.signing_page_intro
            if is_html_empty(intro):
                intro = this._get_default_signing_page_intro()
            consent = (settings.signing_page_consent or "").strip() \
                or this._get_default_signing_page_consent()
            settings.signing_page_preview = this._render_signing_page_text(
                intro, consent, _placeholder_samples(this.env, settings.company_id))

    @api.depends_context("lang")
    def _compute_signing_page_placeholders(self):
        items = [{"name": name, "label": label}
                 for name, label in self.env["o2s.esign.signer"]._get_signing_page_placeholder_labels()]
        for settings in self:
            settings.signing_page_placeholders = items

    @api.model
    def _selection_lang(self):
        return self.env["res.lang"].get_installed()

    @api.model
    def _default_signing_page_lang(self):
        installed = dict(self.env["res.lang"].get_installed())
        return self.env.lang if self.env.lang in installed else next(iter(installed), "en_US")

    # ---------------------------------------------------------------- loading
    @api.model
    def _check_options_right(self):
        if not (self.env.su or self.env.user.has_group(OPTIONS_GROUP)):
            raise AccessError(_("Only the “E-signature options management” group may open the "
                                "e-signature settings."))

    @api.model
    def default_get(self, fields_list):
        self._check_options_right()
        res = super().default_get(fields_list)
        company = self.env["res.company"].browse(res.get("company_id")) or self.env.company
        for name in PLAIN_FIELDS:
            if name in fields_list:
                res[name] = company[name]
        for name, field_name in SECRET_FIELDS.items():
            if "%s_set" % field_name in fields_list:
                res["%s_set" % field_name] = company._esign_has_secret(name)
            res.pop(field_name, None)  # write-only: never shown
        if "signing_page_intro" in fields_list or "signing_page_consent" in fields_list:
            lang = res.get("signing_page_lang") or self._default_signing_page_lang()
            res.update(self._signing_page_values(company, lang))
        return res

    @api.model
    def _signing_page_values(self, company, lang):
        """The editor's values for ``lang``: the current text, the default one when the
        company has none of its own (sudo: the text is an options field of the company; the
        caller checked the options right)."""
        intro, consent, custom = self.env["o2s.esign.signer"]._get_signing_page_sources(company.sudo(), lang)
        return {"signing_page_intro": str(intro), "signing_page_consent": consent,
                "signing_page_custom": custom}

    @api.onchange("signing_page_lang")
    def _onchange_signing_page_lang(self):
        if self.signing_page_lang:
            self.update(self._signing_page_values(self.company_id, self.signing_page_lang))

    @api.model
    def _esign_action_open(self):
        """The settings page of the current company: its one record (created the first time),
        reloaded from the company."""
        self._check_options_right()
        company = self.env.company
        settings = self.search([("company_id", "=", company.id)], limit=1)
        if settings:
            settings._esign_reload()
        else:
            settings = self.create({"company_id": company.id})
        return settings._esign_form_action()

    def _esign_reload(self):
        """Read the values again from the company (what another manager saved meanwhile);
        typed secrets never stay in the record."""
        self.ensure_one()
        fields_list = list(PLAIN_FIELDS) + ["%s_set" % name for name in SECRET_FIELDS.values()]
        values = self.with_context(default_company_id=self.company_id.id).default_get(fields_list)
        values.update({field_name: False for field_name in SECRET_FIELDS.values()})
        lang = self.signing_page_lang or self._default_signing_page_lang()
        values.update(self._signing_page_values(self.company_id, lang), signing_page_lang=lang)
        self.write(values)

    def _esign_form_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("E-signature settings"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("o2s_esign.o2s_esign_settings_view_form").id, "form")],
            "target": "current",
        }

    # ----------------------------------------------------------------- saving
    def _get_problems(self):
        """Every invalid value, as translated sentences."""
        self.ensure_one()
        problems = []
        if not 1 <= self.esign_validity_days <= 3650:
            problems.append(_("The default validity must be between 1 and 3,650 days."))
        if not 0 <= self.esign_reminder_max <= 50:
            problems.append(_("The number of reminders must be between 0 and 50."))
        if self.esign_reminder_first_days < 1 or self.esign_reminder_interval_days < 1:
            problems.append(_("Reminders are at least one day apart."))
        if not 1 <= self.esign_max_upload_mb <= 128:
            problems.append(_("The maximum file size must be between 1 and 128 MB."))
        if self.signing_page_lang and not (self.signing_page_consent or "").strip():
            problems.append(_("The consent paragraph of the signing page cannot be empty "
                              "(“Restore the default” brings the default wording back)."))
        if not 1 <= self.esign_retention_years <= 50:
            problems.append(_("Personal data must be kept between 1 and 50 years."))
        for name in URL_SETTING_FIELDS:
            url = (self[name] or "").strip()
            # Every address the host name resolves to is checked now (and again before each
            # call); a name that does not resolve yet is not a reason to refuse the settings.
            problem = url and self.company_id._esign_url_problem(url, resolve=True)
            if problem and problem != "resolve":
                problems.append(self.company_id._esign_url_problem_message(
                    self._fields[name].get_description(self.env)["string"], problem))
        if (not (self.esign_tsa_url or "").strip() or self.esign_pades_level == "b_b") \
                and not self.esign_server_clock_accepted:
            problems.append(_(
                "Without a timestamp authority, or at the PAdES B-B level, signatures carry the "
                "server's clock only, not a trusted time: tick “Sign without trusted time” to "
                "choose it knowingly, or set a timestamp authority and the B-T level or above."))
        sender = (self.esign_sms_sender or "").strip()
        if sender and not sender.startswith("+") and (len(sender) > 11 or not sender.replace(" ", "").isalnum()):
            problems.append(_("The SMS sender name has at most 11 letters or digits."))
        transport = self.esign_sms_transport
        company = self.company_id
        if transport == "twilio":
            if not (self.esign_twilio_account_sid and self.esign_twilio_from):
                problems.append(_("Twilio needs an account SID and a sender number."))
            if not (self.esign_twilio_auth_token or company._esign_has_secret("twilio_auth_token")):
                problems.append(_("Twilio needs an auth token."))
        if transport == "webhook" and not self.esign_webhook_url:
            problems.append(_("The SMS webhook needs a URL."))
        return problems

    def action_save(self):
        """Check the values, then write them to the company."""
        self.ensure_one()
        self._check_options_right()
        if self.company_id not in self.env.user.company_ids:
            raise AccessError(_("You cannot change the settings of a company you do not belong to."))
        problems = self._get_problems()
        if problems:
            raise UserError(_("The settings were not saved:") + "\n" + "\n".join(
                "• %s" % problem for problem in problems))
        values = {name: (self[name].strip() if isinstance(self[name], str) else self[name])
                  for name in PLAIN_FIELDS}
        for field_name in SECRET_FIELDS.values():
            if self[field_name]:
                values[field_name] = self[field_name].strip()
        self._save_to_company_sudo(values)
        self._esign_reload()
        return True

    def action_restore_signing_page_default(self):
        """Forget the company's own signing-page text in the chosen language only: the page
        shows the default text again (in that language)."""
        self.ensure_one()
        self._check_options_right()
        self._check_own_company()
        lang = self.signing_page_lang
        if not lang:
            raise UserError(_("Choose the language of the text first."))
        company_sudo = self.company_id.sudo()
        texts = dict(company_sudo.esign_signing_page_texts or {})
        texts[lang] = {}  # present and empty: the default text, not an older one
        company_sudo.esign_signing_page_texts = texts
        self.write(self._signing_page_values(self.company_id, lang))
        return True

    def _check_own_company(self):
        if self.company_id not in self.env.user.company_ids:
            raise AccessError(_("You cannot change the settings of a company you do not belong to."))

    def action_test_tsa(self):
        """Ask the timestamp authority of the form (with the password typed, else the one
        saved) for a time-stamp, and show which authority signed it and when."""
        self.ensure_one()
        self._check_options_right()
        company = self.company_id
        url = (self.esign_tsa_url or "").strip()
        if not url:
            raise UserError(_("Enter the URL of the timestamp authority first."))
        problem = company._esign_url_problem(url, resolve=True)
        if problem:
            raise UserError(company._esign_url_problem_message(
                self._fields["esign_tsa_url"].get_description(self.env)["string"], problem))
        password = (self.esign_tsa_password or "").strip() or (
            company._esign_has_secret("tsa_password") and company._esign_get_secret("tsa_password"))
        tsa = signing.TsaConfig(
            url=url, username=(self.esign_tsa_username or "").strip() or None,
            password=password or None,
            timeout=float(self.env["ir.config_parameter"].sudo().get_param(
                "o2s_esign.tsa_timeout") or 15))
        try:
            answer = pades_signer().test_tsa(tsa)
        except EsignError as exc:
            raise UserError(_("The timestamp authority gave no time-stamp (%(code)s). Check its "
                              "URL and login.", code=exc.code)) from None
        message = _("Time-stamp of %(time)s UTC signed by %(authority)s.",
                    time=answer["time"].strftime("%Y-%m-%d %H:%M:%S"), authority=answer["authority"])
        if answer["valid_until"]:
            message += " " + _("Its certificate is valid until %(date)s.",
                               date=answer["valid_until"].strftime("%Y-%m-%d"))
        if answer["root"]:
            message += " " + _("Root certificate sent with it: %(root)s.", root=answer["root"])
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("The timestamp authority answered"), "message": message,
                       "type": "success", "sticky": True},
        }

    def action_forget_secret(self):
        """Forget one saved secret (the button says which, in its context)."""
        self.ensure_one()
        self._check_options_right()
        name = self.env.context.get("o2s_esign_secret")
        if name not in SECRET_FIELDS:
            raise UserError(_("Unknown secret."))
        self._save_to_company_sudo({SECRET_FIELDS[name]: False})
        self._esign_reload()
        return True

    def action_generate_identity(self):
        """Create a new signing CA and seal (the company's action checks the options right)."""
        self.ensure_one()
        self.company_id.action_esign_generate_identity()
        self.company_id.invalidate_recordset()  # the identity fields are computed from the new one
        self._esign_reload()
        return True

    def action_import_identity(self):
        self.ensure_one()
        return self.company_id.action_esign_import_identity()

    def _save_to_company_sudo(self, values):
        """Write the settings on the company as superuser: options managers need not be
        company administrators (no write right on res.company); the caller checked their
        group and company, and only the e-signature fields given here are written."""
        self.ensure_one()
        company_sudo = self.company_id.sudo()
        company_sudo.write(values)
        if self.signing_page_lang:
            self._save_signing_page_text(company_sudo)

    def _save_signing_page_text(self, company_sudo):
        """Save the text of the chosen language only: the other languages keep theirs (a
        French text never replaces the English one, and French needs no English first). The
        default text, saved unchanged, stays the default (it follows the module's wording)."""
        lang = self.signing_page_lang
        Signer = self.env["o2s.esign.signer"].with_context(lang=lang)
        intro = html_sanitize(self.signing_page_intro or "")
        consent = (self.signing_page_consent or "").strip()
        default_intro = html_sanitize(str(Signer._get_default_signing_page_intro()))
        texts = dict(company_sudo.esign_signing_page_texts or {})
        entry = {}
        if not is_html_empty(intro) and intro != default_intro:
            entry["intro"] = intro
        if consent != Signer._get_default_signing_page_consent():
            entry["consent"] = consent
        texts[lang] = entry  # present, even empty: this language's text, not an older one
        company_sudo.esign_signing_page_texts = texts
