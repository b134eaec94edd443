# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import json

import psycopg2

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import O2sEsignCommon


@tagged("post_install", "-at_install")
class TestEsignEvent(O2sEsignCommon):

    def test_chain_links_and_verifies(self):
        request = self._sent_request()
        events = request.event_ids.sorted("sequence")
        self.assertGreaterEqual(len(events), 3)
        self.assertEqual(events.mapped("sequence"), list(range(1, len(events) + 1)))
        self.assertEqual(events[0].previous_hash, "0" * 64)
        for previous, event in zip(events, events[1:]):
            self.assertEqual(event.previous_hash, previous.hash)
        result = request.verify_event_chain()[request.id]
        self.assertTrue(result["ok"])
        self.assertEqual(result["count"], len(events))
        self.assertEqual(result["head"], events[-1].hash)

    def test_events_are_append_only_for_admins_too(self):
        request = self._sent_request()
        event = request.event_ids[:1]
        admin_env = self.env(user=self.env.ref("base.user_admin"))
        for env in (admin_env, admin_env(su=True)):
            event_as = event.with_env(env)
            with self.assertRaises(UserError):
                event_as.write({"event_type": "signed"})
            with self.assertRaises(UserError):
                event_as.unlink()
        with self.assertRaises(AccessError):
            admin_env["o2s.esign.event"].create({
                "request_id": request.id, "sequence": 99, "event_type": "signed",
                "date": "2026-01-01 00:00:00", "previous_hash": "x", "hash": "y"})
        # Even SQL cannot rewrite the trail: a trigger refuses it.
        with self.assertRaises(psycopg2.Error), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env.cr.execute("UPDATE o2s_esign_event SET event_type = 'signed' WHERE id = %s", [event.id])
        with self.assertRaises(psycopg2.Error), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env.cr.execute("DELETE FROM o2s_esign_event WHERE id = %s", [event.id])

    def _tamper(self, sql, params):
        """Tamper with the table as an attacker with DDL rights would (rolled back with the test)."""
        self.env.cr.execute("ALTER TABLE o2s_esign_event DISABLE TRIGGER o2s_esign_event_append_only")
        self.env.cr.execute(sql, params)
        self.env.cr.execute("ALTER TABLE o2s_esign_event ENABLE TRIGGER o2s_esign_event_append_only")
        self.env.invalidate_all()

    def test_tampering_is_detected_and_located(self):
        request = self._sent_request()
        events = request.event_ids.sorted("sequence")
        target = events[1]
        payload = json.loads(target.payload)
        payload["tampered"] = True
        self._tamper("UPDATE o2s_esign_event SET payload = %s WHERE id = %s",
                     [json.dumps(payload), target.id])
        result = request.verify_event_chain()[request.id]
        self.assertFalse(result["ok"])
        self.assertEqual(result["first_broken"], target.sequence)

    def test_deleted_event_is_detected(self):
        request = self._sent_request()
        events = request.event_ids.sorted("sequence")
        deleted_sequence = events[1].sequence
        self._tamper("DELETE FROM o2s_esign_event WHERE id = %s", [events[1].id])
        result = request.verify_event_chain()[request.id]
        self.assertFalse(result["ok"])
        self.assertEqual(result["first_broken"], deleted_sequence)
        self.assertEqual(result["reason"], "sequence_gap")

    def test_truncated_trail_is_detected(self):
        request = self._sent_request()
        last = request.event_ids.sorted("sequence")[-1]
        self._tamper("DELETE FROM o2s_esign_event WHERE id = %s", [last.id])
        result = request.verify_event_chain()[request.id]
        self.assertFalse(result["ok"])
        self.assertEqual(result["reason"], "head_mismatch")

    def test_other_advisor_cannot_read_the_trail(self):
        request = self._sent_request()
        with self.assertRaises(AccessError):
            request.with_user(self.advisor2).verify_event_chain()
        result = request.with_user(self.esign_manager).verify_event_chain()
        self.assertTrue(result[request.id]["ok"])
