"""Real Odoo servers for the end-to-end tests: a copy of the test database, ``odoo-bin`` run as
a separate process (prefork workers), and clients that talk to it only over HTTP as an
integrator (JSON-RPC) and as signers (the signing page's routes) would.

Plain Python (no Odoo import): the server process does all the work and commits; the test
only reads what it exposes. Everything listens on 127.0.0.1. Every wait has a deadline.

Where things come from (exported by ``scripts/test.sh``): ``O2S_TEST_DB`` (the test database,
o2s_esign installed and up to date), ``O2S_ODOO_CONF`` (its Odoo configuration file),
``O2S_PY`` (the virtualenv's Python) and ``ODOO_SRC`` (Odoo's source tree).
"""
from __future__ import annotations

import base64
import configparser
import contextlib
import importlib.util
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg2
import requests

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "support"
LIB_DIR = ROOT / "o2s_esign" / "lib"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

#: a six-digit code in an SMS text
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
#: the one line Odoo logs each time it retries a request after a serialization failure
RETRY_LOG_RE = re.compile(r"(could not serialize|concurrent update|tries left, try again|"
                          r"maximum number of tries reached)", re.IGNORECASE)


def load_lib():
    """``o2s_esign/lib`` as the package ``o2s_esign_lib`` (no Odoo needed), as tests/lib does."""
    if "o2s_esign_lib" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "o2s_esign_lib", LIB_DIR / "__init__.py", submodule_search_locations=[str(LIB_DIR)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["o2s_esign_lib"] = module
        spec.loader.exec_module(module)
    return sys.modules["o2s_esign_lib"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signature_png(text: str) -> str:
    """A small PNG signature image (base64), as the signing page's pad sends it."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).text((10, 40), text, fill=(0, 0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def pem(cert) -> str:
    """PEM text of an asn1crypto certificate."""
    body = base64.b64encode(cert.dump()).decode()
    return "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(
        body[i:i + 64] for i in range(0, len(body), 64))


# --------------------------------------------------------------------------- environment
@dataclass
class OdooSetup:
    """How to reach the test database and run Odoo, from scripts/test.sh's environment."""

    conf: Path
    python: str
    odoo_bin: Path
    test_db: str
    db_host: str
    db_port: int
    db_user: str
    db_password: str | None
    data_dir: Path

    @classmethod
    def from_env(cls) -> OdooSetup:
        missing = [name for name in ("O2S_TEST_DB", "O2S_ODOO_CONF") if not os.environ.get(name)]
        if missing:
            raise AssertionError(
                "the end-to-end tests run a real Odoo server on a copy of the test database: "
                "run them through `make test` (scripts/test.sh exports %s)" % ", ".join(missing))
        conf = Path(os.environ["O2S_ODOO_CONF"])
        parser = configparser.ConfigParser()
        parser.read(conf)
        options = parser["options"]
        odoo_src = os.environ.get("ODOO_SRC")
        if not odoo_src:
            addons = [p.strip() for p in options.get("addons_path", "").split(",")]
            odoo_src = next((str(Path(p).parents[1]) for p in addons
                             if (Path(p).parents[1] / "odoo-bin").exists()), "")
        odoo_bin = Path(odoo_src) / "odoo-bin"
        if not odoo_bin.exists():
            raise AssertionError("odoo-bin not found (set ODOO_SRC)")
        password = options.get("db_password")
        return cls(
            conf=conf,
            python=os.environ.get("O2S_PY") or sys.executable,
            odoo_bin=odoo_bin,
            test_db=os.environ["O2S_TEST_DB"],
            db_host=options.get("db_host") or "127.0.0.1",
            db_port=int(options.get("db_port") or 5432),
            db_user=options.get("db_user") or "odoo",
            db_password=None if password in (None, "", "False") else password,
            data_dir=Path(options.get("data_dir")),
        )

    @contextlib.contextmanager
    def cursor(self, dbname: str):
        """An autocommit cursor on ``dbname`` (its connection closed on exit)."""
        connection = psycopg2.connect(host=self.db_host, port=self.db_port, user=self.db_user,
                                      password=self.db_password, dbname=dbname)
        try:
            connection.autocommit = True
            with connection.cursor() as cr:
                yield cr
        finally:
            connection.close()


class ClonedDatabase:
    """A copy of the test database (``CREATE DATABASE ... TEMPLATE``, filestore hard-linked:
    Odoo never rewrites a stored file in place) with a known admin password. Dropped by
    :meth:`drop`; its name starts with the test database's, so scripts/test.sh's cleanup
    removes it too should a run be interrupted."""

    def __init__(self, setup: OdooSetup):
        self.setup = setup
        self.name = "%s_e2e_%s" % (setup.test_db, secrets.token_hex(3))
        self.admin_password = secrets.token_urlsafe(12)
        self.filestore = setup.data_dir / "filestore" / self.name

    def create(self, timeout: float = 60):
        _close_odoo_pool(self.setup.test_db)
        deadline = time.monotonic() + timeout
        with self.setup.cursor("postgres") as cr:
            while True:
                try:
                    cr.execute('CREATE DATABASE "%s" WITH TEMPLATE "%s"' % (self.name, self.setup.test_db))
                    break
                except psycopg2.errors.ObjectInUse:
                    # PostgreSQL already waited (up to 5 s) for other sessions on the template
                    # to end: the pytest process may still have held a connection to the test
                    # database (an Odoo test class ending), given back since. Close the pool
                    # again and retry; no wait of our own.
                    if time.monotonic() > deadline:
                        raise
                    _close_odoo_pool(self.setup.test_db)
        source = self.setup.data_dir / "filestore" / self.setup.test_db
        if source.exists():
            shutil.copytree(source, self.filestore, copy_function=os.link)
        from passlib.context import CryptContext

        hashed = CryptContext(["pbkdf2_sha512"]).hash(self.admin_password)
        with self.setup.cursor(self.name) as cr:
            cr.execute("UPDATE res_users SET password = %s, active = true WHERE login = 'admin'",
                       [hashed])
            assert cr.rowcount == 1, "no admin user in the test database"
        return self

    def drop(self):
        with self.setup.cursor("postgres") as cr:
            cr.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)
        shutil.rmtree(self.filestore, ignore_errors=True)

    def query(self, sql, params=None):
        """Rows of a read-only query on the copy (what is really stored, for assertions)."""
        with self.setup.cursor(self.name) as cr:
            cr.execute(sql, params)
            return cr.fetchall()


def _close_odoo_pool(dbname):
    """Give back the pytest process's own idle connections to ``dbname`` (pytest-odoo keeps a
    pool), which would keep PostgreSQL from using it as a template."""
    odoo_sql_db = sys.modules.get("odoo.sql_db")
    if odoo_sql_db is not None:
        odoo_sql_db.close_db(dbname)


# --------------------------------------------------------------------------------- server
class OdooServer:
    """``odoo-bin`` on a free loopback port, in its own process group."""

    def __init__(self, setup: OdooSetup, database: ClonedDatabase, *, workers: int = 4,
                 log_dir: Path, cron_threads: int = 0):
        self.setup = setup
        self.database = database
        self.workers = workers
        self.cron_threads = cron_threads  # 0: no scheduled action runs unless a test runs it
        self.log_path = log_dir / ("odoo-%s.log" % database.name)
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 180):
        """Start the server and wait until it answers (polling its health route until a
        deadline: it is another process, there is no event to wait on)."""
        args = [
            self.setup.python, str(self.setup.odoo_bin), "-c", str(self.setup.conf),
            "-d", self.database.name, "--db-filter", "^%s$" % re.escape(self.database.name),
            "--http-interface", "127.0.0.1", "--http-port", str(self.port),
            "--gevent-port", str(free_port()), "--workers", str(self.workers),
            "--max-cron-threads", str(self.cron_threads), "--logfile", str(self.log_path),
            "--log-level", "info",
            "--limit-time-real", "180", "--limit-time-cpu", "120",
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError("Odoo stopped at start-up (rc=%s):\n%s"
                                     % (self.process.returncode, self.log_tail()))
            try:
                if requests.get(self.url + "/web/health", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("Odoo did not answer within %ss:\n%s" % (timeout, self.log_tail()))
            try:
                self.process.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, timeout: float = 30):
        """Stop the server (SIGTERM to its process group, SIGKILL after ``timeout``)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(timeout=timeout)
        self._reap_group()
        self.process = None

    def crash(self, timeout: float = 30):
        """SIGKILL the whole server (master, workers, gevent): a power cut, for the database
        a set of connections that vanish mid-transaction."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=timeout)
        self._reap_group()
        self.process = None

    def _signal_group(self, signum):
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def _reap_group(self, timeout: float = 30):
        """Wait until no process of the server's group is left (killed workers included)."""
        deadline = time.monotonic() + timeout
        while True:
            left = [p for p in psutil.process_iter(["pid"])
                    if _pgid(p.pid) == self.process.pid]
            if not left:
                return
            if time.monotonic() > deadline:
                for process in left:
                    process.kill()
                raise AssertionError("processes of the Odoo server left: %s" % left)
            psutil.wait_procs(left, timeout=0.5)

    def worker_serving(self, client_port: int) -> psutil.Process:
        """The worker process that holds the HTTP connection coming from ``client_port``."""
        master = psutil.Process(self.process.pid)
        found = []
        for child in master.children():
            try:
                for conn in child.connections(kind="tcp"):
                    if conn.laddr and conn.laddr.port == self.port and conn.raddr \
                            and conn.raddr.port == client_port:
                        found.append(child)
            except psutil.NoSuchProcess:
                continue
        assert len(found) == 1, "expected one worker serving port %s, found %s" % (client_port, found)
        return found[0]

    def http_workers(self) -> list[psutil.Process]:
        master = psutil.Process(self.process.pid)
        return [p for p in master.children() if "gevent" not in p.cmdline()]  # gevent: long polling

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_lines(self, pattern, since: int = 0) -> list[str]:
        """Lines of the log after offset ``since`` (characters) matching ``pattern``."""
        return [line for line in self.log_text()[since:].splitlines() if re.search(pattern, line)]


def _pgid(pid):
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


# ------------------------------------------------------------------------------ JSON-RPC
class RpcError(Exception):
    def __init__(self, error):
        self.error = error
        data = error.get("data") or {}
        self.name = data.get("name", "")
        self.message = data.get("message") or error.get("message", "")
        super().__init__("%s: %s" % (self.name, self.message))


class Rpc:
    """Odoo's external API over JSON-RPC (/jsonrpc), as an integrator calls it."""

    def __init__(self, server: OdooServer, login: str, password: str, timeout: float = 120):
        self.server, self.login, self.password, self.timeout = server, login, password, timeout
        self.db = server.database.name
        self.uid = self._call("common", "login", self.db, login, password)
        assert self.uid, "login %s refused" % login

    def _call(self, service, method, *args):
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
                   "params": {"service": service, "method": method, "args": list(args)}}
        response = requests.post(self.server.url + "/jsonrpc", json=payload, timeout=self.timeout)
        response.raise_for_status()
        body = response.json()
        if body.get("error"):
            raise RpcError(body["error"])
        return body["result"]

    def __call__(self, model, method, *args, **kwargs):
        return self._call("object", "execute_kw", self.db, self.uid, self.password, model, method,
                          list(args), kwargs)


# --------------------------------------------------------------------------- signing page
class PortalSigner:
    """One signer's browser: their link, their own session cookie, the page's JSON calls."""

    def __init__(self, server: OdooServer, signer: dict, timeout: float = 120):
        self.server = server
        self.id = signer["id"]
        self.mobile = signer["mobile"]
        self.name = signer["name"]
        path = "/" + signer["access_url"].split("/", 3)[3]  # the link, on this server
        self.path = path
        self.token = path.rstrip("/").rsplit("/", 1)[1]
        self.timeout = timeout
        self.session = requests.Session()
        self.csrf = self.consent_sha256 = None

    def open(self):
        response = self.session.get(self.server.url + self.path, timeout=self.timeout)
        assert response.status_code == 200, (response.status_code, response.text[:300])
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
        consent = re.search(r'data-consent-sha256="([0-9a-f]{64})"', response.text)
        self.consent_sha256 = consent.group(1) if consent else None
        return response

    def payload(self, **params):
        return {"jsonrpc": "2.0", "method": "call", "id": 1,
                "params": dict(params, token=self.token, csrf_token=self.csrf)}

    def call(self, action, **params):
        """A JSON action of the page; returns its result (a JSON-RPC error fails the test:
        the page never shows one)."""
        response = self.session.post("%s/esign/action/%s/%s" % (self.server.url, self.id, action),
                                     json=self.payload(**params), timeout=self.timeout)
        assert response.status_code == 200, (action, response.status_code, response.text[:500])
        body = response.json()
        assert "error" not in body, (action, body["error"])
        return body["result"]

    def send_code(self):
        result = self.call("send_code")
        assert result.get("ok"), result
        return result

    def verify(self, gateway):
        code = last_code(gateway, self.mobile)
        result = self.call("verify_code", code=code)
        assert result.get("ok"), result
        return result

    def sign_values(self):
        return {"consent": True, "consent_sha256": self.consent_sha256, "name": self.name,
                "signature": signature_png(self.name), "signature_type": "drawn"}

    def sign(self):
        return self.call("sign", **self.sign_values())

    def sign_raw(self, sock_ready=None):
        """The sign call over a connection of our own whose local port is known (so the test
        can find the worker serving it). Returns ``(local_port, conn)``; the caller reads the
        answer with ``conn.getresponse()``."""
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=self.timeout)
        conn.connect()
        local_port = conn.sock.getsockname()[1]
        cookies = "; ".join("%s=%s" % (c.name, c.value) for c in self.session.cookies)
        body = json.dumps(self.payload(**self.sign_values()))
        conn.request("POST", "/esign/action/%s/sign" % self.id, body=body, headers={
            "Content-Type": "application/json", "Cookie": cookies})
        return local_port, conn


def last_code(gateway, mobile):
    bodies = [m.json["body"] for m in gateway.messages
              if isinstance(m.json, dict) and m.json.get("to") == mobile]
    assert bodies, "no SMS reached the gateway for %s" % mobile
    match = CODE_RE.search(bodies[-1])
    assert match, "no code in the SMS"
    return match.group(1)


def run_sealing(admin):
    """Run the sealing scheduled action now, as Odoo's cron worker does once it is triggered by
    the last signature (issue 19: the company seal, the evidence and "signed" come after the
    last signer's transaction). The e2e server runs no cron thread: the test runs it, once per
    request waiting for its seal (each run seals one)."""
    [row] = admin("ir.model.data", "search_read",
                  [("module", "=", "o2s_esign"), ("name", "=", "ir_cron_esign_seal_requests")],
                  ["res_id"])
    due = [("state", "=", "in_progress"), ("sealing_pending", "=", True)]
    for _ in range(max(admin("o2s.esign.request", "search_count", due), 1)):
        admin("ir.cron", "method_direct_trigger", [row["res_id"]])
