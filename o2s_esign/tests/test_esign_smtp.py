# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mails over a real SMTP server (aiosmtpd on 127.0.0.1): templates, languages and links as
they arrive, the server down then back, and the advisor's own outgoing server."""
from unittest.mock import patch

from freezegun import freeze_time

import odoo
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .automation_common import O2sEsignAutomationCommon
from .smtp_server import SmtpSink, free_port, html_part, quiet_smtp_log, start_smtp


@tagged("post_install", "-at_install")
class TestEsignRealSmtp(O2sEsignAutomationCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        quiet_smtp_log(cls)
        cls.company_sink = SmtpSink()
        cls.company_port = free_port()
        cls.company_controller = start_smtp(cls.company_sink, cls.company_port)
        cls.addClassCleanup(lambda: cls.company_controller.stop())
        cls.env["ir.mail_server"].sudo().search([]).active = False
        cls.company_server = cls.env["ir.mail_server"].sudo().create({
            "name": "Company SMTP (test)", "smtp_host": "127.0.0.1", "smtp_port": cls.company_port,
            "smtp_encryption": "none", "sequence": 10,
        })
        cls.client_fr = cls._make_client("Camille Dupont", "camille@example.com", "+33645678901",
                                         salesperson=cls.advisor, lang="fr_FR")

    def setUp(self):
        super().setUp()
        self.company_sink.messages.clear()

    def _deliver(self, requests, kind=None):
        """Send the module's queued mails of ``requests`` through the real SMTP path."""
        mails = self._logs(kind, requests=requests).mail_id.sudo().filtered(lambda m: m.state == "outgoing")
        with patch.object(odoo.modules.module, "current_test", False):
            mails.send()
        return mails

    def test_mails_reach_the_server_with_template_language_and_link(self):
        reminder = self.env.ref("o2s_esign.mail_template_esign_reminder")
        reminder.with_context(lang="fr_FR").subject = "Rappel : {{ object.request_id.name }} attend votre signature"
        english = self._send_on()
        french = self._send_on(partner=self.client_fr)
        with freeze_time("2026-03-04 08:00:00"):
            self.Request.sudo()._cron_send_reminders()
        self._deliver(english | french, "reminder")
        received = {rcpt[0]: (sender, message) for sender, rcpt, message in self.company_sink.wait(2)}
        self.assertEqual(set(received), {"jeanne@example.com", "camille@example.com"})
        sender, message_en = received["jeanne@example.com"]
        self.assertEqual(sender, "alice@advisor.example.com")
        self.assertEqual([(a.display_name, a.addr_spec) for a in message_en["From"].addresses],
                         [("Alice Advisor", "alice@advisor.example.com")])
        self.assertEqual(message_en["Subject"], "Reminder: Test request is waiting for your signature")
        html_en = html_part(message_en)
        self.assertIn('href="%s"' % english.signer_ids.esign_mail_link, html_en)
        self.assertIn("April 1, 2026", html_en)
        _sender, message_fr = received["camille@example.com"]
        self.assertEqual(message_fr["Subject"], "Rappel : Test request attend votre signature")
        html_fr = html_part(message_fr)
        self.assertIn("1 avril 2026", html_fr)
        self.assertIn('href="%s"' % french.signer_ids.esign_mail_link, html_fr)
        self.assertEqual(set(self._logs("reminder", english | french).mapped("state")), {"sent"})
        self.assertEqual(self._logs("reminder", english | french).mail_server_id, self.company_server)

    def test_server_down_then_back(self):
        request = self._send_on()
        self._deliver(request, "invitation")
        self.assertEqual(len(self.company_sink.wait(1)), 1)
        self.company_sink.messages.clear()
        request.with_user(self.advisor).action_remind()
        self.company_controller.stop()
        try:
            self._deliver(request)
        finally:
            type(self).company_controller = start_smtp(self.company_sink, self.company_port)
        log = self._logs("reminder", request)
        self.assertEqual(log.state, "failed")
        self.assertIn("Connection refused", log.failure_reason)
        self.assertEqual(request.state, "error")
        self.assertFalse(self.company_sink.messages)
        # The server is back: the advisor sends the mail again from the report.
        log.with_user(self.advisor).action_resend()
        self._deliver(request)
        self.assertEqual(len(self.company_sink.wait(1)), 1)
        _sender, rcpt, message = self.company_sink.messages[0]
        self.assertEqual(rcpt, ["jeanne@example.com"])
        self.assertEqual(message["Subject"], "Reminder: Test request is waiting for your signature",
                         "the very mail that failed, not a new invitation")
        self.assertEqual(log.state, "sent")
        self.assertEqual(request.state, "in_progress")


@tagged("post_install", "-at_install")
class TestEsignAdvisorSmtp(O2sEsignAutomationCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        quiet_smtp_log(cls)
        cls.company_sink, cls.advisor_sink = SmtpSink(), SmtpSink(login="alice", password="s3cret-pass")
        for sink in (cls.company_sink, cls.advisor_sink):
            sink.port = free_port()
            controller = start_smtp(sink, sink.port)
            cls.addClassCleanup(controller.stop)
        cls.env["ir.mail_server"].sudo().search([]).active = False
        cls.company_server = cls.env["ir.mail_server"].sudo().create({
            "name": "Company SMTP (test)", "smtp_host": "127.0.0.1", "smtp_port": cls.company_sink.port,
            "smtp_encryption": "none", "sequence": 10,
        })

    def setUp(self):
        super().setUp()
        for sink in (self.company_sink, self.advisor_sink):
            sink.messages.clear()
            sink.logins.clear()

    def _use_own_server(self, password="s3cret-pass", port=None):
        self.advisor.with_user(self.advisor).write({
            "esign_smtp_use_own": True,
            "esign_smtp_host": "127.0.0.1",
            "esign_smtp_port": port or self.advisor_sink.port,
            "esign_smtp_encryption": "none",
            "esign_smtp_user": "alice",
            "esign_smtp_password": password,
        })
        return self.advisor.sudo().esign_mail_server_id

    def test_preferences_create_a_server_filtered_on_the_advisor(self):
        server = self._use_own_server()
        self.assertEqual(server.from_filter, "alice@advisor.example.com")
        self.assertEqual((server.smtp_host, server.smtp_port, server.smtp_user),
                         ("127.0.0.1", self.advisor_sink.port, "alice"))
        self.assertEqual(server.o2s_esign_user_id, self.advisor)
        # The password is never shown back, not even to its owner.
        advisor = self.advisor.with_user(self.advisor)
        self.assertFalse(advisor.esign_smtp_password)
        self.assertTrue(advisor.esign_smtp_password_set)
        with self.assertRaises(AccessError):
            server.with_user(self.advisor).read(["smtp_pass"])
        # Unticking archives it (and mails go through the company's server again).
        advisor.write({"esign_smtp_use_own": False})
        self.assertFalse(server.active)
        with self.assertRaises(UserError):
            advisor.write({"esign_smtp_use_own": True, "esign_smtp_host": ""})

    def test_own_server_for_own_requests_company_server_for_others(self):
        own_server = self._use_own_server()
        mine = self._send_on()
        other = self._send_on(partner=self.client2, user=self.advisor2)
        (mine | other).sudo().action_remind()
        mails = self._logs("reminder", mine | other).mail_id.sudo()
        with patch.object(odoo.modules.module, "current_test", False):
            mails.send()
        self.assertEqual(len(self.advisor_sink.wait(1)), 1)
        self.assertEqual(len(self.company_sink.wait(1)), 1)
        sender, rcpt, _message = self.advisor_sink.messages[0]
        self.assertEqual((sender, rcpt), ("alice@advisor.example.com", ["jeanne@example.com"]))
        self.assertEqual(self.advisor_sink.logins, ["alice"], "the saved password logged in")
        sender, rcpt, _message = self.company_sink.messages[0]
        self.assertEqual((sender, rcpt), ("bob@advisor.example.com", ["louis@example.com"]))
        self.assertEqual(self._logs("reminder", mine).mail_server_id, own_server)
        self.assertEqual(self._logs("reminder", other).mail_server_id, self.company_server)

    def test_connection_test_button(self):
        self._use_own_server()
        advisor = self.advisor.with_user(self.advisor)
        with patch.object(odoo.modules.module, "current_test", False):
            result = advisor.action_esign_test_smtp()
            self.assertEqual(result["params"]["type"], "success")
            self.assertEqual(self.advisor_sink.logins[-1:], ["alice"])
            # A wrong password is reported.
            advisor.write({"esign_smtp_password": "wrong"})
            with self.assertRaises(UserError):
                advisor.action_esign_test_smtp()
            # Nobody listens on that port.
            advisor.write({"esign_smtp_password": "s3cret-pass", "esign_smtp_port": free_port()})
            with self.assertRaises(UserError), self.assertLogs("odoo.addons.base.models.ir_mail_server", "WARNING"):
                advisor.action_esign_test_smtp()
        with self.assertRaises(AccessError):
            self.advisor.with_user(self.advisor2).action_esign_test_smtp()
