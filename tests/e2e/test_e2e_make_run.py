"""`make run` end to end: scripts/run.sh itself, on a copy of the test database (which holds the
demo data), signs with no setting touched, and stops cleanly on Ctrl-C.

run.sh runs as `make run` does, with its own runtime folder (its configuration file, the mails
it keeps) whose PostgreSQL data and Odoo data folder are the test's (links): it finds the
cluster running, so it leaves it running when it stops. Through what run.sh prints and HTTP
only, as a newcomer would: the demo advisor sends a request from a contact over JSON-RPC, the
invitation (with its signing link) and the SMS code are read in run.sh's output, the client
signs on the signing page, and the request is signed. Then Ctrl-C (SIGINT to run.sh's process
group, as a terminal sends it): Odoo stops first, then the stand-ins, with no traceback.
"""
import base64
import io
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from pyhanko.pdf_utils.reader import PdfFileReader
from e2e_harness import ROOT, ClonedDatabase, OdooSetup, PortalSigner, free_port

#: deadline of each wait on run.sh (seconds)
TIMEOUT = 240
LINK_RE = re.compile(r"^Link: (http\S*/esign/sign/\S+)$", re.MULTILINE)
SMS_RE = re.compile(r"^\[SMS to (\S+) from [^\]]*\]\n.*?(?<!\d)(\d{6})(?!\d)", re.MULTILINE)


class RunSh:
    """scripts/run.sh in a session of its own, its output in a file."""

    def __init__(self, setup: OdooSetup, database: ClonedDatabase, run_dir: Path):
        self.database = database
        self.run_dir = run_dir
        self.port, self.sms_port, self.mail_port = free_port(), free_port(), free_port()
        self.tsa_port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.output_path = run_dir / "make-run.out"
        self.env = dict(
            os.environ, O2S_RUN_DIR=str(run_dir), O2S_DB=database.name,
            O2S_HTTP_PORT=str(self.port), O2S_SMS_SINK_PORT=str(self.sms_port),
            O2S_MAIL_SINK_PORT=str(self.mail_port), O2S_TSA_SINK_PORT=str(self.tsa_port),
            O2S_PG_PORT=str(setup.db_port),
            O2S_VENV=str(Path(setup.python).parents[1]), ODOO_SRC=str(setup.odoo_bin.parent))
        self.process = None

    def prepare(self, setup: OdooSetup):
        """The runtime folder: the test's PostgreSQL cluster and Odoo data folder (links), and
        the module's hash as run.sh writes it after an install (no update to run)."""
        self.run_dir.mkdir(parents=True)
        test_run_dir = Path(setup.conf).parent
        (self.run_dir / "pgdata").symlink_to(test_run_dir / "pgdata")
        (self.run_dir / "data").symlink_to(setup.data_dir)
        module_hash = subprocess.run(
            ["bash", "-c", 'source scripts/common.sh && module_hash'], cwd=ROOT, env=self.env,
            check=True, capture_output=True, text=True, timeout=60).stdout.strip()
        (self.run_dir / ("%s.module-hash" % self.database.name)).write_text(module_hash + "\n")

    def start(self):
        output = self.output_path.open("wb")
        self.process = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=self.env,
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
            # As a background job of a script (`make run &`): SIGINT ignored at start, which
            # run.sh undoes so that Ctrl-C (SIGINT to its group) still stops it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        output.close()
        self.wait_for(lambda: self._answers(), "Odoo answering on %s" % self.url)
        return self

    def _answers(self):
        try:
            return requests.get(self.url + "/web/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def output(self):
        return self.output_path.read_text(errors="replace")

    def wait_for(self, predicate, what, timeout=TIMEOUT):
        """Poll ``predicate`` until it holds (run.sh is another process: nothing to wait on but
        its exit, which ends the wait too)."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if self.process.poll() is not None:
                raise AssertionError("run.sh stopped (rc=%s) before %s:\n%s"
                                     % (self.process.returncode, what, self.output()[-4000:]))
            if time.monotonic() > deadline:
                raise AssertionError("no %s within %ss:\n%s" % (what, timeout, self.output()[-4000:]))
            try:
                self.process.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                pass

    def ctrl_c(self, timeout=120):
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def kill(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


class Rpc:
    """JSON-RPC as the demo's users (login and password printed by run.sh)."""

    def __init__(self, url, db, login, password):
        self.url, self.db, self.password = url, db, password
        self.uid = self._call("common", "login", db, login, password)
        assert self.uid, "login %s refused" % login

    def _call(self, service, method, *args):
        response = requests.post(self.url + "/jsonrpc", timeout=120, json={
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"service": service, "method": method, "args": list(args)}})
        body = response.json()
        assert "error" not in body, body["error"]
        return body.get("result")

    def __call__(self, model, method, *args, **kwargs):
        return self._call("object", "execute_kw", self.db, self.uid, self.password, model, method,
                          list(args), kwargs)


@pytest.fixture
def make_run():
    setup = OdooSetup.from_env()
    database = ClonedDatabase(setup).create()
    run = RunSh(setup, database, Path(setup.conf).parent / ("make-run-%s" % database.name))
    try:
        run.prepare(setup)
        yield run.start()
    finally:
        try:
            run.kill()
        finally:
            database.drop()
            if run.run_dir.exists():
                for link in ("pgdata", "data"):
                    (run.run_dir / link).unlink(missing_ok=True)
                subprocess.run(["rm", "-rf", str(run.run_dir)], check=False)


def test_make_run_signs_end_to_end_and_stops_on_ctrl_c(make_run):
    run = make_run
    admin = Rpc(run.url, run.database.name, "admin", run.database.admin_password)
    advisor = Rpc(run.url, run.database.name, "advisor", "advisor")

    # The demo points at the stand-ins run.sh started, nothing set by hand.
    [company_id] = admin("res.company", "search", [])[:1]
    [company] = admin("res.company", "read", [company_id], [
        "esign_sms_transport", "esign_webhook_url", "esign_tsa_url", "esign_pades_level"])
    assert company["esign_sms_transport"] == "webhook"
    assert company["esign_webhook_url"] == "http://127.0.0.1:%d/sms" % run.sms_port
    assert company["esign_tsa_url"] == "http://127.0.0.1:%d/o2s/tsa/tsa" % run.tsa_port
    assert company["esign_pades_level"] == "b_t"
    servers = admin("ir.mail_server", "search_read", [("active", "=", True)],
                    fields=["smtp_host", "smtp_port"], order="sequence, id")
    assert servers[0]["smtp_host"] == "127.0.0.1" and servers[0]["smtp_port"] == run.mail_port
    assert admin("ir.config_parameter", "get_param", "web.base.url") == run.url

    # The advisor sends the demo client's two documents.
    [client] = advisor("res.partner", "search_read", [("name", "=", "Jeanne Martin")],
                       fields=["mobile"])
    documents = advisor("ir.attachment", "search", [
        ("res_model", "=", "res.partner"), ("res_id", "=", client["id"]),
        ("mimetype", "=", "application/pdf")])
    request_id = advisor("o2s.esign.request", "create_and_send", {
        "partner_id": client["id"], "name": "Lettre de mission 2026",
        "documents": [{"attachment_id": attachment_id} for attachment_id in documents]})
    # The invitation reaches the mail catcher, which prints its signing link: nothing runs the
    # mail queue by hand, the module triggers it when the sending commits (issue #15 item 1).
    link = run.wait_for(lambda: LINK_RE.findall(run.output()), "invitation printed", timeout=60)[-1]
    assert link.startswith(run.url + "/esign/sign/")
    assert "Lettre de mission 2026" in run.output()
    [signer] = admin("o2s.esign.signer", "search_read", [("request_id", "=", request_id)],
                       fields=["id", "name", "mobile", "access_url"])
    assert link.endswith(signer["access_url"])

    # The client opens the link, asks for the code, reads it where run.sh prints SMS, signs.
    portal = PortalSigner(_Server(run), dict(signer, access_url=link))
    portal.open()
    portal.send_code()
    codes = run.wait_for(lambda: SMS_RE.findall(run.output()), "SMS code printed")
    mobile, code = codes[-1]
    assert mobile.replace(" ", "") == client["mobile"].replace(" ", "")
    assert portal.call("verify_code", code=code).get("ok")
    assert portal.sign()["state"] == "signed"
    # The seal, the evidence and "signed" follow in the sealing scheduled action, triggered by
    # the last signature and run by the server's cron thread right after (issue 19).
    run.wait_for(lambda: advisor("o2s.esign.request", "read", [request_id], ["state"])[0][
        "state"] == "signed", "the request sealed by the triggered scheduled action")
    [request] = advisor("o2s.esign.request", "read", [request_id], ["state", "sealing_pending"])
    assert (request["state"], request["sealing_pending"]) == ("signed", False)
    # Time-stamped by the authority stand-in (PAdES B-T): the client's signature carries a token.
    documents = admin("o2s.esign.document", "search_read", [("request_id", "=", request_id)],
                      fields=["signed_attachment_id"])
    assert documents
    for document in documents:
        [signed] = admin("ir.attachment", "read", [document["signed_attachment_id"][0]], ["datas"])
        reader = PdfFileReader(io.BytesIO(base64.b64decode(signed["datas"])))
        signatures = [es for es in reader.embedded_signatures
                      if es.sig_object_type != "/DocTimeStamp"]
        assert signatures
        for es in signatures:
            unsigned = es.signer_info["unsigned_attrs"].native or []
            assert "signature_time_stamp_token" in [attr["type"] for attr in unsigned], es.field_name

    # Ctrl-C: Odoo stops first, then PostgreSQL (not started by this run: left running), no
    # traceback anywhere in what run.sh printed.
    run.ctrl_c()
    output = run.output()
    assert "Traceback" not in output, output[-4000:]
    assert "Forced shutdown" not in output
    tail = output[output.index("stopping Odoo"):]
    assert tail.index("Initiating shutdown") < tail.index("stopped")
    assert "stopping PostgreSQL" not in tail
    with pytest.raises(requests.ConnectionError):
        requests.get(run.url + "/web/health", timeout=5)


class _Server:
    """What PortalSigner needs of a server: its URL and port."""

    def __init__(self, run):
        self.url, self.port = run.url, run.port
