# Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Shared set-up of the signer-side tests: the SMS gateway stand-in, sent requests, codes."""
import importlib.util
import json
import re
import sys
from pathlib import Path

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

            def do_OPTIONS(self):  # noqa: N802 - http.server naming
                self.send_response(204)
                self._cors()
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):  # noqa: N802 - http.server naming
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
