# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The "E-signature" settings page.

Odoo's own Settings (res.config.settings) are for administrators only (its execute() refuses
anyone else), while the e-signature options are managed by the options-management group, whose
members need not be administrators. The page is therefore a form of its own,
``o2s.esign.settings``, readable and writable by that group only (access rights), reached from
E-signature > Configuration > Settings and from an "E-signature" block in Odoo's Settings.
Secrets are write-only: the form shows whether each is set, never its value.
"""
from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html_sanitize

from ..tools import PADES_LEVELS
from .res_company import OPTIONS_GROUP, SECRET_FIELDS, URL_SETTING_FIELDS

# Settings copied as they are between the form and the company.
PLAIN_FIELDS = (
    "esign_sms_transport", "esign_sms_sender", "esign_twilio_base_url", "esign_twilio_account_sid",
    "esign_twilio_from", "esign_webhook_url", "esign_tsa_url", "esign_tsa_username", "esign_tsa_ca_cert",
    "esign_pades_level", "esign_signature_placement", "esign_validity_days",
    "esign_reminder_first_days", "esign_reminder_interval_days", "esign_reminder_max",
    "esign_max_upload_mb", "esign_retention_years",
)


def _company_selection(field_name):
    def selection(model):
        return model.env["res.company"]._fields[field_name]._description_selection(model.env)
    return selection


class O2sEsignSettings(models.TransientModel):
    _name = "o2s.esign.settings"
    _description = "E-signature settings"

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
    esign_signing_page_text = fields.Html(string="Signing page text", sanitize=True)

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
        if "esign_signing_page_text" in fields_list:
            lang = res.get("signing_page_lang") or self._default_signing_page_lang()
            res["esign_signing_page_text"] = company.with_context(lang=lang).esign_signing_page_text
        return res

    @api.onchange("signing_page_lang")
    def _onchange_signing_page_lang(self):
        if self.signing_page_lang:
            self.esign_signing_page_text = self.company_id.with_context(
                lang=self.signing_page_lang).esign_signing_page_text

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
        return self._reopen()

    def action_forget_secret(self):
        """Forget one saved secret (the button says which, in its context)."""
        self.ensure_one()
        self._check_options_right()
        name = self.env.context.get("o2s_esign_secret")
        if name not in SECRET_FIELDS:
            raise UserError(_("Unknown secret."))
        self._save_to_company_sudo({SECRET_FIELDS[name]: False})
        return self._reopen()

    def action_generate_identity(self):
        """Create a new signing CA and seal (the company's action checks the options right)."""
        self.ensure_one()
        self.company_id.action_esign_generate_identity()
        self.company_id.invalidate_recordset()  # the identity fields are computed from the new one
        return self._reopen()

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
        """Odoo translates sanitized HTML term by term: the English text is the source (its
        layout is shared by every language), other languages translate its sentences. A text
        typed in another language is saved as the translation of the source's sentences, in
        order, which needs the same layout; without any source yet, it becomes the source."""
        field_name = "esign_signing_page_text"
        field = company_sudo._fields[field_name]
        lang = self.signing_page_lang
        text = html_sanitize(self.esign_signing_page_text or "") or False
        source = company_sudo.with_context(lang="en_US")[field_name]
        if lang == "en_US" or not source or not text:
            company_sudo.with_context(lang=lang).write({field_name: text})
            return
        source_terms, new_terms = field.get_trans_terms(source), field.get_trans_terms(text)
        if field.translate(lambda term: "#", str(source)) != field.translate(lambda term: "#", text) \
                or len(source_terms) != len(new_terms):
            raise UserError(_(
                "In a translation, change the wording only: the layout of the signing page text "
                "(paragraphs, lists, bold...) is the one of the English text. Change the layout in "
                "English first."))
        company_sudo.update_field_translations(field_name, {lang: dict(zip(source_terms, new_terms, strict=True))})

    def _reopen(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("o2s_esign.o2s_esign_settings_action")
        action["context"] = {"default_signing_page_lang": self.signing_page_lang}
        return action
