# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The signing page over HTTP: links, documents, code, signature, refusal, security."""
import base64
import hashlib
import logging
import time
from datetime import timedelta
from unittest.mock import Mock, patch

import odoo
from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..controllers import log_redaction
from ..lib import errors as lib_errors
from ..models import o2s_esign_signer as signer_module
from ..models.o2s_esign_signer import IN_PERSON_TICKET_SECONDS
from .esign_portal_common import EsignHttpCommon, EsignPortalCommon, signature_png


@tagged("post_install", "-at_install")
class TestEsignPortal(EsignHttpCommon):

    def setUp(self):
        super().setUp()
        self._keep_sent_request(message="Merci de signer <b>vite</b>")

    # ------------------------------------------------------------ invitation
    def test_invitation_mail_carries_each_signer_own_link(self):
        request = self._sent_request(
            signers=[{"partner_id": self.client.id}, {"partner_id": self.client2.id}]).sudo()
        signer_a, signer_b = request.signer_ids
        self.assertNotEqual(signer_a.access_url, signer_b.access_url)
        self.assertTrue(signer_a.access_url.startswith(self.base_url() + "/esign/sign/%s/" % signer_a.id))
        for signer, other in ((signer_a, signer_b), (signer_b, signer_a)):
            mails = self.env["mail.mail"].sudo().search([
                ("model", "=", "o2s.esign.signer"), ("res_id", "=", signer.id)])
            self.assertEqual(len(mails), 1)
            self.assertIn(signer.access_url, mails.body_html)
            self.assertNotIn(other.access_url, mails.body_html)
            self.assertEqual(mails.email_to, signer.email)
            self.assertIn("asks you to sign", mails.subject)
        # the link is stable (reminders carry the same) and 256 bits long
        token = signer_a._get_signing_token()
        self.assertEqual(len(token), 43)
        signer_a._send_invitation()
        self.assertEqual(signer_a._get_signing_token(), token)

    # ------------------------------------------------------------------- page
    def test_page_shows_who_asks_the_message_and_the_documents(self):
        response = self._fetch(self._path(self.signer))
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn("Test request", html)
        self.assertIn("Alice Advisor", html)
        self.assertIn("Cabinet Patrimoine", html)
        self.assertIn("Merci de signer &lt;b&gt;vite&lt;/b&gt;", html)
        for document in self.request.document_ids:
            self.assertIn(document.name, html)
            self.assertIn(self._path(self.signer) + "/document/%s?download=1" % document.id, html)
        for label in ("Send code", "Verification code", "Verify", "I have read", "Sign", "Refuse",
                      "Reason"):
            self.assertIn(label, html)
        self.assertIn('html lang="en-US"', html)
        self.assertIn("<title>Test request</title>", html)
        self.assertIn("o_esign_signer_wrap", html, "the login menu is hidden on signer pages")
        self.assertIn("no-referrer", response.headers["Referrer-Policy"])
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        views = self._events(self.request, "page_viewed")
        self.assertEqual(len(views), 1)
        self.assertEqual(views.ip_address, "127.0.0.1")
        self.assertIn("python-requests", views.user_agent)
        self.assertEqual(self._payload(views)["page"], "ok")
        self._fetch(self._path(self.signer))  # the same browser session, the same day
        self.assertEqual(len(self._events(self.request, "page_viewed")), 1)
        self.assertEqual(len(self._events(self.request, "link_opened")), 1)
        self.assertTrue(self.signer.date_opened)

    def test_page_in_the_signer_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.client.lang = "fr_FR"
        request = self._sent_request().sudo()
        signer = request.signer_ids
        self.assertEqual(signer._esign_lang(), "fr_FR")
        html = self._fetch(self._path(signer)).text
        self.assertIn('html lang="fr-FR"', html)
        deadline = request.date_deadline
        self.assertIn("%02d/%02d/%d" % (deadline.day, deadline.month, deadline.year), html)
        self.assertIn("<title>", html)

    def test_signing_page_text_placeholders_escaped_and_hashed(self):
        self.company.sudo().esign_signing_page_text = (
            "<p>{{ signer }}, {{ advisor }} of {{ company }} sends {{ documents }} "
            "({{ reference }}) {{ unknown }}</p>")
        self.signer.partner_id.name = "Jeanne <b>Martin</b>"
        request = self._sent_request().sudo()
        signer = request.signer_ids
        text, sha = signer._get_signing_page_text()
        self.assertIn("Jeanne &lt;b&gt;Martin&lt;/b&gt;, Alice Advisor of Cabinet Patrimoine sends "
                      "doc0.pdf (%s) {{ unknown }}" % request.reference, text)
        self.assertEqual(sha, hashlib.sha256(str(text).encode()).hexdigest())
        html = self._fetch(self._path(signer)).text
        self.assertIn(str(text), html)
        self.assertIn('data-consent-sha256="%s"' % sha, html)
        # the default text when the company wrote none
        self.company.sudo().esign_signing_page_text = False
        default, _sha = signer._get_signing_page_text()
        self.assertIn("Alice Advisor (Cabinet Patrimoine) asks you to sign electronically: doc0.pdf", default)

    # ---------------------------------------------------------- link security
    def test_changed_token_or_id_gives_nothing(self):
        other = self._sent_request(partner=self.client2).sudo().signer_ids
        token = self.signer._get_signing_token()
        flipped = ("A" if token[5] != "A" else "B").join((token[:5], token[6:]))
        for path in (
            "/esign/sign/%s/%s" % (self.signer.id, flipped),
            "/esign/sign/%s/%s" % (other.id, token),          # A's token, B's id
            "/esign/sign/%s/%s" % (self.signer.id + 100000, token),
            "/esign/sign/%s/%s" % (self.signer.id, token[:-1]),
            "/esign/sign/%s/%s" % (self.signer.id, token + "A"),
        ):
            response = self._fetch(path)
            self.assertEqual(response.status_code, 404, path)
            self.assertNotIn("Test request", response.text)
            self.assertIn("This link is not valid", response.text)
            self.assertEqual(self._fetch(path + "/document/%s" % self.request.document_ids.id).status_code, 404)
        csrf = self._csrf(self._fetch(self._path(other)))
        result = self._call(self.signer, "send_code", token=flipped, csrf_token=csrf)
        self.assertTrue(result.get("error"))
        self.assertFalse(self.gateway.messages)
        self.assertFalse(self._events(self.request, "page_viewed"))
        self.assertFalse(self._events(self.request, "otp_sent"))

    def test_documents_of_the_signer_only(self):
        other = self._sent_request(partner=self.client2).sudo()
        path = self._path(self.signer)
        document = self.request.document_ids
        response = self._fetch(path + "/document/%s" % document.id)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, document.signed_attachment_id.raw)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertIn("inline", response.headers["Content-Disposition"])
        viewed = self._events(self.request, "document_viewed")
        self.assertEqual(self._payload(viewed)["sha256"], document.signed_sha256)
        self.assertEqual(self._payload(viewed)["sha256"],
                         hashlib.sha256(response.content).hexdigest())
        response = self._fetch(path + "/document/%s?download=1" % document.id)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        self.assertEqual(len(self._events(self.request, "document_downloaded")), 1)
        # another request's document through this link: nothing
        response = self._fetch(path + "/document/%s" % other.document_ids.id)
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self._events(other, "document_viewed"))

    def test_get_changes_nothing(self):
        token = self.signer._get_signing_token()
        for action in ("send_code", "verify_code", "sign", "refuse"):
            response = self._fetch("/esign/action/%s/%s?token=%s&reason=no&code=123456" % (
                self.signer.id, action, token))
            self.assertEqual(response.status_code, 405, action)
        self.assertEqual(self.signer.state, "pending")
        self.assertEqual(self.request.state, "in_progress")
        self.assertFalse(self.gateway.messages)
        self.assertFalse(self._events(self.request).filtered(
            lambda e: e.event_type in ("otp_sent", "refused", "signed", "page_viewed")))

    def test_csrf_is_enforced(self):
        csrf, token = self._open(self.signer)
        for bad in (None, "", "0" * 40 + "o1"):
            result = self._call(self.signer, "send_code", token=token, csrf_token=bad)
            self.assertIn("session has expired", result["error"])
        self.assertFalse(self.gateway.messages)
        with self.assertLogs("odoo.http", "WARNING") as logs:
            response = self._fetch("/esign/action/%s/refuse" % self.signer.id,
                                 data={"token": token, "reason": "no"})
        self.assertEqual(response.status_code, 400)
        self.assertNotIn(token, "\n".join(logs.output))
        self.assertEqual(self.signer.state, "pending")
        # with the token of the page it works
        self.assertTrue(self._call(self.signer, "send_code", token=token, csrf_token=csrf).get("ok"))

    def test_token_is_never_logged_nor_in_events(self):
        token = self.signer._get_signing_token()
        path = self._path(self.signer)
        with self.assertLogs("werkzeug", logging.INFO) as logs:
            self._fetch(path)
            self._fetch(path + "/document/%s" % self.request.document_ids.id)
        output = "\n".join(logs.output)
        self.assertIn("/esign/sign/%s/[redacted]" % self.signer.id, output)
        self.assertIn("/esign/sign/%s/[redacted]/document/" % self.signer.id, output)
        self.assertNotIn(token, output)
        self._sign(self.signer)
        for event in self._events(self.request):
            for value in (event.payload, event.user_agent, event.ip_address):
                self.assertNotIn(token, value or "", event.event_type)
        self.env.flush_all()
        self.env.cr.execute("SELECT row_to_json(s)::text FROM o2s_esign_signer s WHERE id = %s",
                            [self.signer.id])
        self.assertNotIn(token, self.env.cr.fetchone()[0], "the token is never stored")

    def test_log_filter_redacts_every_form_and_every_handler(self):
        token = self.signer._get_signing_token()
        for text in ("GET /esign/sign/12/%s HTTP/1.1" % token,
                     "/web/static/lib/pdfjs/web/viewer.html?file=%%2Fesign%%2Fsign%%2F12%%2F%s" % token,
                     "/fr/esign/sign/12/%s/document/3?download=1" % token):
            self.assertNotIn(token, log_redaction.redact(text))
            self.assertIn(log_redaction.REDACTED, log_redaction.redact(text))
        self.assertEqual(log_redaction.redact("/esign/sign/12/refuse"), "/esign/sign/12/refuse")
        # whatever the logger and its handlers: the record is redacted when it is made
        with self.assertLogs("odoo.addons.some.other.module", logging.INFO) as logs:
            logging.getLogger("odoo.addons.some.other.module").info(
                "opened %s for %s", "/esign/sign/12/%s" % token, "someone")
        self.assertEqual(logs.records[0].getMessage(),
                         "opened /esign/sign/12/[redacted] for someone")

    # ---------------------------------------------------------------- signing
    def test_sign_end_to_end_over_http(self):
        csrf, token = self._verify(self.signer)
        text_sha = self.signer._get_signing_page_text()[1]
        result = self._call(self.signer, "sign", token=token, csrf_token=csrf,
                            **self._sign_values(self.signer, signature_type="drawn"))
        self.assertEqual(result, {"state": "signed", "reload": True})
        self.assertEqual(self.signer.state, "signed")
        self.assertTrue(self.signer.date_signed)
        self.assertEqual(self.request.state, "signed")
        self.assertEqual(self.signer.signature_type, "drawn")
        self.assertEqual(self.signer.signature_name, "Jeanne Martin")
        self.assertEqual(self.signer.signature_sha256,
                         hashlib.sha256(base64.b64decode(self.signer.signature_image)).hexdigest())
        self.assertFalse(self.signer.sign_pending)
        consent = self._events(self.request, "consent_given")
        self.assertEqual(self._payload(consent)["consent_sha256"], text_sha)
        self.assertEqual(hashlib.sha256(self._payload(consent)["consent_text"].encode()).hexdigest(),
                         text_sha)
        self.assertTrue(self._payload(consent)["label"].startswith("I have read"))
        signed = self._events(self.request, "signed")
        self.assertEqual(len(signed), 1)
        self.assertEqual(signed.ip_address, "127.0.0.1")
        payload = self._payload(signed)
        self.assertEqual(payload["consent_sha256"], text_sha)
        # the signed event names the document as this signature left it (the seal comes after)
        signature_step = self._events(self.request, "document_signature")
        self.assertEqual(payload["documents"][0]["sha256"], self._payload(signature_step)["sha256_after"])
        order = [e.event_type for e in self._events(self.request)]
        self.assertLess(order.index("otp_verified"), order.index("consent_given"))
        self.assertLess(order.index("consent_given"), order.index("signed"))
        # the outcome, with the signed documents for this browser session only
        response = self._fetch(self._path(self.signer))
        self.assertIn("Everyone has signed", response.text)
        self.assertNotIn("cannot be signed", response.text, "one outcome, not a warning on top")
        self.assertIn("The signed documents", response.text)
        document_path = self._path(self.signer) + "/document/%s" % self.request.document_ids.id
        self.assertEqual(self._fetch(document_path).status_code, 200)
        self.authenticate(None, None)  # another browser with the same link
        response = self._fetch(self._path(self.signer))
        self.assertIn("Everyone has signed", response.text)
        # the link itself gives the signer their signed documents until it expires
        # (test_esign_protection.TestEsignSignerCapacityPage)
        self.assertIn("The signed documents", response.text)
        self.assertEqual(self._fetch(document_path).status_code, 200)
        # and the link can no longer sign
        csrf = self._csrf_from_any_page()
        result = self._call(self.signer, "send_code", token=token, csrf_token=csrf)
        self.assertIn("cannot be signed", result["error"])

    def _csrf_from_any_page(self):
        other = self._sent_request(partner=self.client2).sudo().signer_ids
        return self._csrf(self._fetch(self._path(other)))

    def test_sign_needs_a_code_verified_in_this_session(self):
        csrf, token = self._open(self.signer)
        result = self._call(self.signer, "sign", token=token, csrf_token=csrf,
                            **self._sign_values(self.signer))
        self.assertTrue(result.get("reset_code"))
        self.assertEqual(self.signer.state, "pending")
        self._verify(self.signer)
        self.authenticate(None, None)  # the verification stays with the first browser
        csrf, token = self._open(self.signer)
        result = self._call(self.signer, "sign", token=token, csrf_token=csrf,
                            **self._sign_values(self.signer))
        self.assertTrue(result.get("reset_code"))
        self.assertEqual(self.signer.state, "pending")
        self.assertFalse(self._events(self.request, "consent_given"))

    def test_sign_checks_consent_text_name_and_image(self):
        csrf, token = self._verify(self.signer)
        cases = [
            ({"consent": False}, "tick the box"),
            ({"consent": "true"}, "tick the box"),
            ({"consent_sha256": "0" * 64}, "has changed"),
            ({"name": "  "}, "type your full name"),
            ({"name": "x" * 200}, "too long"),
            ({"signature": "not base64!"}, "could not be read"),
            ({"signature": base64.b64encode(b"GIF89a....").decode()}, "could not be read"),
            ({"signature": signature_png(size=(5000, 10))}, "could not be read"),
        ]
        for values, message in cases:
            result = self._call(self.signer, "sign", token=token, csrf_token=csrf,
                                **self._sign_values(self.signer, **values))
            self.assertIn(message, result.get("error", ""), values)
        self.assertEqual(self.signer.state, "pending")
        self.assertFalse(self._events(self.request, "consent_given"))
        self.assertFalse(self._events(self.request, "signed"))

    def test_transient_signing_failure_keeps_the_intent_and_retry_applies_it(self):
        document = self.request.document_ids
        sha_before = document.signed_sha256

        def failing_sign(signer, signature):
            served = signer.request_id.document_ids  # the server's environment
            served._append_signed_revision(
                served.signed_attachment_id.raw + b"\n% partial\n", "signature", signer=signer)
            raise lib_errors.TsaError("tsa_unreachable", {"url": "http://tsa.invalid"})

        SignerModel = type(self.signer)
        with patch.object(SignerModel, "_sign_documents", failing_sign):
            csrf, token = self._verify(self.signer)
            result = self._call(self.signer, "sign", token=token, csrf_token=csrf,
                                **self._sign_values(self.signer))
        self.assertEqual(result["state"], "sign_pending")
        self.assertIn("Your signature is recorded", result["message"])
        # nothing half-done
        self.assertEqual(document.signed_sha256, sha_before)
        self.assertFalse(self._events(self.request, "document_signature"))
        self.assertFalse(self._events(self.request, "signed"))
        # the intent is kept, the request shows the reason
        self.assertEqual(self.signer.state, "pending")
        self.assertTrue(self.signer.sign_pending)
        self.assertEqual(self.request.state, "error")
        self.assertTrue(self.request.error_transient)
        self.assertIn("timestamp authority cannot be reached", self.request.error_message)
        html = self._fetch(self._path(self.signer)).text
        self.assertIn("Your signature is recorded", html)
        # retry once the service is back: applied without asking the signer again
        self.request.with_user(self.advisor).action_retry()
        self.assertEqual(self.signer.state, "signed")
        self.assertFalse(self.signer.sign_pending)
        self.assertEqual(self.request.state, "signed")
        signed = self._events(self.request, "signed")
        self.assertEqual(len(signed), 1)
        self.assertEqual(signed.ip_address, "127.0.0.1", "the signer's own IP, not the advisor's")

    def test_retry_while_the_service_is_still_down(self):
        def failing_sign(signer, signature):
            raise lib_errors.TsaError("tsa_timeout", {"url": "http://tsa.invalid"})

        with patch.object(type(self.signer), "_sign_documents", failing_sign):
            csrf, token = self._verify(self.signer)
            self._call(self.signer, "sign", token=token, csrf_token=csrf,
                       **self._sign_values(self.signer))
            self.request.with_user(self.advisor).action_retry()
        self.assertEqual(self.request.state, "error")
        self.assertTrue(self.signer.sign_pending)
        self.assertIn("did not answer in time", self.request.error_message)

    # ---------------------------------------------------------------- refusal
    def test_refuse_with_a_reason(self):
        csrf, token = self._open(self.signer)
        reason = "Je ne suis pas d'accord <script>alert(1)</script>"
        response = self._fetch("/esign/action/%s/refuse" % self.signer.id, allow_redirects=False,
                             data={"csrf_token": csrf, "token": token, "reason": reason})
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(self._path(self.signer)))
        self.assertEqual(self.signer.state, "refused")
        self.assertEqual(self.signer.refusal_reason, reason)
        self.assertEqual(self.request.state, "refused")
        refused = self._events(self.request, "refused")
        self.assertEqual(self._payload(refused)["reason"], reason)
        html = self._fetch(self._path(self.signer)).text
        self.assertIn("You refused to sign", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)
        self.assertNotIn("<script>alert(1)", html)

    def test_refuse_while_the_request_is_paused(self):
        csrf, token = self._open(self.signer)
        self.request._set_error("The SMS gateway is down", transient=True, signer=self.signer)
        html = self._fetch(self._path(self.signer)).text
        self.assertIn("This signature request is paused", html)
        self.assertNotIn("Verification code", html)
        self.assertIn("Refuse", html)
        result = self._call(self.signer, "send_code", token=token, csrf_token=csrf)
        self.assertIn("paused", result["error"])
        self._fetch("/esign/action/%s/refuse" % self.signer.id, allow_redirects=False,
                    data={"csrf_token": csrf, "token": token, "reason": "Changed my mind"})
        self.assertEqual(self.signer.state, "refused")
        self.assertEqual(self.request.state, "refused")

    def test_refuse_needs_a_bounded_reason(self):
        csrf, token = self._open(self.signer)
        for reason in ("", "   ", "x" * 2001):
            response = self._fetch("/esign/action/%s/refuse" % self.signer.id, allow_redirects=False,
                                 data={"csrf_token": csrf, "token": token, "reason": reason})
            self.assertEqual(response.status_code, 303)
            self.assertTrue(response.headers["Location"].endswith("?error=refuse"))
        self.assertEqual(self.signer.state, "pending")
        self.assertIn("Your refusal could not be recorded", self._fetch(self._path(self.signer) + "?error=refuse").text)

    # ----------------------------------------------------- order and closing
    def test_sequential_order(self):
        request = self._sent_request(signing_order="sequential", signers=[
            {"partner_id": self.client.id, "sequence": 1},
            {"partner_id": self.client2.id, "sequence": 2}]).sudo()
        first, second = request.signer_ids.sorted("sequence")
        self.assertEqual(second.state, "waiting")
        self.assertFalse(self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "=", second.id)]))
        html = self._fetch(self._path(second)).text
        self.assertIn("It is not your turn to sign yet", html)
        self.assertNotIn("Verification code", html)
        self.assertEqual(self._fetch(self._path(second) + "/document/%s" % request.document_ids.id).status_code, 404)
        csrf = self._csrf(self._fetch(self._path(first)))
        result = self._call(second, "send_code", token=second._get_signing_token(), csrf_token=csrf)
        self.assertIn("not your turn", result["error"])
        self.assertFalse(self._sms_to(second.mobile))
        # a pause of the request does not open the page of a later signer either
        request._set_error("The SMS gateway is down", transient=True)
        self.assertEqual(second._get_signing_validity(), "not_your_turn")
        html = self._fetch(self._path(second)).text
        self.assertIn("It is not your turn to sign yet", html)
        self.assertNotIn("Refuse", html)
        request.with_user(self.advisor).action_retry()
        self._sign(first)
        self.assertEqual(second.state, "pending")
        self.assertTrue(self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "=", second.id)]))
        self.assertIn("Verification code", self._fetch(self._path(second)).text)
        self.assertEqual(request.state, "in_progress")
        self._sign(second)
        self.assertEqual(request.state, "signed")

    def test_links_stop_working_when_the_request_is_closed(self):
        cases = {
            "cancelled": ("This signature request was cancelled",
                          lambda r: r.with_user(self.advisor).action_cancel()),
            "expired": ("This signature request has expired",
                        lambda r: r._set_state("expired")),
        }
        for name, (message, close) in cases.items():
            request = self._sent_request().sudo()
            signer = request.signer_ids
            csrf = self._csrf(self._fetch(self._path(signer)))
            close(request)
            response = self._fetch(self._path(signer))
            self.assertEqual(response.status_code, 200)
            self.assertIn(message, response.text, name)
            self.assertNotIn("Verification code", response.text)
            document_path = self._path(signer) + "/document/%s" % request.document_ids.id
            self.assertEqual(self._fetch(document_path).status_code, 404)
            result = self._call(signer, "send_code", token=signer._get_signing_token(), csrf_token=csrf)
            self.assertIn("cannot be signed", result["error"])
            response = self._fetch("/esign/action/%s/refuse" % signer.id, allow_redirects=False, data={
                "csrf_token": csrf, "token": signer._get_signing_token(), "reason": "late"})
            self.assertEqual(signer.state, "pending")
        # a deadline in the past closes the page even before the expiry cron ran
        request = self._sent_request().sudo()
        request.with_user(self.advisor).date_deadline = fields.Date.today() - timedelta(days=1)
        self.assertIn("has expired", self._fetch(self._path(request.signer_ids)).text)

    # -------------------------------------------------------------- in person
    def test_in_person_opening_by_the_advisor(self):
        views = self.env["o2s.esign.request"].with_user(self.advisor).get_views([(False, "form")])
        self.assertIn('name="action_esign_open_in_person"', views["views"]["form"]["arch"])
        self.assertFalse(self._events(self.request, "in_person_opened"))
        # the button's call (a POST of the web client) logs the opening
        action = self.signer.with_user(self.advisor).action_esign_open_in_person()
        opened = self._events(self.request, "in_person_opened")
        self.assertEqual(len(opened), 1)
        self.assertEqual(self._payload(opened)["user"], "Alice Advisor")
        path, _sep, query = action["url"].partition("?")
        self.assertEqual(path, "/esign/in_person/%s" % self.signer.id)
        self.assertIn("ticket=", query)
        # the URL is the advisor's: another advisor, a visitor, or the bare route get nothing
        self.authenticate("esign_advisor2", "esign_advisor2")
        self.assertEqual(self._fetch(action["url"], allow_redirects=False).status_code, 404)
        self.authenticate(None, None)
        response = self._fetch(action["url"], allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])
        self.authenticate("esign_advisor", "esign_advisor")
        self.assertEqual(self._fetch(path, allow_redirects=False).status_code, 404)
        forged = action["url"][:-1] + ("0" if action["url"][-1] != "0" else "1")
        self.assertEqual(self._fetch(forged, allow_redirects=False).status_code, 404)
        # opening it (a GET) records nothing more, and marks the advisor's session
        response = self._fetch(action["url"], allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(self._path(self.signer)))
        self.assertEqual(len(self._events(self.request, "in_person_opened")), 1)
        html = self._fetch(response.headers["Location"]).text
        self.assertIn("Send code", html, "the SMS code is still required")
        self.assertTrue(self._payload(self._events(self.request, "page_viewed")[-1])["in_person"])
        # an expired ticket no longer opens it
        later = Mock(time=Mock(return_value=time.time() + IN_PERSON_TICKET_SECONDS + 1))
        with patch.object(signer_module, "time", later):
            self.assertEqual(self._fetch(action["url"], allow_redirects=False).status_code, 404)

    # ------------------------------------------------------------------- /my
    def test_portal_users_find_their_requests(self):
        new_test_user(self.env, login="jeanne_portal", groups="base.group_portal",
                      partner_id=self.client.id)
        new_test_user(self.env, login="louis_portal", groups="base.group_portal",
                      partner_id=self.client2.id)
        self.authenticate("jeanne_portal", "jeanne_portal")
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["esign_count"]})
        self.assertEqual(counters["esign_count"], 1)
        html = self._fetch("/my/signatures").text
        self.assertIn("Test request", html)
        self.assertIn("To sign", html)
        self.assertIn(self.signer.access_url.replace(self.base_url(), ""), html)
        self.authenticate("louis_portal", "louis_portal")
        self.assertEqual(
            self.make_jsonrpc_request("/my/counters", {"counters": ["esign_count"]})["esign_count"], 0)
        html = self._fetch("/my/signatures").text
        self.assertNotIn("Test request", html)
        self.assertIn("You have no signature request", html)


@tagged("post_install", "-at_install")
class TestEsignDelivery(EsignPortalCommon):
    """The request follows its mails: a mail that cannot be sent puts it in error."""

    def test_mail_failure_puts_the_request_in_error_and_retry_resends(self):
        request = self._sent_request().sudo()
        signer = request.signer_ids
        mail = self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "=", signer.id)])
        self.assertEqual(len(mail), 1)
        with EsignPortalCommon.gateway_class() as closed:  # a port nothing listens on any more
            port = closed.port
        self.env["ir.mail_server"].sudo().search([]).active = False
        self.env["ir.mail_server"].sudo().create({
            "name": "down", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_encryption": "none"})
        with patch.object(odoo.modules.module, "current_test", False), \
                mute_logger("odoo.addons.base.models.ir_mail_server"):
            mail.send(raise_exception=False)
        self.assertEqual(mail.state, "exception")
        self.assertEqual(request.state, "error")
        self.assertIn("could not be sent", request.error_message)
        self.assertIn(signer.email, request.error_message)
        self.assertTrue(signer.invitation_failed)
        failed = self._events(request, "email_failed")
        self.assertEqual(self._payload(failed)["mail_id"], mail.id)
        request.with_user(self.advisor).action_retry()
        self.assertEqual(request.state, "in_progress")
        self.assertFalse(signer.invitation_failed)
        mails = self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "=", signer.id)])
        self.assertEqual(len(mails), 2)
        self.assertIn(signer.access_url, (mails - mail).body_html)

    def test_sent_mail_is_logged(self):
        request = self._sent_request().sudo()
        mail = self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "=", request.signer_ids.id)])
        mail.send()
        self.assertEqual(self._payload(self._events(request, "email_sent"))["mail_id"], mail.id)
        self.assertEqual(request.state, "in_progress")
