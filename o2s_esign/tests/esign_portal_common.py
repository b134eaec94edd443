# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared set-up of the signer-side tests: the SMS gateway stand-in, sent requests, codes."""
import base64
import importlib.util
import io
import json
import re
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from odoo.tests import HttpCase

from .common import O2sEsignCommon

_SUPPORT = Path(__file__).resolve().parents[2] / "tests" / "support"
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def load_support(name):
    """A module of the repository's ``tests/support`` (plain Python stand-ins)."""
    module_name = "o2s_esign_support_%s" % name
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, _SUPPORT / ("%s.py" % name))
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


SmsGateway = load_support("sms_gateway").SmsGateway


class BrowserSmsGateway(SmsGateway):
    """The gateway stand-in, also answering ``GET /last-sms?to=+33...`` with the last text sent
    to that number (CORS open), so a browser test can read its code like a phone would."""

    def _handler_class(self):
        base = super()._handler_class()
        gateway = self

        class Handler(base):
            def _cors(self):
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Methods", "GET, OPTIONS")

            def do_OPTIONS(self):
                self.send_response(204)
                self._cors()
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                if not self.path.startswith("/last-sms"):
                    return super().do_GET()
                wanted = None
                if "to=" in self.path:
                    from urllib.parse import parse_qs, urlsplit
                    wanted = parse_qs(urlsplit(self.path).query).get("to", [None])[0]
                bodies = [m.json.get("body") for m in gateway.messages
                          if isinstance(m.json, dict) and (not wanted or m.json.get("to") == wanted)]
                payload = json.dumps({"body": bodies[-1] if bodies else None}).encode()
                self.send_response(200)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return None

        return Handler


class EsignPortalCommon(O2sEsignCommon):
    """A running SMS gateway stand-in (webhook transport) and helpers for signers' codes."""

    gateway_class = SmsGateway

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("en_US")
        (cls.client | cls.client2).lang = "en_US"
        cls.gateway = cls.gateway_class(bearer="webhook-secret").start()
        cls.addClassCleanup(cls.gateway.stop)
        cls.company.sudo().write({
            "name": "Cabinet Patrimoine",
            "esign_sms_transport": "webhook",
            "esign_webhook_url": cls.gateway.url + "/sms",
            "esign_webhook_token": "webhook-secret",
            "esign_sms_sender": "Cabinet",
        })

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's test guard on outgoing HTTP compares the timeout with a number; lib.sms uses
        # requests' (connect, read) pair. Same limits, as one number, for the guard.
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)

    def setUp(self):
        super().setUp()
        self.gateway.fail_with(None)
        self.gateway.respond_raw(0, b"")
        self.gateway.messages.clear()

    # ------------------------------------------------------------------ helpers
    def _keep_sent_request(self, **values):
        """Send a request (``_sent_request(**values)``) and keep it in ``self.request`` as the
        superuser, as the signing pages read it, and its signers in ``self.signer``."""
        self.request = self._sent_request(**values).sudo()
        self.signer = self.request.signer_ids

    def _sms_to(self, number):
        return [m for m in self.gateway.messages
                if isinstance(m.json, dict) and m.json.get("to") == number]

    def _last_code(self, signer):
        """The code of the last SMS the gateway received for ``signer``."""
        messages = self._sms_to(signer.mobile)
        self.assertTrue(messages, "no SMS reached the gateway for %s" % signer.mobile)
        match = _CODE.search(messages[-1].json["body"])
        self.assertTrue(match, "no code in the SMS")
        return match.group(1)

    def _events(self, request, event_type=None, signer=None):
        domain = [("request_id", "=", request.id)]
        if event_type:
            domain.append(("event_type", "=", event_type))
        if signer:
            domain.append(("signer_id", "=", signer.id))
        return self.env["o2s.esign.event"].sudo().search(domain, order="sequence")

    def _payload(self, event):
        return json.loads(event.payload or "{}")


def signature_png(text="Jeanne Martin", size=(300, 100)):
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    ImageDraw.Draw(image).text((10, 40), text, fill=(0, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


class EsignHttpCommon(EsignPortalCommon, HttpCase):
    #: the sealing scheduled action, triggered when the last signer signs, runs after the
    #: signer's transaction commits; an HttpCase never commits, so these tests run it at the
    #: trigger (the page then shows the sealed state at once). The tests of the background
    #: sealing itself set this to False and run it when they mean to.
    esign_seal_at_once = True

    def setUp(self):
        super().setUp()
        if self.esign_seal_at_once:
            IrCron = type(self.env["ir.cron"])
            trigger = IrCron._trigger

            def trigger_and_seal(cron, at=None):
                result = trigger(cron, at)
                if self.esign_seal_at_once and \
                        cron == cron.env.ref("o2s_esign.ir_cron_esign_seal_requests"):
                    cron.env["o2s.esign.request"].sudo()._cron_seal_requests()
                return result

            self.patch(IrCron, "_trigger", trigger_and_seal)

    def _path(self, signer, token=None):
        return "/esign/sign/%s/%s" % (signer.id, token or signer._get_signing_token())

    def _fetch(self, path, **kwargs):
        self.env.flush_all()
        response = self.url_open(path, **kwargs)
        self.env.invalidate_all()
        return response

    def _csrf(self, response):
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        self.assertTrue(match, "no CSRF token in the page")
        return match.group(1)

    def _call(self, signer, action, **params):
        self.env.flush_all()
        response = self.url_open(
            "/esign/action/%s/%s" % (signer.id, action),
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"})
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200, response.text[:300])
        body = response.json()
        self.assertNotIn("error", body, body)  # JSON-RPC level errors are bugs here
        return body["result"]

    def _open(self, signer):
        """Open the signer's page; returns (csrf token, link token)."""
        response = self._fetch(self._path(signer))
        self.assertEqual(response.status_code, 200)
        return self._csrf(response), signer._get_signing_token()

    def _verify(self, signer):
        csrf, token = self._open(signer)
        result = self._call(signer, "send_code", token=token, csrf_token=csrf)
        self.assertTrue(result.get("ok"), result)
        result = self._call(signer, "verify_code", token=token, csrf_token=csrf,
                            code=self._last_code(signer))
        self.assertTrue(result.get("ok"), result)
        self.assertNotIn("secret", result, "the verified secret stays in the server session")
        return csrf, token

    def _sign_values(self, signer, **values):
        return dict({
            "consent": True, "consent_sha256": signer._get_signing_page_text()[1],
            "name": "Jeanne Martin", "signature": signature_png(), "signature_type": "typed",
        }, **values)

    def _sign(self, signer):
        csrf, token = self._verify(signer)
        result = self._call(signer, "sign", token=token, csrf_token=csrf, **self._sign_values(signer))
        self.assertEqual(result.get("state"), "signed", result)
        return csrf, token
