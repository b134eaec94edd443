# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Signing in person, over HTTP as the advisor's browser does it: no mail for a signer who is
present, the advisor opens the signing page on their own screen, the SMS code goes to the
signer's mobile (never to the advisor's session), then "Next signer", then back to the request."""
import json
import re
from urllib.parse import urlsplit

from odoo.tests import Form, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .esign_portal_common import BrowserSmsGateway, EsignHttpCommon

_NEXT_FORM = re.compile(r'action="(/esign/in_person/(\d+)/open)"')


@tagged("post_install", "-at_install")
class TestEsignInPerson(EsignHttpCommon):

    def setUp(self):
        super().setUp()
        #: every response the advisor's browser received (to check no SMS code ever reached it)
        self.seen = []

    # ------------------------------------------------------------------ helpers
    def _in_person_request(self, presences, signing_order="parallel"):
        """A request sent by Alice to Jeanne (and Louis), each signer ``presences[i]``."""
        signers = [{"partner_id": partner.id, "sequence": 10 * (index + 1), "presence": presence}
                   for index, (partner, presence) in enumerate(zip(self.client | self.client2, presences))]
        return self._sent_request(signers=signers, signing_order=signing_order).sudo()

    def _browse(self, path, **kwargs):
        response = self._fetch(path, **kwargs)
        self.seen.append(response.text)
        return response

    def _button(self, model, method, record):
        """A button of the web client (type object), as the advisor clicks it."""
        action = self.make_jsonrpc_request("/web/dataset/call_button/%s/%s" % (model, method), {
            "model": model, "method": method, "args": [record.ids], "kwargs": {}})
        self.env.invalidate_all()
        return action

    def _action(self, signer, action, **params):
        result = self._call(signer, action, **params)
        self.seen.append(json.dumps(result))
        return result

    def _sign_here(self, signer, page):
        """On the page ``page`` (the advisor's screen, opened in person for ``signer``): the
        code is sent to the signer's mobile, typed in, then the signer signs."""
        self.assertEqual(page.status_code, 200)
        self.assertTrue(urlsplit(page.url).path.endswith(self._path(signer)))
        csrf, token = self._csrf(page), signer._get_signing_token()
        sent = len(self._sms_to(signer.mobile))
        self.assertTrue(self._action(signer, "send_code", token=token, csrf_token=csrf).get("ok"))
        self.assertEqual(len(self._sms_to(signer.mobile)), sent + 1, "the code goes to the signer's mobile")
        code = self._last_code(signer)
        self.assertTrue(self._action(signer, "verify_code", token=token, csrf_token=csrf, code=code).get("ok"))
        result = self._action(signer, "sign", token=token, csrf_token=csrf, **self._sign_values(signer))
        self.assertEqual(result.get("state"), "signed", result)
        return code

    def _invitations(self, signer):
        return [event for event in self._events(signer.request_id, "email_queued", signer=signer)
                if self._payload(event).get("kind") == "invitation"]

    def _mails_to(self, signer):
        return self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "in", signer.ids)])

    def _assert_never_seen(self, codes):
        for code in codes:
            pattern = re.compile(r"(?<!\d)%s(?!\d)" % code)
            for text in self.seen:
                self.assertNotRegex(text, pattern, "the SMS code reached the advisor's browser")
            for event in self._events(self.request):
                self.assertNotRegex(event.payload or "", pattern, "an SMS code in the audit trail")

    # -------------------------------------------------------------------- tests
    def test_signers_in_person_sign_one_after_the_other_on_the_advisor_screen(self):
        self.request = request = self._in_person_request(["in_person", "in_person"], "sequential")
        jeanne, louis = request.signer_ids.sorted("sequence")
        # No mail with a link for a signer who is present; no reminder either.
        self.assertEqual((jeanne | louis).mapped("state"), ["pending", "waiting"])
        for signer in (jeanne, louis):
            self.assertFalse(self._invitations(signer))
            self.assertFalse(self._mails_to(signer))
            self.assertFalse(signer.next_reminder_date)
        request.with_user(self.advisor).action_remind()
        self.assertFalse(self._mails_to(jeanne | louis))
        # The request's "Sign in person" opens the first signer's page on this screen.
        arch = self.env["o2s.esign.request"].with_user(self.advisor).get_views([(False, "form")])
        self.assertIn('name="action_esign_sign_in_person"', arch["views"]["form"]["arch"])
        self.assertEqual(request.in_person_signer_id, jeanne)
        self.authenticate("esign_advisor", "esign_advisor")
        action = self._button("o2s.esign.request", "action_esign_sign_in_person", request)
        self.assertEqual((action["type"], action["target"]), ("ir.actions.act_url", "self"))
        page = self._browse(action["url"])
        self.assertIn("Send code", page.text)
        self.assertNotIn("Next signer", page.text)
        codes = [self._sign_here(jeanne, page)]
        # Jeanne is done: the page offers Louis, the next signer in person.
        page = self._browse(self._path(jeanne))
        self.assertIn("Thank you, you have signed.", page.text)
        self.assertIn("Next signer: Louis Durand", page.text)
        self.assertEqual(_NEXT_FORM.search(page.text).group(2), str(louis.id))
        self.assertEqual(len(self._events(request, "in_person_opened")), 1)
        self.assertEqual(louis.state, "pending")
        self.assertFalse(self._mails_to(louis))
        self.assertFalse(request.activity_ids, "no to-do: the advisor is at the signing page")
        page = self._browse(_NEXT_FORM.search(page.text).group(1), data={"csrf_token": self._csrf(page)})
        opened = self._events(request, "in_person_opened", signer=louis)
        self.assertEqual(len(opened), 1, "the opening for Louis is logged")
        self.assertEqual(self._payload(opened)["user"], "Alice Advisor")
        self.assertIn("Send code", page.text)
        codes.append(self._sign_here(louis, page))
        self.assertNotEqual(jeanne.mobile, louis.mobile)
        # Everyone signed: the page leads back to the request.
        self.assertEqual(request.state, "signed")
        page = self._browse(self._path(louis))
        self.assertIn("Everyone has signed.", page.text)
        self.assertNotIn("Next signer", page.text)
        self.assertIn('href="/odoo/o2s.esign.request/%s"' % request.id, page.text)
        self.assertIn("Back to the request", page.text)
        for signer in (jeanne, louis):
            consent = self._events(request, "consent_given", signer=signer)
            self.assertTrue(self._payload(consent)["in_person"])
            self.assertFalse(self._invitations(signer), "still no invitation")
        self._assert_never_seen(codes)

    def test_mixed_request_from_the_wizard(self):
        """Jeanne signs in person, then Louis remotely (one after the other)."""
        self.env["ir.attachment"].create({
            "name": "lettre.pdf", "raw": self._attachment().raw, "mimetype": "application/pdf",
            "res_model": "res.partner", "res_id": self.client.id})
        form = Form(self.env["o2s.esign.request.wizard"].with_user(self.advisor).with_context(
            active_model="res.partner", active_ids=self.client.ids))
        form.partner_attachment_ids.add(self.env["ir.attachment"].search(
            [("res_model", "=", "res.partner"), ("res_id", "=", self.client.id)]))
        with form.signer_line_ids.edit(0) as line:
            line.presence = "in_person"
        with form.signer_line_ids.new() as line:
            line.partner_id = self.client2
            line.presence = "remote"
        form.signing_order = "sequential"
        action = form.save().action_send()
        self.request = request = self.env["o2s.esign.request"].sudo().search(
            [("user_id", "=", self.advisor.id)], limit=1)
        jeanne, louis = request.signer_ids.sorted("sequence")
        self.assertEqual((jeanne.presence, louis.presence), ("in_person", "remote"))
        self.assertEqual((jeanne.state, louis.state), ("pending", "waiting"))
        self.assertFalse(self._mails_to(jeanne | louis))
        # Right after sending, Jeanne's page opens on the advisor's screen.
        self.assertEqual((action["type"], action["target"]), ("ir.actions.act_url", "self"))
        self.assertTrue(action["url"].startswith("/esign/in_person/%s?" % jeanne.id))
        self.authenticate("esign_advisor", "esign_advisor")
        codes = [self._sign_here(jeanne, self._browse(action["url"]))]
        # Louis is not present: no next signer here, back to the request; he is mailed his link.
        page = self._browse(self._path(jeanne))
        self.assertNotIn("Next signer", page.text)
        self.assertIn('href="/odoo/o2s.esign.request/%s"' % request.id, page.text)
        self.assertEqual(louis.state, "pending")
        self.assertEqual(len(self._invitations(louis)), 1)
        self.assertIn(louis.access_url, self._mails_to(louis).body_html)
        self.assertTrue(louis.next_reminder_date)
        self.assertFalse(request.in_person_signer_id)
        # Louis signs on his own, from his link (a browser of his own).
        self.authenticate(None, None)
        self._sign(louis)
        self.assertEqual(request.state, "signed")
        self.assertFalse(self._payload(self._events(request, "consent_given", signer=louis))["in_person"])
        self.assertFalse(self._invitations(jeanne))
        self._assert_never_seen(codes)

    def test_parallel_mixed_request_mails_only_the_remote_signer(self):
        self.request = request = self._in_person_request(["remote", "in_person"])
        jeanne, louis = request.signer_ids.sorted("sequence")
        self.assertEqual((jeanne.state, louis.state), ("pending", "pending"))
        self.assertEqual((len(self._invitations(jeanne)), len(self._invitations(louis))), (1, 0))
        self.assertEqual(len(self._mails_to(jeanne)), 1)
        self.assertFalse(self._mails_to(louis))
        self.assertEqual(request.in_person_signer_id, louis)
        request.with_user(self.advisor).action_remind()
        reminders = self._events(request, "reminder_sent")
        self.assertEqual(reminders.signer_id, jeanne, "the reminder goes to the remote signer only")
        # Louis signs in person; nobody else is present, so the page leads back to the request.
        self.authenticate("esign_advisor", "esign_advisor")
        action = self._button("o2s.esign.request", "action_esign_sign_in_person", request)
        self.assertTrue(action["url"].startswith("/esign/in_person/%s?" % louis.id))
        codes = [self._sign_here(louis, self._browse(action["url"]))]
        page = self._browse(self._path(louis))
        self.assertIn("Thank you, you have signed.", page.text)
        self.assertNotIn("Next signer", page.text)
        self.assertIn("Back to the request", page.text)
        self.assertEqual(request.state, "in_progress")
        self.authenticate(None, None)
        self._sign(jeanne)
        self.assertEqual(request.state, "signed")
        self._assert_never_seen(codes)

    def test_remote_then_in_person_tells_the_advisor(self):
        self.request = request = self._in_person_request(["remote", "in_person"], "sequential")
        jeanne, louis = request.signer_ids.sorted("sequence")
        self.assertEqual((jeanne.state, louis.state), ("pending", "waiting"))
        self.assertFalse(request.in_person_signer_id)
        self.assertIn("Your advisor will open this page for you", self._fetch(self._path(louis)).text)
        self._sign(jeanne)
        # Louis's turn: no mail for him, a to-do for the advisor
        self.assertEqual(louis.state, "pending")
        self.assertFalse(self._invitations(louis))
        self.assertFalse(self._mails_to(louis))
        self.assertEqual(request.in_person_signer_id, louis)
        activity = request.activity_ids
        self.assertEqual((activity.user_id, activity.summary), (self.advisor, "To sign in person: Louis Durand"))
        self.authenticate("esign_advisor", "esign_advisor")
        action = self._button("o2s.esign.request", "action_esign_sign_in_person", request)
        codes = [self._sign_here(louis, self._browse(action["url"]))]
        self.assertEqual(request.state, "signed")
        self._assert_never_seen(codes)

    @mute_logger("odoo.http")
    def test_next_signer_route_is_the_advisors_own(self):
        self.request = request = self._in_person_request(["in_person", "in_person"])
        louis = request.signer_ids.sorted("sequence")[1]
        path = "/esign/in_person/%s/open" % louis.id
        # another advisor, with a valid CSRF token of their own session: nothing
        self.authenticate("esign_advisor2", "esign_advisor2")
        csrf = self._csrf(self._fetch(self._path(louis)))
        self.assertEqual(self._fetch(path, data={"csrf_token": csrf}, allow_redirects=False).status_code, 404)
        with self.assertRaises(JsonRpcException) as refused:
            self._button("o2s.esign.request", "action_esign_sign_in_person", request)
        self.assertEqual(str(refused.exception), "odoo.exceptions.AccessError")
        # a visitor is sent to the login page; a GET or a POST without CSRF does nothing
        self.authenticate(None, None)
        response = self._fetch(path, data={"csrf_token": csrf}, allow_redirects=False)
        self.assertIn("/web/login", response.headers.get("Location", ""))
        self.authenticate("esign_advisor", "esign_advisor")
        self.assertEqual(self._fetch(path, allow_redirects=False).status_code, 405)
        self.assertEqual(self._fetch(path, data={"csrf_token": "forged"}, allow_redirects=False).status_code, 400)
        self.assertFalse(self._events(request, "in_person_opened"))
        # the advisor's own POST opens it (and logs it)
        csrf = self._csrf(self._fetch(self._path(louis)))
        response = self._fetch(path, data={"csrf_token": csrf}, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].split("?")[0].endswith("/esign/in_person/%s" % louis.id))
        self.assertEqual(self._events(request, "in_person_opened").signer_id, louis)
        # a signer who can no longer sign: back to the request
        request.with_user(self.advisor).action_cancel()
        response = self._fetch(path, data={"csrf_token": csrf}, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith("/odoo/o2s.esign.request/%s" % request.id))


@tagged("post_install", "-at_install")
class TestEsignInPersonTour(EsignHttpCommon):
    """In a real browser: from the request's “Sign in person” to the signed request."""

    gateway_class = BrowserSmsGateway
    browser_size = "1366x768"

    def test_two_signers_in_person_in_the_browser(self):
        signers = [{"partner_id": partner.id, "sequence": 10 * (index + 1), "presence": "in_person"}
                   for index, partner in enumerate(self.client | self.client2)]
        request = self._sent_request(signers=signers, signing_order="sequential").sudo()
        self.start_tour("/odoo/o2s.esign.request/%s" % request.id, "o2s_esign_in_person",
                        login="esign_advisor", cookies={"o2s_esign_tour_gw": str(self.gateway.port)})
        self.env.invalidate_all()
        self.assertEqual(request.state, "signed")
        self.assertEqual(request.signer_ids.mapped("signature_name"), ["Jeanne Martin", "Louis Durand"])
        self.assertEqual(len(self._events(request, "in_person_opened")), 2)
        for signer in request.signer_ids:
            self.assertEqual(len(self._sms_to(signer.mobile)), 1)
            self.assertTrue(self._payload(self._events(request, "consent_given", signer=signer))["in_person"])
        self.assertFalse(self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "in", request.signer_ids.ids),
            ("subject", "ilike", "asks you to sign")]))
