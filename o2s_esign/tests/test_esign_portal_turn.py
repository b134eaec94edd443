# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The signing page's wait for a request row that a scheduled action holds
(``O2sEsignSigningPage._lock_request_row``).

A real run needs two committed transactions (a scheduled action holding the row, then committing
an update, while a signer's call waits), which a test may not do: it is exercised over a real
server by ``make bench`` (its http and load parts fail when the server logs an error or retries a
transaction). Here the cursors are stand-ins that answer as PostgreSQL does, so every branch of
the loop is checked: a row held once, a serialization failure at the lock, the time limit.
"""
import psycopg2.errors

from odoo.tests import TransactionCase, tagged

from odoo.addons.o2s_esign.controllers.portal import O2sEsignSigningPage


class _Cursor:
    """Records the statements and rollbacks; ``answers`` are raised by the matching
    statements, in order (None: the statement succeeds)."""

    def __init__(self, name, log, answers=None):
        self.name = name
        self.log = log
        self.answers = dict(answers or {})

    def rollback(self):
        self.log.append((self.name, "rollback"))

    def execute(self, query, params=None, log_exceptions=True):
        self.log.append((self.name, query, log_exceptions))
        for part, outcomes in self.answers.items():
            if part in query and outcomes:
                outcome = outcomes.pop(0)
                if outcome is not None:
                    raise outcome


@tagged("post_install", "-at_install")
class TestEsignPortalTurn(TransactionCase):

    def _run(self, main_answers=None, turn_answers=None, timeout=60):
        log = []
        cr = _Cursor("main", log, main_answers)
        turn_cr = _Cursor("turn", log, turn_answers)
        result = O2sEsignSigningPage._lock_request_row(cr, turn_cr, 42, timeout=timeout)
        return result, log

    def test_free_row_locked_at_once_on_a_fresh_snapshot(self):
        result, log = self._run()
        self.assertTrue(result)
        self.assertEqual(log[0], ("main", "rollback"), "a fresh snapshot first")
        self.assertEqual(len(log), 2)
        self.assertIn("FOR NO KEY UPDATE NOWAIT", log[1][1])
        self.assertFalse(log[1][2], "a held row is not an error to log")

    def test_held_row_waits_on_the_turn_then_locks(self):
        result, log = self._run(main_answers={"NOWAIT": [
            psycopg2.errors.LockNotAvailable(), None]})
        self.assertTrue(result)
        turn = [entry[1] for entry in log if entry[0] == "turn"]
        self.assertEqual(turn[0], "SAVEPOINT o2s_esign_wait")
        self.assertIn("FOR SHARE", turn[1])
        self.assertIn("lock_timeout", turn[1])
        self.assertEqual(turn[2], "ROLLBACK TO SAVEPOINT o2s_esign_wait",
                         "the share lock is released, the turn kept")
        attempts = [i for i, entry in enumerate(log) if entry[0] == "main" and entry[1] != "rollback"]
        self.assertEqual(len(attempts), 2)
        self.assertEqual(log[attempts[1] - 1], ("main", "rollback"),
                         "the second attempt runs on a new snapshot")

    def test_holder_committing_an_update_is_no_error(self):
        """The holder's commit surfaces as a serialization failure, at the lock or in the wait:
        both are absorbed, the row is locked on a snapshot that sees the update."""
        result, log = self._run(
            main_answers={"NOWAIT": [psycopg2.errors.SerializationFailure(), None]},
            turn_answers={"FOR SHARE": [psycopg2.errors.SerializationFailure()]})
        self.assertTrue(result)
        self.assertEqual(sum(1 for entry in log if "NOWAIT" in str(entry)), 2)
        self.assertIn(("turn", "ROLLBACK TO SAVEPOINT o2s_esign_wait", True), log)

    def test_row_held_past_the_time_limit(self):
        result, log = self._run(main_answers={"NOWAIT": [psycopg2.errors.LockNotAvailable()]},
                                timeout=0)
        self.assertFalse(result, "the visitor is told to try again")
        self.assertFalse([entry for entry in log if entry[0] == "turn"],
                         "no wait when the time is up")

    def test_other_errors_are_not_swallowed(self):
        with self.assertRaises(psycopg2.errors.UndefinedTable):
            self._run(main_answers={"NOWAIT": [psycopg2.errors.UndefinedTable()]})
