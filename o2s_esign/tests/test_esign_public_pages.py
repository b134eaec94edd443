# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The module's public pages against what a visitor can do over HTTP (issue #12, items 7-9):
a hostile refusal reason stays plain text, reloading a signing link does not grow the audit
trail, no page can be framed by another site, and a refused upload leaves no file behind."""
import base64
import os
import xmlrpc.client
from datetime import timedelta

from freezegun import freeze_time

import odoo
from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.o2s_esign_signer import MAX_VIEW_EVENTS_PER_DAY
from .esign_portal_common import EsignHttpCommon
from .samples import large_pdf

HOSTILE_REASON = ('I refuse <a href="https://evil.example/phish">click here</a>\n'
                  '<img src="https://evil.example/track.png">')
WIZARD = "o2s.esign.request.wizard"


@tagged("post_install", "-at_install")
class TestEsignPublicPages(EsignHttpCommon):

    def setUp(self):
        super().setUp()
        self._keep_sent_request()

    def _assert_not_framable(self, response, what):
        self.assertEqual(response.headers.get("X-Frame-Options"), "DENY", what)
        self.assertIn("frame-ancestors 'none'", response.headers.get("Content-Security-Policy", ""),
                      what)

    # ------------------------------------------------------------ item 7: reason
    def test_refusal_reason_stays_plain_text(self):
        csrf, token = self._open(self.signer)
        response = self.url_open("/esign/action/%s/refuse" % self.signer.id, data={
            "token": token, "reason": HOSTILE_REASON, "csrf_token": csrf})
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.request.state, "refused")
        self.assertEqual(self.signer.refusal_reason, HOSTILE_REASON, "stored as typed")
        # the page the signer lands on shows it as text
        self.assertNotIn('<img src="https://evil.example', response.text)
        self.assertIn("&lt;img src=", response.text)
        # the advisor's activity, the chatter and the mails show it as text too
        activity = self.request.activity_ids
        self.assertEqual(len(activity), 1)
        note = str(activity.note)
        self.assertIn("&lt;a href=", note)
        self.assertIn("&lt;img src=", note)
        self.assertIn("<br>", note, "its line breaks are kept")
        bodies = [str(activity.note)]
        bodies += [str(body) for body in self.request.message_ids.mapped("body")]
        mails = self.env["mail.mail"].sudo().search([("body_html", "ilike", "evil.example")])
        self.assertEqual(mails.mapped("model"), ["o2s.esign.request"],
                         "the advisor's mail gives the reason")
        bodies += [str(body) for body in mails.mapped("body_html")]
        for body in bodies:
            self.assertNotRegex(body, r"<a [^>]*evil\.example")
            self.assertNotRegex(body, r"<img [^>]*evil\.example")

    # -------------------------------------------------------- item 8: page views
    def test_page_views_are_logged_once_per_session_and_day(self):
        path = self._path(self.signer)
        for _i in range(20):
            self.assertEqual(self._fetch(path).status_code, 200)
        self.assertEqual(len(self._events(self.request, "page_viewed", self.signer)), 1)
        self.assertEqual(len(self._events(self.request, "link_opened", self.signer)), 1)
        document_path = path + "/document/%s" % self.request.document_ids.id
        for _i in range(5):
            self.assertEqual(self._fetch(document_path).status_code, 200)
        self.assertEqual(len(self._events(self.request, "document_viewed", self.signer)), 1)
        # a new browser session: one more
        self.opener.cookies.clear()
        for _i in range(3):
            self._fetch(path)
        self.assertEqual(len(self._events(self.request, "page_viewed", self.signer)), 2)
        # the next day, in the same session: one more
        with freeze_time(fields.Datetime.now() + timedelta(days=1)):
            for _i in range(3):
                self._fetch(path)
                self._fetch(document_path)
        self.assertEqual(len(self._events(self.request, "page_viewed", self.signer)), 3)
        self.assertEqual(len(self._events(self.request, "document_viewed", self.signer)), 2)
        self.assertEqual(len(self._events(self.request, "link_opened", self.signer)), 1)

    def test_visitor_without_cookies_cannot_grow_the_trail(self):
        path = self._path(self.signer)
        for _i in range(MAX_VIEW_EVENTS_PER_DAY + 10):
            self.opener.cookies.clear()  # each GET a new session
            self.assertEqual(self._fetch(path).status_code, 200)
        self.assertEqual(len(self._events(self.request, "page_viewed", self.signer)),
                         MAX_VIEW_EVENTS_PER_DAY)

    # ---------------------------------------------------- item 9: no framing
    @mute_logger("odoo.http")
    def test_public_pages_cannot_be_framed(self):
        csrf, token = self._open(self.signer)
        path = self._path(self.signer)
        pages = {
            "signing page": self._fetch(path),
            "invalid link": self._fetch("/esign/sign/%s/%s" % (self.signer.id, "x" * 43)),
            "document": self._fetch(path + "/document/%s" % self.request.document_ids.id),
            "verification page": self._fetch("/esign/verify"),
            "verification token": self._fetch("/esign/verify/%s" % ("y" * 22)),
            "refusal": self.url_open("/esign/action/%s/refuse" % self.signer.id, data={
                "token": token, "reason": "", "csrf_token": csrf}, allow_redirects=False),
        }
        self.assertEqual(pages["invalid link"].status_code, 404)
        self.assertEqual(pages["refusal"].status_code, 303)
        self._sign(self.signer)
        self.assertEqual(self.request.state, "signed")
        self.authenticate("esign_advisor", "esign_advisor")
        pages["evidence"] = self.url_open("/esign/evidence/%d/download" % self.request.id)
        self.assertTrue(pages["evidence"].content.startswith(b"PK\x03\x04"))
        self.signer.with_user(self.advisor).action_download_attestation()
        pages["attestation"] = self.url_open(
            "/esign/evidence/%d/attestation/%d" % (self.request.id, self.signer.id))
        self.assertTrue(pages["attestation"].content.startswith(b"%PDF"))
        for what, response in pages.items():
            self._assert_not_framable(response, what)


@tagged("post_install", "-at_install")
class TestEsignRefusedUploadLeavesNothing(EsignHttpCommon):
    """A file over the company's limit is refused before it is written (issue #12, item 9)."""

    def setUp(self):
        super().setUp()
        self.company.esign_max_upload_mb = 1
        self.big = large_pdf(1)

    def _filestore_files(self):
        root = self.env["ir.attachment"]._filestore()
        return {os.path.join(folder, name)
                for folder, _dirs, names in os.walk(root) for name in names}

    def _counts(self):
        self.env.flush_all()
        return len(self._filestore_files()), self.env["ir.attachment"].sudo().search_count([])

    @mute_logger("odoo.http")
    def test_api_refuses_before_writing_the_file(self):
        before = self._counts()
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, "esign_advisor", "esign_advisor", {})
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self.xmlrpc_object.execute_kw(db, uid, "esign_advisor", "o2s.esign.request",
                                          "create_and_send", [{
                                              "partner_id": self.client.id, "documents": [{
                                                  "name": "big.pdf",
                                                  "datas": base64.b64encode(self.big).decode()}]}])
        self.assertIn("big.pdf is larger than the 1.0 MB allowed", caught.exception.faultString)
        self.env.invalidate_all()
        self.assertEqual(self._counts(), before)

    def test_wizard_upload_refuses_before_writing_the_file(self):
        self.authenticate("esign_advisor", "esign_advisor")
        before = self._counts()
        response = self.opener.post(
            "%s/web/binary/upload_attachment" % self.base_url(),
            files={"ufile": ("big.pdf", self.big, "application/pdf")},
            data={"csrf_token": odoo.http.Request.csrf_token(self), "model": WIZARD, "id": 0})
        self.assertEqual(response.status_code, 200)
        [result] = response.json()
        self.assertIn("big.pdf is larger than the 1.0 MB allowed", result["error"])
        self.env.invalidate_all()
        self.assertEqual(self._counts(), before)
        # a file within the limit still uploads
        response = self.opener.post(
            "%s/web/binary/upload_attachment" % self.base_url(),
            files={"ufile": ("small.pdf", large_pdf(0.5), "application/pdf")},
            data={"csrf_token": odoo.http.Request.csrf_token(self), "model": WIZARD, "id": 0})
        [result] = response.json()
        self.assertTrue(result.get("id"), result)
        # and the same file through the ORM is refused the same way, before any write
        before = self._counts()
        with self.assertRaisesRegex(odoo.exceptions.UserError, "larger than the 1.0 MB"):
            self.env["ir.attachment"].with_user(self.advisor).create({
                "name": "big.pdf", "raw": self.big, "res_model": WIZARD, "res_id": 0})
        self.assertEqual(self._counts(), before)
