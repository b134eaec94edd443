"""What the load and peer benchmarks share: requests created in the throwaway database before the
server starts (in-process, as the advisor), and a signer's browser over HTTP.

``create_requests`` runs ``o2s.esign.request.create_and_send`` as the benchmark's advisor for
each spec and reads every signer's link from the invitation mail queued for them (what the
signer receives). ``Signer`` is one signer's own HTTP session on the signing page: every call
returns its client time (ms) and is recorded (kind, method, path with the token redacted) so that
the server's access-log line can be matched to it (``bench_http._match``).
"""

from __future__ import annotations

import base64
import re
import time

_LINK = re.compile(r"/esign/sign/(\d+)/([A-Za-z0-9_-]{20,})")
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_REDACT = re.compile(r"(/esign/sign/\d+/)[A-Za-z0-9_-]{20,}")


def create_requests(config_file: str, db: str, advisor_login: str, specs: list[dict]) -> list[dict]:
    """``specs``: dicts with ``partner_ids`` (the signers, the first is the client),
    ``documents`` (count), ``pages`` and ``level`` ("b_b" or "b_t", the company's level when it
    is sent, which the request keeps). Returns, per spec, ``{"id", "signers": [{"id", "link",
    "mobile", "name"}]}``."""
    import odoo_env
    import pdf_factory

    pdfs = {}
    created = []
    with odoo_env.odoo_env(config_file, db) as env:
        env = env(context={"tracking_disable": True, "mail_create_nolog": True})
        advisor = env["res.users"].search([("login", "=", advisor_login)])
        company = env.ref("base.main_company")
        for index, spec in enumerate(specs):
            if company.esign_pades_level != spec["level"]:
                company.esign_pades_level = spec["level"]
            key = (spec["documents"], spec["pages"])
            if key not in pdfs:
                pdfs[key] = [base64.b64encode(pdf_factory.make_pdf(
                    spec["pages"], text=f"Contrat {n} - page {{n}} (éèàç)")).decode()
                    for n in range(1, spec["documents"] + 1)]
            request_id = env["o2s.esign.request"].with_user(advisor).create_and_send({
                "partner_id": spec["partner_ids"][0],
                "name": f"Bench {index}",
                "documents": [{"name": f"contrat-{n}.pdf", "datas": data}
                              for n, data in enumerate(pdfs[key], start=1)],
                "signers": [{"partner_id": pid, "role": "signer"} for pid in spec["partner_ids"]],
            })
            request = env["o2s.esign.request"].browse(request_id)
            signers = request.signer_ids.sorted(lambda s: (s.sequence, s.id))
            env.flush_all()
            env.cr.execute("""SELECT mm.res_id, m.body_html FROM mail_mail m
                              JOIN mail_message mm ON mm.id = m.mail_message_id
                              WHERE mm.model = 'o2s.esign.signer' AND mm.res_id = ANY(%s)""",
                           [signers.ids])
            links = {}
            for _res_id, body in env.cr.fetchall():
                for signer_id, token in _LINK.findall(body or ""):
                    links[int(signer_id)] = f"/esign/sign/{signer_id}/{token}"
            if sorted(links) != sorted(signers.ids):
                raise RuntimeError(f"invitation links found for {sorted(links)}, not {signers.ids}")
            created.append({"id": request_id, "signers": [
                {"id": s.id, "link": links[s.id], "mobile": s.partner_id.mobile,
                 "name": s.partner_id.name} for s in signers]})
    odoo_env.close_all()
    return created


def sms_code(gateway, mobile: str, after: int = 0) -> str:
    """The code of the last SMS the gateway stand-in received for ``mobile`` (after message
    number ``after``), as the signer reads it on their phone."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        bodies = [m.json["body"] for m in gateway.messages[after:]
                  if isinstance(m.json, dict) and m.json.get("to") == mobile]
        if bodies:
            return _CODE.search(bodies[-1]).group(1)
        gateway.wait_for(len(gateway.messages) + 1, timeout=1)
    raise RuntimeError(f"no SMS reached the gateway for {mobile}")


class Signer:
    """One signer's browser on the signing page (their own session cookie)."""

    def __init__(self, url: str, signer: dict, records: list | None = None, timeout: float = 300):
        import requests

        self.url = url
        self.id = signer["id"]
        self.link = signer["link"]
        self.mobile = signer["mobile"]
        self.name = signer["name"]
        self.token = self.link.rsplit("/", 1)[1]
        self.session = requests.Session()
        self.timeout = timeout
        self.records = records if records is not None else []
        self.csrf = self.consent = None
        self.document_ids: list[int] = []

    def _send(self, kind: str, method: str, path: str, **kwargs) -> tuple[float, object]:
        start = time.perf_counter()
        response = self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)
        elapsed = (time.perf_counter() - start) * 1000.0
        self.records.append({"kind": kind, "method": method, "signer_id": self.id,
                             "path": _REDACT.sub(r"\1[redacted]", path.split("?")[0]),
                             "client_ms": elapsed, "status": response.status_code,
                             "end": time.perf_counter()})
        if response.status_code != 200:
            raise RuntimeError(f"{kind} of signer {self.id}: HTTP {response.status_code}")
        return elapsed, response

    def _json(self, kind: str, action: str, **params) -> tuple[float, dict]:
        elapsed, response = self._send(kind, "POST", f"/esign/action/{self.id}/{action}", json={
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": dict(params, token=self.token, csrf_token=self.csrf)})
        body = response.json()
        if "error" in body:
            raise RuntimeError(f"{kind} of signer {self.id}: {str(body['error'])[:300]}")
        return elapsed, body["result"]

    def open(self) -> float:
        """The signing page (its CSRF token, the consent text's hash, the documents' links)."""
        elapsed, page = self._send("signer_page", "GET", self.link)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        consent = re.search(r'data-consent-sha256="([0-9a-f]{64})"', page.text)
        if not (csrf and consent):
            raise RuntimeError("the signing page has no CSRF token or consent hash: "
                               + _REDACT.sub(r"\1[redacted]", re.sub(r"\s+", " ", page.text))[-800:])
        self.csrf, self.consent = csrf.group(1), consent.group(1)
        self.document_ids = sorted({int(x) for x in re.findall(
            rf"/esign/sign/{self.id}/[A-Za-z0-9_-]+/document/(\d+)", page.text)})
        return elapsed

    def view_documents(self) -> float:
        return sum(self._send("document_view", "GET", f"{self.link}/document/{doc}")[0]
                   for doc in self.document_ids)

    def send_code(self, gateway) -> tuple[float, int]:
        before = len(gateway.messages)
        elapsed, result = self._json("send_code", "send_code")
        if not result.get("ok"):
            raise RuntimeError(f"send_code: {result}")
        return elapsed, before

    def verify(self, gateway, after: int) -> float:
        code = sms_code(gateway, self.mobile, after)
        elapsed, result = self._json("verify_code", "verify_code", code=code)
        if not result.get("ok"):
            raise RuntimeError(f"verify_code: {result}")
        return elapsed

    def ready(self, gateway) -> float:
        """Everything before "Sign": page, documents, send code, verify (ms of the requests,
        not of the wait for the SMS)."""
        total = self.open() + self.view_documents()
        elapsed, before = self.send_code(gateway)
        return total + elapsed + self.verify(gateway, before)

    def sign(self, signature_png: str) -> float:
        elapsed, result = self._json(
            "sign", "sign", consent=True, consent_sha256=self.consent, name=self.name,
            signature=signature_png, signature_type="drawn")
        if result.get("state") != "signed":
            raise RuntimeError(f"sign of signer {self.id}: {result}")
        return elapsed


def wait_states(pg: dict, request_ids: list[int], *, timeout: float) -> dict[int, tuple]:
    """Poll until no request of ``request_ids`` is "in_progress" (the sealing the last signature
    triggers is done) or ``timeout``; returns ``{id: (state, sealing_pending, evidence id)}``."""
    import psycopg2

    deadline = time.monotonic() + timeout
    conn = psycopg2.connect(**pg)
    conn.autocommit = True
    try:
        while True:
            with conn.cursor() as cr:
                cr.execute("SELECT id, state, sealing_pending, evidence_attachment_id "
                           "FROM o2s_esign_request WHERE id = ANY(%s)", [list(request_ids)])
                states = {row[0]: row[1:] for row in cr.fetchall()}
            if all(s[0] != "in_progress" for s in states.values()) or time.monotonic() > deadline:
                return states
            time.sleep(0.02)  # polling the server's background work (a benchmark, not a test)
    finally:
        conn.close()


def pg_params(config_file: str, db: str) -> dict:
    import configparser

    parser = configparser.ConfigParser()
    parser.read(config_file)
    options = parser["options"]
    return {"dbname": db, "host": options.get("db_host", "127.0.0.1"),
            "port": int(options.get("db_port", "5432")), "user": options.get("db_user", "odoo")}



class MailSink:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that accepts and drops every message: the bench
    server's mail queue (invitations, confirmations) goes there (``--smtp-port``) instead of
    failing, which would put the requests in error. ``with MailSink() as sink: sink.port``."""

    def __init__(self):
        self.controller = None
        self.port = None
        self.count = 0

    def __enter__(self):
        import logging
        import socket

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.count += 1
                return "250 OK"

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
        return False


def ensure_partners(config_file: str, db: str, advisor_login: str, count: int,
                    tag: str = "load") -> list[int]:
    """``count`` clients (French mobile, an identity document on file, English), created once
    and kept: the signers of the load scenario."""
    from datetime import timedelta

    import odoo_env

    with odoo_env.odoo_env(config_file, db) as env:
        from odoo import fields

        env = env(context={"tracking_disable": True, "mail_create_nolog": True})
        advisor = env["res.users"].search([("login", "=", advisor_login)])
        france = env.ref("base.fr")
        ids = []
        for n in range(1, count + 1):
            email = f"{tag}{n:03d}@client.example.com"
            partner = env["res.partner"].search([("email", "=", email)], limit=1)
            if not partner:
                partner = env["res.partner"].create({
                    "name": f"Client {tag} {n:03d} Durand", "email": email,
                    "mobile": f"+336123{n:05d}", "country_id": france.id,
                    "user_id": advisor.id, "lang": "en_US"})
                env["o2s.esign.id.document"].create({
                    "partner_id": partner.id, "doc_type": "id_card", "number": f"LD{n:06d}",
                    "date_expiry": fields.Date.today() + timedelta(days=3650),
                    "file": base64.b64encode(b"scan of the identity card"),
                    "file_name": "id.png"})
            ids.append(partner.id)
    odoo_env.close_all()
    return ids
