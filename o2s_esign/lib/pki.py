"""Company PKI: signing CA, seal certificate, one-time signer certificates, CRLs, PKCS#12.

ECDSA P-256 is used for every key generated here: key generation is sub-millisecond, whereas
RSA key generation would ruin the per-signature time budget. Imported PKCS#12 identities may
hold any key type pyHanko supports (RSA, ECDSA, Ed25519...).

Validity choices (see :func:`issue_one_time_identity`):

* company CA: 10 years; company seal: 3 years;
* one-time signer certificates: 3 years by default (clamped to the issuing CA's own end of
  validity), starting 5 minutes before issuance to absorb clock skew with the TSA. The private
  key is used for one signature and then dropped, so a long validity adds no key-exposure risk,
  while it lets validators that check the certificate "now" (poppler's ``pdfsig``, plain
  pyHanko validation, viewers without LTV logic) accept the signature for years; validators that
  work at the signature-timestamp time (B-T and above) accept it afterwards as well.

Certificates are returned as asn1crypto objects (what pyHanko consumes); private keys as
``cryptography`` key objects. Nothing here persists keys.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from asn1crypto import pem as asn1_pem
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from .errors import PkiError

__all__ = [
    "CA_VALIDITY",
    "ONE_TIME_VALIDITY",
    "SEAL_VALIDITY",
    "CompanyPki",
    "SigningIdentity",
    "can_issue",
    "cert_from_pem_or_der",
    "create_company_pki",
    "generate_key",
    "identity_from_pem",
    "identity_from_pkcs12",
    "issue_one_time_identity",
    "issue_seal",
    "make_crl",
    "private_key_from_pem",
    "private_key_to_pem",
    "seal_common_name",
]

CA_VALIDITY = timedelta(days=3652)
SEAL_VALIDITY = timedelta(days=1095)
#: default validity of one-time signer certificates (see the module docstring)
ONE_TIME_VALIDITY = timedelta(days=1095)
#: notBefore is backdated by this much to tolerate clock skew between us, the TSA and validators
CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class SigningIdentity:
    """A private key, its certificate and the chain above it.

    :ivar key: ``cryptography`` private key object.
    :ivar cert: asn1crypto ``x509.Certificate`` of the key.
    :ivar chain: issuer certificates (asn1crypto), issuer first, root last; may be empty.
    """

    key: object
    cert: asn1_x509.Certificate
    chain: list = field(default_factory=list)

    def cert_pem(self) -> bytes:
        """PEM of the certificate."""
        return asn1_pem.armor("CERTIFICATE", self.cert.dump())

    def chain_pem(self) -> bytes:
        """Concatenated PEM of the chain (issuer first), empty bytes when there is none."""
        return b"".join(asn1_pem.armor("CERTIFICATE", c.dump()) for c in self.chain)

    @property
    def subject_cn(self) -> str:
        """Common name of the certificate subject ('' when absent)."""
        return _cn(self.cert)


@dataclass
class CompanyPki:
    """The company's own signing CA and the seal certificate it issued."""

    ca: SigningIdentity
    seal: SigningIdentity


# --- helpers ---------------------------------------------------------------------------------

def _utcnow(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def _cn(cert: asn1_x509.Certificate) -> str:
    try:
        return cert.subject.native.get("common_name") or ""
    except (ValueError, TypeError):
        return ""


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _to_crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _sign_hash(key):
    """Hash algorithm to pass to cryptography's builders for this signing key."""
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return None
    return hashes.SHA256()


def _trim(value: str, limit: int = 64) -> str:
    value = " ".join((value or "").split())
    return value[:limit]


def _name(common_name: str, *, organization: str | None = None, country: str | None = None,
          email: str | None = None) -> x509.Name:
    attrs = []
    if country:
        attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()[:2]))
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, _trim(organization)))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, _trim(common_name) or "-"))
    if email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, _trim(email, 128)))
    return x509.Name(attrs)


def _serial() -> int:
    """Random positive 128-bit serial number (never 0)."""
    return secrets.randbits(128) or 1


def generate_key():
    """A fresh ECDSA P-256 private key (sub-millisecond)."""
    return ec.generate_private_key(ec.SECP256R1())


def _key_usage(*, signing: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=signing and not ca, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )


# --- company PKI -----------------------------------------------------------------------------

def create_company_pki(company_name: str, country: str | None = None, *,
                       now: datetime | None = None) -> CompanyPki:
    """Create the company's self-signed signing CA (10 years, CA with pathlen 0,
    keyCertSign + cRLSign) and a company seal certificate it issues (3 years,
    digitalSignature + nonRepudiation). Both keys are fresh ECDSA P-256 keys."""
    now = _utcnow(now)
    ca_key = generate_key()
    ca_name = _name(f"{company_name} Signing CA", organization=company_name, country=country)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(_serial())
        .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False, ca=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca = SigningIdentity(key=ca_key, cert=_to_asn1(ca_cert), chain=[])
    return CompanyPki(ca=ca, seal=issue_seal(ca, company_name, country, now=now))


def seal_common_name(company_name: str) -> str:
    """The common name of the seal certificates issued here for ``company_name``."""
    return _trim(f"{company_name} Electronic Seal") or "-"


def issue_seal(ca: SigningIdentity, company_name: str, country: str | None = None, *,
               now: datetime | None = None) -> SigningIdentity:
    """Issue a company seal certificate under ``ca`` (3 years, clamped to the CA's own expiry,
    digitalSignature + nonRepudiation) for a fresh P-256 key: subject CN "<company> Electronic
    Seal", O=<company>, C=<country>. Used when the company PKI is created and when the company
    is renamed (a new seal with the new name, under the same CA: what was signed before keeps
    chaining to it)."""
    if not can_issue(ca):
        raise PkiError("not_a_ca", {"subject": _cn(ca.cert)})
    now = _utcnow(now)
    key = generate_key()
    cert = _issue(ca, _ca_crypto_cert(ca), key,
                  _name(seal_common_name(company_name), organization=company_name, country=country),
                  not_before=now - CLOCK_SKEW, not_after=now + SEAL_VALIDITY, email=None)
    return SigningIdentity(key=key, cert=_to_asn1(cert), chain=[ca.cert, *ca.chain])


def _issue(ca: SigningIdentity, ca_cert: x509.Certificate, key, subject: x509.Name, *,
           not_before: datetime, not_after: datetime, email: str | None) -> x509.Certificate:
    ca_not_after = ca_cert.not_valid_after_utc
    not_after = min(not_after, ca_not_after)
    try:
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(_serial())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True, ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(aki, critical=False)
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    return builder.sign(ca.key, _sign_hash(ca.key))


def issue_one_time_identity(ca: SigningIdentity, *, name: str, email: str,
                            now: datetime | None = None,
                            validity: timedelta = ONE_TIME_VALIDITY) -> SigningIdentity:
    """Issue a certificate for one signature: fresh P-256 key, subject CN=name (+ emailAddress),
    SAN rfc822Name=email, keyUsage digitalSignature + nonRepudiation, random 128-bit serial,
    AKI/SKI. Valid from ``now - 5 min`` to ``now + validity`` (default 3 years, see the module
    docstring), clamped to the CA's own expiry. The caller drops the key after signing."""
    if not can_issue(ca):
        raise PkiError("not_a_ca", {"subject": _cn(ca.cert)})
    now = _utcnow(now)
    ca_cert = _ca_crypto_cert(ca)
    key = generate_key()
    cert = _issue(ca, ca_cert, key, _name(name, email=email or None),
                  not_before=now - CLOCK_SKEW, not_after=now + validity, email=email or None)
    return SigningIdentity(key=key, cert=_to_asn1(cert), chain=[ca.cert, *ca.chain])


# --- keys generated elsewhere (the signer's browser, WebCrypto) ---------------------------

#: prefix of the proof-of-possession challenge: a signature over it can be nothing else
POP_CONTEXT = b"o2s-esign proof of possession v1\n"


def load_p256_public_key(spki_der: bytes):
    """The ECDSA P-256 public key of a DER SubjectPublicKeyInfo (what WebCrypto
    ``exportKey("spki")`` gives); anything else raises ``PkiError("public_key_invalid")``."""
    try:
        key = serialization.load_der_public_key(bytes(spki_der))
    except (ValueError, TypeError):
        raise PkiError("public_key_invalid") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise PkiError("public_key_invalid")
    return key


def public_key_der(key) -> bytes:
    """DER SubjectPublicKeyInfo of a public key."""
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_fingerprint(spki_der: bytes) -> str:
    """SHA-256 (hex) of the DER SubjectPublicKeyInfo."""
    return hashlib.sha256(bytes(spki_der)).hexdigest()


def ecdsa_signature_der(signature: bytes) -> bytes:
    """An ECDSA P-256 signature as DER: WebCrypto gives the raw ``r || s`` (64 bytes), which is
    converted; a DER signature is returned as is (after checking it parses)."""
    signature = bytes(signature)
    if len(signature) == 64:
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not r or not s:
            raise PkiError("pop_invalid")
        return encode_dss_signature(r, s)
    try:
        decode_dss_signature(signature)
    except ValueError:
        raise PkiError("pop_invalid") from None
    return signature


def verify_ecdsa(public_key, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` (raw r||s or DER) is an ECDSA/SHA-256 signature of ``data``."""
    try:
        public_key.verify(ecdsa_signature_der(signature), bytes(data), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, PkiError):
        return False
    return True


def pop_challenge(*, signer: str, request: str, session: str, nonce: str) -> bytes:
    """The challenge the signer's key signs to prove it holds the key: binds the signer, the
    request, the verified-code session (an identifier of it, never the code) and a one-time
    nonce. Deterministic, so the verifier rebuilds it from what the evidence lists."""
    body = json.dumps({"nonce": nonce, "request": request, "session": session,
                       "signer": signer}, sort_keys=True, separators=(",", ":"))
    return POP_CONTEXT + body.encode()


def verify_proof_of_possession(spki_der: bytes, challenge: bytes, signature: bytes):
    """Check the proof of possession (``signature`` of ``challenge`` by the key of
    ``spki_der``) and return the public key; raises ``PkiError`` otherwise. The caller builds
    ``challenge`` itself (:func:`pop_challenge`) from what it expects, so a proof made for
    another signer, request, session or nonce (a replay) fails here."""
    key = load_p256_public_key(spki_der)
    if not bytes(challenge).startswith(POP_CONTEXT) or not verify_ecdsa(key, challenge,
                                                                        signature):
        raise PkiError("pop_invalid")
    return key


def issue_one_time_certificate(ca: SigningIdentity, spki_der: bytes, *, name: str, email: str,
                               now: datetime | None = None,
                               validity: timedelta = ONE_TIME_VALIDITY) -> SigningIdentity:
    """Same profile as :func:`issue_one_time_identity`, for a P-256 public key made elsewhere
    (the signer's browser). The returned identity has no private key (``key`` is None); the
    caller checks the proof of possession first (:func:`verify_proof_of_possession`)."""
    if not can_issue(ca):
        raise PkiError("not_a_ca", {"subject": _cn(ca.cert)})
    public_key = load_p256_public_key(spki_der)
    now = _utcnow(now)
    cert = _issue(ca, _ca_crypto_cert(ca), _PublicOnly(public_key), _name(name, email=email or None),
                  not_before=now - CLOCK_SKEW, not_after=now + validity, email=email or None)
    return SigningIdentity(key=None, cert=_to_asn1(cert), chain=[ca.cert, *ca.chain])


def check_key_proof(cert_der: bytes, proof: dict) -> list[str]:
    """What is wrong (empty when nothing) with the proof that the key of the certificate
    ``cert_der`` was made and held by the signer: ``proof`` is the evidence entry
    ``{"public_key": SPKI DER, "challenge": bytes, "signature": raw r||s or DER}``. The
    certificate must carry exactly that public key and the signature must verify."""
    problems = []
    cert = x509.load_der_x509_certificate(bytes(cert_der))
    if public_key_der(cert.public_key()) != bytes(proof.get("public_key") or b""):
        problems.append("certificate_key_differs")
    try:
        verify_proof_of_possession(proof.get("public_key") or b"", proof.get("challenge") or b"",
                                   proof.get("signature") or b"")
    except PkiError as exc:
        problems.append(exc.code)
    return problems


class _PublicOnly:
    """What :func:`_issue` needs of a key: its public key."""

    def __init__(self, public_key):
        self._public_key = public_key

    def public_key(self):
        return self._public_key


_CA_CERT_CACHE: dict[bytes, x509.Certificate] = {}


def _ca_crypto_cert(ca: SigningIdentity) -> x509.Certificate:
    der = ca.cert.dump()
    cert = _CA_CERT_CACHE.get(der)
    if cert is None:
        if len(_CA_CERT_CACHE) > 64:
            _CA_CERT_CACHE.clear()
        cert = _CA_CERT_CACHE[der] = _to_crypto(ca.cert)
    return cert


def can_issue(identity: SigningIdentity) -> bool:
    """True when the identity's certificate is a CA certificate allowed to sign certificates
    (basicConstraints CA and, when keyUsage is present, keyCertSign)."""
    cert = identity.cert
    bc = cert.basic_constraints_value
    if bc is None or not bc["ca"].native:
        return False
    ku = cert.key_usage_value
    return ku is None or "key_cert_sign" in ku.native


def make_crl(ca: SigningIdentity, *, now: datetime | None = None,
             next_update: timedelta = timedelta(days=7)) -> bytes:
    """An empty CRL (DER) signed by ``ca``, valid from ``now`` for ``next_update``; embedded as
    validation data (B-LT) when the company CA is our own and publishes no CRL online."""
    now = _utcnow(now)
    ca_cert = _ca_crypto_cert(ca)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - CLOCK_SKEW)
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
    )
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    except x509.ExtensionNotFound:
        ski = None  # a CA without SKI: the CRL simply has no AKI
    crl = builder.sign(ca.key, _sign_hash(ca.key))
    return crl.public_bytes(serialization.Encoding.DER)


# --- key and certificate (de)serialisation ---------------------------------------------------

def private_key_to_pem(key) -> bytes:
    """Unencrypted PKCS#8 PEM of ``key``: only ever pass it to ``crypto.encrypt_secret``."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def private_key_from_pem(pem: bytes):
    """Parse an unencrypted PEM private key (raises ``PkiError("key_invalid")``)."""
    try:
        return serialization.load_pem_private_key(bytes(pem), password=None)
    except (ValueError, TypeError) as exc:
        raise PkiError("key_invalid", {"detail": str(exc)}) from None


def cert_from_pem_or_der(data: bytes) -> asn1_x509.Certificate:
    """One certificate from PEM or DER bytes, as an asn1crypto object."""
    data = bytes(data)
    if asn1_pem.detect(data):
        _, _, data = asn1_pem.unarmor(data)
    cert = asn1_x509.Certificate.load(data)
    _ = cert.native  # force a full parse, so garbage fails here
    return cert


def _certs_from_pem(data: bytes | None) -> list:
    if not data:
        return []
    return [asn1_x509.Certificate.load(der)
            for _, _, der in asn1_pem.unarmor(bytes(data), multiple=True)]


def identity_from_pem(key_pem: bytes, cert_pem: bytes,
                      chain_pem: bytes | None = None) -> SigningIdentity:
    """Rebuild an identity from stored PEM blobs (key decrypted by the caller)."""
    return SigningIdentity(key=private_key_from_pem(key_pem),
                           cert=cert_from_pem_or_der(cert_pem),
                           chain=_certs_from_pem(chain_pem))


def _order_chain(leaf: asn1_x509.Certificate, others: list) -> list:
    """Order ``others`` from the leaf's issuer up to the root; unrelated certs go last."""
    remaining = list(others)
    chain = []
    current = leaf
    while remaining:
        if current.self_signed != "no":
            break
        nxt = next((c for c in remaining if c.subject == current.issuer), None)
        if nxt is None:
            break
        chain.append(nxt)
        remaining.remove(nxt)
        current = nxt
    return chain + remaining


def _looks_like_pkcs12(data: bytes) -> bool:
    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        _ = pfx.native
        return True
    except (ValueError, TypeError, KeyError):
        return False


def identity_from_pkcs12(data: bytes, password: bytes | None) -> SigningIdentity:
    """Load key, certificate and chain from a PKCS#12 file.

    Raises ``PkiError`` with code ``pkcs12_invalid`` (not a PKCS#12 file), ``pkcs12_password``
    (well-formed but the password does not open it) or ``pkcs12_no_key`` (no private key, no
    certificate, or a key that does not match the certificate).
    """
    data = bytes(data or b"")
    if isinstance(password, str):
        password = password.encode("utf-8")
    password = password or None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        if not data or not _looks_like_pkcs12(data):
            raise PkiError("pkcs12_invalid") from None
        if password is None:
            # an empty password is sometimes encoded as b"" rather than absent
            try:
                key, cert, extra = pkcs12.load_key_and_certificates(data, b"")
            except ValueError:
                raise PkiError("pkcs12_password") from None
        else:
            raise PkiError("pkcs12_password") from None
    except TypeError:
        raise PkiError("pkcs12_invalid") from None
    if key is None or cert is None:
        raise PkiError("pkcs12_no_key")
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey,
                            ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey,
                            dsa.DSAPrivateKey)):
        raise PkiError("pkcs12_no_key", {"detail": "unsupported key type"})
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise PkiError("pkcs12_no_key", {"detail": "key does not match certificate"})
    leaf = _to_asn1(cert)
    chain = _order_chain(leaf, [_to_asn1(c) for c in (extra or [])])
    return SigningIdentity(key=key, cert=leaf, chain=chain)
