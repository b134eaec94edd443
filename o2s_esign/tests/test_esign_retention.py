# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Retention: the company keeps identity-document scans and signers' personal data for a set
time once a request is closed, then a scheduled action purges them (an event) while the evidence
and the hashes stay; a contact with a signature history is archived, never deleted."""
import io
import json
import zipfile
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from ..tools import internal_write
from .common import XmlRpcMixin, esign_user
from .common_signing import O2sEsignSigningCommon
from .esign_portal_common import signature_png


@tagged("post_install", "-at_install")
class TestEsignRetention(XmlRpcMixin, O2sEsignSigningCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_b", tsa=False)
        cls.options_user = esign_user(cls.env, "esign_options", "internal,options", name="Olga Options")
        cls.request = cls._send(documents=1)
        cls._sign_all(cls.request)

    # ------------------------------------------------------------------ helpers
    def _purge_at(self, moment):
        with freeze_time(moment):
            return self.env["o2s.esign.request"]._cron_purge_personal_data()

    def _purged_events(self, request):
        return request.sudo().event_ids.filtered(lambda e: e.event_type == "personal_data_purged")

    # -------------------------------------------------------------------- tests
    def test_retention_setting(self):
        self.assertEqual(self.company.esign_retention_years, 5, "5 years by default")
        settings = self.env["o2s.esign.settings"].with_user(self.options_user).create({})
        self.assertEqual(settings.esign_retention_years, 5)
        settings.esign_retention_years = 0
        with self.assertRaisesRegex(UserError, "between 1 and 50 years"):
            settings.action_save()
        settings.esign_retention_years = 10
        settings.action_save()
        self.assertEqual(self.company.esign_retention_years, 10)

    @mute_logger("odoo.http")
    def test_only_the_options_group_changes_the_retention(self):
        fault = self._rpc_fault("esign_advisor", "res.company", "write", self.company.ids,
                                {"esign_retention_years": 1})
        self.assertIn("AccessError", fault)
        self.assertEqual(self.company.esign_retention_years, 5)

    def test_purge_after_the_retention_period_keeps_the_evidence(self):
        request = self.request.sudo()
        signer = request.signer_ids.sorted("sequence")[0]
        with internal_write():  # as the signing page keeps it (the set-up signs without the page)
            signer.write({"signature_image": signature_png(), "signature_sha256": "ab" * 32})
        id_document = signer.id_document_id
        kept = {
            "evidence": request.evidence_attachment_id, "evidence_sha256": request.evidence_sha256,
            "evidence_raw": request.evidence_attachment_id.raw,
            "id_doc_sha256": signer.id_doc_sha256, "signature_sha256": signer.signature_sha256,
            "name": signer.name, "certificate": signer.signing_certificate,
        }
        self.assertTrue(signer.email and signer.mobile and signer.id_doc_number and signer.signature_image)
        self.assertTrue(id_document.file)
        # an attestation made before the purge stays downloadable after it
        signer.with_user(self.advisor).action_download_attestation()
        attestation = signer.attestation_attachment_id
        closed = request.date_done
        # not yet: the day before the end of the 5 years
        self.assertEqual(self._purge_at(closed + relativedelta(years=5) - timedelta(days=1)), 0)
        self.assertFalse(request.date_personal_data_purged)
        self.assertTrue(signer.email)
        # the day after: purged
        self.assertEqual(self._purge_at(closed + relativedelta(years=5, days=1)), 1)
        request.invalidate_recordset()
        signer.invalidate_recordset()
        self.assertTrue(request.date_personal_data_purged)
        for signer_record in request.signer_ids:
            self.assertFalse(signer_record.email or signer_record.mobile or signer_record.id_doc_number
                             or signer_record.id_doc_expiry or signer_record.signature_image)
        self.assertFalse(self.env["ir.attachment"].sudo().search([
            ("res_model", "=", "o2s.esign.signer"), ("res_field", "=", "signature_image"),
            ("res_id", "in", request.signer_ids.ids)]), "the signature images are gone")
        self.assertFalse(id_document.file, "the scan is purged")
        self.assertFalse(id_document.sha256)
        # what stays: the evidence (same bytes), the hashes, the name, the certificate
        self.assertEqual(request.evidence_attachment_id, kept["evidence"])
        self.assertEqual(request.evidence_sha256, kept["evidence_sha256"])
        self.assertEqual(request.evidence_attachment_id.raw, kept["evidence_raw"])
        self.assertEqual(signer.id_doc_sha256, kept["id_doc_sha256"])
        self.assertEqual(signer.signature_sha256, kept["signature_sha256"])
        self.assertEqual(signer.name, kept["name"])
        self.assertEqual(signer.signing_certificate, kept["certificate"])
        # the purge is an event of the intact, append-only trail, naming no personal data
        event = self._purged_events(request)
        self.assertEqual(len(event), 1)
        payload = json.loads(event.payload)
        self.assertEqual(payload["retention_years"], 5)
        self.assertEqual(payload["evidence_sha256"], kept["evidence_sha256"])
        self.assertEqual(payload["id_document_scans"], [
            {"id": doc.id, "sha256": s.id_doc_sha256}
            for s in request.signer_ids for doc in s.id_document_id])
        self.assertIn({"id": id_document.id, "sha256": kept["id_doc_sha256"]},
                      payload["id_document_scans"])
        self.assertIn("email", {name for entry in payload["signers"] for name in entry["fields"]})
        self.assertNotIn("@", event.payload)
        self.assertTrue(request.verify_event_chain()[request.id]["ok"])
        # a second run finds nothing
        self.assertEqual(self._purge_at(closed + relativedelta(years=6)), 0)
        self.assertEqual(len(self._purged_events(request)), 1)
        # the attestation made before is still there; none can be made any more
        signer.with_user(self.advisor).action_download_attestation()
        self.assertEqual(signer.attestation_attachment_id, attestation)
        other = request.signer_ids - signer
        with self.assertRaisesRegex(UserError, "purged at the end of its retention period"):
            other.with_user(self.advisor).action_download_attestation()
        # the evidence still downloads
        self.authenticate("esign_advisor", "esign_advisor")
        response = self.url_open("/esign/evidence/%d/download" % request.id)
        self.assertEqual(response.content, kept["evidence_raw"])

    def test_shorter_period_and_shared_scans(self):
        """One year for this company; a scan another request still needs is kept."""
        self.company.sudo().esign_retention_years = 1
        cancelled = self._send(documents=1)
        cancelled.with_user(self.advisor).action_cancel("client changed their mind")
        self.assertFalse(cancelled.sudo().evidence_attachment_id, "built on demand only")
        still_open = self._send(documents=1)
        closed = cancelled.sudo().date_done
        self.assertEqual(self._purge_at(closed + relativedelta(years=1, days=1)), 2,
                         "this cancelled request and the signed one of the set-up")
        cancelled = cancelled.sudo()
        # the evidence was built before the purge, from the full data
        evidence = cancelled.evidence_attachment_id
        self.assertTrue(evidence)
        with zipfile.ZipFile(io.BytesIO(evidence.raw)) as archive:
            trail = archive.read("audit_trail.json").decode()
        self.assertIn("jeanne@example.com", trail)
        self.assertFalse(cancelled.signer_ids.filtered("email"))
        # the open request still uses the clients' identity documents: their scans stay
        self.assertEqual(still_open.signer_ids.id_document_id, cancelled.signer_ids.id_document_id)
        self.assertTrue(all(still_open.sudo().signer_ids.id_document_id.mapped("file")))
        self.assertEqual(json.loads(self._purged_events(cancelled).payload)["id_document_scans"], [])
        self.assertTrue(still_open.sudo().signer_ids.filtered("email"))

    @mute_logger("odoo.http", "odoo.sql_db")
    def test_contact_with_signature_history_is_archived_not_deleted(self):
        fault = self._rpc_fault("esign_advisor", "res.partner", "unlink", self.client.ids)
        self.assertIn("UserError", fault)
        self.assertIn("Jeanne Martin cannot be deleted", fault)
        self.assertIn("Archive the contact instead", fault)
        self.assertTrue(self.client.exists())
        # an administrator neither
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            self.client2.unlink()
        # archiving works
        self._rpc("esign_advisor", "res.partner", "write", self.client.ids, {"active": False})
        self.assertFalse(self.client.active)
        # a contact without any signature history is deleted as before
        newcomer = self._make_client("Nina New", "nina@example.com", "+33678901234",
                                     salesperson=self.advisor)
        self._rpc("esign_advisor", "res.partner", "unlink", newcomer.ids)
        self.assertFalse(newcomer.exists())

    def test_contact_a_signer_signed_for_is_kept(self):
        company = self.env["res.partner"].create({
            "name": "SCI Martin", "is_company": True, "esign_representative_id": self.client.id})
        self.env["o2s.esign.request"].with_user(self.advisor).create({
            "name": "For the company", "partner_id": self.client2.id,
            "signer_ids": [fields.Command.create({
                "partner_id": self.client.id, "role": "company_representative",
                "represented_partner_id": company.id})],
        })
        with self.assertRaisesRegex(UserError, "SCI Martin cannot be deleted"):
            company.unlink()
