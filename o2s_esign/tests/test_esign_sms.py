# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""SMS transports of the settings (IAP, Twilio, webhook, outbox) and their failures."""
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from odoo.addons.sms.tests.common import MockSMS

from .esign_portal_common import EsignPortalCommon, SmsGateway


@tagged("post_install", "-at_install")
class TestEsignSms(EsignPortalCommon, MockSMS):

    def setUp(self):
        super().setUp()
        self._keep_sent_request()
        self.sent_hooks = []
        Consumption = type(self.env["o2s.esign.consumption"])
        origin = Consumption._record_sms

        def record_sms(consumption, signer, transport, provider_id=None):
            self.sent_hooks.append((signer.id, transport, provider_id))
            return origin(consumption, signer, transport, provider_id)

        patcher = patch.object(Consumption, "_record_sms", record_sms)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _configure(self, **values):
        self.company.sudo().write(values)

    def _send(self, signer=None):
        return (signer or self.signer)._otp_send(ip_address="198.51.100.4", user_agent="ua")

    # --------------------------------------------------------------- transports
    def test_outbox_sends_nothing_and_succeeds(self):
        self._configure(esign_sms_transport="outbox")
        result = self._send()
        self.assertTrue(result.get("ok"), result)
        self.assertFalse(self.gateway.messages)
        event = self._events(self.request, "otp_sent")
        self.assertEqual(self._payload(event)["transport"], "outbox")
        self.assertTrue(self._payload(event)["provider_id"].startswith("outbox-"))
        self.assertEqual(self.sent_hooks, [(self.signer.id, "outbox", self._payload(event)["provider_id"])])
        self.assertTrue(self.signer.sudo().otp_hash)

    def test_twilio_with_its_base_url_basic_auth_and_sender(self):
        with SmsGateway(account_sid="AC123", auth_token="twilio-secret") as twilio:
            self._configure(esign_sms_transport="twilio", esign_twilio_base_url=twilio.url + "/",
                            esign_twilio_account_sid="AC123", esign_twilio_auth_token="twilio-secret",
                            esign_twilio_from="+33700000000")
            result = self._send()
            self.assertTrue(result.get("ok"), result)
            self.assertEqual(len(twilio.messages), 1)
            received = twilio.messages[0]
        self.assertEqual(received.path, "/2010-04-01/Accounts/AC123/Messages.json")
        self.assertEqual(received.basic_auth, ("AC123", "twilio-secret"))
        self.assertEqual(received.form["To"], "+33612345678")
        self.assertEqual(received.form["From"], "+33700000000")
        self.assertRegex(received.form["Body"], r"^\d{6} is your code to sign")
        provider_id = self._payload(self._events(self.request, "otp_sent"))["provider_id"]
        self.assertTrue(provider_id.startswith("SM"))
        self.assertEqual(self.sent_hooks, [(self.signer.id, "twilio", provider_id)])

    def test_twilio_wrong_credentials_is_a_lasting_error(self):
        with SmsGateway(account_sid="AC123", auth_token="right") as twilio:
            self._configure(esign_sms_transport="twilio", esign_twilio_base_url=twilio.url,
                            esign_twilio_account_sid="AC123", esign_twilio_auth_token="wrong",
                            esign_twilio_from="+33700000000")
            result = self._send()
        self.assertIn("could not be sent", result["error"])
        self.assertEqual(self.request.state, "error")
        self.assertFalse(self.request.error_transient)
        # The advisor and the trail get one answer for every network outcome (which ports and
        # addresses answer is nobody's business); the server log has the HTTP status.
        self.assertIn("the SMS service could not be reached", self.request.error_message)
        self.assertNotIn("401", self.request.error_message)
        self.assertEqual(self._payload(self._events(self.request, "sms_failed"))["error"], "unreachable")
        self.assertFalse(self.sent_hooks)

    def test_webhook_with_bearer_token(self):
        result = self._send()
        self.assertTrue(result.get("ok"), result)
        received = self.gateway.messages[-1]
        self.assertEqual(received.bearer, "webhook-secret")
        self.assertEqual(received.json["to"], "+33612345678")
        self.assertEqual(received.json["sender"], "Cabinet")
        self.assertEqual(self.sent_hooks[0][1], "webhook")

    def test_iap_through_odoo_sms_without_keeping_the_text(self):
        self._configure(esign_sms_transport="iap")
        with self.mockSMSGateway():
            result = self._send()
        self.assertTrue(result.get("ok"), result)
        self.assertEqual(len(self._sms), 1)
        self.assertEqual(self._sms[0]["number"], "+33612345678")
        code = self._sms[0]["body"][:6]
        self.assertTrue(code.isdigit())
        self.assertFalse(self._new_sms, "no sms.sms row holds the code")
        self.assertFalse(self.env["sms.sms"].sudo().search([("body", "ilike", code)]))
        self.assertEqual(self.sent_hooks, [(self.signer.id, "iap", self._sms[0]["uuid"])])
        self.assertTrue(self.signer._otp_verify(code).get("ok"))

    def test_iap_failures(self):
        self._configure(esign_sms_transport="iap")
        with self.mockSMSGateway(sim_error="credit"):
            result = self._send()
        self.assertIn("will contact you", result["error"])
        self.assertEqual(self.request.state, "error")
        self.assertFalse(self.request.error_transient)
        self.assertIn("no credit left", self.request.error_message)
        self.request.with_user(self.advisor).action_retry()
        with self.mockSMSGateway(sim_error="jsonrpc_exception"):
            result = self._send()
        self.assertIn("try again later", result["error"])
        self.assertTrue(self.request.error_transient)
        self.assertIn("could not be reached", self.request.error_message)

    # ------------------------------------------------------------ gateway down
    def test_gateway_down_then_retry(self):
        """A transport failure never loses the request: clear message, error, retry works."""
        self.gateway.fail_with(503)
        result = self._send()
        self.assertFalse(result.get("ok"))
        self.assertIn("SMS service is unavailable", result["error"])
        self.assertEqual(self.request.state, "error")
        self.assertTrue(self.request.error_transient)
        self.assertIn("Jeanne Martin", self.request.error_message)
        self.assertIn("the SMS service could not be reached", self.request.error_message)
        self.assertFalse(self.signer.sudo().otp_hash, "no code stored for an SMS that did not leave")
        failed = self._events(self.request, "sms_failed")
        self.assertEqual(self._payload(failed)["transient"], True)
        self.assertEqual(self._events(self.request, "error").signer_id, self.signer)
        self.assertEqual(self.signer._get_signing_validity(), "error")
        self.assertFalse(self.sent_hooks)
        # the advisor retries once the gateway is back; the signer asks again and gets a code
        self.gateway.fail_with(None)
        self.request.with_user(self.advisor).action_retry()
        self.assertEqual(self.request.state, "in_progress")
        self.assertEqual(self.signer._get_signing_validity(), "ok")
        result = self._send()
        self.assertTrue(result.get("ok"), result)
        self.assertTrue(self.signer._otp_verify(self._last_code(self.signer)).get("ok"))

    def test_gateway_unreachable(self):
        with SmsGateway() as gone:
            url = gone.url
        self._configure(esign_webhook_url=url + "/sms")
        result = self._send()
        self.assertIn("unavailable", result["error"])
        self.assertIn("the SMS service could not be reached", self.request.error_message)
        self.assertTrue(self.request.error_transient)

    def test_failed_sends_do_not_use_up_the_limits(self):
        start = fields.Datetime.now()
        self.gateway.fail_with(500)
        with freeze_time(start):
            self.assertFalse(self._send().get("ok"))
        self.gateway.fail_with(None)
        self.request.with_user(self.advisor).action_retry()
        with freeze_time(start + timedelta(seconds=5)):
            self.assertTrue(self._send().get("ok"))

    def test_incomplete_settings(self):
        self._configure(esign_sms_transport="twilio", esign_twilio_account_sid=False,
                        esign_twilio_auth_token=False, esign_twilio_from=False,
                        esign_sms_sender=False)
        result = self._send()
        self.assertIn("will contact you", result["error"])
        self.assertIn("SMS settings are incomplete", self.request.error_message)
        self.assertIn("account_sid", self.request.error_message)

    def test_settings_are_read_for_any_visitor(self):
        public = self.env.ref("base.public_user")
        config = self.company.with_user(public)._esign_sms_config()
        self.assertEqual(config["transport"], "webhook")
        self.assertEqual(config["webhook"]["token"], "webhook-secret")
        self.assertEqual(config["twilio"]["base_url"], "https://api.twilio.com")
