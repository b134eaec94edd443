# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""SMS one-time codes: hashed storage, lifetime, single use, binding, limits, events."""
import contextlib
import hashlib
import logging
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..lib import otp as lib_otp
from .esign_portal_common import EsignPortalCommon


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines = []

    def emit(self, record):
        try:
            self.lines.append(record.getMessage())
        except Exception:
            self.lines.append(str(record.msg))


@contextlib.contextmanager
def capture_all_logs():
    """Every log record of every logger, down to DEBUG (SQL queries included)."""
    handler = _Capture()
    root = logging.getLogger()
    loggers = [root] + [logging.getLogger(name) for name in
                        ("odoo", "odoo.sql_db", "werkzeug", "urllib3", "requests")]
    levels = [(logger, logger.level) for logger in loggers]
    root.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for logger, level in levels:
            logger.setLevel(level)
        root.removeHandler(handler)


@tagged("post_install", "-at_install")
class TestEsignOtp(EsignPortalCommon):

    def setUp(self):
        super().setUp()
        self.request = self._sent()
        self.signer = self.request.signer_ids

    def _sent(self, **kwargs):
        request = self._sent_request(**kwargs)
        return request.sudo()

    def _verify(self, signer, code):
        return signer._otp_verify(code, ip_address="203.0.113.7", user_agent="test-agent")

    def _code_sent_at(self, moment):
        """Send a code to ``self.signer`` at ``moment``; the code the gateway received."""
        with freeze_time(moment):
            self.signer._otp_send()
        return self._last_code(self.signer)

    # ---------------------------------------------------------------- storage
    def test_code_is_six_digits_and_only_a_keyed_hash_is_stored(self):
        result = self.signer._otp_send(ip_address="203.0.113.7", user_agent="test-agent")
        self.assertTrue(result.get("ok"), result)
        code = self._last_code(self.signer)
        self.assertRegex(code, r"^\d{6}$")
        signer = self.signer.sudo()
        self.assertEqual(len(signer.otp_hash), 64)
        self.assertNotIn(code, signer.otp_hash)
        self.assertNotEqual(signer.otp_hash, hashlib.sha256(code.encode()).hexdigest())
        # the stored hash is the HMAC bound to this signer and this code's nonce
        binding = signer._otp_binding(signer.otp_nonce)
        self.assertTrue(lib_otp.check_code(signer._otp_key(), code, binding, signer.otp_hash))
        self.assertFalse(lib_otp.check_code(b"k" * 32, code, binding, signer.otp_hash))
        # nowhere in the signer's other fields, nor in any event
        for name, field in signer._fields.items():
            if field.type in ("char", "text"):
                self.assertNotIn(code, str(signer[name] or ""), name)
        for event in self._events(self.request):
            self.assertNotIn(code, event.payload or "", event.event_type)
        sent = self._events(self.request, "otp_sent")
        self.assertEqual(len(sent), 1)
        payload = self._payload(sent)
        self.assertEqual(payload["transport"], "webhook")
        self.assertEqual(payload["to"], "+33•••••••78")
        self.assertEqual(sent.ip_address, "203.0.113.7")
        self.assertEqual(sent.user_agent, "test-agent")

    def test_code_is_never_logged(self):
        with capture_all_logs() as logs:
            self.signer._otp_send()
            code = self._last_code(self.signer)
            self._verify(self.signer, "000000" if code != "000000" else "111111")
            self._verify(self.signer, code)
            self.env.flush_all()
        self.assertTrue(any("o2s_esign_signer" in line for line in logs.lines),
                        "the capture saw the SQL queries")
        self.assertFalse([line for line in logs.lines if code in line])

    def test_sms_names_the_sender_and_warns(self):
        self.signer._otp_send()
        body = self._sms_to(self.signer.mobile)[-1].json["body"]
        self.assertIn("Cabinet Patrimoine", body)
        self.assertIn("Never share it", body)
        self.assertEqual(self._sms_to(self.signer.mobile)[-1].json["sender"], "Cabinet")

    def test_sms_template_is_editable_and_needs_the_code(self):
        template = self.env.ref("o2s_esign.sms_template_esign_otp")
        template.body = "Code {{ ctx.get('esign_otp_code') }} - {{ object.request_id.reference }}"
        self.signer._otp_send()
        body = self._sms_to(self.signer.mobile)[-1].json["body"]
        self.assertEqual(body, "Code %s - %s" % (self._last_code(self.signer), self.request.reference))
        # a text without the code would be useless: the default text is sent instead
        template.body = "Please sign"
        with freeze_time(fields.Datetime.now() + timedelta(seconds=61)):
            self.signer._otp_send()
        body = self._sms_to(self.signer.mobile)[-1].json["body"]
        self.assertIn("is your code to sign the documents of Cabinet Patrimoine", body)

    # ------------------------------------------------------------------ verify
    def test_verify_once_then_replay_fails(self):
        self.signer._otp_send()
        code = self._last_code(self.signer)
        result = self._verify(self.signer, " %s %s " % (code[:3], code[3:]))
        self.assertTrue(result.get("ok"), result)
        self.assertTrue(result["secret"])
        self.assertTrue(self.signer.otp_used)
        self.assertEqual(len(self._events(self.request, "otp_verified")), 1)
        replay = self._verify(self.signer, code)
        self.assertFalse(replay.get("ok"))
        self.assertIn("already used", replay["error"])
        failed = self._events(self.request, "otp_failed")
        self.assertEqual(self._payload(failed[-1])["reason"], "used")

    def test_five_wrong_codes_lock_the_code(self):
        self.signer._otp_send()
        code = self._last_code(self.signer)
        wrong = "%06d" % ((int(code) + 1) % 1000000)
        for attempt in range(1, 6):
            result = self._verify(self.signer, wrong)
            self.assertFalse(result.get("ok"))
            self.assertEqual(result["remaining"], 5 - attempt)
        self.assertTrue(result["locked"])
        self.assertIn("locked", result["error"])
        self.assertEqual(self.signer.otp_attempts, 5)
        self.assertEqual(len(self._events(self.request, "otp_failed")), 5)
        self.assertEqual(len(self._events(self.request, "otp_locked")), 1)
        # the right code no longer works, and tries on a locked code still count as failures
        result = self._verify(self.signer, code)
        self.assertFalse(result.get("ok"))
        self.assertTrue(result["locked"])
        self.assertEqual(len(self._events(self.request, "otp_failed")), 6)
        # a new code unlocks
        with freeze_time(fields.Datetime.now() + timedelta(seconds=61)):
            self.signer._otp_send()
            self.assertTrue(self._verify(self.signer, self._last_code(self.signer)).get("ok"))

    def test_malformed_input_counts_as_a_wrong_attempt(self):
        self.signer._otp_send()
        for value in ("abc", "", "1" * 500, None):
            self.assertFalse(self._verify(self.signer, value).get("ok"))
        self.assertEqual(self.signer.otp_attempts, 4)

    def test_code_expires_after_ten_minutes(self):
        start = fields.Datetime.now()
        code = self._code_sent_at(start)
        with freeze_time(start + timedelta(seconds=601)):
            result = self._verify(self.signer, code)
        self.assertFalse(result.get("ok"))
        self.assertIn("expired", result["error"])
        self.assertEqual(len(self._events(self.request, "otp_expired")), 1)

    def test_new_code_voids_the_previous_one(self):
        start = fields.Datetime.now()
        first = self._code_sent_at(start)
        second = self._code_sent_at(start + timedelta(seconds=61))
        with freeze_time(start + timedelta(seconds=61)):
            if first != second:
                self.assertFalse(self._verify(self.signer, first).get("ok"))
            self.assertTrue(self._verify(self.signer, second).get("ok"))
        sent = self._events(self.request, "otp_sent")
        self.assertEqual([self._payload(e)["replaces_previous_code"] for e in sent], [False, True])

    def test_code_of_signer_a_fails_for_signer_b(self):
        request = self._sent(signers=[{"partner_id": self.client.id}, {"partner_id": self.client2.id}])
        signer_a, signer_b = request.signer_ids
        signer_a._otp_send()
        signer_b._otp_send()
        code_a, code_b = self._last_code(signer_a), self._last_code(signer_b)
        if code_a != code_b:
            self.assertFalse(self._verify(signer_b, code_a).get("ok"))
            self.assertEqual(signer_b.otp_attempts, 1)
        # even the same digits: A's stored hash does not match under B's binding
        self.assertFalse(lib_otp.check_code(
            signer_b._otp_key(), code_a, signer_b._otp_binding(signer_b.sudo().otp_nonce),
            signer_a.sudo().otp_hash))
        self.assertTrue(self._verify(signer_a, code_a).get("ok"))
        self.assertTrue(self._verify(signer_b, code_b).get("ok"))

    # ------------------------------------------------------------------ limits
    def test_resend_cooldown(self):
        start = fields.Datetime.now()
        with freeze_time(start):
            self.assertTrue(self.signer._otp_send().get("ok"))
        with freeze_time(start + timedelta(seconds=30)):
            result = self.signer._otp_send()
        self.assertFalse(result.get("ok"))
        self.assertEqual(result["retry_after"], 30)
        self.assertIn("30 seconds", result["error"])
        self.assertEqual(len(self._sms_to(self.signer.mobile)), 1)
        refused = self._events(self.request, "otp_send_refused")
        self.assertEqual(self._payload(refused)["reason"], "cooldown")
        with freeze_time(start + timedelta(seconds=60)):
            self.assertTrue(self.signer._otp_send().get("ok"))
        self.assertEqual(len(self._sms_to(self.signer.mobile)), 2)

    def test_five_sends_an_hour(self):
        start = fields.Datetime.now()
        for index in range(5):
            with freeze_time(start + timedelta(seconds=61 * index)):
                self.assertTrue(self.signer._otp_send().get("ok"), index)
        with freeze_time(start + timedelta(seconds=61 * 5)):
            result = self.signer._otp_send()
        self.assertFalse(result.get("ok"))
        self.assertEqual(self._payload(self._events(self.request, "otp_send_refused"))["reason"],
                         "hourly_limit")
        self.assertEqual(len(self._sms_to(self.signer.mobile)), 5)
        with freeze_time(start + timedelta(seconds=3601)):
            self.assertTrue(self.signer._otp_send().get("ok"))

    # ----------------------------------------------------------------- session
    def test_verified_session_secret(self):
        start = fields.Datetime.now()
        with freeze_time(start):
            self.signer._otp_send()
            secret = self._verify(self.signer, self._last_code(self.signer))["secret"]
            self.assertTrue(self.signer._otp_check_session(secret))
            self.assertFalse(self.signer._otp_check_session(secret[:-1] + "x"))
            self.assertFalse(self.signer._otp_check_session(None))
            self.assertNotIn(secret, self.signer.sudo().otp_verified_hash)
        with freeze_time(start + timedelta(minutes=31)):
            self.assertFalse(self.signer._otp_check_session(secret))
        with freeze_time(start + timedelta(minutes=2)):
            self.signer._otp_send()  # a new code ends the verified session
            self.assertFalse(self.signer._otp_check_session(secret))

    def test_codes_cannot_be_read_or_written_through_the_orm(self):
        self.signer._otp_send()
        signer = self.signer.with_user(self.advisor).sudo(False)
        with self.assertRaises(AccessError):
            signer.read(["otp_hash"])
        with self.assertRaises(AccessError):
            signer.read(["access_nonce"])
        with self.assertRaises(UserError):
            signer.write({"otp_attempts": 0})
        with self.assertRaises(UserError):
            self.signer.write({"otp_hash": "0" * 64})
        with self.assertRaises(UserError):
            self.signer.write({"access_nonce": "known"})
