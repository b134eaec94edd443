# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The advisor's screens (issue #20 items 2, 4, 5): a signer's link handed over, the invitation
sent again, actions that follow the request's state, readable mail failures, the chatter
credited to the signer, dates in the user's time zone. Rights are tried as the attacker calls
them: over XML-RPC, as another advisor, a portal user and a user without the group."""
import xmlrpc.client
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .automation_common import O2sEsignAutomationCommon
from .common import esign_user, make_pdf
from .esign_portal_common import EsignHttpCommon

USER_ERROR, ACCESS_ERROR = 2, 4


class RpcMixin:

    def _rpc(self, login, model, method, *args):
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, login, login, {})
        self.assertTrue(uid, login)
        self.env.flush_all()
        try:
            return self.xmlrpc_object.execute_kw(db, uid, login, model, method, list(args), {})
        finally:
            self.env.invalidate_all()

    def _fault(self, login, model, method, *args):
        """The fault code of a call that must fail (its refusal is logged by the server)."""
        with self.assertRaises(xmlrpc.client.Fault, msg=(login, method)) as caught, \
                mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule"):
            self._rpc(login, model, method, *args)
        return caught.exception.faultCode


@tagged("post_install", "-at_install")
class TestEsignSignerHandOver(RpcMixin, EsignHttpCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = esign_user(cls.env, "esign_portal_h8", "base.group_portal", name="Paul Portal")

    def setUp(self):
        super().setUp()
        self._keep_sent_request()

    def _invitations(self):
        return self.env["o2s.esign.mail.log"].sudo().search(
            [("signer_id", "=", self.signer.id), ("kind", "=", "invitation")])

    def test_copy_link_only_while_the_mail_cannot_be_sent(self):
        self.assertFalse(self.signer.with_user(self.advisor).esign_may_copy_link)
        code = self._fault("esign_advisor", "o2s.esign.signer", "action_esign_copy_link", [self.signer.id])
        self.assertEqual(code, ACCESS_ERROR, "the mail works: the advisor sends it again instead")
        self.assertFalse(self._events(self.request, "link_copied"))
        # The invitation could not be sent: the advisor hands the link over, and it is logged.
        self._invitations().write({"state": "failed", "failure_type": "mail_smtp"})
        self.assertTrue(self.signer.with_user(self.advisor).esign_may_copy_link)
        action = self._rpc("esign_advisor", "o2s.esign.signer", "action_esign_copy_link", [self.signer.id])
        self.assertEqual(action["tag"], "o2s_esign_copy_link")
        self.assertEqual(action["params"]["link"], self.signer._esign_signing_link())
        self.assertIn(self._path(self.signer), action["params"]["link"])
        copied = self._events(self.request, "link_copied")
        self.assertEqual(len(copied), 1)
        self.assertEqual(copied.signer_id, self.signer)
        self.assertEqual(self._payload(copied)["user_id"], self.advisor.id)
        self.assertNotIn(self.signer._get_signing_token(), copied.payload or "", "the link is never logged")
        self.assertTrue(self.env["o2s.esign.event"]._verify_chain(self.request)["ok"])

    def test_administrator_copies_the_link_any_time(self):
        self.assertTrue(self.signer.with_user(self.esign_manager).esign_may_copy_link)
        action = self._rpc("esign_manager", "o2s.esign.signer", "action_esign_copy_link", [self.signer.id])
        self.assertIn(self._path(self.signer), action["params"]["link"])
        self.assertEqual(self._payload(self._events(self.request, "link_copied"))["user_id"], self.esign_manager.id)

    def test_others_never_get_the_link(self):
        self._invitations().write({"state": "failed", "failure_type": "mail_smtp"})
        for login in ("esign_advisor2", "esign_nobody", "esign_portal_h8"):
            with self.subTest(login=login):
                code = self._fault(login, "o2s.esign.signer", "action_esign_copy_link", [self.signer.id])
                self.assertEqual(code, ACCESS_ERROR)
                code = self._fault(login, "o2s.esign.signer", "action_esign_resend_invitation", [self.signer.id])
                self.assertEqual(code, ACCESS_ERROR)
                self.assertEqual(self._fault(login, "o2s.esign.signer", "read", [self.signer.id], ["access_url"]),
                                 ACCESS_ERROR)
        self.assertFalse(self._events(self.request, "link_copied"))
        self.assertEqual(len(self._invitations()), 1)

    def test_the_link_is_never_read_over_rpc(self):
        """Not even by the request's own advisor or an E-signature administrator: the link is
        handed over through "Copy the signing link" only (logged), never by reading the
        signer's fields."""
        for login in ("esign_advisor", "esign_manager"):
            for field in ("access_url", "esign_mail_link", "esign_mail_sign_button"):
                with self.subTest(login=login, field=field):
                    self.assertEqual(self._fault(login, "o2s.esign.signer", "read", [self.signer.id], [field]),
                                     ACCESS_ERROR)
                    self.assertEqual(self._fault(login, "o2s.esign.signer", "search_read",
                                                 [("id", "=", self.signer.id)], [field]), ACCESS_ERROR)
        # what the advisor's screens read of the signer does not hold it
        record = self._rpc("esign_advisor", "o2s.esign.signer", "read", [self.signer.id], ["name", "state"])
        self.assertNotIn(self._path(self.signer), str(record))
        self.assertFalse(self._events(self.request, "link_copied"))

    def test_no_link_once_signed_or_closed(self):
        self._sign(self.signer)
        self.assertEqual(self.request.state, "signed")
        for method in ("action_esign_copy_link", "action_esign_resend_invitation"):
            with self.subTest(method=method):
                self.assertEqual(self._fault("esign_manager", "o2s.esign.signer", method, [self.signer.id]),
                                 USER_ERROR)
        self.assertFalse(self.signer.with_user(self.esign_manager).esign_may_copy_link)

    def test_send_the_invitation_again(self):
        self.assertTrue(self.signer.with_user(self.advisor).esign_may_resend)
        action = self._rpc("esign_advisor", "o2s.esign.signer", "action_esign_resend_invitation", [self.signer.id])
        self.assertEqual(action["params"]["type"], "success")
        invitations = self._invitations()
        self.assertEqual(len(invitations), 2)
        self.assertEqual(set(invitations.mapped("email_to")), {self.signer.email})
        self.assertEqual(len(self._events(self.request, "email_queued", self.signer)), 2)

    def test_signer_form_is_not_technical(self):
        views = self.env["o2s.esign.signer"].with_user(self.advisor).get_views([(False, "form")])
        arch = etree.fromstring(views["views"]["form"]["arch"])
        names = set(arch.xpath("//field/@name"))
        for technical in ("access_url", "esign_mail_link", "signing_certificate", "otp_attempts",
                          "sign_pending", "access_nonce", "signature_image", "id_doc_sha256"):
            self.assertNotIn(technical, names)
        self.assertEqual(arch.get("create"), "0")
        buttons = set(arch.xpath("//button/@name"))
        self.assertTrue({"action_esign_copy_link", "action_esign_resend_invitation",
                         "action_esign_open_in_person"} <= buttons)
        # The request's signer line opens it in a dialog (the lines are read-only once sent).
        action = self.signer.with_user(self.advisor).action_esign_open()
        self.assertEqual((action["res_id"], action["target"]), (self.signer.id, "new"))
        self.assertEqual(action["views"][0][0], self.env.ref("o2s_esign.o2s_esign_signer_view_form").id)
        self.assertEqual(self._fault("esign_advisor2", "o2s.esign.signer", "action_esign_open", [self.signer.id]),
                         ACCESS_ERROR)
        # The mail report's signer opens that form (the default one of the model).
        report = self.env["o2s.esign.mail.log"].with_user(self.advisor).get_views([(False, "form")])
        self.assertIn("signer_id", report["views"]["form"]["arch"])

    def test_signer_actions_are_credited_to_the_signer_in_the_chatter(self):
        self._sign(self.signer)
        self.assertEqual(self.request.state, "signed")
        messages = self.request.message_ids
        done = messages.filtered(lambda m: "All signers have signed" in str(m.body))
        self.assertEqual(done.author_id, self.signer.partner_id)
        tracked = messages.filtered(lambda m: m.tracking_value_ids)
        self.assertTrue(tracked)
        self.assertEqual(tracked.author_id, self.signer.partner_id)
        public = self.env.ref("base.public_partner")
        self.assertFalse(messages.filtered(lambda m: m.author_id == public),
                         [(m.body, m.tracking_value_ids.mapped("field_id.name"))
                          for m in messages.filtered(lambda m: m.author_id == public)])

    def test_author_context_names_only_a_signer(self):
        stranger = self.client2
        request = self.request.with_context(o2s_esign_author_partner_id=stranger.id)
        message = request.message_post(body="test")
        self.assertNotEqual(message.author_id, stranger)


@tagged("post_install", "-at_install")
class TestEsignStateActions(O2sEsignAutomationCommon):

    def test_remind_now_cannot_queue_two_reminders_within_a_minute(self):
        request = self._send_on()
        with freeze_time("2026-03-04 08:00:00"):
            request.with_user(self.advisor).action_remind()
        with freeze_time("2026-03-04 08:00:40"), self.assertRaises(UserError) as caught:
            request.with_user(self.advisor).action_remind()
        self.assertIn("less than a minute", str(caught.exception))
        self.assertEqual(len(self._logs("reminder", request)), 1)
        with freeze_time("2026-03-04 08:01:05"):
            request.with_user(self.advisor).action_remind()
        self.assertEqual(len(self._logs("reminder", request)), 2)
        form = self.env["o2s.esign.request"].get_views([(False, "form")])["views"]["form"]["arch"]
        button = etree.fromstring(form).xpath("//header/button[@name='action_remind']")[0]
        self.assertTrue(button.get("confirm"), "'Remind now' asks first")

    def test_signer_lines_say_cancelled_or_expired(self):
        request = self._send_on()
        signer = request.signer_ids
        self.assertEqual(signer.display_state, "pending")
        request.with_user(self.advisor).action_cancel(reason="Wrong document")
        self.assertEqual(signer.display_state, "cancelled")
        labels = dict(signer._fields["display_state"]._description_selection(self.env(context={"lang": "fr_FR"})))
        self.assertEqual(labels["cancelled"], "Annulé")
        other = self._send_on(partner=self.client2)
        other.with_user(self.advisor).write({"date_deadline": "2026-03-05"})
        self._expire("2026-03-06 12:00:00")
        self.assertEqual(other.state, "expired")
        self.assertEqual(other.signer_ids.display_state, "expired")

    def test_error_activity_closed_when_the_request_recovers(self):
        request = self._send_on()
        request._set_error("The timestamp authority did not answer.")
        activity_type = self.env.ref("o2s_esign.mail_activity_type_esign_error")
        self.assertEqual(request.activity_ids.activity_type_id, activity_type)
        with patch.object(type(request), "_resume_after_retry", return_value=None):
            request.with_user(self.advisor).action_retry()
        self.assertEqual(request.state, "in_progress")
        self.assertFalse(request.activity_ids, "the activity is done")
        done = self.env["mail.message"].search([
            ("model", "=", request._name), ("res_id", "=", request.id),
            ("mail_activity_type_id", "=", activity_type.id)])
        self.assertTrue(done, "marked done, not deleted")
        # In error again, then cancelled: closed too.
        request._set_error("Down again.")
        self.assertTrue(request.activity_ids)
        request.with_user(self.advisor).action_cancel()
        self.assertFalse(request.activity_ids)

    def test_cancelling_asks_for_a_reason(self):
        request = self._send_on()
        action = request.with_user(self.advisor).action_open_cancel_wizard()
        self.assertEqual((action["res_model"], action["target"]), ("o2s.esign.request.cancel", "new"))
        wizard = self.env["o2s.esign.request.cancel"].with_user(self.advisor).with_context(
            **action["context"]).create({"reason": "Client changed their mind"})
        wizard.action_confirm()
        self.assertEqual((request.state, request.cancel_reason), ("cancelled", "Client changed their mind"))

    def test_sent_request_cannot_be_deleted(self):
        request = self._send_on()
        with self.assertRaises(UserError):
            request.with_user(self.advisor).unlink()
        form = self.env["o2s.esign.request"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertEqual(etree.fromstring(form).get("js_class"), "o2s_esign_request_form",
                         "the form hides 'Delete' once sent")

    def test_creation_message(self):
        request = self._draft_request()
        self.assertEqual(request._creation_message(), "Signature request created")
        self.assertEqual(request.with_context(lang="fr_FR")._creation_message(), "Demande de signature créée")

    def test_audit_trail_dates_in_the_users_time_zone(self):
        self.advisor.tz = "Europe/Paris"
        request = self._send_on("2026-03-02 10:00:00")
        event = request.with_user(self.advisor).event_ids[:1]
        self.assertEqual(event.date.strftime("%H:%M"), "10:00")
        self.assertIn("11:00", event.date_display, "UTC+1 in March")
        self.assertIn("(Europe/Paris)", event.date_display)
        self.assertEqual(event._fields["date_display"].string, "Date (your time zone)")


@tagged("post_install", "-at_install")
class TestEsignReadableMailFailures(O2sEsignAutomationCommon):

    def test_failure_reasons_are_readable_and_translated(self):
        request = self._send_on()
        mails = self.env["mail.mail"].sudo().search([("state", "=", "outgoing")])
        with patch.object(type(self.env["ir.mail_server"]), "connect",
                          side_effect=ConnectionRefusedError(111, "Connection refused")):
            mails.send()
        log = self._logs("invitation", request)
        self.assertEqual(log.state, "failed")
        self.assertIn("Connection refused", log.failure_reason, "the technical detail is kept")
        self.assertEqual(log.failure_message,
                         "The outgoing mail server could not be reached (the server refused the "
                         "connection). The mail is sent again automatically.")
        self.assertNotIn("111", log.failure_message)
        french = log.with_context(lang="fr_FR").failure_message
        self.assertIn("serveur", french)
        self.assertNotIn("111", request.error_message)
        self.assertIn("refused the connection", request.error_message)
        Log = self.env["o2s.esign.mail.log"]
        self.assertEqual(Log._esign_failure_text("mail_email_invalid", "x"), "The recipient's address is not valid.")
        self.assertIn("weird thing", Log._esign_failure_text("unknown", "weird\n  thing"))

    def test_advisor_reads_failures_in_french(self):
        self.advisor.lang = "fr_FR"
        request = self._send_on()
        mails = self.env["mail.mail"].sudo().search([("state", "=", "outgoing")])
        with patch.object(type(self.env["ir.mail_server"]), "connect",
                          side_effect=ConnectionRefusedError(111, "Connection refused")):
            mails.send()
        self.assertEqual(request.state, "error")
        self.assertIn("Le serveur de messagerie sortant", request.error_message)


@tagged("post_install", "-at_install")
class TestEsignAdvisorScreensTour(HttpCase):
    """The check of issue #20: in French, the advisor's screens show no English string, the
    settings page no "Nouveau", a sent request no "Supprimer" (tour o2s_esign_advisor_screens_fr)."""

    def _client(self, env, name, email, mobile):
        client = env["res.partner"].create({
            "name": name, "email": email, "mobile": mobile, "lang": "fr_FR",
            "country_id": env.ref("base.fr").id, "user_id": self.advisor.id})
        env["o2s.esign.id.document"].create({
            "partner_id": client.id, "doc_type": "id_card", "number": "FR%06d" % client.id,
            "date_expiry": fields.Date.today() + timedelta(days=365)})
        return client

    def _send(self, client, name):
        # as the web client calls: in the advisor's language (the chatter keeps its messages' text)
        env = self.env(user=self.advisor, context=dict(self.env.context, lang="fr_FR", tz="Europe/Paris"))
        attachment = env["ir.attachment"].create({
            "name": "lettre.pdf", "raw": make_pdf("Lettre"), "mimetype": "application/pdf"})
        request = env["o2s.esign.request"].create({
            "name": name, "partner_id": client.id,
            "document_ids": [fields.Command.create({"name": "lettre.pdf",
                                                    "original_attachment_id": attachment.id})],
            "signer_ids": [fields.Command.create(s) for s in client._esign_default_signers()],
        })
        request.action_send()
        return request

    def test_advisor_screens_in_french(self):
        env = self.env(context=dict(self.env.context, no_reset_password=True))
        env["res.lang"]._activate_lang("fr_FR")
        env.company.country_id = env.ref("base.fr")
        self.advisor = esign_user(env, "tour_fr_advisor", "staff,user,options", name="Alice Conseil",
                                  email="alice@cabinet.example.com", lang="fr_FR", tz="Europe/Paris")
        request = self._send(self._client(env, "Jeanne Martin", "jeanne@example.com", "+33612345678"),
                             "Lettre de mission")
        failing = self._send(self._client(env, "Louis Durand", "louis@example.com", "+33623456789"),
                             "Profil investisseur")
        mails = env["mail.mail"].sudo().search([("model", "=", "o2s.esign.signer"),
                                                ("res_id", "in", failing.signer_ids.ids)])
        with patch.object(type(env["ir.mail_server"]), "connect",
                          side_effect=ConnectionRefusedError(111, "Connection refused")):
            mails.send()
        self.assertEqual(failing.state, "error")
        self.start_tour("/odoo/action-o2s_esign.o2s_esign_request_action", "o2s_esign_advisor_screens_fr",
                        login=self.advisor.login)
        self.env.invalidate_all()
        self.assertEqual(request.state, "cancelled")
        self.assertEqual(request.cancel_reason, "Le client a changé d'avis")
        self.assertEqual(request.signer_ids.display_state, "cancelled")
