# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The signing page in a real browser (headless Chromium), on a desktop and on a phone, and
end to end from a mail received by a real SMTP server."""
import re
from unittest.mock import patch
from urllib.parse import quote, urlsplit

import odoo
from odoo.tests import tagged

from .esign_portal_common import BrowserSmsGateway, EsignHttpCommon
from .smtp_server import SmtpSink, free_port, html_part, quiet_smtp_log, start_smtp

_LINK = re.compile(r'href="(https?://[^"]+/esign/sign/\d+/[A-Za-z0-9_-]{43})"')


def tour_url(case, signer, path=None):
    """The signer's page, telling the tour where the SMS gateway stand-in listens."""
    return "%s#gw=%s&to=%s" % (path or case._path(signer), case.gateway.port,
                               quote(signer.mobile, safe=""))


class _TourCases:
    """The tours, mixed into a test class per screen size."""

    gateway_class = BrowserSmsGateway

    def _check_signed(self, request):
        self.env.invalidate_all()
        signer = request.signer_ids
        self.assertEqual(signer.state, "signed")
        self.assertEqual(request.state, "signed")
        self.assertEqual(signer.signature_type, "typed")
        self.assertEqual(signer.signature_name, "Jeanne Martin")
        types = self._events(request).mapped("event_type")
        for event_type in ("page_viewed", "document_viewed", "otp_sent", "otp_verified",
                           "consent_given", "signed"):
            self.assertIn(event_type, types)
        self.assertIn("Mozilla", self._events(request, "signed").user_agent)

    def test_sign(self):
        request = self._sent_request(message="Merci !").sudo()
        self.start_tour(tour_url(self, request.signer_ids), "o2s_esign_portal_sign")
        self._check_signed(request)

    def test_sign_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.client.lang = "fr_FR"
        request = self._sent_request().sudo()
        self.assertEqual(request.signer_ids.lang, "fr_FR")
        self.start_tour(tour_url(self, request.signer_ids), "o2s_esign_portal_sign_fr")
        self.env.invalidate_all()
        self.assertEqual(request.state, "signed")
        self.assertEqual(self._payload(self._events(request, "consent_given"))["lang"], "fr_FR")

    def test_refuse(self):
        request = self._sent_request().sudo()
        self.start_tour(tour_url(self, request.signer_ids), "o2s_esign_portal_refuse")
        self.env.invalidate_all()
        self.assertEqual(request.signer_ids.state, "refused")
        self.assertEqual(request.signer_ids.refusal_reason, "The amount is wrong")
        self.assertEqual(request.state, "refused")


@tagged("post_install", "-at_install")
class TestEsignPortalDesktop(_TourCases, EsignHttpCommon):
    browser_size = "1366x768"


@tagged("post_install", "-at_install")
class TestEsignPortalPhone(_TourCases, EsignHttpCommon):
    browser_size = "375x667"
    touch_enabled = True


@tagged("post_install", "-at_install")
class TestEsignEndToEnd(EsignHttpCommon):
    """Real parts: the invitation goes through a real SMTP server, the browser follows the link
    of the received mail, reads the code the SMS gateway stand-in received, and signs."""

    gateway_class = BrowserSmsGateway

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        quiet_smtp_log(cls)
        cls.mailbox = SmtpSink()
        port = free_port()
        cls.smtp = start_smtp(cls.mailbox, port)
        cls.addClassCleanup(cls.smtp.stop)
        cls.env["ir.mail_server"].sudo().search([]).active = False
        cls.env["ir.mail_server"].sudo().create({
            "name": "in-test SMTP", "smtp_host": "127.0.0.1", "smtp_port": port,
            "smtp_encryption": "none", "sequence": 1,
        })

    def test_from_the_mail_to_the_signature(self):
        request = self._sent_request(message="Voici la lettre de mission.").sudo()
        signer = request.signer_ids
        mails = self.env["mail.mail"].sudo().search([
            ("model", "=", "o2s.esign.signer"), ("res_id", "=", signer.id)])
        self.assertEqual(len(mails), 1)
        with patch.object(odoo.modules.module, "current_test", False):
            mails.send(raise_exception=True)
        self.assertTrue(self.mailbox.wait(1), "the SMTP server received nothing")
        _sender, recipients, message = self.mailbox.messages[0]
        self.assertEqual(recipients, ["jeanne@example.com"])
        self.assertIn("asks you to sign: Test request", message["Subject"])
        html = html_part(message)
        links = set(_LINK.findall(html))
        self.assertEqual(len(links), 1, "one personal link in the mail")
        link = links.pop()
        self.assertTrue(link.startswith(self.base_url()))
        self.assertEqual(self._payload(self._events(request, "email_sent"))["to"], "jeanne@example.com")
        # the browser follows the link of the mail (not the one the test could compute)
        self.start_tour(tour_url(self, signer, path=urlsplit(link).path), "o2s_esign_portal_sign")
        self.env.invalidate_all()
        self.assertEqual(signer.state, "signed")
        self.assertEqual(request.state, "signed")
        sms = self._sms_to(signer.mobile)
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms[0].bearer, "webhook-secret")
        self.assertIn("Cabinet Patrimoine", sms[0].json["body"])


@tagged("post_install", "-at_install")
class TestEsignEndToEndPhone(TestEsignEndToEnd):
    """The same, on a phone-sized screen."""

    browser_size = "375x667"
    touch_enabled = True
