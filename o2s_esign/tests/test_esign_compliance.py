# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The contact's Compliance tab: every compliance document type, its latest request and status."""
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from ..tools import internal_write
from .common import O2sEsignCommon, make_pdf


@tagged("post_install", "-at_install")
class TestEsignCompliance(O2sEsignCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Type = cls.env["o2s.esign.document.type"]
        cls.compliance_types = Type.search([("category", "=", "compliance")], order="sequence, id")
        cls.mission = cls.env.ref("o2s_esign.document_type_mission_letter")
        cls.profile = cls.env.ref("o2s_esign.document_type_investor_profile")

    def _rows(self, partner, user=None):
        """The Compliance tab of ``partner`` as ``user`` sees it (in a fresh request)."""
        self.env.invalidate_all()
        env = self.env(user=user or self.advisor)
        return env["res.partner"].browse(partner.id).esign_compliance_ids

    def _send(self, document_type, partner=None, user=None):
        request = self._draft_request(partner=partner, user=user)
        request.document_ids.document_type_id = document_type
        request.action_send()
        return request

    def test_every_compliance_type_shows_even_without_request(self):
        rows = self._rows(self.client)
        self.assertEqual(rows.document_type_id, self.compliance_types)
        self.assertEqual(rows.mapped("document_type_id.code"),
                         ["mission_letter", "investor_profile", "information_form", "mission_report"])
        self.assertEqual(set(rows.mapped("status")), {"none"})
        self.assertFalse(rows.request_id)
        # Contract and other types are not compliance documents; new compliance types show at once.
        extra = self.env["o2s.esign.document.type"].create(
            {"name": "Adequacy statement", "category": "compliance", "sequence": 35})
        self.env["o2s.esign.document.type"].create({"name": "Loan offer", "category": "contract"})
        self.env.invalidate_all()
        rows = self._rows(self.client)
        self.assertEqual(rows.document_type_id, self.compliance_types | extra)
        self.assertEqual(rows.mapped("document_type_id")[3], extra)  # by sequence
        extra.active = False
        self.env.invalidate_all()
        self.assertEqual(self._rows(self.client).document_type_id, self.compliance_types)

    def test_latest_request_and_its_status(self):
        first = self._send(self.mission)
        rows = self._rows(self.client)
        mission_row = rows.filtered(lambda r: r.document_type_id == self.mission)
        self.assertEqual((mission_row.request_id, mission_row.status), (first, "in_progress"))
        self.assertEqual(mission_row.date_sent, first.date_sent)
        self.assertEqual(mission_row.signer_ids, first.signer_ids)
        self.assertEqual(set((rows - mission_row).mapped("status")), {"none"})
        first.action_cancel()
        second = self._send(self.mission)
        with internal_write():
            second.write({"state": "signed", "date_done": "2026-01-02 10:00:00"})
        self.env.invalidate_all()
        mission_row = self._rows(self.client).filtered(lambda r: r.document_type_id == self.mission)
        self.assertEqual((mission_row.request_id, mission_row.status), (second, "signed"))
        self.assertEqual(str(mission_row.date_done), "2026-01-02 10:00:00")
        # Another client's requests do not count.
        self.assertEqual(set(self._rows(self.client2).mapped("status")), {"none"})

    def _row(self, document_type, partner=None, user=None):
        return self._rows(partner or self.client, user).filtered(lambda r: r.document_type_id == document_type)

    def test_signed_stays_signed_whatever_came_after(self):
        signed = self._send(self.mission)
        with internal_write():
            signed.write({"state": "signed", "date_done": "2026-01-02 10:00:00"})
        cancelled = self._send(self.mission)
        cancelled.action_cancel(reason="Sent twice")
        refused = self._send(self.mission)
        with internal_write():
            refused.write({"state": "refused", "date_done": "2026-03-04 10:00:00"})
        row = self._row(self.mission)
        self.assertEqual((row.status, row.request_id), ("signed", signed))
        self.assertEqual(str(row.date_done), "2026-01-02 10:00:00")
        self.assertEqual(row.other_request_count, 2)
        self.assertEqual(row.request_ids.ids, (refused | cancelled | signed).ids, "the latest first")
        # Opening the row lists them all; with a single request it opens that request.
        action = row.action_open_request()
        self.assertEqual(action["res_model"], "o2s.esign.request")
        self.assertEqual(self.env["o2s.esign.request"].with_user(self.advisor).search(action["domain"]),
                         signed | cancelled | refused)
        self.assertIn("Mission letter", action["name"])
        self.assertEqual(self._row(self.profile).other_request_count, 0)
        # a newer signed request of the type takes the row
        renewed = self._send(self.mission)
        with internal_write():
            renewed.write({"state": "signed", "date_done": "2027-01-02 10:00:00"})
        row = self._row(self.mission)
        self.assertEqual((row.status, row.request_id, row.other_request_count), ("signed", renewed, 3))

    def test_without_signature_an_open_request_comes_first(self):
        in_progress = self._send(self.mission)
        later = self._send(self.mission)
        later.action_cancel()
        row = self._row(self.mission)
        self.assertEqual((row.status, row.request_id, row.other_request_count), ("in_progress", in_progress, 1))
        in_progress.action_cancel()
        row = self._row(self.mission)
        self.assertEqual((row.status, row.request_id), ("cancelled", later), "else the latest")
        action = self._row(self.profile).action_send_for_signature()  # a row without request
        self.assertEqual(action["res_model"], "o2s.esign.request.wizard")
        single = self._send(self.profile)
        action = self._row(self.profile).action_open_request()
        self.assertEqual((action["res_model"], action["res_id"]), ("o2s.esign.request", single.id))

    def test_the_others_are_only_those_the_user_may_read(self):
        mine = self._send(self.mission)
        theirs = self._send(self.mission, user=self.esign_manager)
        with internal_write():
            theirs.write({"state": "signed"})
        row = self._row(self.mission, user=self.advisor)
        self.assertEqual((row.status, row.request_id, row.other_request_count), ("in_progress", mine, 0))
        row = self._row(self.mission, user=self.esign_manager)
        self.assertEqual((row.status, row.request_id, row.request_ids), ("signed", theirs, theirs | mine))

    def test_a_request_with_several_types_counts_for_each(self):
        request = self._draft_request(documents=2)
        request.document_ids[0].document_type_id = self.mission
        request.document_ids[1].document_type_id = self.profile
        request.action_send()
        rows = self._rows(self.client)
        self.assertEqual(rows.filtered(lambda r: r.request_id == request).document_type_id,
                         self.mission | self.profile)

    def test_status_follows_the_users_rights(self):
        stranger = self._make_client("Zoé Autre", "zoe@example.com", "+33678901234")
        request = self._send(self.mission, partner=stranger, user=self.esign_manager)
        manager_row = self._rows(stranger, self.esign_manager).filtered(lambda r: r.document_type_id == self.mission)
        self.assertEqual(manager_row.request_id, request)
        advisor_row = self._rows(stranger, self.advisor).filtered(lambda r: r.document_type_id == self.mission)
        self.assertEqual((advisor_row.request_id, advisor_row.status), (self.env["o2s.esign.request"], "none"))

    def test_one_query_for_many_contacts(self):
        partners = self.client | self.client2 | self.esign_manager.partner_id | self.advisor.partner_id
        Compliance = self.env["o2s.esign.compliance"].with_user(self.advisor)
        self._send(self.mission)
        batches = [Compliance.search([("partner_id", "in", batch.ids)]) for batch in (self.client, partners)]
        self.assertEqual([len(rows) for rows in batches], [4, 16])
        for rows in batches:
            rows.mapped("status")  # warm the caches of rules and rights
            self.env.invalidate_all()
        counts = []
        for rows in batches:
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.assertIn("in_progress", rows.mapped("status"))
            counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(counts[0], counts[1], "the latest requests are fetched for the whole batch at once")

    @mute_logger("odoo.addons.base.models.ir_rule")
    def test_other_company_contacts_are_not_listed(self):
        company_b = self.env["res.company"].create({"name": "Cabinet B"})
        hidden = self.env["res.partner"].create({"name": "Client B", "company_id": company_b.id})
        Compliance = self.env["o2s.esign.compliance"].with_user(self.advisor)
        self.assertFalse(Compliance.search([("partner_id", "=", hidden.id)]))
        self.assertTrue(Compliance.search([("partner_id", "=", self.client.id)]))
        row = self.env["o2s.esign.compliance"].search([("partner_id", "=", hidden.id)], limit=1)
        with self.assertRaises(AccessError):
            row.with_user(self.advisor).read(["status"])

    def test_send_for_signature_from_a_row(self):
        self.env["ir.attachment"].create({
            "name": "lettre.pdf", "raw": make_pdf("lettre"), "mimetype": "application/pdf",
            "res_model": "res.partner", "res_id": self.client.id})
        row = self._rows(self.client).filtered(lambda r: r.document_type_id == self.mission)
        action = row.action_send_for_signature()
        self.assertEqual(action["res_model"], "o2s.esign.request.wizard")
        form = Form(self.env[action["res_model"]].with_user(self.advisor).with_context(**action["context"]))
        self.assertEqual((form.partner_id, form.document_type_id, form.name),
                         (self.client, self.mission, "Mission letter"))
        form.partner_attachment_ids.add(self.env["ir.attachment"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.client.id)]))
        request = self.env["o2s.esign.request"].browse(form.save().action_send()["res_id"])
        self.assertEqual(request.document_ids.document_type_id, self.mission)
        self.env.invalidate_all()
        row = self._rows(self.client).filtered(lambda r: r.document_type_id == self.mission)
        self.assertEqual((row.request_id, row.status), (request, "in_progress"))
        open_action = row.action_open_request()
        self.assertEqual((open_action["res_model"], open_action["res_id"]), ("o2s.esign.request", request.id))
