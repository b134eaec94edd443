# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Issue 19, item 1: the last signer waits no longer than the first. Their signature is
applied and committed like anyone's; the company seal, the evidence, the state "signed" and
the confirmation mails follow in a scheduled action triggered for right after commit. (The TSA
failing during that sealing, over HTTP and the real TSA: test_esign_faults.py.)"""
import importlib.util
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools.misc import file_path

from ..tools import internal_write
from .common_signing import O2sEsignSigningCommon
from .esign_portal_common import EsignHttpCommon


@tagged("post_install", "-at_install")
class TestEsignSealingInBackground(O2sEsignSigningCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_t")

    def _sign_without_sealing(self, request):
        """Every signer signs, as the signing page does; the sealing does not run yet."""
        for signer in request.signer_ids.sorted("sequence"):
            signer_sudo = signer.sudo()
            signer_sudo._sign_documents(self._signature(signer))
            with internal_write():
                signer_sudo.write({"state": "signed", "date_signed": fields.Datetime.now()})
            request._check_completion()

    def test_last_signature_then_sealing(self):
        request = self._send(documents=2)
        cron = self.env.ref("o2s_esign.ir_cron_esign_seal_requests")
        Trigger = self.env["ir.cron.trigger"].sudo()
        triggers = Trigger.search_count([("cron_id", "=", cron.id)])
        self._sign_without_sealing(request)
        self.assertEqual((request.state, request.sealing_pending), ("in_progress", True))
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), triggers + 1)
        self.assertFalse(request.document_ids.filtered("date_sealed"), "not sealed in the request")
        self.assertFalse(request.evidence_attachment_id)
        self.assertFalse(self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "in", request.signer_ids.ids),
            ("subject", "ilike", "signed")]))
        for signer in request.signer_ids:
            self.assertEqual(signer._get_signing_validity(), "sealing")
        self.assertEqual(self.esign_run_sealing(), 1)
        self.assertEqual((request.state, request.sealing_pending), ("signed", False))
        self.assertTrue(all(request.document_ids.mapped("date_sealed")))
        self.assertTrue(request.evidence_attachment_id)
        for document in request.document_ids:
            self.assertAllValid(document.signed_attachment_id.raw, 3)
        for signer in request.signer_ids:
            self.assertEqual(signer._get_signing_validity(), "completed")
            self.assertTrue(self.env["mail.mail"].sudo().search([
                ("model", "=", "o2s.esign.signer"), ("res_id", "=", signer.id),
                ("attachment_ids", "!=", False)]), "the confirmation with the signed documents")
        self.assertEqual(self.esign_run_sealing(), 0, "nothing left to seal")
        self.assertTrue(request.verify_event_chain()[request.id]["ok"])

    def test_scheduled_actions_seal_one_request_per_run_two_at_a_time(self):
        """Each run of a sealing action seals one request (committed alone by the cron), the
        first due; while others remain it wakes itself and the other sealing action up."""
        crons = self.env.ref("o2s_esign.ir_cron_esign_seal_requests") | \
            self.env.ref("o2s_esign.ir_cron_esign_seal_requests_2")
        for cron in crons:
            self.assertIn("batch_size=1", cron.code)
            self.assertTrue(cron.active)
        requests = self._send(documents=1) | self._send(documents=1) | self._send(documents=1)
        for request in requests:
            self._sign_without_sealing(request)
        Trigger = self.env["ir.cron.trigger"].sudo()
        Requests = self.env["o2s.esign.request"].sudo()
        before = {cron: Trigger.search_count([("cron_id", "=", cron.id)]) for cron in crons}
        self.assertEqual(Requests._cron_seal_requests(batch_size=1), 1)
        self.assertEqual(requests.mapped("state"), ["signed", "in_progress", "in_progress"])
        for cron in crons:
            self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before[cron] + 1,
                             "both sealing actions woken up: two requests remain")
        self.assertEqual(Requests._cron_seal_requests(
            batch_size=1, cron_xmlid="o2s_esign.ir_cron_esign_seal_requests_2"), 1)
        self.assertEqual(requests.mapped("state"), ["signed", "signed", "in_progress"])
        self.assertEqual(Requests._cron_seal_requests(batch_size=1), 1)
        self.assertEqual(requests.mapped("state"), ["signed"] * 3)
        for cron in crons:
            self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before[cron] + 2,
                             "the last run found nothing left: no new wake-up")
        self.assertEqual(Requests._cron_seal_requests(batch_size=1), 0)

    def test_upgrade_sets_one_request_per_run(self):
        """The 18.0.1.2.0 migration gives the (noupdate) sealing action of an earlier install
        its new code, and leaves an administrator's own code alone."""
        path = file_path("o2s_esign/migrations/18.0.1.2.0/post-migrate.py")
        spec = importlib.util.spec_from_file_location("o2s_esign_migration_1_2_0", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        cron = self.env.ref("o2s_esign.ir_cron_esign_seal_requests")
        cron.code = "model._cron_seal_requests()"
        migration.migrate(self.env.cr, "18.0.1.1.0")
        self.assertEqual(cron.code, "model._cron_seal_requests(batch_size=1)")
        cron.code = "model._cron_seal_requests(batch_size=5)"
        migration.migrate(self.env.cr, "18.0.1.1.0")
        self.assertEqual(cron.code, "model._cron_seal_requests(batch_size=5)")

    def test_no_expiry_nor_cancel_while_sealing(self):
        request = self._send(documents=1)
        self._sign_without_sealing(request)
        self.assertTrue(request.sealing_pending)
        with self.assertRaisesRegex(UserError, "being sealed"):
            request.with_user(self.advisor).action_cancel()
        request.sudo().date_deadline = fields.Date.today() - timedelta(days=2)
        self.env["o2s.esign.request"].sudo()._cron_expire_requests()
        self.assertEqual(request.state, "in_progress", "signed by everyone: sealed, not expired")
        self.esign_run_sealing()
        self.assertEqual(request.state, "signed")


@tagged("post_install", "-at_install")
class TestEsignSealingStatusRoute(EsignHttpCommon):
    """The signer's page while the documents are sealed, and the read-only status it asks."""

    esign_seal_at_once = False

    def _status(self, signer, token=None):
        self.env.flush_all()
        response = self.url_open("/esign/status/%d/%s" % (
            signer.id, token or signer._get_signing_token()))
        self.env.invalidate_all()
        return response

    def test_page_and_status_while_sealing(self):
        self._keep_sent_request()
        signer = self.signer
        self.assertEqual(self._status(signer).json(), {"validity": "ok"})
        self._sign(signer)
        self.assertEqual((self.request.state, self.request.sealing_pending), ("in_progress", True))
        page = self._fetch(self._path(signer)).text
        self.assertIn('data-validity="sealing"', page)
        self.assertIn("The documents are being sealed", page)
        self.assertIn('data-status-url="/esign/status/%d/' % signer.id, page)
        events = len(self.request.event_ids)
        response = self._status(signer)
        self.assertEqual(response.json(), {"validity": "sealing"})
        self.assertEqual(response.headers.get("Cache-Control"), "no-store")
        self.assertEqual(len(self.request.event_ids), events, "a status read logs nothing")
        self.esign_run_sealing()
        self.assertEqual(self._status(signer).json(), {"validity": "completed"})
        self.assertIn('data-validity="completed"', self._fetch(self._path(signer)).text)

    def test_status_as_an_attacker(self):
        self._keep_sent_request()
        signer = self.signer
        token = signer._get_signing_token()
        for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * len(token), "0"):
            response = self._status(signer, token=bad)
            self.assertEqual(response.status_code, 404)
            self.assertEqual(response.json(), {"validity": "invalid"})
        other = self._sent_request(partner=self.client2).sudo().signer_ids[:1]
        self.assertEqual(self._status(other, token=token).status_code, 404, "another's link")
        response = self.url_open("/esign/status/%d/%s" % (signer.id, token), data={"x": "1"})
        self.assertEqual(response.status_code, 405, "read only: GET")
