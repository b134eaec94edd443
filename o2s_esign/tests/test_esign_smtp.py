# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mails over a real SMTP server (aiosmtpd on 127.0.0.1): templates, languages and links as
they arrive, the server down then back, and the advisor's own outgoing server."""
import xmlrpc.client
from unittest.mock import patch

from freezegun import freeze_time

import odoo
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

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
        cls.company.email = "office@company.example.com"

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

    def test_own_server_must_be_public_and_encrypted(self):
        advisor = self.advisor.with_user(self.advisor)
        base = {"esign_smtp_use_own": True, "esign_smtp_port": 587, "esign_smtp_user": "alice",
                "esign_smtp_password": "pw"}
        for host in ("10.0.0.1", "169.254.169.254", "[::ffff:192.168.1.1]", "fd00::1"):
            with self.subTest(host=host), self.assertRaisesRegex(UserError, "public one"):
                advisor.write(dict(base, esign_smtp_host=host, esign_smtp_encryption="starttls"))
        with self.assertRaisesRegex(UserError, "must not travel unencrypted"):
            advisor.write(dict(base, esign_smtp_host="8.8.8.8", esign_smtp_encryption="none"))
        self.assertFalse(self.advisor.sudo().esign_mail_server_id.active)
        advisor.write(dict(base, esign_smtp_host="8.8.8.8", esign_smtp_encryption="starttls"))
        self.assertEqual(self.advisor.sudo().esign_mail_server_id.smtp_host, "8.8.8.8")
        # loopback only while the company allows it (tests, local demo)
        self.env["ir.config_parameter"].sudo().set_param("o2s_esign.allow_http_localhost", "False")
        with self.assertRaisesRegex(UserError, "public one"):
            advisor.write({"esign_smtp_host": "127.0.0.1"})

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
            # A wrong password: "failed", and nothing of the server's answer.
            advisor.write({"esign_smtp_password": "wrong"})
            result = advisor.action_esign_test_smtp()
            self.assertEqual(result["params"], {
                "message": "The connection to your SMTP server failed.", "type": "danger", "sticky": False})
            # Nobody listens on that port: the very same answer (no port probing).
            advisor.write({"esign_smtp_password": "s3cret-pass", "esign_smtp_port": free_port()})
            with self.assertLogs("odoo.addons.base.models.ir_mail_server", "WARNING"):
                closed = advisor.action_esign_test_smtp()
            self.assertEqual(closed["params"], result["params"])
        with self.assertRaises(AccessError):
            self.advisor.with_user(self.advisor2).action_esign_test_smtp()

    def test_connection_tests_are_rate_limited(self):
        self._use_own_server()
        advisor = self.advisor.with_user(self.advisor)
        with patch.object(odoo.modules.module, "current_test", False):
            with freeze_time("2026-03-02 10:00:00"):
                for _i in range(5):
                    self.assertEqual(advisor.action_esign_test_smtp()["params"]["type"], "success")
                with self.assertRaises(UserError) as caught:
                    advisor.action_esign_test_smtp()
                self.assertIn("try again in 10 minutes", str(caught.exception))
            self.assertEqual(len(self.advisor_sink.logins), 5, "the sixth test connected nowhere")
            # The count is kept on the server, out of the user's reach.
            with self.assertRaises(AccessError):
                self.advisor.with_user(self.advisor).write({"esign_smtp_test_times": "[]"})
            with freeze_time("2026-03-02 10:10:01"):
                self.assertEqual(advisor.action_esign_test_smtp()["params"]["type"], "success")
        self.assertEqual(len(self.advisor_sink.logins), 6)

    def test_own_server_is_never_a_fallback(self):
        """The advisor's server carries the advisor's mail only: not a mail of another sender
        when no server matches it, not even when it is the only server left."""
        own_server = self._use_own_server()
        Server = self.env["ir.mail_server"]
        self.assertEqual(Server._find_mail_server("alice@advisor.example.com")[0], own_server)
        self.company_server.active = False
        for sender in ("admin@example.com", self.company.email, "bob@advisor.example.com", False):
            with self.subTest(sender=sender):
                server, _from = Server._find_mail_server(sender)
                self.assertNotEqual(server, own_server)
        # Its filter is exactly one address, the advisor's own; an empty one is refused.
        with self.assertRaises(ValidationError):
            own_server.from_filter = False
        with self.assertRaises(ValidationError):
            own_server.from_filter = "advisor.example.com"
        # Out of the group, out of the server.
        self.advisor.groups_id -= self.env.ref("o2s_esign.group_esign_user")
        self.assertFalse(own_server.active)
        self.assertFalse(self.advisor.esign_smtp_use_own)


@tagged("post_install", "-at_install")
class TestEsignAdvisorSmtpOverRpc(HttpCase):
    """The own-server settings as an attacker uses them: XML-RPC and the web client's JSON-RPC,
    as a portal user, an advisor and a user without E-signature rights."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, no_reset_password=True, tracking_disable=True))
        env = cls.env
        env["res.lang"]._activate_lang("en_US")
        env.ref("base.user_admin").lang = "en_US"
        env.company.email = "office@company.example.com"
        # the tests' SMTP sinks listen on loopback, which only this parameter allows
        env["ir.config_parameter"].sudo().set_param("o2s_esign.allow_http_localhost", "True")
        env["mail.alias.domain"].create({
            "name": "company.example.com", "catchall_alias": "catchall", "bounce_alias": "bounce",
            "default_from": "notifications"})
        cls.advisor = new_test_user(env, login="smtp_advisor", name="Sid Advisor", lang="en_US",
                                    email="sid@advisor.example.com",
                                    groups="base.group_user,base.group_partner_manager,o2s_esign.group_esign_user")
        cls.advisor2 = new_test_user(env, login="smtp_advisor2", name="Tess Advisor", lang="en_US",
                                     email="tess@advisor.example.com",
                                     groups="base.group_user,base.group_partner_manager,o2s_esign.group_esign_user")
        cls.nobody = new_test_user(env, login="smtp_nobody", name="Nils Nobody", lang="en_US",
                                   email="nils@advisor.example.com",
                                   groups="base.group_user,base.group_partner_manager")
        cls.portal = new_test_user(env, login="smtp_portal", name="Pia Portal", lang="en_US",
                                   email="pia@example.com", groups="base.group_portal")
        cls.company_server = env["ir.mail_server"].create({
            "name": "Company SMTP (test)", "smtp_host": "127.0.0.1", "smtp_port": 2525,
            "smtp_encryption": "none", "from_filter": "mailer@company.example.com", "sequence": 10})
        cls.smtp_values = {"esign_smtp_use_own": True, "esign_smtp_host": "127.0.0.1",
                           "esign_smtp_port": 2526, "esign_smtp_encryption": "none",
                           "esign_smtp_user": "me", "esign_smtp_password": "pw"}

    def _call(self, login, model, method, *args, **kwargs):
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, login, login, {})
        self.assertTrue(uid, login)
        return self.xmlrpc_object.execute_kw(db, uid, login, model, method, list(args), kwargs)

    def _fault(self, login, model, method, *args, **kwargs):
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._call(login, model, method, *args, **kwargs)
        return caught.exception

    def _personal_servers(self):
        return self.env["ir.mail_server"].with_context(active_test=False).search(
            [("o2s_esign_user_id", "!=", False)])

    def _assert_no_dangerous_server(self):
        """No server without a filter besides the company's, none whose filter covers an address
        the company sends from."""
        servers = self.env["ir.mail_server"].search([("id", "!=", self.company_server.id)])
        self.assertFalse(servers.filtered(lambda s: not s.from_filter), "a catch-all server")
        for address in ("office@company.example.com", "mailer@company.example.com",
                        "catchall@company.example.com", "bounce@company.example.com",
                        "notifications@company.example.com", "admin@example.com"):
            for server in servers:
                self.assertFalse(self.env["ir.mail_server"]._match_from_filter(address, server.from_filter),
                                 "%s covers %s" % (server.from_filter, address))

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_portal_user_gets_no_server(self):
        uid = self.portal.id
        for values in (self.smtp_values, {"esign_smtp_host": "10.0.0.1"}, {"esign_smtp_use_own": True}):
            with self.subTest(values=values):
                fault = self._fault("smtp_portal", "res.users", "write", [uid], values)
                self.assertEqual(fault.faultCode, 4, fault.faultString)  # AccessError
        fault = self._fault("smtp_portal", "ir.mail_server", "create", {
            "name": "mine", "smtp_host": "127.0.0.1", "smtp_port": 2526})
        self.assertEqual(fault.faultCode, 4)
        fault = self._fault("smtp_portal", "ir.mail_server", "write", [self.company_server.id],
                            {"smtp_host": "evil.example.com"})
        self.assertEqual(fault.faultCode, 4)
        # Its own address stays its own to change: no server appears.
        self._call("smtp_portal", "res.users", "write", [uid], {"email": "pia2@example.com"})
        # The web client's call (JSON-RPC, session) is refused alike.
        self.authenticate("smtp_portal", "smtp_portal")
        with self.assertRaises(JsonRpcException) as caught:
            self.make_jsonrpc_request("/web/dataset/call_kw/res.users/web_save", {
                "model": "res.users", "method": "web_save",
                "args": [[uid], self.smtp_values], "kwargs": {"specification": {}}})
        self.assertIn("AccessError", str(caught.exception.args))
        self.assertFalse(self._personal_servers())
        self.assertEqual(self.company_server.smtp_host, "127.0.0.1")
        # Even an administrator cannot give a portal user their own server.
        with self.assertRaises(AccessError):
            self.portal.write(self.smtp_values)
        self.assertFalse(self._personal_servers())

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_user_without_esign_rights_gets_no_server(self):
        fault = self._fault("smtp_nobody", "res.users", "write", [self.nobody.id], self.smtp_values)
        self.assertEqual(fault.faultCode, 4)
        fault = self._fault("smtp_nobody", "ir.mail_server", "create", {
            "name": "mine", "smtp_host": "127.0.0.1", "smtp_port": 2526})
        self.assertEqual(fault.faultCode, 4)
        self.assertFalse(self._personal_servers())

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_advisor_cannot_send_from_an_address_of_the_company_or_another_user(self):
        uid = self.advisor.id
        partner_id = self.advisor.partner_id.id
        reserved = ("office@company.example.com", "Mailer@Company.example.com", "catchall@company.example.com",
                    "bounce@company.example.com", "notifications@company.example.com", "tess@advisor.example.com",
                    self.env.ref("base.user_admin").email)
        # Email and server in one write.
        for address in reserved:
            with self.subTest(address=address):
                fault = self._fault("smtp_advisor", "res.users", "write", [uid],
                                    dict(self.smtp_values, email=address))
                self.assertEqual(fault.faultCode, 2, fault.faultString)  # UserError
                self.assertIn("one the company or another user sends from", fault.faultString)
        self.assertFalse(self._personal_servers())
        # A server on the advisor's own address, then the address changed afterwards: refused
        # through the user and through the contact (the advisor may edit contacts).
        self._call("smtp_advisor", "res.users", "write", [uid], self.smtp_values)
        [server] = self._personal_servers()
        self.assertEqual((server.from_filter, server.o2s_esign_user_id), ("sid@advisor.example.com", self.advisor))
        for address in reserved:
            with self.subTest(later=address):
                fault = self._fault("smtp_advisor", "res.users", "write", [uid], {"email": address})
                self.assertEqual(fault.faultCode, 2, fault.faultString)
                fault = self._fault("smtp_advisor", "res.partner", "write", [partner_id], {"email": address})
                self.assertEqual(fault.faultCode, 2, fault.faultString)
        self.assertEqual(server.from_filter, "sid@advisor.example.com")
        self.assertEqual(self.advisor.email, "sid@advisor.example.com")
        # The advisor cannot touch the server itself.
        fault = self._fault("smtp_advisor", "ir.mail_server", "write", [server.id], {"from_filter": False})
        self.assertEqual(fault.faultCode, 4)
        # A new address of their own: the filter follows.
        self._call("smtp_advisor", "res.partner", "write", [partner_id], {"email": "Sid.New@advisor.example.com"})
        self.assertEqual(server.from_filter, "sid.new@advisor.example.com")
        self._assert_no_dangerous_server()
        # And the other advisor cannot take the first one's address.
        fault = self._fault("smtp_advisor2", "res.users", "write", [self.advisor2.id],
                            dict(self.smtp_values, email="sid.new@advisor.example.com"))
        self.assertEqual(fault.faultCode, 2)
        self.assertEqual(len(self._personal_servers()), 1)

    def test_admin_password_reset_never_leaves_through_an_advisor_server(self):
        """The reported attack: the advisor's server (set over XML-RPC) is the only outgoing
        server left, the administrator's password is reset; the mail with the link leaves
        through the configured server (here the command-line one), never the advisor's."""
        quiet_smtp_log(self)
        advisor_sink, default_sink = SmtpSink(), SmtpSink()
        for sink in (advisor_sink, default_sink):
            sink.port = free_port()
            self.addCleanup(start_smtp(sink, sink.port).stop)
        self._call("smtp_advisor", "res.users", "write", [self.advisor.id],
                   dict(self.smtp_values, esign_smtp_port=advisor_sink.port))
        self.env["ir.mail_server"].search([("o2s_esign_user_id", "=", False)]).active = False
        admin = self.env.ref("base.user_admin")
        admin.partner_id.email = "admin@company.example.com"
        cli_smtp = {"smtp_server": "127.0.0.1", "smtp_port": default_sink.port, "smtp_ssl": False,
                    "smtp_user": False, "smtp_password": False, "from_filter": False}
        with patch.object(odoo.modules.module, "current_test", False), \
                patch.dict(odoo.tools.config.options, cli_smtp):
            admin.action_reset_password()
        self.assertEqual(len(default_sink.wait(1)), 1)
        self.assertEqual(default_sink.messages[0][1], ["admin@company.example.com"])
        self.assertFalse(advisor_sink.messages, "the reset link reached the advisor's server")
