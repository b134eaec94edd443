# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""PAdES signatures through the models, at every level, validated by pdfsig and pyHanko."""
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from ..lib import pdf as lib_pdf
from ..lib.errors import TsaError
from ..tools import internal_write
from .common_signing import O2sEsignSigningCommon, sha256


@tagged("post_install", "-at_install")
class TestEsignSigningLevels(O2sEsignSigningCommon):

    def _check_flow(self, level, tsa=True):
        """Send 2 documents to 2 signers, sign one after the other, seal; check every revision."""
        self._configure(level, tsa=tsa)
        request = self._send()
        self.assertEqual(request.pades_level, level)
        for document in request.document_ids:
            original = document.original_attachment_id.raw
            prepared = document.prepared_attachment_id.raw
            self.assertTrue(lib_pdf.revision_prefixes_ok(original, prepared))
            self.assertEqual(document.original_sha256, sha256(original))
            self.assertEqual(document.prepared_sha256, sha256(prepared))
            self.assertNotEqual(document.original_sha256, document.prepared_sha256)
            self.assertEqual(lib_pdf.inspect_pdf(prepared, max_bytes=10**8).page_count,
                             document.page_count + 1, "a signature page is appended")
        first, second = request.signer_ids.sorted("sequence")

        self._portal_sign(first)
        after_first = self._document_bytes(request)
        for document in request.document_ids:
            data = after_first[document.id]
            self.assertTrue(data.startswith(document.prepared_attachment_id.raw))
            reports = self.assertAllValid(data, 1)
            self.assertEqual(reports[0].field_name, first._esign_field_name())
            self.assertEqual(reports[0].signer_cn, first.name)
            self.assertEqual(reports[0].signer_email, first.email)
            self.assertEqual(reports[0].level, level)
            self.assertEqual(document.pades_level_achieved, level)
        self.assertEqual(request.state, "in_progress")
        self.assertIn("BEGIN CERTIFICATE", first.signing_certificate)

        self._portal_sign(second)
        self.assertEqual(request.state, "signed")
        for document in request.document_ids:
            final = document.signed_attachment_id.raw
            self.assertTrue(final.startswith(after_first[document.id]), "append-only")
            self.assertEqual(document.signed_sha256, sha256(final))
            self.assertTrue(document.date_sealed)
            self.assertEqual(document.pades_level_achieved, level)
            reports = self.assertAllValid(final, 3)
            signatures = [r for r in reports if r.kind == "signature"]
            self.assertEqual([r.field_name for r in signatures],
                             [first._esign_field_name(), second._esign_field_name(), "CompanySeal"])
            self.assertEqual([r.signer_cn for r in signatures],
                             [first.name, second.name, self.material.seal.subject_cn])
            for report in signatures:
                self.assertEqual(report.level, level, report.field_name)
                self.assertEqual(report.timestamp_time is not None, level != "b_b")
            doc_timestamps = [r for r in reports if r.kind == "doc_timestamp"]
            # B-LTA: each signature and the seal end with a document timestamp
            self.assertEqual(len(doc_timestamps), 3 if level == "b_lta" else 0)
        events = request.event_ids.filtered(lambda e: e.event_type == "document_signature")
        self.assertEqual(len(events), 4)
        seals = request.event_ids.filtered(lambda e: e.event_type == "document_seal")
        self.assertEqual(len(seals), 2)
        self.assertEqual(request.pades_level_achieved, level)
        self.assertTrue(request.evidence_attachment_id)
        self.assertTrue(request.verify_event_chain()[request.id]["ok"])
        return request

    def test_level_b_b_without_tsa(self):
        request = self._check_flow("b_b", tsa=False)
        payload = request.event_ids.filtered(
            lambda e: e.event_type == "document_signature")[:1].payload
        self.assertIn('"tsa":"none: B-B only"', payload)
        self.assertIn("No timestamp authority", self.company.esign_level_note)

    def test_level_b_t(self):
        request = self._check_flow("b_t")
        payload = request.event_ids.filtered(
            lambda e: e.event_type == "document_signature")[:1].payload
        self.assertIn(self.pki.tsa_url, payload)
        self.assertIn('"timestamp_token_sha256":"', payload)
        first = request.signer_ids.sorted("sequence")[0]
        self.assertIn('"signature_image_sha256":"%s"' % self._signature(first)["image_sha256"],
                      payload)

    def test_level_b_lt(self):
        self._check_flow("b_lt")

    def test_level_b_lta(self):
        self._check_flow("b_lta")

    def test_appearance_on_last_page_when_configured(self):
        self._configure("b_b", tsa=False)
        self.company.esign_signature_placement = "last_page"
        request = self._send(documents=1)
        document = request.document_ids
        prepared = document.prepared_attachment_id.raw
        self.assertEqual(lib_pdf.inspect_pdf(prepared, max_bytes=10**8).page_count,
                         document.page_count, "no page added")
        self._sign_all(request)
        self.assertEqual(request.state, "signed")
        self.assertAllValid(document.signed_attachment_id.raw, 3)

    def test_tsa_credentials_are_read_through_one_method(self):
        self.company.sudo().write({"esign_tsa_url": " %s " % self.pki.tsa_url,
                                   "esign_tsa_username": "o2s", "esign_tsa_password": "s3cret"})
        config = self.company._esign_tsa_config()
        self.assertEqual((config.url, config.username, config.password),
                         (self.pki.tsa_url, "o2s", "s3cret"))
        self.assertNotIn("s3cret", repr(config))
        # the settings' encrypted secret store wins when it exists
        with patch.object(type(self.company), "_esign_get_secret", create=True,
                          new=lambda company, name: "from-store:" + name):
            self.assertEqual(self.company._esign_tsa_config().password, "from-store:tsa_password")
        self.company.sudo().write({"esign_tsa_url": False, "esign_pades_level": "b_b"})
        self.assertIsNone(self.company._esign_tsa_config())
        self.assertEqual(self.company._esign_effective_level("b_lta"), ("b_b", None))

    def test_level_needs_tsa(self):
        self._configure("b_b", tsa=False)
        with self.assertRaisesRegex(Exception, "timestamp authority"):
            self.company.sudo().write({"esign_pades_level": "b_t"})


@tagged("post_install", "-at_install")
class TestEsignSigningFailures(O2sEsignSigningCommon):

    def test_tsa_down_while_signing_changes_nothing_then_retry(self):
        self._configure("b_t")
        request = self._send()
        first = request.signer_ids.sorted("sequence")[0]
        before = {d.id: (d.signed_sha256, d.signed_attachment_id) for d in request.document_ids}
        events_before = len(request.event_ids)
        self.pki.stop()
        try:
            with self.assertRaises(TsaError) as caught:
                first.sudo()._sign_documents(self._signature(first))
            self.assertTrue(caught.exception.transient)
            # what the signing page does with a transient error
            request._set_error(request._esign_error_message(caught.exception), transient=True)
        finally:
            self.pki.start()
        self.assertEqual(request.state, "error")
        self.assertIn("cannot be reached", request.error_message)
        after = {d.id: (d.signed_sha256, d.signed_attachment_id) for d in request.document_ids}
        self.assertEqual(before, after, "no document changed")
        self.assertFalse(first.signing_certificate)
        self.assertFalse(request.event_ids.filtered(lambda e: e.event_type == "document_signature"))
        self.assertGreater(len(request.event_ids), events_before)
        # the TSA is back: retry, then the signer's kept intent is applied again
        request.with_user(self.advisor).action_retry()
        self.assertEqual(request.state, "in_progress")
        self._sign_all(request)
        self.assertEqual(request.state, "signed")
        for document in request.document_ids:
            self.assertNotEqual(document.signed_sha256, before[document.id][0])
            self.assertAllValid(document.signed_attachment_id.raw, 3)

    def test_tsa_fails_on_the_second_document_nothing_stored(self):
        """All or nothing across documents (signed together, their time-stamp requests at
        once): the TSA answers for one document, then fails (HTTP 503) for the other: neither
        document is changed."""
        self._configure("b_t")
        request = self._send()
        self.assertEqual(len(request.document_ids), 2)
        first = request.signer_ids.sorted("sequence")[0]
        before = {d.id: d.signed_sha256 for d in request.document_ids}
        from ..models import res_company
        tsa = request.company_id._esign_tsa_config()
        res_company.pades_signer().timestamp(b"warm-up: the authority's dummy token", tsa)
        served = len(self.pki.requests)
        self.pki.fail_with(503, after=1)
        try:
            with self.assertRaises(TsaError):
                first.sudo()._sign_documents(self._signature(first))
        finally:
            self.pki.fail_with(None)
        self.assertEqual(len([path for path in self.pki.requests[served:] if "/tsa" in path]), 2,
                         "one time-stamp answered, one refused")
        self.assertEqual(before, {d.id: d.signed_sha256 for d in request.document_ids})
        self.assertFalse(first.date_signature_applied)

    def test_tsa_down_while_sealing_then_retry(self):
        self._configure("b_lta")
        request = self._send()
        first, second = request.signer_ids.sorted("sequence")
        self._portal_sign(first)
        second.sudo()._sign_documents(self._signature(second))
        signed = {d.id: d.signed_sha256 for d in request.document_ids}
        self.pki.stop()
        try:
            with internal_write():
                second.sudo().write({"state": "signed", "date_signed": fields.Datetime.now()})
            request._check_completion()
            self.assertTrue(request.sealing_pending)
            self.assertEqual(request.state, "in_progress", "the last signature is taken")
            self.esign_run_sealing()
        finally:
            self.pki.start()
        self.assertEqual(request.state, "error")
        self.assertTrue(request.error_transient)
        self.assertEqual(signed, {d.id: d.signed_sha256 for d in request.document_ids},
                         "no document half-sealed")
        self.assertFalse(request.document_ids.filtered("date_sealed"))
        self.assertFalse(request.evidence_attachment_id)
        request.with_user(self.advisor).action_retry()
        self.assertEqual((request.state, request.sealing_pending), ("in_progress", True))
        self.esign_run_sealing()
        self.assertEqual(request.state, "signed")
        for document in request.document_ids:
            self.assertTrue(document.date_sealed)
            self.assertAllValid(document.signed_attachment_id.raw, 3)
        self.assertTrue(request.evidence_attachment_id)

    def test_sign_documents_is_idempotent_and_checks_the_signer(self):
        self._configure("b_b", tsa=False)
        request = self._send(documents=1)
        first, second = request.signer_ids.sorted("sequence")
        self._portal_sign(first)
        revision = request.document_ids.signed_sha256
        self.assertFalse(first.sudo()._sign_documents(self._signature(first)), "already applied: nothing done")
        self.assertEqual(request.document_ids.signed_sha256, revision)
        request.with_user(self.advisor).action_cancel()
        with self.assertRaisesRegex(Exception, "no longer open"):
            second.sudo()._sign_documents(self._signature(second))

    def test_signer_fields_are_not_writable(self):
        self._configure("b_b", tsa=False)
        request = self._send(documents=1)
        signer = request.signer_ids[:1].with_user(self.advisor)
        with self.assertRaisesRegex(Exception, "follows the signature process"):
            signer.write({"signing_certificate": "x"})
        with self.assertRaisesRegex(Exception, "set by the signature process"):
            request.document_ids.with_user(self.advisor).write({"date_sealed": "2026-01-01"})
