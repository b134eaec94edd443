"""No secrets in the repository: the test PKI's private keys are generated at run time."""

import os
import re
import stat
import subprocess
from pathlib import Path

import pki_server as pki_support
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = Path(__file__).resolve().parents[2]
#: a PEM private key block (any flavour: PKCS#8, encrypted, RSA, EC, OpenSSH...) with a body
PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\s*[A-Za-z0-9+/=]{16,}")
KEY_FILE_SUFFIXES = {".p12", ".pfx", ".key", ".jks", ".p8"}
SKIP_DIRS = {".git", ".venv", ".run", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _repository_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout
        return [ROOT / name for name in out.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # an exported tree without git
        files = []
        for dirpath, dirnames, filenames in os.walk(ROOT):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            files.extend(Path(dirpath) / name for name in filenames)
        return files


def test_no_private_key_in_the_repository():
    files = [path for path in _repository_files() if path.is_file()]
    assert len(files) > 20 and ROOT / "o2s_esign" / "lib" / "pki.py" in files
    found = [str(path.relative_to(ROOT)) for path in files
             if path.suffix.lower() in KEY_FILE_SUFFIXES
             or PEM_PRIVATE_KEY.search(path.read_bytes())]
    assert found == []


def test_private_key_pattern_matches_real_keys():
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption())
    assert PEM_PRIVATE_KEY.search(pem)
    assert not PEM_PRIVATE_KEY.search(b'assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")')


def test_test_pki_keys_are_generated_outside_the_repository(pki_server):
    key_dir = pki_support.generated_key_dir()
    assert ROOT not in key_dir.resolve().parents
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    root_pem = key_dir / "keys" / "root.key.pem"
    assert stat.S_IMODE(root_pem.stat().st_mode) == 0o600
    root_key = serialization.load_pem_private_key(root_pem.read_bytes(), None)
    assert isinstance(root_key, ec.EllipticCurvePrivateKey)
    public_der = root_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    # the running server's root certificate is made from the generated key
    assert pki_server.root_cert.public_key.dump() == public_der
    rsa_key = serialization.load_pem_private_key(
        (key_dir / "keys" / "company-ca-rsa.key.pem").read_bytes(), None)
    assert isinstance(rsa_key, rsa.RSAPrivateKey) and rsa_key.key_size == 2048


def test_generate_keys_for_a_configuration(tmp_path, pki_server):
    out = pki_support.generate_keys(pki_support.DEFAULT_CONFIG, tmp_path)
    names = sorted(p.name for p in (out / "keys").iterdir())
    assert names == sorted(["root.key.pem", "tsa.key.pem", "ocsp.key.pem", "company-ca.key.pem",
                            "company-ca-rsa.key.pem", "seal.key.pem"])
    # a server on these keys is a different PKI than the session's, with the same layout
    with pki_support.PkiServer(key_dir=out) as server:
        assert server.root_cert.subject.native["common_name"] == "O2S Test Root CA"
        assert server.root_cert.public_key.dump() != pki_server.root_cert.public_key.dump()
