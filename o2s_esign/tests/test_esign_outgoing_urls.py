# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The URLs the server calls on the settings' behalf (SMS webhook, Twilio, timestamp authority):
https to public addresses only, checked when the settings are saved and again before each call
(server-side request forgery), failures that do not tell which ports answer, and every change of
the SMS transport or of a URL recorded in the open requests' audit trails. Over the real paths:
the settings form's web client calls as the options group, the signing page as a signer."""
import json
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from ..lib import netguard
from .common import esign_user
from .common_signing import PYHANKO_LOGGERS, O2sEsignSigningCommon
from .esign_portal_common import EsignHttpCommon, SmsGateway

ALLOW = "o2s_esign.allow_http_localhost"


def resolving(table):
    """A stand-in for the system's resolver: host name -> addresses (else not found)."""
    def resolve(host, port):
        if host not in table:
            raise OSError("name not found")
        return list(table[host])
    return patch.object(netguard, "_resolve", resolve)


class OutgoingUrlsMixin:

    def _allow_localhost(self, allowed):
        self.env["ir.config_parameter"].sudo().set_param(ALLOW, "True" if allowed else "False")

    def _ask_code(self, signer):
        csrf, token = self._open(signer)
        return self._call(signer, "send_code", token=token, csrf_token=csrf)


@tagged("post_install", "-at_install")
class TestEsignSettingsUrls(OutgoingUrlsMixin, EsignHttpCommon):
    """Saving the settings from the web client as the options group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.options_user = esign_user(cls.env, "url_options", "internal,user,options", name="Otto Options",
                                      email="otto@advisor.example.com")

    def _rpc(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request("/web/dataset/call_kw/%s/%s" % (model, method), {
            "model": model, "method": method, "args": args, "kwargs": kwargs or {}})

    def _save(self, **values):
        """The settings form saved as the options user (web_save, then the Save button)."""
        created = self._rpc("o2s.esign.settings", "web_save", [[], values],
                            {"specification": {name: {} for name in values}})
        return self._rpc("o2s.esign.settings", "action_save", [[created[0]["id"]]])

    def _refused(self, **values):
        """The error message the web client shows when saving ``values``."""
        created = self._rpc("o2s.esign.settings", "web_save", [[], values],
                            {"specification": {name: {} for name in values}})
        self.env.flush_all()
        with mute_logger("odoo.http"):
            response = self.url_open("/web/dataset/call_kw/o2s.esign.settings/action_save", data=json.dumps({
                "jsonrpc": "2.0", "method": "call", "id": 1, "params": {
                    "model": "o2s.esign.settings", "method": "action_save",
                    "args": [[created[0]["id"]]], "kwargs": {}}}),
                headers={"Content-Type": "application/json"})
        error = response.json().get("error")
        self.assertTrue(error, "saved: %s" % values)
        return error["data"]["message"]

    def test_urls_must_be_public_https(self):
        self.authenticate("url_options", "url_options")
        self._allow_localhost(False)
        before = self.company.sudo().esign_webhook_url
        table = {"sms.example.com": ["93.184.216.34"], "intranet.example.com": ["93.184.216.35", "10.1.2.3"],
                 "metadata.example.com": ["169.254.169.254"], "v6.example.com": ["fd00::1"]}
        refused = {
            "http://sms.example.com/send": "must be an https:// address",
            "ftp://sms.example.com/send": "must be an https:// address",
            "https://10.0.0.5/send": "private, loopback, link-local or reserved",
            "https://127.0.0.1:8069/web/login": "private, loopback, link-local or reserved",
            "https://[::1]/": "private, loopback, link-local or reserved",
            "https://localhost/sms": "private, loopback, link-local or reserved",
            "https://169.254.169.254/latest/meta-data": "private, loopback, link-local or reserved",
            "https://intranet.example.com/sms": "private, loopback, link-local or reserved",
            "https://metadata.example.com/": "private, loopback, link-local or reserved",
            "https://v6.example.com/": "private, loopback, link-local or reserved",
            "https://user:secret@sms.example.com/": "not a valid address",
            "http://127.0.0.1:%s/sms" % self.gateway.port: "must be an https:// address",
        }
        with resolving(table):
            for url, message in refused.items():
                for field in ("esign_webhook_url", "esign_tsa_url", "esign_twilio_base_url"):
                    with self.subTest(url=url, field=field):
                        self.assertIn(message, self._refused(**{field: url}))
            self.assertEqual(self.company.sudo().esign_webhook_url, before, "nothing saved")
            self._save(esign_webhook_url="https://sms.example.com/send", esign_sms_transport="webhook")
        self.assertEqual(self.company.sudo().esign_webhook_url, "https://sms.example.com/send")
        # http to the loopback only while the system parameter allows it (tests, local demo).
        self._allow_localhost(True)
        self._save(esign_webhook_url="http://127.0.0.1:%s/sms" % self.gateway.port)
        self.assertIn("must be an https:// address", self._refused(esign_webhook_url="http://sms.example.com/send"))
        self.assertIn("private", self._refused(esign_webhook_url="https://192.168.1.10/sms"))

    def test_an_administrator_writing_the_company_gets_the_same_rules(self):
        self._allow_localhost(False)
        self.authenticate("admin", "admin")
        for url in ("http://sms.example.com/", "https://10.0.0.5/", "https://[fe80::1]/"):
            with self.subTest(url=url), mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
                self._rpc("res.company", "write", [[self.company.id], {"esign_webhook_url": url}])
        self.assertEqual(self.company.sudo().esign_webhook_url, "http://127.0.0.1:%s/sms" % self.gateway.port)

    def test_changes_of_the_transport_and_urls_are_events_of_the_open_requests(self):
        open_request = self._sent_request().sudo()
        draft = self._draft_request().sudo()
        head_before = len(self._events(open_request))
        self.authenticate("url_options", "url_options")
        old_url = self.company.sudo().esign_webhook_url
        with resolving({"sms.example.com": ["93.184.216.34"]}):
            self._save(esign_sms_transport="twilio", esign_twilio_base_url="https://sms.example.com",
                       esign_twilio_account_sid="AC1", esign_twilio_from="+33700000000",
                       esign_twilio_auth_token="tw-secret-token",
                       esign_webhook_url="https://sms.example.com/hook?token=hook-secret-token")
        [event] = self._events(open_request, "settings_changed")
        payload = self._payload(event)
        self.assertEqual((payload["user_id"], payload["user"]), (self.options_user.id, "Otto Options"))
        changes = {change["setting"]: (change["old"], change["new"]) for change in payload["changes"]}
        self.assertEqual(changes["esign_sms_transport"], ("webhook", "twilio"))
        self.assertEqual(changes["esign_twilio_base_url"], ("https://api.twilio.com", "https://sms.example.com"))
        old, new = changes["esign_webhook_url"]
        self.assertEqual(old, old_url)
        self.assertTrue(new.startswith("https://sms.example.com/hook [sha256:"), new)
        self.assertNotIn("esign_tsa_url", changes, "unchanged settings are not listed")
        self.assertTrue(event.date)
        for secret in ("tw-secret-token", "hook-secret-token", "webhook-secret"):
            self.assertNotIn(secret, event.payload)
        self.assertEqual(len(self._events(open_request)), head_before + 1)
        self.assertTrue(open_request.verify_event_chain()[open_request.id]["ok"])
        # Saving again without a change adds nothing.
        with resolving({"sms.example.com": ["93.184.216.34"]}):
            self._save(esign_reminder_max=4)
        self.assertEqual(len(self._events(open_request, "settings_changed")), 1)
        self.assertFalse(self._events(draft, "settings_changed"), "only open requests")


@tagged("post_install", "-at_install")
class TestEsignSmsUrlAtSendTime(OutgoingUrlsMixin, EsignHttpCommon):
    """A signer asks for a code on the signing page: the gateway is called only at an allowed
    address, and the failures all look alike."""

    def setUp(self):
        super().setUp()
        self._keep_sent_request()

    def _failure(self):
        result = self._ask_code(self.signer)
        self.assertFalse(result.get("ok"), result)
        failed = self._events(self.request, "sms_failed")[-1:]
        return result["error"], self.request.error_message, self._payload(failed)["error"]

    def test_internal_gateway_gets_nothing_and_nothing_counts_as_sent(self):
        self._allow_localhost(False)
        error, message, code = self._failure()
        self.assertFalse(self.gateway.messages, "the internal address was called")
        self.assertFalse(self._events(self.request, "otp_sent"), "an internal answer counted as sent")
        self.assertFalse(self.signer.sudo().otp_hash)
        self.assertEqual(self.request.state, "error")
        self.assertIn("the SMS service could not be reached", message)
        self.assertEqual(code, "unreachable")
        # Allowed again (the tests' setting): the same gateway gets the SMS.
        self._allow_localhost(True)
        self.request.with_user(self.advisor).action_retry()
        self.assertTrue(self._ask_code(self.signer).get("ok"))
        self.assertEqual(len(self.gateway.messages), 1)

    def test_host_resolving_elsewhere_at_send_time_is_refused(self):
        """Saved while its name resolved to a public address; now it resolves to the loopback
        (DNS rebinding): checked again before the call."""
        self._allow_localhost(False)
        url = "https://sms.example.com:%s/sms" % self.gateway.port
        with resolving({"sms.example.com": ["93.184.216.34"]}):
            self.assertIsNone(self.company._esign_url_problem(url))
        self.company.sudo().esign_webhook_url = url
        with resolving({"sms.example.com": ["127.0.0.1"]}):
            _error, message, code = self._failure()
        self.assertFalse(self.gateway.messages)
        self.assertEqual(code, "unreachable")
        self.assertIn("the SMS service could not be reached", message)

    def test_failures_do_not_tell_which_ports_answer(self):
        """A closed port, a port that answers HTTP 503, a refused address: one answer."""
        with SmsGateway() as gone:
            closed_url = gone.url + "/sms"
        outcomes = []
        for setup in ("closed", "http_error", "refused"):
            with self.subTest(setup=setup):
                if self.request.state == "error":
                    self.request.with_user(self.advisor).action_retry()
                self.gateway.fail_with(503 if setup == "http_error" else None)
                self.company.sudo().esign_webhook_url = closed_url if setup == "closed" else self.gateway.url + "/sms"
                self._allow_localhost(setup != "refused")
                with patch.object(type(self.signer), "_otp_send_history", lambda signer, now: []):
                    error, message, code = self._failure()
                outcomes.append((error, message, code, self.request.error_transient))
        self.assertEqual(len(set(outcomes)), 1, outcomes)


@tagged("post_install", "-at_install")
class TestEsignTsaUrlAtSendTime(OutgoingUrlsMixin, EsignHttpCommon, O2sEsignSigningCommon):
    """The timestamp authority's URL is checked before each signature."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_t")

    def test_refused_tsa_is_not_called_and_nothing_is_signed(self):
        request = self._sent_request().sudo()
        signer = request.signer_ids
        csrf, token = self._verify(signer)
        self._allow_localhost(False)
        calls = len(self.pki.requests)
        with mute_logger(*PYHANKO_LOGGERS):
            result = self._call(signer, "sign", token=token, csrf_token=csrf, **self._sign_values(signer))
        self.assertEqual(result["state"], "sign_pending", result)
        self.assertEqual(len(self.pki.requests), calls, "the timestamp authority was called")
        self.assertEqual(signer.state, "pending")
        self.assertEqual(request.state, "error")
        self.assertIn("the timestamp authority cannot be reached", request.error_message)
        # Allowed again: the retry signs.
        self._allow_localhost(True)
        request.with_user(self.advisor).action_retry()
        self.assertEqual(signer.state, "signed")
        self.assertTrue(any("tsa" in path for path in self.pki.requests[calls:]))
