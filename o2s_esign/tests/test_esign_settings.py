# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The E-signature settings and the templates: the options-management group edits them, nobody
else (through the ORM/RPC API and through the web client's own calls); secrets are encrypted at
rest and never read back in clear."""
import xmlrpc.client

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from ..tools import internal_write
from .automation_common import O2sEsignAutomationCommon
from .common import esign_user

OPTIONS = "o2s_esign.group_esign_options"


class SettingsUsersMixin:

    @classmethod
    def _make_settings_users(cls):
        cls.options_user = esign_user(cls.env, "esign_options", "internal,user,options", name="Olga Options",
                                      email="olga@advisor.example.com")
        cls.admin_no_options = esign_user(cls.env, "esign_sysadmin",
                                          "internal,base.group_system,base.group_erp_manager,manager",
                                          name="Sam Sysadmin", email="sam@advisor.example.com")
        cls.other_template = cls.env.ref("portal.mail_template_data_portal_welcome")
        cls.esign_sms = cls.env["sms.template"].create({
            "name": "E-signature code (test)", "model_id": cls.env["ir.model"]._get_id("o2s.esign.signer"),
            "body": "Your code: {{ object.name }}"})
        cls.other_sms = cls.env["sms.template"].create({
            "name": "Partner SMS (test)", "model_id": cls.env["ir.model"]._get_id("res.partner"),
            "body": "Hello {{ object.name }}"})


@tagged("post_install", "-at_install")
class TestEsignSettings(SettingsUsersMixin, O2sEsignAutomationCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._make_settings_users()
        assert not cls.options_user.has_group("mail.group_mail_template_editor")
        assert not cls.admin_no_options.has_group(OPTIONS)

    def _settings(self, user, **values):
        """The settings form as ``user`` opens it (in the language ``signing_page_lang``)."""
        Settings = self.env["o2s.esign.settings"].with_user(user)
        if "signing_page_lang" in values:
            Settings = Settings.with_context(default_signing_page_lang=values.pop("signing_page_lang"))
        return Settings.create(values)

    def test_options_group_reads_and_writes_the_settings(self):
        settings = self._settings(self.options_user)
        self.assertEqual((settings.esign_reminder_first_days, settings.esign_reminder_interval_days,
                          settings.esign_reminder_max, settings.esign_validity_days), (2, 3, 3, 30))
        settings.write({
            "esign_reminder_first_days": 4, "esign_reminder_interval_days": 7, "esign_reminder_max": 2,
            "esign_validity_days": 15, "esign_max_upload_mb": 10, "esign_pades_level": "b_t",
            "esign_tsa_url": "https://tsa.example.com", "esign_sms_transport": "outbox",
        })
        settings.action_save()
        company = self.company
        self.assertEqual((company.esign_reminder_first_days, company.esign_reminder_interval_days,
                          company.esign_reminder_max, company.esign_validity_days, company.esign_max_upload_mb),
                         (4, 7, 2, 15, 10))
        self.assertEqual((company.esign_pades_level, company.sudo().esign_tsa_url,
                          company.sudo().esign_sms_transport), ("b_t", "https://tsa.example.com", "outbox"))
        # New requests take the new defaults.
        request = self._draft_request()
        self.assertEqual((request.reminder_first_days, request.reminder_interval_days, request.reminder_max),
                         (4, 7, 2))

    def test_bad_values_are_refused_and_nothing_is_saved(self):
        settings = self._settings(self.options_user, esign_reminder_max=-1, esign_validity_days=0,
                                  esign_webhook_url="ftp://sms.example.com", esign_sms_transport="twilio")
        with self.assertRaises(UserError) as caught:
            settings.action_save()
        message = str(caught.exception)
        for part in ("between 0 and 50", "between 1 and 3,650", "https://", "Twilio needs"):
            self.assertIn(part, message)
        self.assertEqual((self.company.esign_reminder_max, self.company.esign_validity_days), (3, 30))

    def test_secrets_are_encrypted_and_never_read_back(self):
        settings = self._settings(self.options_user, esign_sms_transport="twilio",
                                  esign_twilio_account_sid="AC123", esign_twilio_from="+33600000000",
                                  esign_twilio_auth_token="tw-token-1234", esign_webhook_token="wh-token-5678",
                                  esign_tsa_password="tsa-pass-9012")
        settings.action_save()
        company = self.company
        self.env.flush_all()
        self.env.cr.execute("""SELECT esign_twilio_auth_token, esign_webhook_token, esign_tsa_password
                                 FROM res_company WHERE id = %s""", [company.id])
        stored = self.env.cr.fetchone()
        for value, clear in zip(stored, ("tw-token-1234", "wh-token-5678", "tsa-pass-9012")):
            self.assertTrue(value.startswith("o2s-enc:"))
            self.assertNotIn(clear, value)
        # The one accessor the SMS and timestamp code call.
        self.assertEqual(company._esign_get_secret("twilio_auth_token"), "tw-token-1234")
        self.assertEqual(company._esign_get_secret("webhook_token"), "wh-token-5678")
        self.assertEqual(company._esign_get_secret("tsa_password"), "tsa-pass-9012")
        # Even the options group reads the blob only, and the form shows "saved", not the value.
        self.assertEqual(company.with_user(self.options_user).esign_twilio_auth_token, stored[0])
        reopened = self._settings(self.options_user)
        self.assertFalse(reopened.esign_twilio_auth_token)
        self.assertTrue(reopened.esign_twilio_auth_token_set and reopened.esign_tsa_password_set)
        # Saving without typing a token keeps it; "Forget" removes it.
        reopened.action_save()
        self.assertEqual(company._esign_get_secret("twilio_auth_token"), "tw-token-1234")
        reopened.with_context(o2s_esign_secret="webhook_token").action_forget_secret()
        self.assertFalse(company._esign_get_secret("webhook_token"))
        # Written straight on the company (superuser), a secret is encrypted all the same.
        company.sudo().esign_tsa_password = "other-pass"
        self.assertTrue(company.sudo().esign_tsa_password.startswith("o2s-enc:"))
        self.assertEqual(company._esign_get_secret("tsa_password"), "other-pass")
        # A blob copied to another field or company does not decrypt (bound to its place).
        company.sudo().esign_webhook_token = False
        self.env.flush_all()
        self.env.cr.execute("UPDATE res_company SET esign_webhook_token = esign_tsa_password WHERE id = %s",
                            [company.id])
        company.invalidate_recordset()
        with self.assertRaises(UserError):
            company._esign_get_secret("webhook_token")
        with self.assertRaises(ValueError):
            company._esign_get_secret("smtp_password")

    def test_signing_page_text_per_language(self):
        company = self.company.sudo()
        signer_model = self.env["o2s.esign.signer"]
        # The editor opens on the current text: the default one, in the chosen language.
        settings = self._settings(self.options_user, signing_page_lang="fr_FR")
        self.assertIn("Lisez chacun des documents", settings.signing_page_intro)
        self.assertIn("En signant", settings.signing_page_consent)
        self.assertFalse(settings.signing_page_custom)
        # French is written first, without any English text: English keeps its default.
        settings.write({"signing_page_intro": "<p>Bonjour {{ signer }}, lisez les documents.</p>",
                        "signing_page_consent": "Je consens à signer électroniquement."})
        self.assertIn("Bonjour Marie Martin", settings.signing_page_preview, "the preview fills the placeholders")
        self.assertIn("Je consens", settings.signing_page_preview)
        settings.action_save()
        self.assertTrue(settings.signing_page_custom)
        self.assertEqual(set(company.esign_signing_page_texts), {"fr_FR"})
        intro, consent, custom = signer_model._get_signing_page_sources(company, "en_US")
        self.assertFalse(custom)
        self.assertIn("Read each document", intro)
        self.assertIn("By signing", consent)
        # English saved later leaves French alone.
        english = self._settings(self.options_user, signing_page_lang="en_US",
                                 signing_page_intro="<p>Please read the documents.</p><script>alert(1)</script>",
                                 signing_page_consent="I agree to sign electronically.")
        english.action_save()
        intro, consent, _custom = signer_model._get_signing_page_sources(company, "fr_FR")
        self.assertEqual((str(intro), consent),
                         ("<p>Bonjour {{ signer }}, lisez les documents.</p>", "Je consens à signer électroniquement."))
        intro, consent, _custom = signer_model._get_signing_page_sources(company, "en_US")
        self.assertNotIn("script", intro, "scripts never reach the signing page")
        self.assertEqual(consent, "I agree to sign electronically.")
        # Switching the language in the editor shows that language's text.
        english.signing_page_lang = "fr_FR"
        english._onchange_signing_page_lang()
        self.assertIn("Bonjour", english.signing_page_intro)
        # The consent paragraph is never empty.
        settings.signing_page_consent = "  "
        with self.assertRaises(UserError) as caught:
            settings.action_save()
        self.assertIn("consent paragraph", str(caught.exception))
        self.assertEqual(company.esign_signing_page_texts["fr_FR"]["consent"], "Je consens à signer électroniquement.")
        # "Restore the default", per language: French goes back to the default, English stays.
        settings.signing_page_consent = "Je consens."
        settings.action_restore_signing_page_default()
        self.assertFalse(settings.signing_page_custom)
        self.assertIn("Lisez chacun des documents", settings.signing_page_intro)
        self.assertIn("En signant", settings.signing_page_consent)
        self.assertEqual(signer_model._get_signing_page_sources(company, "en_US")[1], "I agree to sign electronically.")

    def test_signing_page_shows_the_consent_block_in_the_signers_language(self):
        company = self.company.sudo()
        company.esign_signing_page_texts = {"fr_FR": {"intro": "<p>Texte du cabinet {{ company }}.</p>"}}
        request = self._sent_request()
        signer = request.signer_ids[:1].sudo()
        signer.partner_id.lang = "fr_FR"
        with internal_write():
            signer.lang = "fr_FR"
        html, sha = signer._get_signing_page_text()
        self.assertIn("Texte du cabinet %s." % company.name, html)
        self.assertIn('<div class="o_esign_page_consent"><p>En signant', html,
                      "without a wording of the company's, the default consent, in French")
        with internal_write():
            signer.lang = "en_US"
        html_en, sha_en = signer._get_signing_page_text()
        self.assertIn("Read each document", html_en)
        self.assertIn('<div class="o_esign_page_consent"><p>By signing', html_en)
        self.assertNotEqual(sha, sha_en)

    def test_one_settings_record_per_company_with_a_title(self):
        Settings = self.env["o2s.esign.settings"].with_user(self.options_user)
        first = Settings._esign_action_open()
        second = Settings._esign_action_open()
        self.assertEqual(first["res_id"], second["res_id"], "one record, not a new one per visit")
        self.assertEqual(first["type"], "ir.actions.act_window")
        settings = Settings.browse(first["res_id"])
        self.assertEqual(settings.display_name, "E-signature settings")
        self.assertEqual(settings.with_context(lang="fr_FR").display_name,
                         "Paramètres de la signature électronique")
        # The record is reloaded from the company, and a typed secret does not stay in it.
        settings.write({"esign_reminder_max": 7, "esign_webhook_token": "s3cret"})
        settings.action_save()
        self.assertFalse(settings.esign_webhook_token)
        self.assertTrue(settings.esign_webhook_token_set)
        self.company.sudo().esign_reminder_max = 5
        Settings._esign_action_open()
        self.assertEqual(settings.esign_reminder_max, 5)
        # The menu opens it through a server action; the Settings app's block too.
        menu = self.env.ref("o2s_esign.o2s_esign_menu_settings")
        self.assertEqual(menu.action, self.env.ref("o2s_esign.o2s_esign_settings_action_open"))
        result = self.env.ref("o2s_esign.o2s_esign_settings_action_open").with_user(self.options_user).run()
        self.assertEqual(result["res_id"], first["res_id"])
        with self.assertRaises(AccessError):
            self.env["o2s.esign.settings"].with_user(self.advisor)._esign_action_open()

    def test_signing_identity_and_tsa_root_on_the_page(self):
        self._settings(self.options_user).action_generate_identity()
        first = self._settings(self.options_user)
        self.assertTrue(first.esign_identity_ca_subject and first.esign_identity_seal_fingerprint)
        first.action_generate_identity()
        second = self._settings(self.options_user)
        self.assertNotEqual(first.esign_identity_seal_fingerprint, second.esign_identity_seal_fingerprint)
        self.assertEqual(second.action_import_identity()["res_model"], "o2s.esign.identity.import")
        with self.assertRaises(ValidationError):
            self._settings(self.options_user, esign_tsa_ca_cert="not a certificate").action_save()
        with self.assertRaises(AccessError):
            self._settings(self.advisor)

    def test_others_cannot_read_or_change_the_settings(self):
        for user in (self.advisor, self.admin_no_options, self.plain_user):
            with self.subTest(user=user.login), mute_logger("odoo.addons.base.models.ir_model"):
                with self.assertRaises(AccessError):
                    self._settings(user)
                with self.assertRaises(AccessError):
                    self.env["o2s.esign.settings"].with_user(user).default_get(["esign_reminder_max"])
                with self.assertRaises(AccessError):
                    self.company.with_user(user).write({"esign_reminder_max": 9})
                with self.assertRaises(AccessError):
                    self.company.with_user(user).read(["esign_twilio_auth_token"])
                with self.assertRaises(AccessError):
                    self.company.with_user(user).read(["esign_signing_page_text"])
        self.assertEqual(self.company.esign_reminder_max, 3)
        # The administrator keeps every other company setting.
        self.company.with_user(self.admin_no_options).write({"report_footer": "<p>Registered in Paris</p>"})
        # A stale form cannot be saved once the group is gone.
        settings = self._settings(self.options_user)
        self.options_user.groups_id -= self.env.ref(OPTIONS)
        with self.assertRaises(AccessError):
            settings.with_user(self.options_user).action_save()

    def test_menus(self):
        settings_menu = self.env.ref("o2s_esign.o2s_esign_menu_settings")
        templates_menu = self.env.ref("o2s_esign.o2s_esign_menu_mail_templates")
        report_menu = self.env.ref("o2s_esign.o2s_esign_menu_mail_logs")
        Menu = self.env["ir.ui.menu"]
        visible = Menu.with_user(self.options_user)._visible_menu_ids()
        self.assertTrue({settings_menu.id, templates_menu.id, report_menu.id} <= visible)
        for user in (self.advisor, self.admin_no_options):
            visible = Menu.with_user(user)._visible_menu_ids()
            self.assertNotIn(settings_menu.id, visible)
            self.assertNotIn(templates_menu.id, visible)
            self.assertIn(report_menu.id, visible)


@tagged("post_install", "-at_install")
class TestEsignTemplateRights(SettingsUsersMixin, O2sEsignAutomationCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._make_settings_users()
        cls.reminder = cls.env.ref("o2s_esign.mail_template_esign_reminder")

    def test_options_group_edits_the_esign_templates_with_placeholders(self):
        body = '<p>Dear <t t-out="object.name"/>, sign here: <t t-out="object.esign_mail_sign_button"/></p>'
        self.reminder.with_user(self.options_user).write(
            {"body_html": body, "subject": "Sign {{ object.request_id.name }}"})
        self.assertIn("esign_mail_sign_button", self.reminder.body_html)
        # French text too (the template editor's translation dialog).
        self.reminder.with_user(self.options_user).with_context(lang="fr_FR").write(
            {"subject": "Signez {{ object.request_id.name }}"})
        self.assertEqual(self.reminder.with_context(lang="fr_FR").subject, "Signez {{ object.request_id.name }}")
        # The placeholders stay the offered ones: no arbitrary code for a non-editor.
        with self.assertRaises(AccessError):
            self.reminder.with_user(self.options_user).write(
                {"body_html": '<p t-out="object.request_id.user_id.sudo().password"/>'})
        # A new e-signature template, then its deletion.
        template = self.env["mail.template"].with_user(self.options_user).create({
            "name": "E-signature: custom", "model_id": self.env["ir.model"]._get_id("o2s.esign.signer"),
            "subject": "{{ object.request_id.name }}", "body_html": "<p>Hello <t t-out=\"object.name\"/></p>"})
        template.with_user(self.options_user).unlink()
        # The SMS text too.
        self.esign_sms.with_user(self.options_user).write({"body": "Code for {{ object.request_id.name }}"})
        self.assertIn("Code for", self.esign_sms.body)

    def test_options_group_gets_no_other_template(self):
        with mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
            self.other_template.with_user(self.options_user).write({"subject": "Hacked"})
        with mute_logger("odoo.addons.base.models.ir_rule"), self.assertRaises(AccessError):
            self.other_sms.with_user(self.options_user).write({"body": "Hacked"})

    def test_nobody_else_edits_the_esign_templates(self):
        for user in (self.admin_no_options, self.advisor, self.plain_user, self.esign_manager):
            with self.subTest(user=user.login), mute_logger("odoo.addons.base.models.ir_rule",
                                                            "odoo.addons.base.models.ir_model"):
                with self.assertRaises(AccessError):
                    self.reminder.with_user(user).write({"subject": "Hacked"})
                with self.assertRaises(AccessError):
                    self.reminder.with_user(user).unlink()
                with self.assertRaises(AccessError):
                    self.env["mail.template"].with_user(user).create({
                        "name": "Rogue", "model_id": self.env["ir.model"]._get_id("o2s.esign.request"),
                        "subject": "x"})
                with self.assertRaises(AccessError):
                    self.esign_sms.with_user(user).write({"body": "Hacked"})
                # Reading (and so sending) stays possible.
                self.assertTrue(self.reminder.with_user(user).subject)
        self.assertNotEqual(self.reminder.subject, "Hacked")
        # The administrator keeps the other templates.
        self.other_template.with_user(self.admin_no_options).write({"subject": "Welcome!"})
        self.other_sms.with_user(self.admin_no_options).write({"body": "Hi"})


@tagged("post_install", "-at_install")
class TestEsignSettingsWebClient(SettingsUsersMixin, HttpCase):
    """The calls the web client makes when a user saves the form."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plain_advisor = esign_user(cls.env, "esign_ui_advisor", "internal,user", name="Ulysse Advisor",
                                       email="ulysse@advisor.example.com")
        cls._make_settings_users()
        cls.reminder = cls.env.ref("o2s_esign.mail_template_esign_reminder")

    def _call(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request("/web/dataset/call_kw/%s/%s" % (model, method), {
            "model": model, "method": method, "args": args, "kwargs": kwargs or {}})

    def _save_settings(self):
        created = self._call("o2s.esign.settings", "web_save", [[], {"esign_reminder_max": 7}],
                             {"specification": {"esign_reminder_max": {}}})
        return self._call("o2s.esign.settings", "action_save", [[created[0]["id"]]])

    def test_options_user_saves_from_the_web_client(self):
        self.authenticate("esign_options", "esign_options")
        self._save_settings()
        self.assertEqual(self.env.company.esign_reminder_max, 7)
        self._call("mail.template", "web_save",
                   [[self.reminder.id], {"subject": "Reminder {{ object.request_id.name }}"}],
                   {"specification": {"subject": {}}})
        self.assertEqual(self.reminder.subject, "Reminder {{ object.request_id.name }}")

    def test_recipients_of_the_module_templates_are_not_editable(self):
        """The options group edits the wording of the module's templates, never who receives
        them (else it would collect every signing link)."""
        self.authenticate("esign_options", "esign_options")
        invite = self.env.ref("o2s_esign.mail_template_esign_invite")
        before = invite.read(["email_from", "email_to", "email_cc", "partner_to", "reply_to", "mail_server_id"])[0]
        server = self.env["ir.mail_server"].create({"name": "Other", "smtp_host": "smtp.example.com"})
        for values in ({"email_cc": "olga@advisor.example.com"}, {"email_to": "olga@advisor.example.com"},
                       {"partner_to": str(self.options_user.partner_id.id)}, {"email_from": "olga@advisor.example.com"},
                       {"reply_to": "olga@advisor.example.com"}, {"use_default_to": True},
                       {"mail_server_id": server.id},
                       {"subject": "Sign {{ object.request_id.name }}", "email_cc": "olga@advisor.example.com"}):
            for template in (invite, self.reminder):
                with self.subTest(values=values, template=template.name), mute_logger("odoo.http"):
                    with self.assertRaises(JsonRpcException) as caught:
                        self._call("mail.template", "web_save", [[template.id], values],
                                   {"specification": {name: {} for name in values}})
                    self.assertIn("AccessError", str(caught.exception.args))
        self.assertEqual(invite.read(list(before))[0], before)
        self.assertNotEqual(invite.subject, "Sign {{ object.request_id.name }}")
        # The wording stays theirs.
        self._call("mail.template", "web_save",
                   [[invite.id], {"subject": "Sign {{ object.request_id.name }}"}], {"specification": {"subject": {}}})
        self.assertEqual(invite.subject, "Sign {{ object.request_id.name }}")
        # Over XML-RPC too.
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, "esign_options", "esign_options", {})
        with self.assertRaises(xmlrpc.client.Fault) as caught, mute_logger("odoo.http"):
            self.xmlrpc_object.execute_kw(db, uid, "esign_options", "mail.template", "write",
                                          [[invite.id], {"email_cc": "olga@advisor.example.com"}])
        self.assertEqual(caught.exception.faultCode, 4)
        self.assertFalse(invite.email_cc)
        # Nor deleted (the signature process sends them by external id).
        with self.assertRaises(xmlrpc.client.Fault) as caught, mute_logger("odoo.http"):
            self.xmlrpc_object.execute_kw(db, uid, "esign_options", "mail.template", "unlink",
                                          [[invite.id]])
        self.assertEqual(caught.exception.faultCode, 4)
        self.assertTrue(invite.exists())

    def test_others_are_refused_by_the_web_client_calls(self):
        for login in ("esign_sysadmin", "esign_ui_advisor"):
            with self.subTest(login=login):
                self.authenticate(login, login)
                with mute_logger("odoo.http", "odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model"):
                    with self.assertRaises(JsonRpcException) as caught:
                        self._save_settings()
                    self.assertIn("AccessError", str(caught.exception.args))
                    with self.assertRaises(JsonRpcException):
                        self._call("mail.template", "web_save",
                                   [[self.reminder.id], {"subject": "Hacked"}], {"specification": {"subject": {}}})
                    with self.assertRaises(JsonRpcException):
                        self._call("res.company", "web_save",
                                   [[self.env.company.id], {"esign_reminder_max": 9}],
                                   {"specification": {"esign_reminder_max": {}}})
        self.assertNotEqual(self.env.company.esign_reminder_max, 9)
        self.assertNotEqual(self.reminder.subject, "Hacked")
