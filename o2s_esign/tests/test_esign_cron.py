# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Scheduled actions: reminders, expiry and retries, with time moved forward."""
import json
import logging
import time
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .automation_common import DAY0, O2sEsignAutomationCommon

_logger = logging.getLogger(__name__)
AUTOMATION_LOGGER = "odoo.addons.o2s_esign.models.o2s_esign_request"

START = datetime(2026, 3, 2, 10, 0, 0)


def at(days, hour=8):
    """Day ``days`` after the sending day, at ``hour`` (UTC), as freezegun text."""
    return (START.replace(hour=hour) + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


@tagged("post_install", "-at_install")
class TestEsignReminders(O2sEsignAutomationCommon):

    def _reminder_days(self, request, last_day, hours=(8, 20)):
        """Run the reminder cron at each of ``hours`` of days 0..last_day; the days on which
        ``request`` got reminders, with their count."""
        days = {}
        for day in range(last_day + 1):
            for hour in hours:
                before = len(self._logs("reminder", request))
                self._remind(at(day, hour))
                sent = len(self._logs("reminder", request)) - before
                if sent:
                    days[day] = days.get(day, 0) + sent
        return days

    def test_reminders_on_day_n_then_every_m_and_stop_at_k(self):
        request = self._send_on()
        signer = request.signer_ids
        self.assertEqual((request.reminder_first_days, request.reminder_interval_days, request.reminder_max),
                         (2, 3, 3), "the request takes the company's settings")
        self.assertEqual(signer.next_reminder_date, fields.Date.to_date("2026-03-04"))
        self.assertEqual(self._reminder_days(request, 20), {2: 1, 5: 1, 8: 1},
                         "day N, then every M days, K times, once a day even if the cron runs twice")
        self.assertEqual(signer.reminder_count, 3)
        self.assertFalse(signer.next_reminder_date, "no reminder after the K-th")
        events = request.event_ids.filtered(lambda e: e.event_type == "reminder_sent")
        self.assertEqual([json.loads(e.payload)["count"] for e in events], [1, 2, 3])
        self.assertEqual(events.signer_id, signer)
        mails = self._logs("reminder", request)
        self.assertEqual(set(mails.mapped("email_to")), {"jeanne@example.com"})
        self.assertEqual(set(mails.mapped("email_from")), {self.advisor.email_formatted})

    def test_per_request_override(self):
        request = self._send_on(reminder_first_days=1, reminder_interval_days=1, reminder_max=2)
        other = self._send_on(partner=self.client2, reminder_max=0)
        self.assertEqual(self._reminder_days(request, 6, hours=(8,)), {1: 1, 2: 1})
        self.assertFalse(self._logs("reminder", other), "reminder_max = 0: never reminded")
        self.assertFalse(other.signer_ids.next_reminder_date)

    def test_reminder_settings_are_checked(self):
        with self.assertRaises(ValidationError):
            self._draft_request(reminder_max=-1)
        with self.assertRaises(ValidationError):
            self._draft_request(reminder_max=2, reminder_interval_days=0)
        request = self._send_on()
        with self.assertRaises(UserError):
            request.signer_ids.with_user(self.advisor).write({"reminder_count": 5})
        with self.assertRaises(UserError):
            request.with_user(self.advisor).write({"retry_count": 0})

    def test_changed_settings_move_the_next_reminder(self):
        request = self._send_on()
        request.with_user(self.advisor).write({"reminder_first_days": 6})
        self.assertEqual(request.signer_ids.next_reminder_date, fields.Date.to_date("2026-03-08"))
        self.assertEqual(self._reminder_days(request, 7, hours=(8,)), {6: 1})

    def test_signer_who_got_a_code_or_closed_the_page_is_reminded(self):
        request = self._send_on()
        signer = request.signer_ids
        with patch("odoo.fields.Datetime.now", return_value=START + timedelta(hours=1)):
            request._log_event("link_opened", signer=signer, ip_address="203.0.113.5")
            request._log_event("page_viewed", signer=signer, ip_address="203.0.113.5")
            request._log_event("otp_sent", signer=signer, payload={"transport": "outbox"})
        self.assertEqual(signer.state, "pending")
        self._remind(at(2))
        self.assertEqual(len(self._logs("reminder", request)), 1)

    def test_no_reminder_once_signed_refused_cancelled_or_expired(self):
        clients = [self._make_client("Client %d" % i, "c%d@example.com" % i, "+3361234560%d" % i,
                                     salesperson=self.advisor) for i in range(4)]
        signed, refused, cancelled, expired = [self._send_on(partner=c) for c in clients]
        with patch("odoo.fields.Datetime.now", return_value=START + timedelta(days=1)):
            self._sign(signed.signer_ids)
            self._refuse(refused.signer_ids)
            cancelled.with_user(self.advisor).action_cancel(reason="Wrong amount")
        expired.with_user(self.advisor).write({"date_deadline": fields.Date.to_date("2026-03-03")})
        self._expire(at(4, 1))
        self.assertEqual([r.state for r in (signed, refused, cancelled, expired)],
                         ["signed", "refused", "cancelled", "expired"])
        self._reminder_days(signed | refused | cancelled | expired, 12)
        self.assertFalse(self._logs("reminder", signed | refused | cancelled | expired))
        self.assertFalse((signed | refused | cancelled | expired).signer_ids.filtered("next_reminder_date"))

    def test_deadline_passed_before_the_expiry_ran(self):
        """A request past its deadline is not reminded, even before the expiry cron runs."""
        request = self._send_on()
        request.with_user(self.advisor).write({"date_deadline": fields.Date.to_date("2026-03-03")})
        self._remind(at(2))
        self.assertFalse(self._logs("reminder", request))
        self.assertEqual(request.state, "in_progress")

    def test_only_the_signers_left_are_reminded(self):
        request = self._send_on(signers=[
            {"partner_id": self.client.id, "sequence": 1}, {"partner_id": self.client2.id, "sequence": 2}])
        first, second = request.signer_ids
        with patch("odoo.fields.Datetime.now", return_value=START + timedelta(days=1)):
            self._sign(first)
        self._remind(at(2))
        self.assertEqual(self._logs("reminder", request).signer_id, second)

    def test_sequential_signer_counts_from_their_own_invitation(self):
        request = self._send_on(signing_order="sequential", signers=[
            {"partner_id": self.client.id, "sequence": 1}, {"partner_id": self.client2.id, "sequence": 2}])
        first, second = request.signer_ids
        self.assertEqual(second.state, "waiting")
        self.assertFalse(second.next_reminder_date)
        with patch("odoo.fields.Datetime.now", return_value=START + timedelta(days=3)):
            self._sign(first)
        self.assertEqual(second.state, "pending")
        self.assertEqual(second.next_reminder_date, fields.Date.to_date("2026-03-07"))
        self._remind(at(4))
        self.assertFalse(self._logs("reminder", request))
        self._remind(at(5))
        self.assertEqual(self._logs("reminder", request).signer_id, second)

    def test_manual_reminder_pushes_the_next_one(self):
        request = self._send_on()
        signer = request.signer_ids
        with patch("odoo.fields.Datetime.now", return_value=START + timedelta(days=1)):
            request.with_user(self.advisor).action_remind()
        self.assertEqual(signer.reminder_count, 0, "a manual reminder does not count towards K")
        self.assertEqual(signer.next_reminder_date, fields.Date.to_date("2026-03-06"))
        self.assertEqual(self._reminder_days(request, 6, hours=(8,)), {4: 1})
        self.assertEqual(len(self._logs("reminder", request)), 2)

    def test_second_run_sends_nothing(self):
        requests = self._send_on() | self._send_on(partner=self.client2)
        self.assertEqual(self._remind(at(2)), 2)
        mails = self.env["mail.mail"].sudo().search_count([("model", "=", "o2s.esign.signer")])
        events = self.env["o2s.esign.event"].sudo().search_count([("request_id", "in", requests.ids)])
        self.assertEqual(self._remind(at(2, 9)), 0)
        self.assertEqual(self.env["mail.mail"].sudo().search_count([("model", "=", "o2s.esign.signer")]), mails)
        self.assertEqual(self.env["o2s.esign.event"].sudo().search_count([("request_id", "in", requests.ids)]), events)

    def test_a_crash_in_one_unit_spares_the_others(self):
        requests = [self._send_on(partner=c) for c in (self.client, self.client2)]
        requests.append(self._send_on(partner=self._make_client(
            "Third", "third@example.com", "+33634567890", salesperson=self.advisor)))
        broken = requests[1].signer_ids
        Signer = type(broken)
        original = Signer._send_reminder

        def send_reminder(signers, manual=False):
            if broken in signers:
                raise RuntimeError("template exploded")
            return original(signers, manual=manual)

        with patch.object(Signer, "_send_reminder", send_reminder), \
                self.assertLogs(AUTOMATION_LOGGER, "ERROR") as logs:
            self.assertEqual(self._remind(at(2)), 3)
        self.assertIn("template exploded", "\n".join(logs.output))
        self.assertEqual(len(self._logs("reminder", requests[0] | requests[2])), 2)
        self.assertFalse(self._logs("reminder", requests[1]))
        self.assertEqual(broken.reminder_count, 0, "the failed unit's work was rolled back")
        self.assertTrue(broken.reminder_blocked_until)
        # Same day: the broken unit is left alone (no loop), and nothing is re-triggered.
        triggers = self.env["ir.cron.trigger"].sudo().search_count([])
        self.assertEqual(self._remind(at(2, 9)), 0)
        self.assertEqual(self.env["ir.cron.trigger"].sudo().search_count([]), triggers)
        # The next day, the signer is reminded normally.
        self._remind(at(3))
        self.assertEqual(len(self._logs("reminder", requests[1])), 1)

    def test_batches_progress_and_trigger(self):
        requests = self.env["o2s.esign.request"]
        for i in range(5):
            requests |= self._send_on(partner=self._make_client(
                "Batch %d" % i, "batch%d@example.com" % i, "+3367000000%d" % i, salesperson=self.advisor))
        self._set_batch_size(2)
        cron = self.env.ref("o2s_esign.ir_cron_esign_send_reminders")
        triggers = self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)])
        with freeze_time(at(2)):
            cron.sudo().method_direct_trigger()
        progress = self.env["ir.cron.progress"].sudo().search([("cron_id", "=", cron.id)], order="id desc", limit=1)
        self.assertEqual((progress.done, progress.remaining), (2, 3))
        self.assertEqual(len(self._logs("reminder", requests)), 2)
        new_triggers = self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]) - triggers
        self.assertEqual(len(new_triggers), 1, "the cron re-triggers itself while work remains")
        self.assertEqual(self._remind(at(2, 9)), 2)
        self.assertEqual(self._remind(at(2, 10)), 1)
        self.assertEqual(self._remind(at(2, 11)), 0)
        self.assertEqual(len(self._logs("reminder", requests)), 5)


@tagged("post_install", "-at_install")
class TestEsignExpiry(O2sEsignAutomationCommon):

    def test_expires_once_after_the_deadline_day(self):
        request = self._send_on(signers=[
            {"partner_id": self.client.id, "sequence": 1}, {"partner_id": self.client2.id, "sequence": 2}])
        request.with_user(self.advisor).write({"date_deadline": fields.Date.to_date("2026-03-10")})
        with patch("odoo.fields.Datetime.now", return_value=START + timedelta(days=1)):
            self._sign(request.signer_ids[0])
        self.assertEqual(self._expire(at(8, 23)), 0, "the deadline day itself is still valid")
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(self._expire(at(9, 0)), 1)
        self.assertEqual(request.state, "expired")
        self.assertTrue(request.date_done)
        self.assertIn("expired", request.event_ids.mapped("event_type"))
        told = self._logs("expiry", request)
        self.assertEqual(told.filtered("signer_id").signer_id, request.signer_ids,
                         "both invited signers are told (the one who signed too)")
        self.assertEqual(told.filtered(lambda log: not log.signer_id).email_to, self.advisor.email_formatted)
        activity = request.activity_ids
        self.assertEqual(activity.activity_type_id, self.env.ref("o2s_esign.mail_activity_type_esign_expired"))
        self.assertEqual(activity.user_id, self.advisor)
        # Second run, and later runs: nothing more.
        mails = len(self.MailLog.sudo().search([]))
        self.assertEqual(self._expire(at(9, 1)), 0)
        self.assertEqual(self._expire(at(30)), 0)
        self.assertEqual(len(self.MailLog.sudo().search([])), mails)
        self.assertEqual(len(request.activity_ids), 1)
        self.assertEqual(request.event_ids.mapped("event_type").count("expired"), 1)

    def test_request_in_error_expires_too(self):
        request = self._send_on()
        with freeze_time(DAY0):
            request._set_error("SMS down", transient=True)
        request.with_user(self.advisor).write({"date_deadline": fields.Date.to_date("2026-03-05")})
        self._expire(at(4))
        self.assertEqual(request.state, "expired")
        self.assertFalse(request.next_retry_date)
        self.assertEqual(self._retry(at(5)), 0)

    def test_waiting_signers_are_not_told(self):
        request = self._send_on(signing_order="sequential", signers=[
            {"partner_id": self.client.id, "sequence": 1}, {"partner_id": self.client2.id, "sequence": 2}])
        request.with_user(self.advisor).write({"date_deadline": fields.Date.to_date("2026-03-05")})
        self._expire(at(4))
        self.assertEqual(self._logs("expiry", request).signer_id, request.signer_ids[0])

    def test_a_crash_in_one_expiry_spares_the_others(self):
        requests = self._send_on() | self._send_on(partner=self.client2)
        requests.with_user(self.advisor).write({"date_deadline": fields.Date.to_date("2026-03-05")})
        broken = requests[0]
        Request = type(broken)
        original = Request._esign_expire

        def expire(request):
            if request == broken:
                raise RuntimeError("activity type deleted")
            return original(request)

        with patch.object(Request, "_esign_expire", expire), \
                self.assertLogs(AUTOMATION_LOGGER, "ERROR"):
            self.assertEqual(self._expire(at(4)), 2)
        self.assertEqual(broken.state, "in_progress")
        self.assertEqual(requests[1].state, "expired")
        self.assertEqual(self._expire(at(4, 12)), 0, "the broken unit waits a day")
        self.assertEqual(self._expire(at(5, 12)), 1)
        self.assertEqual(broken.state, "expired")


@tagged("post_install", "-at_install")
class TestEsignRetry(O2sEsignAutomationCommon):

    def test_passing_error_is_retried_with_backoff(self):
        request = self._send_on()
        with patch("odoo.fields.Datetime.now", return_value=START + timedelta(hours=1)):
            request._set_error("The SMS gateway did not answer", transient=True)
        self.assertEqual(request.next_retry_date, START + timedelta(hours=1, minutes=10))
        self.assertEqual(self._retry((START + timedelta(hours=1, minutes=5)).isoformat()), 0)
        self.assertEqual(self._retry((START + timedelta(hours=1, minutes=10)).isoformat()), 1)
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.retry_count, 1)
        self.assertIn("retried", request.event_ids.mapped("event_type"))
        self.assertEqual(self._retry((START + timedelta(hours=1, minutes=11)).isoformat()), 0)
        # It fails again: the next retry waits twice as long.
        with patch("odoo.fields.Datetime.now", return_value=START + timedelta(hours=2)):
            request._set_error("The SMS gateway did not answer", transient=True)
        self.assertEqual(request.next_retry_date, START + timedelta(hours=2, minutes=20))

    def test_lasting_error_is_not_retried(self):
        request = self._send_on()
        with freeze_time(DAY0):
            request._set_error("The address bounced", transient=False)
        self.assertFalse(request.next_retry_date)
        self.assertEqual(self._retry(at(5)), 0)
        self.assertEqual(request.state, "error")

    def test_retries_stop_after_the_maximum(self):
        self.env["ir.config_parameter"].sudo().set_param("o2s_esign.retry_max_attempts", 2)
        request = self._send_on()
        for attempt in range(2):
            with freeze_time(at(attempt, 11)):
                request._set_error("Mail server down", transient=True)
            self.assertTrue(request.next_retry_date, "attempt %d is scheduled" % (attempt + 1))
            self.assertEqual(self._retry(at(attempt, 12)), 1)
        with freeze_time(at(2, 11)):
            request._set_error("Mail server down", transient=True)
        self.assertFalse(request.next_retry_date, "the advisor decides after the maximum")
        self.assertEqual(self._retry(at(10)), 0)
        request.with_user(self.advisor).action_retry()
        self.assertEqual((request.state, request.retry_count), ("in_progress", 0),
                         "a manual retry starts afresh")

    def test_a_crash_during_a_retry_is_counted(self):
        request = self._send_on()
        with freeze_time(at(0, 11)):
            request._set_error("Mail server down", transient=True)
        with patch.object(type(request), "_resume_after_retry", side_effect=RuntimeError("still down")), \
                self.assertLogs(AUTOMATION_LOGGER, "ERROR"):
            self.assertEqual(self._retry(at(1)), 1)
        self.assertEqual(request.state, "error")
        self.assertEqual(request.retry_count, 1)
        self.assertEqual(request.next_retry_date, START.replace(hour=8) + timedelta(days=1, minutes=20))


@tagged("post_install", "-at_install")
class TestEsignCronScale(O2sEsignAutomationCommon):
    """10,000 due requests: bounded batches whose number of queries does not depend on how
    much work is left, progress reported, one broken unit spared by the others."""

    BACKLOG = 10_000

    def _batches(self, cron_xmlid, method, count, when, broken=None):
        """Run ``count`` batches of the cron method as the cron runner would (a progress record
        in the context, a fresh cache per batch); returns (done, queries, remaining, triggers)."""
        cron = self.env.ref(cron_xmlid).sudo()
        runs = []
        with patch("odoo.fields.Datetime.now", return_value=when):
            for index in range(count):
                _cron, progress = cron._add_progress()
                triggers = self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)])
                self.env.invalidate_all()
                before = self.env.cr.sql_log_count
                if broken and index == 0:
                    with broken(), self.assertLogs(AUTOMATION_LOGGER, "ERROR"):
                        done = getattr(self.Request.sudo().with_context(ir_cron_progress_id=progress.id), method)()
                else:
                    done = getattr(self.Request.sudo().with_context(ir_cron_progress_id=progress.id), method)()
                queries = self.env.cr.sql_log_count - before
                new_triggers = self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)]) - triggers
                runs.append((done, queries, progress.remaining, new_triggers))
        return runs

    def test_ten_thousand_due_reminders(self):
        request_ids = self._bulk_due_requests(self.BACKLOG)
        batch = 40
        self._set_batch_size(batch)
        signers = self.env["o2s.esign.signer"].search([("request_id", "in", request_ids)], order="id")
        victim = signers[7]
        Signer = type(victim)
        original = Signer._send_reminder

        def broken():
            def send_reminder(records, manual=False):
                if victim in records:
                    raise RuntimeError("unexpected failure in one unit")
                return original(records, manual=manual)
            return patch.object(Signer, "_send_reminder", send_reminder)

        runs = self._batches("o2s_esign.ir_cron_esign_send_reminders", "_cron_send_reminders", 4,
                             datetime(2026, 3, 4, 8), broken=broken)
        self.assertEqual([r[0] for r in runs], [batch] * 4, "bounded batches")
        self.assertEqual([r[2] for r in runs], [self.BACKLOG - batch * (i + 1) for i in range(4)],
                         "the progress reported counts down the backlog")
        self.assertEqual([r[3] for r in runs], [1] * 4, "each batch re-triggers the cron")
        queries = [r[1] for r in runs[1:]]
        self.assertEqual(len(set(queries)), 1, "same number of queries per batch: %s" % queries)
        self.assertLess(queries[0], batch * 25, "a bounded number of queries per unit: %s" % queries)
        self.assertEqual(len(self._logs("reminder")), batch * 4 - 1, "the broken unit spared the others")
        self.assertTrue(victim.reminder_blocked_until)
        self.assertEqual(victim.reminder_count, 0)

    def test_ten_thousand_expired_requests(self):
        request_ids = self._bulk_due_requests(self.BACKLOG, validity_days=1)
        batch = 20
        self._set_batch_size(batch)
        runs = self._batches("o2s_esign.ir_cron_esign_expire_requests", "_cron_expire_requests", 3,
                             datetime(2026, 3, 4, 1))
        self.assertEqual([r[0] for r in runs], [batch] * 3)
        self.assertEqual([r[2] for r in runs], [self.BACKLOG - batch * (i + 1) for i in range(3)])
        queries = [r[1] for r in runs[1:]]
        self.assertEqual(len(set(queries)), 1, "same number of queries per batch: %s" % queries)
        expired = self.Request.search([("id", "in", request_ids), ("state", "=", "expired")])
        self.assertEqual(len(expired), batch * 3)
        self.assertEqual(len(self._logs("expiry", expired)), batch * 3 * 2, "signer and advisor told")


@tagged("-standard", "o2s_esign_scale", "post_install", "-at_install")
class TestEsignCronDrain(O2sEsignAutomationCommon):
    """Opt-in (``--odoo-nonstandard -k Drain``): drain 10,000 due reminders to the end, as
    the cron runner would, and log the time and the queries it took."""

    def test_drain_ten_thousand_reminders(self):
        self._bulk_due_requests(10_000)
        self._set_batch_size(500)
        calls, total_queries = 0, 0
        started = time.monotonic()
        with patch("odoo.fields.Datetime.now", return_value=datetime(2026, 3, 4, 8)):
            while True:
                self.env.invalidate_all()
                before = self.env.cr.sql_log_count
                done = self.Request.sudo()._cron_send_reminders()
                total_queries += self.env.cr.sql_log_count - before
                if not done:
                    break
                calls += 1
        elapsed = time.monotonic() - started
        self.assertEqual(len(self._logs("reminder")), 10_000)
        self.assertEqual(calls, 20)
        _logger.info("drained 10,000 reminders in %d batches, %.1f s, %d queries (%.1f per reminder)",
                     calls, elapsed, total_queries, total_queries / 10_000)
