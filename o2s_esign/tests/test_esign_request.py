# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The request: its state machine, the checks made before sending, what sending records, and the
audit events every action writes."""
import base64
import hashlib
import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command
from odoo.tests import tagged

from ..models.o2s_esign_request import ALLOWED_TRANSITIONS
from ..tools import internal_write
from .common import O2sEsignCommon, make_pdf
from .samples import bad_files, large_pdf

STATES = ["draft", "in_progress", "signed", "refused", "cancelled", "expired", "error"]
LABELS = {"draft": "Draft", "in_progress": "In progress", "signed": "Signed", "refused": "Refused",
          "cancelled": "Cancelled", "expired": "Expired", "error": "Error"}


class EsignRequestCase(O2sEsignCommon):

    def _events(self, request):
        return request.event_ids.sorted("sequence")

    def _event_types(self, request, after=0):
        return [e.event_type for e in self._events(request) if e.sequence > after]

    def _counts(self):
        """Everything a failed send must not leave behind."""
        env = self.env
        return (env["o2s.esign.request"].search_count([]), env["o2s.esign.document"].search_count([]),
                env["o2s.esign.signer"].search_count([]), env["o2s.esign.event"].search_count([]),
                env["ir.attachment"].search_count([]))

    def _assert_refused(self, request, *sentences):
        """``action_send`` refuses with one error naming every sentence; nothing was sent."""
        with self.assertRaises(UserError) as caught:
            request.action_send()
        message = str(caught.exception)
        self.assertTrue(message.startswith("The request cannot be sent:"), message)
        for sentence in sentences:
            self.assertIn(sentence, message)
        self.assertEqual(request.state, "draft")
        self.assertFalse(request.event_ids)
        self.assertFalse(request.document_ids.filtered("original_sha256"))
        return message


@tagged("post_install", "-at_install")
class TestEsignStateMachine(EsignRequestCase):

    def test_every_transition_is_allowed_or_refused_by_the_machine(self):
        request = self._sent_request()
        checked = 0
        for old in STATES:
            for new in STATES:
                with internal_write():
                    request.write({"state": old})
                before = len(request.event_ids)
                if new in ALLOWED_TRANSITIONS[old]:
                    request._set_state(new)
                    self.assertEqual(request.state, new)
                    event = self._events(request)[-1]
                    self.assertEqual(event.event_type, "state_changed")
                    self.assertEqual(json.loads(event.payload), {"old_state": old, "new_state": new})
                else:
                    with self.assertRaises(UserError) as caught:
                        request._set_state(new)
                    self.assertIn("cannot go from “%s” to “%s”" % (LABELS[old], LABELS[new]),
                                  str(caught.exception))
                    self.assertEqual(request.state, old)
                    self.assertEqual(len(request.event_ids), before)
                checked += 1
        self.assertEqual(checked, 49)
        # The machine itself: only open states move, final states never do.
        self.assertEqual(ALLOWED_TRANSITIONS["draft"], {"in_progress"})
        for final in ("signed", "refused", "cancelled", "expired"):
            self.assertFalse(ALLOWED_TRANSITIONS[final])
        self.assertTrue(request.verify_event_chain()[request.id]["ok"])

    def test_public_actions_check_the_state(self):
        request = self._sent_request()
        with self.assertRaisesRegex(UserError, "cannot go from “In progress” to “In progress”"):
            request.action_send()
        with self.assertRaisesRegex(UserError, "Only a request in error can be retried"):
            request.action_retry()
        with internal_write():
            request.write({"state": "signed"})
        with self.assertRaisesRegex(UserError, "cannot go from “Signed” to “Cancelled”"):
            request.action_cancel(reason="too late")
        with self.assertRaisesRegex(UserError, "Only a request in progress can be reminded"):
            request.action_remind()
        self.assertEqual(request.state, "signed")
        draft = self._draft_request()
        with self.assertRaisesRegex(UserError, "cannot go from “Draft” to “Cancelled”"):
            draft.action_cancel()

    def test_state_and_dates_are_not_writable(self):
        request = self._sent_request()
        for values in ({"state": "signed"}, {"date_done": fields.Datetime.now()},
                       {"cancel_reason": "x"}, {"event_head": "0" * 64}):
            with self.assertRaises(UserError):
                request.write(values)
        self.assertEqual(request.state, "in_progress")
        with self.assertRaisesRegex(UserError, "always created as a draft"):
            self.env["o2s.esign.request"].create({
                "name": "x", "partner_id": self.client.id, "state": "signed"})

    def test_sent_request_cannot_be_deleted(self):
        request = self._sent_request()
        with self.assertRaisesRegex(UserError, "kept for its evidence"):
            request.unlink()
        draft = self._draft_request()
        draft.unlink()
        self.assertFalse(draft.exists())


@tagged("post_install", "-at_install")
class TestEsignSendChecks(EsignRequestCase):
    """Sending refuses with one clear error listing every problem; nothing is sent."""

    def test_missing_email(self):
        self.client.email = False
        self._assert_refused(self._draft_request(), "Jeanne Martin has no email address.")

    def test_invalid_email(self):
        self.client.email = "jeanne at example"
        self._assert_refused(self._draft_request(), "Jeanne Martin has an invalid email address")

    def test_missing_mobile(self):
        self.client.mobile = False
        self._assert_refused(self._draft_request(), "Jeanne Martin has no mobile number.")

    def test_invalid_mobile(self):
        self.client.mobile = "+33 6 12"
        self._assert_refused(self._draft_request(), "Jeanne Martin has an invalid mobile number (+33 6 12).")

    def test_landline_is_not_a_mobile(self):
        self.client.mobile = "+33 1 42 68 53 00"
        self._assert_refused(self._draft_request(), "+33 1 42 68 53 00 is not a mobile number")

    def test_national_mobile_uses_the_contact_country_and_is_stored_e164(self):
        self.client.mobile = "06 12 34 56 78"
        request = self._sent_request()
        self.assertEqual(request.signer_ids.mobile, "+33612345678")
        # The same digits are not a valid number in another country.
        belgian = self._make_client("Lucas Peeters", "lucas@example.be", "06 12 34 56 78",
                                    salesperson=self.advisor, country_id=self.env.ref("base.be").id)
        self._assert_refused(self._draft_request(partner=belgian), "Lucas Peeters")

    def test_expired_identity_document(self):
        self.client.esign_id_document_ids.date_expiry = fields.Date.today() - timedelta(days=1)
        self._assert_refused(self._draft_request(), "Jeanne Martin has no identity document valid today.")

    def test_identity_document_valid_until_today_is_accepted(self):
        self.client.esign_id_document_ids.date_expiry = fields.Date.today()
        request = self._sent_request()
        self.assertEqual(request.signer_ids.id_doc_expiry, fields.Date.today())

    def test_no_identity_document(self):
        nobody = self._make_client("Paul Sans", "paul@example.com", "+33634567890",
                                   salesperson=self.advisor, with_id=False)
        self._assert_refused(self._draft_request(partner=nobody), "Paul Sans has no identity document valid today.")

    def test_no_document_no_signer_past_deadline(self):
        request = self._draft_request(documents=0, signers=[],
                                      date_deadline=fields.Date.today() - timedelta(days=1))
        self._assert_refused(request, "Add at least one PDF document.", "Add at least one signer.",
                             "The expiry date is in the past.")

    def test_same_signer_twice(self):
        request = self._draft_request(signers=[{"partner_id": self.client.id, "sequence": 1},
                                               {"partner_id": self.client.id, "sequence": 2}])
        self._assert_refused(request, "Jeanne Martin is listed twice as a signer.")

    def test_company_signs_through_its_representative(self):
        company = self._make_client("Durand SARL", "contact@durand.example.com", "+33645678901",
                                    salesperson=self.advisor, with_id=False, is_company=True)
        request = self._draft_request(partner=company, signers=[{"partner_id": company.id}])
        self._assert_refused(
            request, "Durand SARL is a company: its representative must sign for it.",
            "Durand SARL is a company: add the person who signs on its behalf.")
        with self.assertRaisesRegex(UserError, "choose who signs on its behalf"):
            company._esign_default_signers()
        company.esign_representative_id = self.client2
        request = self._sent_request(partner=company)
        self.assertEqual(request.signer_ids.partner_id, self.client2)
        self.assertEqual(request.signer_ids.role, "company_representative")
        self.assertEqual(request.signer_ids.represented_partner_id, company)

    def test_tutelle_the_legal_representative_signs(self):
        ward = self._protected_client("tutelle", self.client2)
        self._assert_refused(
            self._draft_request(partner=ward, signers=[{"partner_id": ward.id}]),
            "Marc Tutelle is under guardianship (tutelle): their legal representative signs on their behalf.",
            "their legal representative must sign on their behalf")
        request = self._sent_request(partner=ward)
        self.assertEqual(request.signer_ids.partner_id, self.client2)
        self.assertEqual(request.signer_ids.role, "legal_representative")
        self.assertEqual(request.signer_ids.represented_partner_id, ward)

    def test_curatelle_both_sign(self):
        person = self._protected_client("curatelle", self.client2)
        self._assert_refused(
            self._draft_request(partner=person, signers=[{"partner_id": person.id}]),
            "Anne Curatelle is under curatorship (curatelle): they and their curator must both sign.")
        request = self._sent_request(partner=person)
        self.assertEqual(request.signer_ids.mapped("partner_id"), person | self.client2)
        self.assertEqual(sorted(request.signer_ids.mapped("role")), ["legal_representative", "signer"])

    def test_a_representative_must_be_one(self):
        request = self._draft_request(signers=[
            {"partner_id": self.client.id},
            {"partner_id": self.client2.id, "role": "legal_representative",
             "represented_partner_id": self.client.id},
            {"partner_id": self.advisor.partner_id.id, "role": "legal_representative"},
        ])
        self._assert_refused(request, "Louis Durand is not a legal representative of Jeanne Martin",
                             "Alice Advisor signs as a representative: say on whose behalf.")

    def test_every_problem_in_one_error(self):
        self.client.write({"email": False, "mobile": False})
        self.client2.esign_id_document_ids.date_expiry = fields.Date.today() - timedelta(days=3)
        request = self._draft_request(
            signers=[{"partner_id": self.client.id}, {"partner_id": self.client2.id}],
            date_deadline=fields.Date.today() - timedelta(days=1))
        message = self._assert_refused(
            request, "Jeanne Martin has no email address.", "Jeanne Martin has no mobile number.",
            "Louis Durand has no identity document valid today.", "The expiry date is in the past.")
        self.assertEqual(message.count("\n• "), 4, message)

    def test_pdf_checks_on_documents(self):
        request = self._draft_request()
        for case, (data, sentence) in bad_files().items():
            with self.subTest(case=case), self.assertRaises(ValidationError) as caught:
                self.env["o2s.esign.document"].create({
                    "name": "%s.pdf" % case, "request_id": request.id,
                    "original_attachment_id": self._attachment(data, "%s.pdf" % case).id})
            self.assertIn("%s.pdf %s" % (case, sentence), str(caught.exception))

    def test_size_limit_is_a_setting(self):
        self.company.esign_max_upload_mb = 1
        request = self._draft_request(documents=0)
        with self.assertRaisesRegex(ValidationError, "big.pdf is larger than the 1.0 MB allowed"):
            self.env["o2s.esign.document"].create({
                "name": "big.pdf", "request_id": request.id,
                "original_attachment_id": self._attachment(large_pdf(1), "big.pdf").id})
        self.company.esign_max_upload_mb = 2
        self.env["o2s.esign.document"].create({
            "name": "big.pdf", "request_id": request.id,
            "original_attachment_id": self._attachment(large_pdf(1), "big.pdf").id})
        request.action_send()
        self.assertEqual(request.state, "in_progress")

    def test_default_size_limit_is_20_mb(self):
        company = self.env["res.company"].create({"name": "Fresh company"})
        self.assertEqual(company.esign_max_upload_mb, 20)


@tagged("post_install", "-at_install")
class TestEsignSend(EsignRequestCase):

    def test_hashes_recorded_before_any_signer_is_invited(self):
        request = self._draft_request(documents=2)
        originals = {d.id: d.original_attachment_id.raw for d in request.document_ids}
        request.action_send()
        self.assertEqual(request.state, "in_progress")
        self.assertTrue(request.date_sent)
        for document in request.document_ids:
            self.assertEqual(document.original_sha256, hashlib.sha256(originals[document.id]).hexdigest())
            self.assertEqual(document.prepared_sha256,
                             hashlib.sha256(document.prepared_attachment_id.raw).hexdigest())
            self.assertTrue(document.file_size and document.page_count)
        events = self._events(request)
        self.assertEqual(events[0].event_type, "created")
        created = json.loads(events[0].payload)
        self.assertEqual({d["original_sha256"] for d in created["documents"]},
                         set(request.document_ids.mapped("original_sha256")))
        first_invite = events.filtered(lambda e: e.event_type == "signer_invited")[:1]
        self.assertLess(events[0].sequence, first_invite.sequence)

    def test_documents_are_frozen_once_sent(self):
        request = self._sent_request()
        document = request.document_ids
        original = document.original_attachment_id
        self.assertEqual((original.res_model, original.res_id), ("o2s.esign.document", document.id))
        admin = self.env.ref("base.user_admin")
        for env in (self.env(user=self.advisor), self.env(user=admin), self.env(user=admin, su=True)):
            with self.assertRaisesRegex(UserError, "cannot be changed once it is sent"):
                document.with_env(env).write({"name": "other.pdf"})
            with self.assertRaisesRegex(UserError, "its file can no longer change"):
                original.with_env(env).write({"raw": make_pdf("forged")})
            with self.assertRaisesRegex(UserError, "its file can no longer change"):
                original.with_env(env).write({"res_model": "res.partner", "res_id": self.client.id})
            with self.assertRaisesRegex(UserError, "kept for the evidence"):
                original.with_env(env).unlink()
            with self.assertRaisesRegex(UserError, "kept for its evidence"):
                document.with_env(env).unlink()
        with self.assertRaisesRegex(UserError, "cannot be added to a request once it is sent"):
            self.env(user=self.advisor)["o2s.esign.document"].create({
                "name": "late.pdf", "request_id": request.id,
                "original_attachment_id": self._attachment(name="late.pdf", user=self.advisor).id})
        with self.assertRaisesRegex(UserError, "cannot be changed once it is sent"):
            request.signer_ids.write({"partner_id": self.client2.id})
        with self.assertRaisesRegex(UserError, "cannot be changed once sent"):
            request.write({"partner_id": self.client2.id})
        # Rewriting the same bytes (as moving the storage does) is not a change.
        original.with_user(admin).write({"raw": original.raw})
        self.assertEqual(hashlib.sha256(original.raw).hexdigest(), document.original_sha256)
        # A draft's documents can still change.
        draft = self._draft_request()
        draft.document_ids.original_attachment_id.write({"raw": make_pdf("new version")})
        draft.document_ids.write({"name": "renamed.pdf"})

    def test_every_action_writes_events_and_the_chain_holds(self):
        request = self._draft_request(
            signers=[{"partner_id": self.client.id, "sequence": 1},
                     {"partner_id": self.client2.id, "sequence": 2}],
            signing_order="sequential")
        request.action_send()
        self.assertEqual(self._event_types(request), [
            "created", "state_changed", "sent", "signer_invited", "email_queued"])
        first, second = request.signer_ids.sorted("sequence")
        self.assertEqual((first.state, second.state), ("pending", "waiting"))
        head = self._events(request)[-1].sequence

        request.action_remind()
        self.assertEqual(self._event_types(request, head), ["email_queued", "reminder_sent"])
        self.assertEqual(json.loads(self._events(request)[-2].payload)["kind"], "reminder")
        self.assertTrue(json.loads(self._events(request)[-1].payload)["manual"])
        head = self._events(request)[-1].sequence

        request.date_deadline = fields.Date.today() + timedelta(days=60)
        self.assertEqual(self._event_types(request, head), ["deadline_changed"])
        head = self._events(request)[-1].sequence

        request._set_error("SMS gateway unreachable")
        self.assertEqual(request.state, "error")
        self.assertEqual(self._event_types(request, head), ["state_changed", "error"])
        head = self._events(request)[-1].sequence

        request.action_retry()
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(self._event_types(request, head)[:2], ["state_changed", "retried"])
        head = self._events(request)[-1].sequence

        request.action_cancel(reason="The client changed their mind")
        # the invited signer is told; the one waiting for their turn never heard of it
        self.assertEqual(self._event_types(request, head), [
            "state_changed", "cancelled", "email_queued"])
        self.assertTrue(request.verify_event_chain()[request.id]["ok"])
        self.assertEqual(self._events(request).mapped("sequence"),
                         list(range(1, len(request.event_ids) + 1)))

    def test_cancel_keeps_the_reason_and_tells_the_signers(self):
        request = self._sent_request()
        with patch.object(type(self.env["o2s.esign.signer"]), "_notify_cancel", autospec=True) as notify:
            request.with_user(self.advisor).action_cancel(reason="  Wrong document  ")
        self.assertEqual(request.state, "cancelled")
        self.assertEqual(request.cancel_reason, "Wrong document")
        self.assertTrue(request.date_done)
        self.assertEqual(notify.call_count, 1)
        self.assertEqual(notify.call_args.args[0], request.signer_ids)
        cancelled = self._events(request).filtered(lambda e: e.event_type == "cancelled")
        payload = json.loads(cancelled.payload)
        self.assertEqual((payload["reason"], payload["user_id"]), ("Wrong document", self.advisor.id))
        self.assertIn("Wrong document", request.message_ids[:1].body)
        with self.assertRaisesRegex(UserError, "cannot go from “Cancelled” to “Cancelled”"):
            request.action_cancel()

    def test_cancel_without_reason(self):
        request = self._sent_request()
        request.action_cancel()
        self.assertEqual(request.state, "cancelled")
        self.assertFalse(request.cancel_reason)
        self.assertIsNone(json.loads(self._events(request).filtered(
            lambda e: e.event_type == "cancelled").payload)["reason"])

    def _commit_tracking(self, env):
        """What a commit does for the chatter: write the pending tracking messages."""
        env.flush_all()
        env.cr.precommit.run()
        env.invalidate_all()

    def test_chatter_tracking_and_activities(self):
        env = self.env(context=dict(self.env.context, tracking_disable=False, mail_notrack=False))
        request = self._draft_request().with_env(env)
        request.action_send()
        self._commit_tracking(env)  # the request was created and sent in this transaction
        self.assertIn("Signature request sent to Jeanne Martin", request.message_ids[0].body)
        request.with_user(self.advisor).action_cancel(reason="Duplicate")
        self._commit_tracking(env)
        tracked = request.message_ids.tracking_value_ids.filtered(lambda t: t.field_id.name == "state")
        self.assertEqual((tracked.old_value_char, tracked.new_value_char), ("In progress", "Cancelled"))
        self.assertIn("<p>Reason: Duplicate</p>", "".join(request.message_ids.mapped("body")))
        other = self._sent_request().with_env(env)
        other._set_error("The timestamp authority did not answer", transient=False)
        activity = other.activity_ids
        self.assertEqual(activity.user_id, self.advisor)
        self.assertEqual(activity.summary, "Signature request in error")
        self.assertIn("The timestamp authority did not answer", activity.note)

    def test_tracking_from_the_contact(self):
        first, second = self._sent_request(), self._sent_request()
        self._sent_request(partner=self.client2)
        client = self.client.with_user(self.advisor)
        self.assertEqual(client.esign_request_count, 2)
        action = client.action_view_esign_requests()
        self.assertEqual(action["res_model"], "o2s.esign.request")
        self.assertIn("Jeanne Martin", action["name"])
        self.assertEqual(self.env["o2s.esign.request"].with_user(self.advisor).search(action["domain"]),
                         first | second)
        # The list shows the status, the signers and the dates, and cancels from the row.
        arch = self.env["o2s.esign.request"].with_user(self.advisor).get_view(view_type="list")["arch"]
        for marker in ('name="state"', 'name="signer_ids"', 'name="date_sent"', 'name="date_deadline"',
                       'name="action_open_cancel_wizard"'):
            self.assertIn(marker, arch)
        action = client.action_esign_sign()
        self.assertEqual((action["res_model"], action["target"]), ("o2s.esign.request.wizard", "new"))
        self.assertEqual(action["context"]["default_partner_ids"], self.client.ids)

    def test_create_and_send_in_one_call(self):
        attachment = self._attachment(name="mission.pdf", user=self.advisor)
        mission = self.env.ref("o2s_esign.document_type_mission_letter")
        Request = self.env(user=self.advisor)["o2s.esign.request"]
        request = Request.browse(Request.create_and_send({
            "partner_id": self.client.id,
            "documents": [
                {"attachment_id": attachment.id, "document_type_id": mission.id},
                {"name": "annex.pdf", "datas": base64.b64encode(make_pdf("annex")).decode()},
            ],
            "message": "Please sign",
            "origin_model": "res.partner", "origin_id": self.client2.id,
        }))
        self.assertEqual(request.state, "in_progress")
        self.assertEqual(request.name, "mission, annex")  # the default subject: no ".pdf"
        self.assertEqual(request.document_ids.mapped("document_type_id"), mission)
        self.assertNotIn(attachment, request.document_ids.original_attachment_id)
        self.assertEqual(request.signer_ids.partner_id, self.client)
        self.assertEqual((request.origin_model, request.origin_id), ("res.partner", self.client2.id))
        self.assertEqual(request.user_id, self.advisor)
        # The manager reads the original files (they belong to the documents, not to the advisor).
        for document in request.document_ids.with_user(self.esign_manager):
            self.assertTrue(document.original_attachment_id.raw.startswith(b"%PDF-"))

    def test_create_and_send_lists_every_problem_and_creates_nothing(self):
        self.client.mobile = False
        self.client2.esign_id_document_ids.date_expiry = fields.Date.today() - timedelta(days=1)
        before = self._counts()
        with self.assertRaises(UserError) as caught:
            self.env(user=self.advisor)["o2s.esign.request"].create_and_send({
                "partner_id": self.client.id,
                "documents": [{"name": "notes.pdf", "datas": base64.b64encode(b"plain text").decode()}],
                "signers": [{"partner_id": self.client.id}, {"partner_id": self.client2.id}],
            })
        message = str(caught.exception)
        for sentence in ("Jeanne Martin has no mobile number.",
                         "Louis Durand has no identity document valid today.",
                         "notes.pdf is not a PDF file."):
            self.assertIn(sentence, message)
        self.assertEqual(self._counts(), before)

    def test_create_and_send_rolls_back_when_sending_fails_late(self):
        before = self._counts()
        with patch.object(type(self.env["o2s.esign.signer"]), "_send_invitation",
                          side_effect=UserError("mail server down")), \
                self.assertRaisesRegex(UserError, "mail server down"):
            self.env(user=self.advisor)["o2s.esign.request"].create_and_send({
                "partner_id": self.client.id,
                "documents": [{"name": "a.pdf", "datas": base64.b64encode(make_pdf()).decode()}],
            })
        self.assertEqual(self._counts(), before)

    def test_protected_client_defaults(self):
        """The client's default signers, as the wizard and create_and_send propose them."""
        ward = self._protected_client("tutelle")
        with self.assertRaisesRegex(UserError, "add their legal representative"):
            ward._esign_default_signers()
        ward.esign_legal_representative_ids = self.client2
        self.assertEqual(ward._esign_default_signers(), [{
            "partner_id": self.client2.id, "role": "legal_representative",
            "represented_partner_id": ward.id, "sequence": 20}])
        request = self._draft_request(partner=ward, signers=[])
        request.write({"signer_ids": [Command.create(v) for v in ward._esign_default_signers()]})
        request.action_send()
        self.assertEqual(request.state, "in_progress")
