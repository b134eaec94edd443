"""A small, self-contained sealer for evidence tests, written straight on pyHanko.

* :class:`TestCa` makes an ECDSA P-256 company CA with ``cryptography`` and issues a seal
  certificate and one-time signer certificates from it.
* :class:`SimpleSealer` implements the evidence ``Sealer`` protocol: ``seal_pdf`` (PAdES
  approval signature ``CompanySeal``), ``seal_detached`` (detached CMS over bytes, via
  ``SimpleSigner.async_sign_general_data``) and ``timestamp`` (RFC 3161 token), with an optional
  time-stamping authority (e.g. the loopback certomancer TSA of ``pki_server.py``).
* :func:`sign_field` signs a PDF as a signer would (PAdES, incremental).

Independent of ``o2s_esign.lib.signing`` on purpose: the evidence code is exercised against
plain pyHanko before the two are integrated.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore

__all__ = ["Identity", "SimpleSealer", "TestCa", "sign_field"]


@dataclass
class Identity:
    """A key and its certificate (cryptography objects) plus the issuer chain."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    chain: list

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    def pyhanko_signer(self) -> signers.SimpleSigner:
        key_der = self.key.private_bytes(serialization.Encoding.DER,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        chain = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
                 for c in self.chain]
        return signers.SimpleSigner(
            signing_cert=self.asn1_cert(),
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )


class TestCa:
    """ECDSA P-256 company CA (self-signed) issuing end-entity certificates."""

    __test__ = False  # not a pytest class

    def __init__(self, company: str = "Cabinet Exemple SARL", now: datetime | None = None):
        self.now = now or datetime.now(UTC)
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{company} Signing CA"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, company),
                          x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")])
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        self.cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(self.now - timedelta(days=1))
            .not_valid_after(self.now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.company = company
        self.seal = self.issue(f"{company} electronic seal", None, days=1095)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, name: str, email: str | None, *, days: int = 30) -> Identity:
        """A fresh P-256 key with a certificate for signing (digitalSignature,
        nonRepudiation)."""
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
        if email:
            attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
        builder = (
            x509.CertificateBuilder().subject_name(x509.Name(attrs))
            .issuer_name(self.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - timedelta(minutes=5))
            .not_valid_after(self.now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self.key.public_key()), critical=False)
        )
        if email:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        return Identity(key, builder.sign(self.key, hashes.SHA256()), [self.cert])


def _metadata(field_name: str) -> signers.PdfSignatureMetadata:
    return signers.PdfSignatureMetadata(field_name=field_name, md_algorithm="sha256",
                                        subfilter=SigSeedSubFilter.PADES)


def sign_field(pdf: bytes, identity: Identity, field_name: str, *,
               timestamper: timestamps.TimeStamper | None = None,
               box: tuple | None = None) -> bytes:
    """Sign ``pdf`` incrementally (PAdES B-B, or B-T with a timestamper) in ``field_name``."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    if box is not None:
        fields.append_signature_field(writer, fields.SigFieldSpec(field_name, box=box,
                                                                  on_page=-1))
    out = signers.sign_pdf(writer, _metadata(field_name), signer=identity.pyhanko_signer(),
                           timestamper=timestamper)
    return out.getvalue()


class SimpleSealer:
    """The evidence ``Sealer`` protocol on plain pyHanko (seal identity from :class:`TestCa`)."""

    def __init__(self, identity: Identity, *, tsa_url: str | None = None):
        self.identity = identity
        self.signer = identity.pyhanko_signer()
        self.tsa_url = tsa_url
        self.timestamper = _requests_timestamper(tsa_url) if tsa_url else None
        self.calls = {"seal_pdf": 0, "seal_detached": 0, "timestamp": 0}

    def seal_pdf(self, data: bytes) -> bytes:
        self.calls["seal_pdf"] += 1
        return sign_field(data, self.identity, "CompanySeal", timestamper=self.timestamper)

    def seal_detached(self, data: bytes) -> bytes:
        self.calls["seal_detached"] += 1
        info = asyncio.run(self.signer.async_sign_general_data(
            data, "sha256", detached=True, timestamper=self.timestamper))
        return info.dump()

    def timestamp(self, data: bytes) -> bytes | None:
        if self.timestamper is None:
            return None
        self.calls["timestamp"] += 1
        token = asyncio.run(self.timestamper.async_timestamp(hashlib.sha256(data).digest(),
                                                             "sha256"))
        return token.dump()


def _requests_timestamper(url: str):
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
    return RequestsHTTPTimeStamper(url, timeout=10)
