"""A local HTTP server standing in for SMS gateways (Twilio's REST API and JSON webhooks).

Stdlib only (``http.server`` in a daemon thread), listening on 127.0.0.1 on a free port.
It records every request, answers like Twilio (``POST /2010-04-01/Accounts/<sid>/Messages.json``,
form fields, HTTP basic auth, ``201`` with a ``sid``) or like a webhook (any other path, JSON
body, optional bearer token), and can be told to fail or to hang.

Usage::

    with SmsGateway(account_sid="AC1", auth_token="secret") as gw:
        send_sms("twilio", {"base_url": gw.url, ...}, "+33612345678", "Code: 123456")
        gw.messages[-1].form["Body"]
        gw.fail_with(500)          # every request answers 500 (None restores)
        gw.respond_raw(200, b"not json", "text/plain")
        gw.hang()                  # requests block until release() (or hang_limit seconds)
        gw.wait_for(2, timeout=5)  # wait until 2 requests were received

Hanging requests never need a sleep in tests: the handler waits on an ``Event`` that
``release()`` (called on exit) sets, bounded by ``hang_limit``.
Plain Python (no pytest import), so Odoo-side tests can use it as well.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs

__all__ = ["Received", "SmsGateway"]

_TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
MAX_BODY = 1 << 20


@dataclass
class Received:
    """One request the gateway received."""

    method: str
    path: str
    headers: dict
    body: bytes
    form: dict = field(default_factory=dict)       # Twilio form fields (single values)
    json: object = None                            # webhook JSON body
    basic_auth: tuple | None = None                # (user, password) if given
    bearer: str | None = None                      # bearer token if given


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # clients that gave up (timeouts) make writes fail: expected, stay quiet
        pass


class SmsGateway:
    """Fake SMS gateway. ``account_sid``/``auth_token`` (Twilio) and ``bearer`` (webhook), when
    set, are required from clients (401 otherwise)."""

    def __init__(self, *, account_sid: str | None = None, auth_token: str | None = None,
                 bearer: str | None = None, hang_limit: float = 30.0, host: str = "127.0.0.1"):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.bearer = bearer
        self.hang_limit = hang_limit
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self._release = threading.Event()
        self._hanging = False
        self._fail: int | None = None
        self._raw: tuple[int, bytes, str] | None = None
        self.hung = threading.Event()          # set when a request starts hanging
        self._server = _Server((host, 0), self._handler_class())
        self.port = self._server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    # --- behaviour ---------------------------------------------------------------------------
    def fail_with(self, status: int | None):
        """Answer every request with this HTTP status (``None`` restores normal service)."""
        self._fail = status

    def respond_raw(self, status: int, body: bytes, content_type: str = "application/json"):
        """Answer every request with this raw response (``status=0`` restores)."""
        self._raw = (status, body, content_type) if status else None

    def hang(self):
        """Make requests block (after being recorded) until :meth:`release`."""
        self._release.clear()
        self.hung.clear()
        self._hanging = True

    def release(self):
        """Let hanging requests go (they then answer 504) and stop hanging new ones."""
        self._hanging = False
        self._release.set()

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``count`` requests were received; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.messages) >= count, timeout)

    # --- life cycle --------------------------------------------------------------------------
    def start(self) -> SmsGateway:
        """Serve from a daemon thread. Returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"sms-gateway-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Release hanging requests, stop serving and close the socket."""
        self.release()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- request handling --------------------------------------------------------------------
    def _record(self, received: Received):
        with self._cond:
            self.messages.append(received)
            self._cond.notify_all()

    def _handler_class(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def _send(self, status: int, body: bytes, content_type="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, obj):
                self._send(status, json.dumps(obj).encode())

            def do_GET(self):
                self._json(405, {"message": "method not allowed"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                headers = {k.lower(): v for k, v in self.headers.items()}
                received = Received("POST", self.path, headers, body)
                auth = headers.get("authorization", "")
                if auth.startswith("Basic "):
                    try:
                        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                        received.basic_auth = (user, password)
                    except ValueError:
                        received.basic_auth = ("", "")
                elif auth.startswith("Bearer "):
                    received.bearer = auth[7:]
                twilio = _TWILIO_PATH.match(self.path)
                if twilio:
                    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                    received.form = {k: v[0] for k, v in form.items()}
                else:
                    try:
                        received.json = json.loads(body or b"null")
                    except ValueError:
                        received.json = None
                gateway._record(received)

                if gateway._hanging:
                    gateway.hung.set()
                    gateway._release.wait(gateway.hang_limit)
                    self._json(504, {"message": "released"})
                    return
                if gateway._raw:
                    self._send(*gateway._raw)
                    return
                if gateway._fail:
                    self._json(gateway._fail, {"code": 20500, "message": "injected failure",
                                               "status": gateway._fail})
                    return
                if twilio:
                    self._twilio(twilio.group(1), received)
                else:
                    self._webhook(received)

            def _twilio(self, sid, received):
                wanted = (gateway.account_sid, gateway.auth_token)
                if gateway.account_sid and (sid != gateway.account_sid
                                            or received.basic_auth != wanted):
                    self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return
                missing = [name for name in ("To", "From", "Body") if not received.form.get(name)]
                if missing:
                    self._json(400, {"code": 21604, "status": 400,
                                     "message": f"A '{missing[0]}' parameter is required."})
                    return
                self._json(201, {"sid": "SM" + secrets.token_hex(16), "status": "queued",
                                 "to": received.form["To"], "from": received.form["From"],
                                 "account_sid": sid})

            def _webhook(self, received):
                if gateway.bearer and received.bearer != gateway.bearer:
                    self._json(401, {"message": "unauthorized"})
                    return
                if not isinstance(received.json, dict):
                    self._json(400, {"message": "JSON object expected"})
                    return
                self._json(200, {"id": "wh-" + secrets.token_hex(8), "status": "accepted"})

        return Handler
