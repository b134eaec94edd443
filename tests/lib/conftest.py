"""Plain-pytest support for the signing core (``o2s_esign/lib``).

Loads ``o2s_esign/lib`` as the package ``o2s_esign_lib`` without importing
``o2s_esign/__init__.py`` (which needs Odoo), and exposes the loopback PKI server of
``tests/support/pki_server.py`` as fixtures.
"""

import importlib.util
import logging
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIB_DIR = ROOT / "o2s_esign" / "lib"
SUPPORT_DIR = ROOT / "tests" / "support"


def _load_lib():
    if "o2s_esign_lib" in sys.modules:
        return sys.modules["o2s_esign_lib"]
    spec = importlib.util.spec_from_file_location(
        "o2s_esign_lib", LIB_DIR / "__init__.py", submodule_search_locations=[str(LIB_DIR)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["o2s_esign_lib"] = module
    spec.loader.exec_module(module)
    return module


_load_lib()
if str(SUPPORT_DIR) not in sys.path:
    sys.path.insert(0, str(SUPPORT_DIR))

from pki_server import PkiServer  # noqa: E402 (needs the path set above)


@pytest.fixture(scope="session")
def pki_server():
    """The shared loopback PKI (TSA, OCSP, CRL) for the whole session. Do not stop it."""
    with PkiServer() as server:
        yield server


@pytest.fixture
def private_pki_server():
    """A PKI server of the test's own, which the test may stop, break or slow down."""
    with PkiServer() as server:
        yield server


@pytest.fixture(scope="session")
def company():
    """A company PKI made by o2s_esign_lib.pki (own CA + seal)."""
    from o2s_esign_lib import pki

    return pki.create_company_pki("Cabinet Dupré & Associés", "FR")


@pytest.fixture(scope="session")
def signer():
    """One PadesSigner for the session, as in an Odoo worker."""
    from o2s_esign_lib import signing

    pades = signing.PadesSigner()
    yield pades
    pades.close()


@pytest.fixture(scope="session")
def tsa(pki_server):
    """TsaConfig of the shared loopback TSA."""
    from o2s_esign_lib import signing

    return signing.TsaConfig(pki_server.tsa_url, timeout=10)


@pytest.fixture(scope="session")
def roots(company, pki_server):
    """Trust anchors of a validator: our company CA and the test PKI root (TSA)."""
    return [company.ca.cert, pki_server.root_cert]


@pytest.fixture(autouse=True)
def _pyhanko_loggers_restored():
    """verify.py, run in-process by some tests, quiets pyHanko's loggers for its own run (no
    propagation, a null handler): give every test the loggers as they were."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    saved = [(logger.propagate, list(logger.handlers)) for logger in loggers]
    yield
    for logger, (propagate, handlers) in zip(loggers, saved, strict=True):
        logger.propagate = propagate
        logger.handlers[:] = handlers
