# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The module's mails leave at once: queuing one triggers Odoo's mail queue (a trigger due now,
and a wake-up of the cron workers once the transaction commits) instead of leaving it to the
queue's hourly run. The real thing (an Odoo server, its cron thread and an SMTP server) is
tests/e2e/test_e2e_mail_now.py."""
import threading
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.tests import tagged

from ..models import mail_mail
from .automation_common import O2sEsignAutomationCommon


@tagged("post_install", "-at_install")
class TestEsignMailNow(O2sEsignAutomationCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mail_cron = cls.env.ref("mail.ir_cron_mail_scheduler_action")

    def _commit_hooks(self):
        """What a commit runs before its SQL COMMIT (the test never commits)."""
        self.env.cr.flush()

    def _due_triggers(self):
        self.env.flush_all()
        return self.env["ir.cron.trigger"].sudo().search(
            [("cron_id", "=", self.mail_cron.id), ("call_at", "<=", fields.Datetime.now())])

    def _wakes_cron_workers_on_commit(self):
        return any(getattr(func, "__name__", "") == "_notifydb"
                   for func in self.env.cr.postcommit._funcs)

    def _count_triggers(self):
        self.env.flush_all()
        return self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", self.mail_cron.id)])

    def test_each_mail_of_the_module_triggers_the_mail_queue(self):
        """Invitation, reminder, cancellation and the advisor's notice: each queuing wakes the
        queue up, for an advisor without any administrator right."""
        steps = {
            "invitation": lambda: self._sent_request(),
            "reminder": lambda: self.request.with_user(self.advisor).action_remind(),
            "cancellation": lambda: self.request.with_user(self.advisor).action_cancel("Changed my mind"),
        }
        for kind, step in steps.items():
            with self.subTest(kind=kind):
                self._commit_hooks()
                before = self._count_triggers()
                self.env.cr.postcommit.clear()
                result = step()
                if kind == "invitation":
                    self.request = result
                self.assertEqual(self.MailLog.search_count(
                    [("request_id", "=", self.request.id), ("kind", "=", kind)]), 1)
                self._commit_hooks()
                self.assertEqual(self._count_triggers(), before + 1, "the mail queue was triggered")
                self.assertTrue(self._due_triggers(), "due now, not at the next hourly run")
                self.assertTrue(self._wakes_cron_workers_on_commit())

    def test_other_mails_are_left_to_the_queue(self):
        self._commit_hooks()
        before = self._count_triggers()
        self.env["mail.mail"].sudo().create({
            "subject": "Not ours", "body_html": "<p>x</p>", "email_to": "someone@example.com"})
        self._commit_hooks()
        self.assertEqual(self._count_triggers(), before)

    def test_one_wake_up_per_transaction_whatever_is_rolled_back(self):
        """Many mails in one transaction (a batch of reminders): one trigger, one wake-up; a
        mail rolled back with its savepoint does not take the others' trigger with it."""
        self._commit_hooks()
        before = self._count_triggers()
        self.env.cr.postcommit.clear()
        with self.env.cr.savepoint(flush=False) as savepoint:
            self._sent_request()
            savepoint.rollback()
        self._sent_request(partner=self.client2)
        self._sent_request()
        self._commit_hooks()
        self.assertEqual(self._count_triggers(), before + 1)
        self.assertEqual(sum(getattr(func, "__name__", "") == "_notifydb"
                             for func in self.env.cr.postcommit._funcs), 1)

    def test_the_triggered_run_sends_and_reports(self):
        """What the cron worker runs once woken up: the queue sends the invitation and the
        mail report says so (failures: test_esign_mail, test_esign_faults)."""
        request = self._sent_request()
        log = self.MailLog.search([("request_id", "=", request.id), ("kind", "=", "invitation")])
        self.assertEqual(log.state, "queued")
        # the queue's own run (kept from committing, as under Odoo's test runner)
        with patch.object(threading.current_thread(), "testing", True, create=True):
            self.env["mail.mail"].sudo().process_email_queue()
        self.assertEqual(log.state, "sent")
        self.assertTrue(log.date_sent)

    def test_a_delivery_met_by_a_concurrent_update_is_logged_after_commit(self):
        """Mails now leave while the signer may still be acting on the request: when logging a
        delivery meets their concurrent update (a serialization failure on the request's row),
        the mail stays sent and the `email_sent` event is appended right after the queue's
        transaction commits, in a transaction of its own: nothing is lost from the trail."""
        self._check_delivery_logged_after_commit(lambda model: psycopg2.errors.SerializationFailure(
            "could not serialize access due to concurrent update"))

    def test_a_delivery_never_waits_for_a_request_row_held_elsewhere(self):
        """The queue holds the rows of the mails it sends; the sealing, holding the request's
        row, may be cancelling those very mails: the queue's delivery event takes the request
        row with NOWAIT (a wait would be a deadlock) and, when it is held, is logged after
        commit like a concurrent update."""
        def held(model):
            self.assertTrue(model.env.context.get("o2s_esign_lock_nowait"),
                            "the queue's delivery event does not wait for the request row")
            return psycopg2.errors.LockNotAvailable("could not obtain lock on row")

        self._check_delivery_logged_after_commit(held)

    def test_nowait_lock_of_the_request_row(self):
        """What the queue's context asks of the event append: the request row locked NOWAIT."""
        request = self._sent_request()
        cr = self.env.cr
        queries = []
        execute = cr.execute

        def spy(query, params=None, log_exceptions=True):
            queries.append(str(query))
            return execute(query, params, log_exceptions)

        Event = self.env["o2s.esign.event"].sudo()
        with patch.object(cr, "execute", spy):
            Event._append_many(request, [{"event_type": "email_sent"}])
            Event.with_context(o2s_esign_lock_nowait=True)._append_many(
                request, [{"event_type": "email_sent"}])
        locks = [q for q in queries if "FOR NO KEY UPDATE OF r" in q]
        self.assertEqual(len(locks), 2)
        self.assertNotIn("NOWAIT", locks[0])
        self.assertIn("NOWAIT", locks[1])
        self.assertTrue(request.verify_event_chain()[request.id]["ok"])

    def _check_delivery_logged_after_commit(self, error):
        request = self._sent_request()
        Event = type(self.env["o2s.esign.event"])
        original = Event._append
        refused = []

        def append(model, req, event_type, **kwargs):
            if event_type == "email_sent" and not refused:
                refused.append(req.id)
                raise error(model)
            return original(model, req, event_type, **kwargs)

        def sent_events():
            self.env.invalidate_all()
            return self.env["o2s.esign.event"].sudo().search_count(
                [("request_id", "=", request.id), ("event_type", "=", "email_sent")])

        self.env.cr.postcommit.clear()
        with patch.object(Event, "_append", append), \
                patch.object(threading.current_thread(), "testing", True, create=True):
            self.env["mail.mail"].sudo().process_email_queue()
        self.assertEqual(refused, [request.id])
        log = self.MailLog.search([("request_id", "=", request.id), ("kind", "=", "invitation")])
        self.assertEqual(log.state, "sent", "the mail's state is kept")
        self.assertEqual(sent_events(), 0)
        hooks = [func for func in self.env.cr.postcommit._funcs
                 if getattr(func, "func", None) is mail_mail._esign_log_delivery_after_commit]
        self.assertEqual(len(hooks), 1, "logged once the transaction commits")
        self.env.flush_all()
        self.registry.enter_test_mode(self.env.cr)
        try:
            hooks[0]()  # what the commit runs, in a transaction of its own
        finally:
            self.registry.leave_test_mode()
        self.assertEqual(sent_events(), 1)
        self.assertTrue(request.verify_event_chain()[request.id]["ok"])
