"""The module's mails leave at once, over the real parts: an Odoo server as usually run (threaded,
its single cron thread, on a copy of the test database) and a real SMTP server (aiosmtpd on
127.0.0.1). Nothing is triggered by hand: a request is sent over the external API, and its
invitation must reach the SMTP server within a minute, for a second request too (once the mail
queue's scheduled action has run, its next planned run is an hour away)."""
import base64
import importlib.util
import logging
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from e2e_harness import ROOT, ClonedDatabase, OdooServer, OdooSetup, Rpc, free_port
from pdf_factory import make_pdf

#: the issue's bound: the invitation reaches the SMTP server within this many seconds
MAIL_DEADLINE = 60


def _smtp_helpers():
    """o2s_esign/tests/smtp_server.py (plain Python: aiosmtpd only), loaded without Odoo."""
    spec = importlib.util.spec_from_file_location(
        "o2s_esign_smtp_server", ROOT / "o2s_esign" / "tests" / "smtp_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class MailEnv:
    server: OdooServer
    database: ClonedDatabase
    sink: object

    def admin(self):
        return Rpc(self.server, "admin", self.database.admin_password)


@pytest.fixture(scope="module")
def mail_env(tmp_path_factory):
    """Odoo with one cron thread (threaded server, as ``odoo-bin`` runs by default but for the
    thread count) whose only outgoing mail server is a real SMTP server."""
    smtp = _smtp_helpers()
    logger = logging.getLogger("mail.log")  # aiosmtpd logs every command
    level = logger.level
    logger.setLevel(logging.ERROR)
    sink = smtp.SmtpSink()
    port = free_port()
    controller = smtp.start_smtp(sink, port)
    setup = OdooSetup.from_env()
    database = ClonedDatabase(setup).create()
    server = OdooServer(setup, database, workers=0, cron_threads=1,
                        log_dir=tmp_path_factory.mktemp("odoo-mail-now"))
    try:
        server.start()
        env = MailEnv(server, database, sink)
        admin = env.admin()
        admin("ir.mail_server", "write", admin("ir.mail_server", "search", []), {"active": False})
        admin("ir.mail_server", "create", {
            "name": "aiosmtpd (e2e)", "smtp_host": "127.0.0.1", "smtp_port": port,
            "smtp_encryption": "none", "sequence": 1})
        # As on a server up for a while: the mail queue's hourly run has just happened (the
        # copy's next run would otherwise be overdue, and the first wake-up would send all).
        admin("ir.cron", "write", [mail_cron_id(admin)], {"nextcall": (
            utcnow() + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")})
        yield env
    finally:
        try:
            server.stop()
        finally:
            database.drop()
            controller.stop()
            logger.setLevel(level)


_numbers = iter(range(20_000_000, 29_999_999))


def utcnow():
    return datetime.now(UTC).replace(tzinfo=None)


def mail_cron_id(admin):
    [row] = admin("ir.model.data", "search_read",
                  [("module", "=", "mail"), ("name", "=", "ir_cron_mail_scheduler_action")], ["res_id"])
    return row["res_id"]


def send_request(admin, tag):
    """A complete contact (email, mobile, identity document) and a request sent to them over
    the external API. Returns (request id, the contact's email)."""
    france = admin("res.country", "search", [("code", "=", "FR")])[0]
    email = "client.%s@example.com" % tag
    partner_id = admin("res.partner", "create", {
        "name": "Client %s" % tag, "email": email, "mobile": "+336%08d" % next(_numbers),
        "country_id": france, "lang": "en_US"})
    admin("o2s.esign.id.document", "create", {
        "partner_id": partner_id, "doc_type": "passport", "number": "MAIL%s" % tag,
        "date_expiry": "2040-01-01", "file": base64.b64encode(b"scan").decode(),
        "file_name": "id.png"})
    request_id = admin("o2s.esign.request", "create_and_send", {
        "partner_id": partner_id, "name": "Mail now %s" % tag,
        "documents": [{"name": "%s.pdf" % tag,
                       "datas": base64.b64encode(make_pdf(text="%s, page {n}" % tag)).decode()}]})
    return request_id, email


def wait_for_state(server, read, wanted, timeout):
    """``read()`` until it returns ``wanted`` or ``timeout`` passes. The state is written by
    another process (the server's cron thread): nothing here to wait on but the server itself,
    so each try waits on the server process (its end would fail the test at once)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value == wanted or time.monotonic() > deadline:
            return value
        try:
            server.process.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError("the Odoo server stopped:\n%s" % server.log_tail())


def test_each_invitation_reaches_smtp_within_a_minute(mail_env):
    admin = mail_env.admin()
    cron_id = mail_cron_id(admin)
    for tag in ("first", "second"):
        started = time.monotonic()
        request_id, email = send_request(admin, tag)
        arrived = mail_env.sink.wait_for(lambda _sender, rcpts, _message, email=email: email in rcpts,
                                         timeout=MAIL_DEADLINE)
        elapsed = time.monotonic() - started
        assert arrived, "the %s request's invitation did not reach the SMTP server within %ss:\n%s" % (
            tag, MAIL_DEADLINE, mail_env.server.log_tail())
        assert elapsed <= MAIL_DEADLINE, elapsed
        assert "Mail now %s" % tag in arrived[2]["Subject"], arrived[2]["Subject"]
        # The mail report says it was sent, within seconds too.
        state = wait_for_state(mail_env.server, lambda request_id=request_id: [
            (log["kind"], log["state"]) for log in admin(
                "o2s.esign.mail.log", "search_read", [("request_id", "=", request_id)],
                ["kind", "state"])], [("invitation", "sent")], timeout=MAIL_DEADLINE)
        assert state == [("invitation", "sent")], state
        # The queue's planned run is still far: the invitation left on the module's trigger.
        [cron] = admin("ir.cron", "read", [cron_id], ["nextcall", "interval_type"])
        nextcall = datetime.strptime(cron["nextcall"], "%Y-%m-%d %H:%M:%S")
        assert cron["interval_type"] == "hours"
        assert nextcall > utcnow() + timedelta(minutes=30), nextcall
