# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Every download of an evidence file or an attestation, by any route, is an event of the
request (who, when, the client's address, also behind a reverse proxy)."""
import base64
import hashlib
import json
import xmlrpc.client
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tools import config, mute_logger

from .common_signing import O2sEsignSigningCommon

CLIENT_IP = "198.51.100.23"
#: what a reverse proxy (nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for,
#: X-Forwarded-Host $host, X-Forwarded-Proto $scheme) adds to the client's request
PROXY_HEADERS = {"X-Forwarded-For": CLIENT_IP, "X-Forwarded-Proto": "http",
                 "User-Agent": "Mozilla/5.0 (downloads test)"}


@tagged("post_install", "-at_install")
class TestEsignDownloadEvents(O2sEsignSigningCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._configure("b_b", tsa=False)
        cls.request = cls._send(documents=1)
        cls._sign_all(cls.request)
        cls.evidence = cls.request.sudo().evidence_attachment_id

    def setUp(self):
        super().setUp()
        self.authenticate("esign_advisor", "esign_advisor")

    # ------------------------------------------------------------------ helpers
    def _downloads(self, event_type="evidence_downloaded"):
        return self.request.sudo().event_ids.filtered(lambda e: e.event_type == event_type)

    def _get(self, url, behind_proxy=True, headers=None):
        self.env.flush_all()
        headers = dict(PROXY_HEADERS, **(headers or {}))
        headers["X-Forwarded-Host"] = "127.0.0.1:%s" % config["http_port"]
        with patch.dict(config.options, {"proxy_mode": behind_proxy}):
            response = self.url_open(url, headers=headers)
        self.env.invalidate_all()
        return response

    # -------------------------------------------------------------------- tests
    def test_evidence_download_behind_a_proxy_records_the_client(self):
        action = self.request.with_user(self.advisor).action_download_evidence()
        self.assertFalse(self._downloads(), "the button logs nothing: the download does")
        response = self._get(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, self.evidence.raw)
        event = self._downloads()
        self.assertEqual(len(event), 1)
        self.assertEqual(event.ip_address, CLIENT_IP)
        self.assertEqual(event.user_agent, "Mozilla/5.0 (downloads test)")
        payload = json.loads(event.payload)
        self.assertEqual((payload["user_id"], payload["user"]), (self.advisor.id, self.advisor.name))
        self.assertEqual(payload["sha256"], hashlib.sha256(self.evidence.raw).hexdigest())
        self.assertEqual(payload["sha256"], self.request.evidence_sha256)
        self.assertEqual(payload["route"], action["url"])
        self.assertFalse(payload["saved_copy"])
        self.assertTrue(self.request.verify_event_chain()[self.request.id]["ok"])
        # without proxy_mode, a client cannot choose the address recorded
        self._get(action["url"], behind_proxy=False)
        self.assertEqual(self._downloads()[-1].ip_address, "127.0.0.1")

    def test_attestation_download_is_logged_with_its_signer(self):
        signer = self.request.signer_ids.sorted("sequence")[0]
        action = signer.with_user(self.advisor).action_download_attestation()
        self.assertFalse(self._downloads("attestation_downloaded"))
        response = self._get(action["url"])
        self.assertEqual(response.status_code, 200)
        event = self._downloads("attestation_downloaded")
        self.assertEqual(len(event), 1)
        self.assertEqual(event.signer_id, signer)
        self.assertEqual(event.ip_address, CLIENT_IP)
        payload = json.loads(event.payload)
        self.assertEqual(payload["attachment_id"], signer.sudo().attestation_attachment_id.id)
        self.assertEqual(payload["user_id"], self.advisor.id)

    def test_web_content_and_the_saved_copy_are_logged_too(self):
        # /web/content is a read-only route: Odoo serves it again on a read/write cursor to
        # log the download (the warning says so)
        with self.assertLogs("odoo.http", "WARNING") as logs:
            response = self._get("/web/content/%d?download=true" % self.evidence.id)
        self.assertIn("download of an evidence file is an audit event", "\n".join(logs.output))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, self.evidence.raw)
        event = self._downloads()
        self.assertEqual(len(event), 1)
        self.assertEqual(event.ip_address, CLIENT_IP)
        self.assertEqual(json.loads(event.payload)["route"], "/web/content/%d" % self.evidence.id)
        # the copy saved among the client's attachments, downloaded from the contact's chatter
        self.request.with_user(self.advisor).action_save_evidence_to_partner()
        copy = self.env["ir.attachment"].sudo().search([("esign_request_id", "=", self.request.id)])
        self.assertEqual(len(copy), 1)
        with self.assertLogs("odoo.http", "WARNING"):
            self.assertEqual(self._get("/web/content/%d?download=true" % copy.id).status_code, 200)
        event = self._downloads()[-1]
        payload = json.loads(event.payload)
        self.assertEqual((payload["attachment_id"], payload["saved_copy"]), (copy.id, True))
        self.assertEqual(event.ip_address, CLIENT_IP)

    def test_reading_the_bytes_over_rpc_is_a_download(self):
        self.env.flush_all()
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, "esign_advisor", "esign_advisor", {})
        values = self.xmlrpc_object.execute_kw(db, uid, "esign_advisor", "ir.attachment", "read",
                                               [self.evidence.ids, ["name", "datas"]])
        self.env.invalidate_all()
        self.assertEqual(base64.b64decode(values[0]["datas"]), self.evidence.raw)
        event = self._downloads()
        self.assertEqual(len(event), 1)
        self.assertEqual(json.loads(event.payload)["route"], "rpc:read")
        # metadata only is no download
        self.xmlrpc_object.execute_kw(db, uid, "esign_advisor", "ir.attachment", "read",
                                      [self.evidence.ids, ["name", "checksum"]])
        self.env.invalidate_all()
        self.assertEqual(len(self._downloads()), 1)

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_refused_downloads_log_nothing(self):
        self.authenticate("esign_advisor2", "esign_advisor2")
        self.assertEqual(self._get("/esign/evidence/%d/download" % self.request.id).status_code, 404)
        self.assertIn(self._get("/web/content/%d?download=true" % self.evidence.id).status_code,
                      (403, 404))
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, "esign_advisor2", "esign_advisor2", {})
        with self.assertRaises(xmlrpc.client.Fault):
            self.xmlrpc_object.execute_kw(db, uid, "esign_advisor2", "ir.attachment", "read",
                                          [self.evidence.ids, ["datas"]])
        self.assertFalse(self._downloads())

    def test_signing_page_events_record_the_client_behind_a_proxy(self):
        request = self._send(documents=1)
        signer = request.signer_ids.sorted("sequence")[0]
        self.authenticate(None, None)
        path = "/esign/sign/%s/%s" % (signer.id, signer.sudo()._get_signing_token())
        self.assertEqual(self._get(path).status_code, 200)
        opened = request.sudo().event_ids.filtered(lambda e: e.event_type == "link_opened")
        self.assertEqual(opened.ip_address, CLIENT_IP)
