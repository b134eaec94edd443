# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Mail templates (English and French, recipient's language), the mail report, resending,
bounces, and the contact's chatter."""
import base64
from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors
from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.o2s_esign.tests.common import make_pdf
from odoo.addons.o2s_esign.tools import internal_write

from .automation_common import DAY0, O2sEsignAutomationCommon

TEMPLATES = {
    "mail_template_esign_invite": "o2s.esign.signer",
    "mail_template_esign_reminder": "o2s.esign.signer",
    "mail_template_esign_cancel": "o2s.esign.signer",
    "mail_template_esign_confirmation": "o2s.esign.signer",
    "mail_template_esign_refused": "o2s.esign.signer",
    "mail_template_esign_expired": "o2s.esign.signer",
    "mail_template_esign_confirmation_advisor": "o2s.esign.request",
    "mail_template_esign_refused_advisor": "o2s.esign.request",
    "mail_template_esign_expired_advisor": "o2s.esign.request",
    "mail_template_esign_signer_locked_advisor": "o2s.esign.request",
}

BOUNCE = """From: MAILER-DAEMON@mx.example.com
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-Id: <bounce-{n}@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=utf-8

This is the mail system at host mx.example.com. The mail could not be delivered:
<{rcpt}>: host mx.example.com said: 550 5.1.1 User unknown

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: 5.1.1

--BOUNDARY
Content-Type: message/rfc822

Message-Id: {message_id}
From: {sender}
To: {rcpt}
Subject: {subject}

Hello
--BOUNDARY--
"""


@tagged("post_install", "-at_install")
class TestEsignMailTemplates(O2sEsignAutomationCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.client_fr = cls._make_client("Camille Dupont", "camille@example.com", "+33645678901",
                                         salesperson=cls.advisor, lang="fr_FR")

    def _mail(self, log):
        return log.mail_id.sudo()

    def test_templates_exist_on_the_right_models(self):
        for xmlid, model in TEMPLATES.items():
            template = self.env.ref("o2s_esign." + xmlid, raise_if_not_found=False)
            self.assertTrue(template, xmlid)
            self.assertEqual(template.model, model, xmlid)
            self.assertFalse(template.auto_delete, "kept for the mail report: %s" % xmlid)
            self.assertFalse(template._has_unsafe_expression(),
                             "%s only uses the placeholders options managers may use" % xmlid)
        sms = self.env.ref("o2s_esign.sms_template_esign_otp")
        self.assertFalse(sms._has_unsafe_expression())
        rendered = sms.with_context(esign_otp_code="123456")._render_field("body", self._send_on().signer_ids.ids)
        self.assertTrue(next(iter(rendered.values())).startswith("123456 is your code"))

    def test_reminder_in_the_recipients_language(self):
        reminder = self.env.ref("o2s_esign.mail_template_esign_reminder")
        reminder.with_context(lang="fr_FR").subject = "Rappel : {{ object.request_id.name }} attend votre signature"
        english = self._send_on()
        french = self._send_on(partner=self.client_fr)
        self.assertEqual(french.signer_ids.lang, "fr_FR")
        self.assertEqual(reminder._render_lang(french.signer_ids.ids), {french.signer_ids.id: "fr_FR"})
        # The advisor sends the reminders while using Odoo in English.
        with freeze_time("2026-03-04 08:00:00"):
            (english | french).with_user(self.advisor).with_context(lang="en_US").action_remind()
        mail_en = self._mail(self._logs("reminder", english))
        mail_fr = self._mail(self._logs("reminder", french))
        self.assertEqual(mail_en.subject, "Reminder: Test request is waiting for your signature")
        self.assertEqual(mail_fr.subject, "Rappel : Test request attend votre signature")
        self.assertIn("April 1, 2026", mail_en.body_html)
        self.assertIn("1 avril 2026", mail_fr.body_html)
        self.assertIn("Powered by", mail_en.body_html)
        self.assertIn("Généré par", mail_fr.body_html, "Odoo's layout is rendered in French too")
        self.assertEqual(mail_en.email_to, "jeanne@example.com")
        self.assertEqual(mail_en.email_from, self.advisor.email_formatted)
        self.assertEqual(mail_en.reply_to, self.advisor.email_formatted)
        link = english.signer_ids.esign_mail_link
        self.assertTrue(link.startswith(english.get_base_url()))
        self.assertIn('href="%s"' % link, mail_en.body_html)

    def test_signing_link_follows_the_signer_page(self):
        """The reminder carries whatever link the signer page gives (access_url)."""
        request = self._send_on()
        signer = request.signer_ids
        Signer = type(signer)

        def compute(signers):
            for record in signers:
                record.access_url = "/esign/sign/%s" % record.id

        with patch.object(Signer, "_compute_access_url", compute):
            signer.invalidate_recordset(["access_url", "esign_mail_link", "esign_mail_sign_button"])
            request.with_user(self.advisor).action_remind()
        body = self._mail(self._logs("reminder", request)).body_html
        self.assertIn("%s/esign/sign/%s" % (request.get_base_url(), signer.id), body)

    def test_cancel_refused_and_expired_mails(self):
        cancelled = self._send_on()
        cancelled.with_user(self.advisor).action_cancel(reason="The amount changed")
        mail = self._mail(self._logs("cancellation", cancelled))
        self.assertEqual(mail.subject, "Cancelled: Test request")
        self.assertIn("Reason: The amount changed", mail.body_html)

        refused = self._send_on(partner=self.client2, signers=[
            {"partner_id": self.client2.id, "sequence": 1}, {"partner_id": self.client_fr.id, "sequence": 2}])
        self._refuse(refused.signer_ids[0], reason="I disagree")
        to_other = self._logs("refusal", refused).filtered("signer_id")
        self.assertEqual(to_other.signer_id, refused.signer_ids[1])
        self.assertIn("Louis Durand", self._mail(to_other).body_html)
        to_advisor = self._logs("refusal", refused) - to_other
        self.assertEqual(to_advisor.email_to, self.advisor.email_formatted)
        self.assertIn("Reason: I disagree", self._mail(to_advisor).body_html)

        expired = self._send_on()
        expired.with_user(self.advisor).write({"date_deadline": fields.Date.to_date("2026-03-05")})
        self._expire("2026-03-06 01:00:00")
        mail = self._mail(self._logs("expiry", expired).filtered("signer_id"))
        self.assertEqual(mail.subject, "Expired: Test request")
        self.assertIn("March 5, 2026", mail.body_html)

    def test_confirmation_attaches_the_signed_documents(self):
        request = self._send_on(documents=2)
        for document in request.document_ids:
            with internal_write():  # as the signature process does (a sent document is frozen)
                signed = self.env["ir.attachment"].sudo().create({
                    "name": "signed_" + document.name, "raw": make_pdf("signed " + document.name),
                    "res_model": "o2s.esign.document", "res_id": document.id,
                    "mimetype": "application/pdf"})
                document.write({"signed_attachment_id": signed.id})
        self.assertEqual(request._get_confirmation_attachments(), request.document_ids.signed_attachment_id)
        self._sign(request.signer_ids)
        self.assertEqual(request.state, "signed")
        to_signer = self._logs("confirmation", request).filtered("signer_id")
        to_advisor = self._logs("confirmation", request) - to_signer
        for log in to_signer | to_advisor:
            self.assertEqual(self._mail(log).attachment_ids, request.document_ids.signed_attachment_id)
        self.assertEqual(self._mail(to_signer).subject, "Signed: Test request")
        self.assertIn("Signed by everyone", self._mail(to_advisor).subject)


@tagged("post_install", "-at_install")
class TestEsignMailReport(O2sEsignAutomationCommon):

    def _send_queue(self, fail_with=None):
        """Send the queued mails as Odoo's mail queue does (no network in tests)."""
        mails = self.env["mail.mail"].sudo().search([("state", "=", "outgoing")])
        if fail_with:
            with patch.object(type(self.env["ir.mail_server"]), "connect", side_effect=fail_with):
                mails.send()
        else:
            mails.send()
        return mails

    def test_statuses_failure_error_and_resend(self):
        request = self._send_on()
        with freeze_time("2026-03-04 08:00:00"):
            request.with_user(self.advisor).action_remind()
        log = self._logs("reminder", request)
        self.assertEqual((log.state, log.partner_id, log.signer_id), ("queued", self.client, request.signer_ids))
        self.assertEqual(log.email_from, self.advisor.email_formatted)
        # The mail server is down.
        with freeze_time("2026-03-04 08:05:00"):
            self._send_queue(fail_with=ConnectionRefusedError(111, "Connection refused"))
        self.assertEqual(log.state, "failed")
        self.assertIn("Connection refused", log.failure_reason)
        self.assertTrue(log.transient)
        self.assertEqual(request.state, "error")
        self.assertTrue(request.error_transient)
        self.assertIn("jeanne@example.com", request.error_message)
        # The advisor sends it again from the report once the server is back.
        log.with_user(self.advisor).action_resend()
        self.assertEqual(log.state, "queued")
        self.assertEqual(log.mail_id.state, "outgoing")
        self.assertEqual(request.state, "in_progress", "the request held by the failure goes on")
        self._send_queue()
        self.assertEqual(log.state, "sent")
        self.assertTrue(log.date_sent)
        self.assertEqual(log.send_count, 2)
        with self.assertRaises(UserError):
            log.with_user(self.advisor).action_resend()

    def test_no_invitation_sent_again_once_the_request_is_over(self):
        request = self._send_on()
        with freeze_time("2026-03-04 08:00:00"):
            request.with_user(self.advisor).action_remind()
            self._send_queue(fail_with=ConnectionRefusedError(111, "Connection refused"))
        log = self._logs("reminder", request)
        self.assertEqual(log.state, "failed")
        request.with_user(self.advisor).action_cancel()
        with self.assertRaisesRegex(UserError, "may still sign"):
            log.with_user(self.advisor).action_resend()
        self.assertEqual(log.mail_id.state, "exception", "not put back in the queue")

    def test_retry_cron_sends_the_failed_mails_again(self):
        request = self._send_on()
        with freeze_time("2026-03-04 08:00:00"):
            request.with_user(self.advisor).action_remind()
            self._send_queue(fail_with=ConnectionRefusedError(111, "Connection refused"))
        self.assertEqual(request.next_retry_date, fields.Datetime.to_datetime("2026-03-04 08:10:00"))
        self.assertEqual(self._retry("2026-03-04 08:10:00"), 1)
        self.assertEqual(self._logs("reminder", request).state, "queued")
        self._send_queue()
        self.assertEqual(self._logs("reminder", request).state, "sent")
        self.assertEqual((request.state, request.retry_count), ("in_progress", 0))

    def test_retry_replaces_a_failed_invitation(self):
        request = self._send_on()
        signer = request.signer_ids
        self._send_queue(fail_with=ConnectionRefusedError(111, "Connection refused"))
        failed = self._logs("invitation", request)
        self.assertEqual((failed.state, request.state, signer.invitation_failed), ("failed", "error", True))
        request.with_user(self.advisor).action_retry()
        self.assertEqual(failed.state, "cancelled")
        self.assertIn("a new invitation replaces it", failed.failure_reason)
        self.assertIn("Connection refused", failed.failure_reason)
        new = self._logs("invitation", request) - failed
        self.assertEqual((new.state, signer.invitation_failed), ("queued", False))

    def test_invalid_address_is_a_lasting_failure(self):
        request = self._send_on()
        with internal_write():
            request.signer_ids.email = "not-an-address"
        request.with_user(self.advisor).action_remind()
        self._send_queue()
        log = self._logs("reminder", request)
        self.assertEqual(log.state, "failed")
        self.assertFalse(log.transient)
        self.assertEqual(request.state, "error")
        self.assertFalse(request.next_retry_date)

    def test_bounce(self):
        request = self._send_on()
        request.with_user(self.advisor).action_remind()
        self._send_queue()
        log = self._logs("reminder", request)
        self.assertEqual(log.state, "sent")
        mail = log.mail_id.sudo()
        self.env["mail.thread"].sudo().message_process(False, BOUNCE.format(
            to="catchall@example.com", n=1, rcpt="jeanne@example.com", message_id=mail.message_id,
            sender=mail.email_from, subject=mail.subject))
        self.assertEqual(log.state, "bounced")
        self.assertIn("User unknown", log.failure_reason)
        self.assertEqual(request.state, "error")
        self.assertFalse(request.error_transient, "an address that bounces will not get better")

    def test_report_rights(self):
        request = self._send_on()
        request.with_user(self.advisor).action_remind()
        log = self._logs("reminder", request)
        self.assertEqual(self.MailLog.with_user(self.advisor).search([("id", "=", log.id)]), log)
        self.assertEqual(self.MailLog.with_user(self.esign_manager).search([("id", "=", log.id)]), log)
        self.assertFalse(self.MailLog.with_user(self.advisor2).search([("id", "=", log.id)]))
        with self.assertRaises(AccessError):
            self.MailLog.with_user(self.plain_user).search([])
        with self.assertRaises(AccessError):
            log.with_user(self.advisor).write({"state": "sent"})
        with self.assertRaises(AccessError):
            log.with_user(self.advisor2).action_resend()

    def test_contact_chatter_shows_each_mail(self):
        representative = self._make_client("Paul Tuteur", "paul@example.com", "+33656789012")
        protected = self._make_client("Lise Protégée", "lise@example.com", "+33667890123",
                                      salesperson=self.advisor, esign_protection="tutelle",
                                      esign_legal_representative_ids=[fields.Command.link(representative.id)],
                                      esign_protection_file=base64.b64encode(b"%PDF-1.4 judgment"))
        request = self._send_on(partner=protected)
        self.assertEqual(request.signer_ids.partner_id, representative)
        with freeze_time("2026-03-04 08:00:00"):
            request.with_user(self.advisor).action_remind()
        with freeze_time("2026-03-04 08:02:00"):  # not within a minute of the first
            request.with_user(self.advisor).action_remind()
        for partner in (protected, representative):
            notes = partner.message_ids.filtered(lambda m: "E-signature mail to paul@example.com" in (m.body or ""))
            self.assertEqual(len(notes), 3, "the invitation and two reminders (%s)" % partner.name)
            self.assertEqual(len(notes.filtered(lambda m: "(Reminder," in m.body)), 2)
            self.assertIn(request.reference, notes[0].body)
            self.assertNotIn("access_token", notes[0].body, "the signing link is not shown in the chatter")


@tagged("post_install", "-at_install")
class TestEsignMailOnTime(O2sEsignAutomationCommon):
    """The date shown in the mails is the request's, whatever the server's clock."""

    def test_deadline_sentence(self):
        request = self._send_on(date_deadline=fields.Date.to_date(DAY0[:10]) + timedelta(days=9))
        self.assertEqual(request.signer_ids.esign_mail_deadline_sentence, "The link works until March 11, 2026.")
        with internal_write():
            request.date_deadline = False
        self.assertFalse(request.signer_ids.esign_mail_deadline_sentence)


@tagged("post_install", "-at_install")
class TestEsignQueuedMailsWithdrawn(O2sEsignAutomationCommon):

    def test_reminder_still_queued_when_the_request_is_signed_stays_unsent(self):
        request = self._send_on()
        request.with_user(self.advisor).action_remind()
        log = self._logs("reminder", request)
        self.assertEqual(log.state, "queued")
        self._sign(request.signer_ids)
        self.assertEqual(log.state, "cancelled")
        self.assertEqual(log.mail_id.sudo().state, "cancel")
        self.assertEqual(self._logs("confirmation", request).mapped("state"), ["queued", "queued"],
                         "the confirmations still leave")

    def test_mail_the_queue_is_sending_is_not_withdrawn(self):
        """The mail queue (another cron worker) is sending the reminder when the request ends:
        its row is locked (or changed since the ending transaction began). The ending neither
        waits for it nor fails: the mail leaves, its log follows its delivery."""
        request = self._send_on()
        request.with_user(self.advisor).action_remind()
        log = self._logs("reminder", request)
        cr = self.env.cr
        execute = cr.execute
        claimed = []

        def held_by_the_queue(query, params=None, log_exceptions=True):
            if "FROM mail_mail" in str(query) and "NOWAIT" in str(query):
                claimed.append(params)
                raise psycopg2.errors.LockNotAvailable("could not obtain lock on row")
            return execute(query, params, log_exceptions)

        with patch.object(cr, "execute", held_by_the_queue):
            self._sign(request.signer_ids)
        self.assertIn([log.mail_id.id], claimed)
        self.assertEqual(request.state, "signed")
        self.assertEqual(log.state, "queued", "left to its delivery")
        self.assertEqual(log.mail_id.sudo().state, "outgoing")
