"""A real test PKI (root CA, RFC 3161 TSA, OCSP responder, CRL and certificate repository)
served over HTTP on 127.0.0.1 from a background thread.

It is certomancer's aiohttp "animator" application, configured by
``tests/fixtures/pki/certomancer.yml``. No private key is committed: the keys of the
configuration's keysets are generated once per process (ECDSA P-256, RSA-2048 for labels ending
in ``-rsa``) into a private temporary directory, removed at exit (:func:`generated_key_dir`),
and certomancer loads them from there. The certificates are made from them at start-up. The
server binds a free loopback port first and rewrites the configuration's ``external-url-prefix``
to that port, so the CRL distribution points and OCSP URLs inside the issued certificates point
at the running server.

Usage::

    with PkiServer() as pki:
        tsa_url = pki.tsa_url            # http://127.0.0.1:<port>/o2s/tsa/tsa
        root = pki.root_cert             # asn1crypto x509.Certificate
        pki.stop()                       # "TSA down": connections are refused
        pki.start()                      # back up, same port and URLs
        pki.fail_with(503)               # every request answers HTTP 503
        pki.fail_with(None)              # back to normal
        pki.fail_with(503, after=2)      # two more requests served, then 503
        pki.set_delay(2.0)               # each response is delayed (server side) by 2 s
        pki.set_time(datetime(...))      # services (TSA, OCSP, CRL) act as of that moment
        pki.hold("/tsa")                 # TSA requests wait (recorded, unanswered) ...
        pki.held.wait(10)                # ... a test sees one is waiting, acts (kills its client)
        pki.release_hold()               # ... then lets them go on normally

Plain Python (no pytest import), so Odoo-side tests can use it as well. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Self

import yaml
from aiohttp import web
from asn1crypto import x509
from certomancer.integrations._animator_shared import FAKE_TIME_HEADER
from certomancer.integrations.aiohttp_animator import build_animator_app
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, ServiceLabel
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pki"
DEFAULT_CONFIG = FIXTURES / "certomancer.yml"
ARCH = "o2s"

__all__ = ["DEFAULT_CONFIG", "PkiServer", "generate_keys", "generated_key_dir"]


def _new_key(label: str):
    if label.endswith("-rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def generate_keys(config_path: str | os.PathLike, directory: str | os.PathLike) -> Path:
    """Write a fresh private key (unencrypted PKCS#8 PEM, mode 0600) for every key of every
    keyset of the certomancer configuration ``config_path``, at the path the configuration
    gives it under ``directory`` (its ``path-prefix`` included). Returns ``directory``, to be
    passed as certomancer's ``key_search_dir``. Keys are ECDSA P-256, RSA-2048 when the key
    label ends in ``-rsa``."""
    directory = Path(directory)
    with open(config_path, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    for keyset in config["keysets"].values():
        prefix = directory / keyset.get("path-prefix", "")
        prefix.mkdir(parents=True, exist_ok=True, mode=0o700)
        for label, entry in keyset["keys"].items():
            pem = _new_key(label).private_bytes(serialization.Encoding.PEM,
                                                serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption())
            fd = os.open(prefix / entry["path"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
    return directory


def _remove_key_dir(directory: Path, owner: int):
    if os.getpid() == owner:  # not in a forked child that exits normally
        shutil.rmtree(directory, ignore_errors=True)


_key_dirs: dict[Path, Path] = {}
_key_dirs_lock = threading.Lock()


def generated_key_dir(config_path: str | os.PathLike = DEFAULT_CONFIG) -> Path:
    """The directory of this process's generated keys for ``config_path`` (made on first use,
    in a private temporary directory removed when the process that made it exits), so every
    PkiServer of a test session shares one PKI, as with committed keys, without any."""
    config_path = Path(config_path).resolve()
    with _key_dirs_lock:
        directory = _key_dirs.get(config_path)
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="o2s-test-pki-"))
            atexit.register(_remove_key_dir, directory, os.getpid())
            generate_keys(config_path, directory)
            _key_dirs[config_path] = directory
        return directory


def _serve_parsed_certificates(arch):
    """Replace the architecture's certificates (built field by field by certomancer) by the same
    certificates parsed from their DER encoding, before anything is served.

    certomancer's TSA, OCSP responder and CRL issuer embed these asn1crypto objects in every
    answer; a built object re-encodes its whole tree each time it is dumped or retagged, so a
    time-stamp token took ~12 ms of asn1crypto work per request here (a parsed object keeps its
    bytes: ~3 ms). The bytes served are identical. Without it the test TSA is several times slower
    than a production one's computation, which skews the benchmark's B-T figures (#19). Uses
    certomancer's certificate cache (``_cert_specs``, ``_cert_cache``): if a certomancer version
    lacks them, the certificates are left as they are."""
    specs = getattr(arch, "_cert_specs", None)
    cache = getattr(arch, "_cert_cache", None)
    if not isinstance(specs, dict) or not isinstance(cache, dict):
        return
    for label in list(specs):
        built = arch.get_cert(label)
        cache[label] = x509.Certificate.load(built.dump())


class PkiServer:
    """Certomancer PKI services on a loopback port, run by a daemon thread.

    :param config_path: certomancer YAML file.
    :param key_dir: folder certomancer loads the keys from; by default the keys are generated
        (:func:`generated_key_dir`) for the default configuration, and looked up next to any
        other configuration file.
    :param arch: label of the PKI architecture to serve.
    :param host: only ``127.0.0.1`` is expected.
    :param port: the port to listen on; 0 (the default) takes a free one.
    """

    def __init__(self, config_path: str | os.PathLike = DEFAULT_CONFIG, *, arch: str = ARCH,
                 host: str = "127.0.0.1", key_dir: str | os.PathLike | None = None,
                 port: int = 0):
        self.host = host
        self.arch_label = arch
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self.config = CertomancerConfig.from_file(
            str(config_path), key_search_dir=str(self._key_dir(config_path, key_dir)),
            external_url_prefix=self.url,
        )
        self.arch = self.config.get_pki_arch(ArchLabel(arch))
        _serve_parsed_certificates(self.arch)
        self._fail_status: int | None = None
        self._fail_after = 0
        self._delay = 0.0
        self._fake_time = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.requests: list[str] = []  # paths served, in order (for assertions)
        self._request_seen = threading.Condition()
        self._hold_part: str | None = None
        self._hold_gate: asyncio.Event | None = None
        self.hold_limit = 120.0
        self.held = threading.Event()  # set when a request starts waiting in a hold

    @staticmethod
    def _key_dir(config_path, key_dir) -> Path:
        if key_dir is not None:
            return Path(key_dir)
        if Path(config_path).resolve() == DEFAULT_CONFIG.resolve():
            return generated_key_dir(config_path)
        return Path(config_path).parent

    # --- URLs and material -------------------------------------------------------------------
    @property
    def tsa_url(self) -> str:
        """URL of the RFC 3161 time-stamping service."""
        return f"{self.url}/{self.arch_label}/tsa/tsa"

    @property
    def ocsp_url(self) -> str:
        """URL of the OCSP responder for certificates issued by the root."""
        return f"{self.url}/{self.arch_label}/ocsp/root"

    @property
    def crl_url(self) -> str:
        """URL of the root's latest CRL (DER)."""
        return f"{self.url}/{self.arch_label}/crls/root/latest.crl"

    def get_cert(self, label: str):
        """asn1crypto certificate of the given label (``root``, ``tsa``, ``company-ca``...)."""
        return self.arch.get_cert(CertLabel(label))

    @property
    def root_cert(self):
        """The test root CA certificate (trust anchor for the TSA and imported CAs)."""
        return self.get_cert("root")

    @property
    def tsa_cert(self):
        """The TSA's certificate."""
        return self.get_cert("tsa")

    def package_pkcs12(self, label: str, password: bytes | None = None) -> bytes:
        """PKCS#12 (key + certificate + chain) for a certificate label, as customers upload."""
        return self.arch.package_pkcs12(CertLabel(label), password=password)

    def current_crl(self) -> bytes:
        """DER of the root's current CRL."""
        return self.arch.service_registry.get_crl(ServiceLabel("root")).dump()

    # --- fault injection ---------------------------------------------------------------------
    def fail_with(self, status: int | None, *, after: int = 0):
        """Answer every request with this HTTP status (``None`` restores normal service);
        with ``after``, the next ``after`` requests are still served normally first (a service
        that breaks down in the middle of a job)."""
        self._fail_status = status
        self._fail_after = after if status else 0

    def set_delay(self, seconds: float):
        """Delay every response by ``seconds`` (server side), to exercise client timeouts."""
        self._delay = float(seconds)

    def set_time(self, moment):
        """Make the services answer as of ``moment`` (aware datetime; ``None``: real time)."""
        self._fake_time = moment

    def hold(self, path_part: str = "/tsa"):
        """Make requests whose path contains ``path_part`` wait, once recorded, until
        :meth:`release_hold` (or :attr:`hold_limit` seconds): a service that accepted a request
        and has not answered yet, so a test can act on the client meanwhile (e.g. kill it)
        without sleeping. :attr:`held` is set when a request starts waiting."""
        if self._loop is None:
            raise RuntimeError("start the server first")
        self.held.clear()
        gate = asyncio.run_coroutine_threadsafe(self._new_gate(), self._loop).result(timeout=10)
        self._hold_gate, self._hold_part = gate, path_part

    @staticmethod
    async def _new_gate():
        return asyncio.Event()

    def release_hold(self):
        """Let held requests go on (answered normally) and stop holding new ones."""
        gate, self._hold_part, self._hold_gate = self._hold_gate, None, None
        if gate is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(gate.set)

    def wait_for_request(self, path_part: str, *, after: int = 0, timeout: float = 10) -> bool:
        """Wait until a request whose path contains ``path_part`` has arrived (among
        ``self.requests[after:]``); False on timeout. Lets a test act while a request is in
        progress (e.g. during :meth:`set_delay`) without sleeping."""
        with self._request_seen:
            return self._request_seen.wait_for(
                lambda: any(path_part in path for path in self.requests[after:]), timeout)

    # --- life cycle --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the server accepts connections."""
        return self._runner is not None

    def start(self) -> PkiServer:
        """Start serving (again) on the same port. Returns self."""
        if self.running:
            return self
        if self._sock is None:
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((self.host, self.port))
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            started = threading.Event()

            def run():
                asyncio.set_event_loop(self._loop)
                self._loop.call_soon(started.set)
                self._loop.run_forever()

            self._thread = threading.Thread(target=run, name=f"pki-server-{self.port}",
                                            daemon=True)
            self._thread.start()
            if not started.wait(10):
                raise RuntimeError("PKI server loop did not start")
        fut = asyncio.run_coroutine_threadsafe(self._start_site(), self._loop)
        fut.result(timeout=30)
        return self

    async def _start_site(self):
        app = build_animator_app(self.config.pki_archs, with_web_ui=False)

        @web.middleware
        async def faults(request, handler):
            with self._request_seen:
                self.requests.append(request.path)
                self._request_seen.notify_all()
            gate = self._hold_gate
            if gate is not None and self._hold_part and self._hold_part in request.path:
                self.held.set()
                try:
                    await asyncio.wait_for(gate.wait(), self.hold_limit)
                except TimeoutError:
                    return web.Response(status=504, text="held too long")
            if self._delay:
                await asyncio.sleep(self._delay)
            if self._fail_status:
                if self._fail_after > 0:
                    self._fail_after -= 1
                else:
                    return web.Response(status=self._fail_status, text="injected failure")
            if self._fake_time is not None:
                headers = dict(request.headers)
                headers[FAKE_TIME_HEADER] = self._fake_time.isoformat()
                request = request.clone(headers=headers)
            return await handler(request)

        app.middlewares.insert(0, faults)
        # handler_cancellation: a request whose client went away (e.g. a client timeout
        # during set_delay()) is cancelled instead of running on unobserved
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5,
                               handler_cancellation=True)
        await runner.setup()
        site = web.SockSite(runner, self._sock)
        await site.start()
        self._runner = runner

    def stop(self):
        """Stop serving: the port is closed and connections are refused ("TSA down"). Requests
        still in progress are cancelled and awaited."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        fut = asyncio.run_coroutine_threadsafe(self._stop_site(runner), self._loop)
        fut.result(timeout=30)
        # the listening socket is closed by the site; rebind on start()
        try:
            self._sock.close()
        except OSError:
            pass
        self._sock = None

    @staticmethod
    async def _stop_site(runner):
        await runner.cleanup()
        # aiohttp leaves a handler running when its client disconnected before the shutdown:
        # cancel and await every task left on this loop (it serves nothing else)
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self):
        """Stop serving and end the background thread; the loop ends with no task pending."""
        self.release_hold()
        self.stop()
        if self._loop is not None:
            loop = self._loop

            async def shutdown():
                await loop.shutdown_asyncgens()
                await loop.shutdown_default_executor()

            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout=10)
            loop.close()
            self._loop = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc):
        self.close()
