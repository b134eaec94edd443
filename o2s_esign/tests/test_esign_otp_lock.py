# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""SMS codes over the life of a request: 10 wrong codes lock the signer (whatever the number of
codes sent), only the advisor or an E-signature administrator unlocks, both logged."""
import json
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib import otp as lib_otp
from .common import XmlRpcMixin
from .esign_portal_common import EsignHttpCommon


def wrong(code):
    return "%06d" % ((int(code) + 1) % 1000000)


@tagged("post_install", "-at_install")
class TestEsignOtpLock(XmlRpcMixin, EsignHttpCommon):

    def setUp(self):
        super().setUp()
        self._keep_sent_request()
        (self.advisor | self.advisor2 | self.esign_manager | self.plain_user).lang = "en_US"

    # ------------------------------------------------------------------ helpers
    def _send_code(self, csrf, token):
        return self._call(self.signer, "send_code", token=token, csrf_token=csrf)

    def _type(self, csrf, token, code):
        return self._call(self.signer, "verify_code", token=token, csrf_token=csrf, code=code)

    def _lock(self, start):
        """Ten wrong codes over two sends, over HTTP as the visitor of the link would type
        them. Returns (csrf, token, the right code of the second send)."""
        csrf, token = self._open(self.signer)
        with freeze_time(start):
            self.assertTrue(self._send_code(csrf, token).get("ok"))
            first = self._last_code(self.signer)
            for attempt in range(1, 6):
                result = self._type(csrf, token, wrong(first))
                self.assertFalse(result.get("ok"))
                self.assertEqual(result["remaining"], 5 - attempt)
            self.assertTrue(result["locked"], "the first code is locked after 5 wrong entries")
            self.assertIn("This code is now locked", result["error"])
            # tries on a locked code are refused without counting as new wrong codes
            self.assertFalse(self._type(csrf, token, first).get("ok"))
        with freeze_time(start + timedelta(seconds=61)):
            self.assertTrue(self._send_code(csrf, token).get("ok"))
            second = self._last_code(self.signer)
            for _attempt in range(4):
                result = self._type(csrf, token, wrong(second))
                self.assertFalse(result.get("locked"), result)
            self.assertFalse(self.signer.otp_locked_date)
            result = self._type(csrf, token, wrong(second))
        self.assertTrue(result["locked"])
        self.assertIn("Too many wrong codes", result["error"])
        return csrf, token, second

    # -------------------------------------------------------------------- tests
    def test_ten_wrong_codes_over_two_sends_lock_the_signer(self):
        start = fields.Datetime.now()
        csrf, token, right_code = self._lock(start)
        self.assertEqual(lib_otp.OtpPolicy().max_wrong_codes, 10)
        self.assertEqual(self.signer.otp_wrong_count, 10)
        self.assertTrue(self.signer.otp_locked_date)
        locked = self._events(self.request, "signer_locked", self.signer)
        self.assertEqual(len(locked), 1)
        self.assertEqual(self._payload(locked), {"wrong_codes": 10, "max_wrong_codes": 10})
        self.assertEqual(locked.ip_address, "127.0.0.1")
        # the right code of the second send fails
        with freeze_time(start + timedelta(seconds=70)):
            result = self._type(csrf, token, right_code)
        self.assertFalse(result.get("ok"))
        self.assertTrue(result["locked"])
        self.assertEqual(self._payload(self._events(self.request, "otp_failed")[-1]),
                         {"reason": "signer_locked"})
        # a third send is refused: no SMS leaves, even an hour later
        sms_count = len(self._sms_to(self.signer.mobile))
        for later in (timedelta(seconds=122), timedelta(hours=2)):
            with freeze_time(start + later):
                result = self._send_code(csrf, token)
            self.assertFalse(result.get("ok"))
            self.assertTrue(result["locked"])
            self.assertIn("Your advisor has been told", result["error"])
        self.assertEqual(len(self._sms_to(self.signer.mobile)), sms_count)
        refused = self._events(self.request, "otp_send_refused")
        self.assertEqual([self._payload(e)["reason"] for e in refused], ["signer_locked"] * 2)
        # the page says so and offers no code form
        page = self._fetch(self._path(self.signer)).text
        self.assertIn("Too many wrong codes were typed for this request", page)
        self.assertIn('data-code-live="0"', page)
        # the advisor got a mail, from the editable template, naming the signer
        log = self.env["o2s.esign.mail.log"].sudo().search([
            ("request_id", "=", self.request.id), ("kind", "=", "signer_locked")])
        self.assertEqual(len(log), 1)
        mail = log.mail_id.sudo()
        self.assertEqual(mail.recipient_ids, self.advisor.partner_id)
        self.assertIn(self.signer.name, mail.body_html)
        self.assertIn(self.request.reference, mail.subject)
        self.assertIn("Signer locked", mail.subject)

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_only_the_advisor_or_an_administrator_unlocks(self):
        start = fields.Datetime.now()
        csrf, token, _right = self._lock(start)
        # Bob, another advisor, cannot even see the signer
        fault = self._rpc_fault("esign_advisor2", "o2s.esign.signer", "action_esign_unlock_codes",
                                self.signer.ids)
        self.assertIn("AccessError", fault)
        # nor once the request is shared with him: he may follow it, not unlock
        self.request.with_user(self.advisor).write({"shared_user_ids": [(4, self.advisor2.id)]})
        fault = self._rpc_fault("esign_advisor2", "o2s.esign.signer", "action_esign_unlock_codes",
                                self.signer.ids)
        self.assertIn("Only the advisor of the signature request", fault)
        fault = self._rpc_fault("esign_nobody", "o2s.esign.signer", "action_esign_unlock_codes",
                                self.signer.ids)
        self.assertIn("AccessError", fault)
        # nor through the fields
        fault = self._rpc_fault("esign_advisor", "o2s.esign.signer", "write", self.signer.ids,
                                {"otp_locked_date": False, "otp_wrong_count": 0})
        self.assertIn("UserError: The signers of a request cannot be changed", fault)
        self.assertTrue(self.signer.otp_locked_date)
        self.assertFalse(self._events(self.request, "signer_unlocked"))
        # the advisor unlocks: logged, and a new code works
        self._rpc("esign_advisor", "o2s.esign.signer", "action_esign_unlock_codes", self.signer.ids)
        self.assertFalse(self.signer.otp_locked_date)
        self.assertEqual(self.signer.otp_wrong_count, 0)
        unlocked = self._events(self.request, "signer_unlocked", self.signer)
        self.assertEqual(len(unlocked), 1)
        payload = self._payload(unlocked)
        self.assertEqual((payload["user_id"], payload["wrong_codes"]), (self.advisor.id, 10))
        with freeze_time(start + timedelta(seconds=130)):
            self.assertTrue(self._send_code(csrf, token).get("ok"))
            result = self._type(csrf, token, self._last_code(self.signer))
        self.assertTrue(result.get("ok"), result)
        # not locked any more: a second unlock is refused
        fault = self._rpc_fault("esign_advisor", "o2s.esign.signer", "action_esign_unlock_codes",
                                self.signer.ids)
        self.assertIn("is not locked", fault)

    def test_an_administrator_unlocks_too(self):
        self._lock(fields.Datetime.now())
        self._rpc("esign_manager", "o2s.esign.signer", "action_esign_unlock_codes", self.signer.ids)
        self.assertFalse(self.signer.otp_locked_date)
        payload = json.loads(self._events(self.request, "signer_unlocked").payload)
        self.assertEqual(payload["user_id"], self.esign_manager.id)
