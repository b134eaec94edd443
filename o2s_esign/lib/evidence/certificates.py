"""The certificates of an evidence file: PEM normalisation, their file names under
``certificates/`` and ``timestamps/``, and the subject / fingerprint lines of the reports."""

from __future__ import annotations

import base64
import hashlib
import re

from .formats import safe_name

COMPANY_CA = "company-ca.pem"


def _pem_bytes(value) -> bytes:
    """PEM bytes of a certificate given as PEM (str/bytes), DER bytes or an object with
    ``dump()`` (asn1crypto) / ``public_bytes`` (cryptography)."""
    if hasattr(value, "dump") and not isinstance(value, (bytes, str)):
        value = value.dump()
    elif hasattr(value, "public_bytes"):
        from cryptography.hazmat.primitives.serialization import Encoding
        value = value.public_bytes(Encoding.DER)
    if isinstance(value, str):
        value = value.encode("ascii")
    if not isinstance(value, (bytes, bytearray)):
        raise TypeError("certificate must be PEM, DER or a certificate object")
    value = bytes(value)
    if value.lstrip().startswith(b"-----BEGIN"):
        return value.strip() + b"\n"
    body = base64.b64encode(value).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines)
            + "\n-----END CERTIFICATE-----\n").encode("ascii")


def _pem_ders(pem: bytes) -> list[bytes]:
    found = re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.DOTALL)
    return [base64.b64decode(b"".join(body.split())) for body in found]


def _cert_summary(pem: bytes) -> list[tuple[str, str]]:
    """(subject, fingerprint) for each certificate of a PEM file."""
    result = []
    for der in _pem_ders(pem):
        digest = hashlib.sha256(der).hexdigest().upper()
        fp = ":".join(digest[i:i + 2] for i in range(0, 64, 2))
        try:
            from cryptography import x509
            cert = x509.load_der_x509_certificate(der)
            subject = cert.subject.rfc4514_string({x509.NameOID.EMAIL_ADDRESS: "E"})
        except Exception:  # an unreadable certificate is still listed
            subject = "?"
        result.append((subject, fp))
    return result


def certificate_files(*, company_ca, seal=None, signer_certs=(), tsa_certs=()) -> dict:
    """The ``certificates`` mapping with the conventional names: ``company-ca.pem`` (the trust
    anchor verify.py uses), ``company-seal.pem``, ``signer-<n>.pem`` (1-based, in the order
    given) and, for the time-stamping authority, ``tsa-<n>.pem`` or ``tsa-root-<n>.pem`` for
    self-signed (root) certificates, which verify.py also trusts. Include the TSA's root: the
    certificates a TSA ships in its tokens usually stop below it."""
    files = {COMPANY_CA: company_ca}
    if seal is not None:
        files["company-seal.pem"] = seal
    for number, cert in enumerate(signer_certs, start=1):
        files[f"signer-{number}.pem"] = cert
    roots = others = 0
    for cert in tsa_certs:
        if _is_self_signed(_pem_bytes(cert)):
            roots += 1
            files[f"tsa-root-{roots}.pem"] = cert
        else:
            others += 1
            files[f"tsa-{others}.pem"] = cert
    return files


def _is_self_signed(pem: bytes) -> bool:
    from cryptography import x509
    ders = _pem_ders(pem)
    if not ders:
        return False
    cert = x509.load_der_x509_certificate(ders[0])
    return cert.issuer == cert.subject


def _cert_file_name(name: str) -> str:
    base = safe_name(re.sub(r"\.(pem|crt|cer|der)\Z", "", str(name), flags=re.IGNORECASE), "certificate")
    return base + ".pem"


def _token_file_name(name: str) -> str:
    text = str(name)
    match = re.search(r"\.(tsr|tst|der|p7s)\Z", text, flags=re.IGNORECASE)
    ext = match.group(0).lower() if match else ".tst"
    base = safe_name(text[:match.start()] if match else text, "timestamp")
    if f"{base}{ext}" == "manifest.json.tsr" or base.startswith("manifest.json"):
        base = "signature-" + base
    return base + ext
