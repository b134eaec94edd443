"""Evidence file ("dossier de preuve") of a signature request, and per-signer attestations.

:func:`build_evidence_zip` streams a ZIP to any binary output::

    original/<n>-<name>.pdf       the PDFs as sent
    signed/<n>-<name>.pdf         the final (or, for refused requests, partially) signed PDFs
    evidence.pdf                  readable report, sealed (PAdES) through the sealer
    audit_trail.json              every event with its chain fields
    consent.txt                   each consent text shown, with its SHA-256
    certificates/*.pem            company CA, seal, one-time signer and TSA certificates
    timestamps/*                  signature time-stamp tokens (when a TSA is used)
    README.txt                    how to verify (English and French)
    verify.py                     standalone verifier (copy of lib/verify.py)
    manifest.json                 SHA-256 of every file above, chain head, generation time
    manifest.json.p7s             detached CMS seal over manifest.json
    timestamps/manifest.json.tsr  RFC 3161 token over manifest.json (when a TSA is used)

Documents are read from paths or from callables opening a binary stream (twice: size and CRC
first, as the stored entry's header needs them, then the copy), in 1 MiB chunks: memory does not
grow with document size. The ZIP is written append-only (no seeking), so ``out`` may be a file,
a socket or an HTTP response; its SHA-256 is computed on the way. Entries are stored, not
compressed, and carry the generation time and fixed attributes: the same inputs give the same
bytes on any machine apart from the seals (whose signing times differ), and ``verify.py`` can
check every byte of the archive (header fields cross-checked, content hashed).

Sealing goes through the small :class:`Sealer` protocol (``seal_pdf``, ``seal_detached``,
optional ``timestamp``); :class:`PadesSealer` adapts ``lib.signing.PadesSigner`` to it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import struct
import threading
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable
from xml.sax.saxutils import escape as _xml_escape

from . import chain
from .errors import EvidenceError

FORMAT = "o2s-esign-evidence/1"
AUDIT_FORMAT = "o2s-esign-audit/1"
MANIFEST = "manifest.json"
MANIFEST_SEAL = "manifest.json.p7s"
MANIFEST_TSR = "timestamps/manifest.json.tsr"
COMPANY_CA = "company-ca.pem"
CHUNK = 1 << 20
VERIFY_SOURCE = Path(__file__).with_name("verify.py")

Source = str | os.PathLike | Callable[[], BinaryIO]


# --- inputs -----------------------------------------------------------------------------------

@runtime_checkable
class Sealer(Protocol):
    """What evidence needs from the signing layer.

    ``seal_pdf(pdf) -> pdf`` applies the company seal (PAdES); ``seal_detached(data) -> der``
    returns a detached CMS signature over ``data`` (time-stamped when a TSA is configured).
    A sealer may also offer ``timestamp(data) -> der | None``: an RFC 3161 token over
    SHA-256(data), written as ``timestamps/manifest.json.tsr``.
    """

    def seal_pdf(self, data: bytes) -> bytes: ...

    def seal_detached(self, data: bytes) -> bytes: ...


@dataclass
class HashStep:
    """The SHA-256 of a document after one signature (or another recorded step)."""

    sha256: str
    date: datetime | str | None = None
    signer_ref: object = None      # the signer's ``ref`` (see EvidenceSigner), None for seals
    label: str = ""                # e.g. "Company seal"; defaults to the signer's name


@dataclass
class EvidenceDocument:
    """One PDF of the request. ``original``/``signed`` are paths or callables opening a binary
    stream; ``*_sha256`` are the recorded hashes, checked against the files."""

    name: str
    original: Source
    original_sha256: str | None = None
    doc_type: str = ""
    prepared_sha256: str | None = None
    signed: Source | None = None
    final_sha256: str | None = None
    steps: list[HashStep] = field(default_factory=list)


@dataclass
class EvidenceSigner:
    """One signer, with what proves who they are and what they did."""

    name: str
    ref: object = None             # the value of ``event["signer"]`` for this signer's events
    role: str = ""                 # translated role label, e.g. "Legal representative"
    capacity: str = ""             # e.g. "for the account of Jean Dupont"
    represented_party: str = ""
    email: str = ""
    mobile: str = ""
    presence: str = ""             # translated: remote / in person
    id_doc_type: str = ""
    id_doc_number: str = ""
    id_doc_expiry: date | str | None = None
    id_doc_sha256: str = ""
    auth_method: str = ""          # translated, e.g. "SMS one-time code"
    otp_sent: list = field(default_factory=list)       # datetimes or strings
    otp_verified: list = field(default_factory=list)
    ip_address: str = ""
    user_agent: str = ""
    consent_sha256: str = ""
    state: str = ""                # waiting, pending, signed, refused
    date_signed: datetime | str | None = None
    date_refused: datetime | str | None = None
    refusal_reason: str = ""
    certificate: str = ""          # file name in certificates/ of the one-time certificate


@dataclass
class EvidenceRequest:
    """The envelope."""

    reference: str
    name: str = ""
    company: str = ""
    advisor: str = ""
    state: str = ""                # draft, in_progress, signed, refused, cancelled, expired, error
    lang: str = ""
    date_created: datetime | str | None = None
    date_sent: datetime | str | None = None
    date_deadline: datetime | str | None = None
    date_done: datetime | str | None = None
    pades_level_requested: str = ""
    pades_level_achieved: str = ""
    tsa_url: str | None = None     # None: no TSA ("none: B-B only")


@dataclass
class ConsentText:
    """A consent / proof-convention text as shown to signers."""

    text: str
    label: str = ""

    @property
    def sha256(self) -> str:
        """SHA-256 of the UTF-8 text (what the consent events record)."""
        return consent_sha256(self.text)


@dataclass
class EvidenceBundle:
    """Everything the evidence file states. ``labels`` override :data:`DEFAULT_LABELS` with
    already translated strings; ``generated_at`` (UTC) defaults to now."""

    request: EvidenceRequest
    documents: list[EvidenceDocument] = field(default_factory=list)
    signers: list[EvidenceSigner] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    certificates: dict = field(default_factory=dict)   # file name -> PEM (str/bytes) or DER
    timestamps: dict = field(default_factory=dict)     # file name -> DER token
    consent_texts: list = field(default_factory=list)  # ConsentText or str
    labels: dict = field(default_factory=dict)
    lang: str = "en"
    generated_at: datetime | None = None


@dataclass(frozen=True)
class EvidenceResult:
    """What :func:`build_evidence_zip` wrote: the manifest and the ZIP's SHA-256 and size."""

    manifest: dict
    sha256: str
    size: int


# --- labels -----------------------------------------------------------------------------------

DEFAULT_LABELS = {
    "title": "Evidence file",
    "attestation_title": "Signature attestation",
    "request": "Request",
    "reference": "Reference",
    "name": "Name",
    "company": "Company",
    "advisor": "Advisor",
    "state": "Status",
    "lang": "Language",
    "date_created": "Created",
    "date_sent": "Sent",
    "date_deadline": "Expiry date",
    "date_done": "Completed",
    "level_requested": "Signature level requested",
    "level_achieved": "Signature level achieved",
    "tsa": "Time-stamping authority",
    "tsa_none": "none: B-B only",
    "generated_at": "Generated",
    "documents": "Documents",
    "doc_type": "Type",
    "original_sha256": "SHA-256 as sent",
    "prepared_sha256": "SHA-256 prepared for signing",
    "step_sha256": "SHA-256 after",
    "final_sha256": "Final SHA-256",
    "files": "Files in this evidence",
    "not_signed": "no signed version",
    "signers": "Signers",
    "signer": "Signer",
    "role": "Role",
    "capacity": "Capacity",
    "represented_party": "Represented party",
    "email": "Email",
    "mobile": "Mobile phone",
    "presence": "Presence",
    "id_document": "Identity document",
    "id_expiry": "valid until",
    "id_sha256": "Identity document file SHA-256",
    "authentication": "Authentication",
    "otp_sent": "Code sent",
    "otp_verified": "Code verified",
    "ip_address": "IP address",
    "user_agent": "Browser",
    "consent_sha256": "Consent text SHA-256",
    "signer_state": "Status",
    "date_signed": "Signed on",
    "date_refused": "Refused on",
    "refusal_reason": "Reason for refusal",
    "certificate": "Signature certificate",
    "seal": "Company seal",
    "timeline": "Audit trail",
    "col_seq": "#",
    "col_date": "Date (UTC)",
    "col_event": "Event",
    "col_signer": "Signer",
    "col_ip": "IP address",
    "col_details": "Details",
    "chain": "Hash chain",
    "chain_head": "Chain head (hash of the last event)",
    "event_count": "Number of events",
    "chain_rule": "Each event's hash is the SHA-256 of the previous event's hash followed by the "
                  "canonical JSON of the event (sorted keys, UTF-8); the first event follows 64 "
                  "zeros. Any change, insertion or removal of an event breaks the chain.",
    "consent_texts": "Consent texts",
    "consent_none": "No consent text was recorded.",
    "certificates": "Certificates",
    "fingerprint": "SHA-256 fingerprint",
    "verification": "How to verify this evidence",
    "verification_text": "Every file of the evidence ZIP is listed with its SHA-256 in "
                         "manifest.json, which is sealed (manifest.json.p7s) and, when a "
                         "time-stamping authority is configured, time-stamped. Unpack the ZIP "
                         "and run \u201cpython3 verify.py\u201d, or run \u201cpython3 verify.py "
                         "EVIDENCE.zip\u201d: it re-computes every hash and the audit trail chain "
                         "and, when pyHanko is installed, validates every signature. Compare the "
                         "fingerprint of certificates/company-ca.pem with the one published by "
                         "the company.",
    "other_signers": "Other signers",
    "other_signers_text": "This request has {count} other signer(s), of whom {signed} signed. "
                          "Their personal data is not part of this attestation.",
    "signer_events": "Events of this signer",
    "attestation_intro": "This attestation states the signature of the person below on the "
                         "documents listed, as recorded in the request's audit trail.",
    "other_signature": "another signer",
    "page": "Page",
    "none": "\u2014",
    "state_draft": "Draft",
    "state_in_progress": "In progress",
    "state_signed": "Signed",
    "state_refused": "Refused",
    "state_cancelled": "Cancelled",
    "state_expired": "Expired",
    "state_error": "Error",
    "state_waiting": "Waiting",
    "state_pending": "Pending",
    # event types of the audit trail (event_<type>); unknown types show their code
    "event_created": "Request created",
    "event_sent": "Request sent",
    "event_email_sent": "Email sent",
    "event_email_bounced": "Email bounced",
    "event_email_opened": "Email opened",
    "event_sms_sent": "SMS sent",
    "event_link_opened": "Signing link opened",
    "event_document_viewed": "Document viewed",
    "event_otp_sent": "Code sent",
    "event_otp_verified": "Code verified",
    "event_otp_failed": "Wrong code",
    "event_otp_locked": "Code locked",
    "event_consent_given": "Consent given",
    "event_signed": "Signed",
    "event_refused": "Refused",
    "event_reminder_sent": "Reminder sent",
    "event_cancelled": "Cancelled",
    "event_expired": "Expired",
    "event_error": "Error",
    "event_sealed": "Company seal applied",
    "event_evidence_generated": "Evidence file generated",
    "notice_draft": "This request was never sent.",
    "notice_in_progress": "This request is still in progress: not every signer has signed.",
    "notice_refused": "This request was refused: the documents were not signed by every signer. "
                      "Documents under signed/, when present, are shown as they stood.",
    "notice_cancelled": "This request was cancelled: the documents were not signed by every "
                        "signer.",
    "notice_expired": "This request expired before every signer had signed.",
    "notice_error": "This request ended in error: the documents were not signed by every "
                    "signer.",
}


def _labels(bundle: EvidenceBundle) -> dict:
    merged = dict(DEFAULT_LABELS)
    merged.update(bundle.labels or {})
    return merged


# --- helpers ----------------------------------------------------------------------------------

def consent_sha256(text: str) -> str:
    """SHA-256 (hex) of a consent text as shown: its UTF-8 bytes, unchanged."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def safe_name(name: str, default: str = "document", max_length: int = 80) -> str:
    """ASCII file name part: accents folded, anything but ``[A-Za-z0-9._-]`` turned into ``-``,
    never starting with a dot; a trailing ``.pdf`` is dropped (callers add extensions)."""
    text = unicodedata.normalize("NFKD", str(name or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"\.pdf\Z", "", text.strip(), flags=re.IGNORECASE)
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-._")[:max_length].strip("-._")
    return text or default


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def iso_utc(value) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` for a datetime (naive = UTC); strings pass through."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, datetime):
        return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def display_date(value) -> str:
    """Readable UTC date for the report: ``2026-11-27 14:03:05 UTC``; strings in the ISO form
    above are shortened the same way, other strings pass through."""
    if value is None or value == "" or value is False:
        return ""
    if isinstance(value, datetime):
        return _utc(value).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    match = re.match(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z\Z", text)
    if match:
        return f"{match.group(1)} {match.group(2)} UTC"
    return text


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


def _open_source(source: Source) -> BinaryIO:
    if callable(source):
        stream = source()
        if stream is None:
            raise EvidenceError("document_missing", {"document": repr(source)})
        return stream
    return open(source, "rb")


# --- ZIP writing ------------------------------------------------------------------------------

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_ZIP_VERSION = 20                       # version needed to extract (and made by, with Unix)
_ZIP_MADE_BY = (3 << 8) | _ZIP_VERSION  # Unix
_ZIP_ATTR = 0o100644 << 16              # regular file, rw-r--r--
_ZIP_LIMIT = 0xFFFFFFFF


class _ZipBuilder:
    """Minimal ZIP writer: stored entries (no compression), sizes and CRC in the local headers
    (no data descriptors, no seeking), ASCII names, fixed attributes and one date for all
    entries. So the archive is append-only, the same inputs give the same bytes on any machine,
    every reader accepts it, and every byte is either a header field that verify.py cross-checks
    or content that it hashes (compressed streams would let some bits go unchecked)."""

    def __init__(self, out: BinaryIO, moment: datetime):
        self.out = out
        self.sha = hashlib.sha256()
        self.pos = 0
        self.date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
        self.time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
        self.central: list[bytes] = []
        self.files: dict[str, str] = {}
        self.names: set[str] = set()

    def _write(self, data: bytes):
        self.out.write(data)
        self.sha.update(data)
        self.pos += len(data)

    def _header(self, name: str, crc: int, size: int):
        if name in self.names:
            raise EvidenceError("duplicate_entry", {"name": name})
        if size > _ZIP_LIMIT or self.pos > _ZIP_LIMIT or len(self.names) >= 0xFFFF:
            raise EvidenceError("too_large", {"name": name, "size": size})
        self.names.add(name)
        raw = name.encode("ascii")
        self.central.append(_CENTRAL.pack(
            0x02014B50, _ZIP_MADE_BY, _ZIP_VERSION, 0, 0, self.time, self.date, crc, size, size,
            len(raw), 0, 0, 0, 0, _ZIP_ATTR, self.pos) + raw)
        self._write(_LOCAL.pack(0x04034B50, _ZIP_VERSION, 0, 0, self.time, self.date, crc, size,
                                size, len(raw), 0) + raw)

    def add_bytes(self, name: str, data: bytes, *, listed: bool = True) -> str:
        data = bytes(data)
        self._header(name, zlib.crc32(data), len(data))
        self._write(data)
        digest = hashlib.sha256(data).hexdigest()
        if listed:
            self.files[name] = digest
        return digest

    def add_source(self, name: str, source: Source, *, document: str,
                   prefix_size: int | None = None) -> tuple[str, int, str | None]:
        """Copy a document in 1 MiB chunks, reading it twice (first for its size and CRC, which
        the local header needs, then to copy it; both passes must agree). Returns (sha256,
        size, sha256 of the first ``prefix_size`` bytes or None if it is shorter)."""
        crc, size, digest = 0, 0, hashlib.sha256()
        prefix = hashlib.sha256() if prefix_size is not None else None
        with _open_source(source) as stream:
            while chunk := stream.read(CHUNK):
                if prefix is not None and size < prefix_size:
                    prefix.update(chunk[:prefix_size - size])
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                digest.update(chunk)
        self._header(name, crc, size)
        copied, again = 0, hashlib.sha256()
        with _open_source(source) as stream:
            while copied < size and (chunk := stream.read(min(CHUNK, size - copied))):
                again.update(chunk)
                copied += len(chunk)
                self._write(chunk)
            grew = bool(stream.read(1))
        if grew or copied != size or again.digest() != digest.digest():
            raise EvidenceError("document_changed", {"document": document})
        self.files[name] = digest.hexdigest()
        prefix_hex = prefix.hexdigest() if prefix is not None and size >= prefix_size else None
        return self.files[name], size, prefix_hex

    def abort(self):
        """Give up: no central directory is written (the partial output is not a ZIP)."""
        self.central = []

    def close(self) -> tuple[str, int]:
        directory = b"".join(self.central)
        offset = self.pos
        if offset > _ZIP_LIMIT:
            raise EvidenceError("too_large", {"name": "(archive)", "size": offset})
        self._write(directory)
        self._write(_EOCD.pack(0x06054B50, 0, 0, len(self.central), len(self.central),
                               len(directory), offset, 0))
        flush = getattr(self.out, "flush", None)
        if flush:
            flush()
        return self.sha.hexdigest(), self.pos


# --- the report PDFs --------------------------------------------------------------------------

_FONT_LOCK = threading.Lock()
_FONTS: dict | None = None


def _fonts() -> dict:
    """Register Bitstream Vera (shipped with reportlab: Latin accents, œ, €) once."""
    global _FONTS
    with _FONT_LOCK:
        if _FONTS is None:
            import reportlab
            from reportlab.lib.fonts import addMapping
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.ttfonts import TTFont
            base = Path(reportlab.__file__).parent / "fonts"
            faces = {"normal": ("O2SVera", "Vera.ttf"), "bold": ("O2SVera-Bold", "VeraBd.ttf"),
                     "italic": ("O2SVera-Italic", "VeraIt.ttf"),
                     "bolditalic": ("O2SVera-BoldItalic", "VeraBI.ttf")}
            for face_name, file_name in faces.values():
                pdfmetrics.registerFont(TTFont(face_name, str(base / file_name)))
            addMapping("O2SVera", 0, 0, "O2SVera")
            addMapping("O2SVera", 1, 0, "O2SVera-Bold")
            addMapping("O2SVera", 0, 1, "O2SVera-Italic")
            addMapping("O2SVera", 1, 1, "O2SVera-BoldItalic")
            _FONTS = {key: value[0] for key, value in faces.items()}
        return _FONTS


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def esc(value, limit: int = 2000) -> str:
    """Text made safe for reportlab Paragraph markup: control characters dropped, ``&``,
    ``<``, ``>`` escaped, newlines kept as line breaks, capped at ``limit`` characters."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub("", text)
    if len(text) > limit:
        text = text[:limit - 1] + "\u2026"
    return _xml_escape(text).replace("\r\n", "\n").replace("\n", "<br/>")


class _Report:
    """Builds flowables for the report and the attestation (reportlab platypus)."""

    def __init__(self, labels: dict, title: str, reference: str, generated: str,
                 lang: str = ""):
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle
        fonts = _fonts()
        self.L = labels
        self.title = title
        self.reference = reference
        self.generated = generated
        self.lang = (lang or "").replace("_", "-") or None
        self.colors = colors
        self.story = []
        base = ParagraphStyle("o2s-base", fontName=fonts["normal"], fontSize=8.5, leading=10.5)
        self.styles = {
            "base": base,
            "small": ParagraphStyle("o2s-small", parent=base, fontSize=7.5, leading=9),
            "label": ParagraphStyle("o2s-label", parent=base, fontName=fonts["bold"],
                                    fontSize=8, leading=10),
            "h1": ParagraphStyle("o2s-h1", parent=base, fontName=fonts["bold"], fontSize=17,
                                 leading=21, spaceAfter=4),
            "sub": ParagraphStyle("o2s-sub", parent=base, fontSize=10.5, leading=13,
                                  spaceAfter=8),
            "h2": ParagraphStyle("o2s-h2", parent=base, fontName=fonts["bold"], fontSize=12,
                                 leading=15, spaceBefore=10, spaceAfter=4,
                                 textColor=colors.HexColor("#1f3a5f")),
            "h3": ParagraphStyle("o2s-h3", parent=base, fontName=fonts["bold"], fontSize=9.5,
                                 leading=12, spaceBefore=6, spaceAfter=2),
            "notice": ParagraphStyle("o2s-notice", parent=base, fontName=fonts["bold"],
                                     fontSize=9.5, leading=12, borderPadding=5,
                                     backColor=colors.HexColor("#fff3cd"), spaceBefore=4,
                                     spaceAfter=8),
            "mono": ParagraphStyle("o2s-mono", parent=base, fontName="Courier", fontSize=7.5,
                                   leading=9, wordWrap="CJK"),
            "wrap": ParagraphStyle("o2s-wrap", parent=base, fontSize=7.5, leading=9,
                                   wordWrap="CJK"),
        }

    # text helpers
    def p(self, text, style="base", limit=2000):
        from reportlab.platypus import Paragraph
        return Paragraph(esc(text, limit), self.styles[style])

    def add(self, text, style="base"):
        self.story.append(self.p(text, style))

    def heading(self, key_or_text, level="h2"):
        self.story.append(self.p(self.L.get(key_or_text, key_or_text), level))

    def kv_table(self, rows, label_width=150):
        """Two-column label/value table; values are strings or (text, style)."""
        from reportlab.platypus import Table, TableStyle
        data = []
        for label, value in rows:
            if value is None or value == "" or value == []:
                continue
            if isinstance(value, tuple):
                cell = self.p(value[0], value[1])
            else:
                cell = self.p(value)
            data.append([self.p(self.L.get(label, label), "label"), cell])
        if not data:
            return
        table = Table(data, colWidths=[label_width, 510 - label_width], hAlign="LEFT")
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, self.colors.HexColor("#d0d7de")),
            ("BACKGROUND", (0, 0), (0, -1), self.colors.HexColor("#f4f6f8")),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]))
        self.story.append(table)

    def grid(self, header, rows, widths):
        from reportlab.platypus import Table, TableStyle
        data = [[self.p(h, "label") for h in header]] + rows
        table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), self.colors.HexColor("#e8edf3")),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, self.colors.HexColor("#d0d7de")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]))
        self.story.append(table)

    def build(self, author: str) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate
        fonts = _fonts()
        footer = f"{self.title} \u00b7 {self.reference} \u00b7 {self.generated}"
        page_label = self.L.get("page", "Page")

        def on_page(canvas, doc):
            canvas.saveState()
            canvas.setFont(fonts["normal"], 7)
            canvas.setFillColor(self.colors.HexColor("#57606a"))
            canvas.drawString(15 * mm, 9 * mm, footer[:150])
            canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, f"{page_label} {doc.page}")
            canvas.restoreState()

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
            bottomMargin=17 * mm, title=f"{self.title} \u2014 {self.reference}",
            author=author, creator="o2s_esign", producer="o2s_esign (reportlab)",
            invariant=1, lang=self.lang,
        )
        doc.build(self.story, onFirstPage=on_page, onLaterPages=on_page)
        return buffer.getvalue()


def _state_label(labels: dict, state: str) -> str:
    return labels.get(f"state_{state}", state or labels["none"])


def _signer_by_ref(bundle: EvidenceBundle) -> dict:
    return {signer.ref: signer for signer in bundle.signers if signer.ref is not None}


def _step_label(step: HashStep, bundle: EvidenceBundle, labels: dict,
                only_signer: EvidenceSigner | None = None) -> str:
    signers = _signer_by_ref(bundle)
    signer = signers.get(step.signer_ref) if step.signer_ref is not None else None
    if only_signer is not None and signer is not None and signer is not only_signer:
        who = labels["other_signature"]
    elif step.label:
        who = step.label
    elif signer is not None:
        who = signer.name
    else:
        who = labels["seal"]
    when = display_date(step.date)
    return f"{labels['step_sha256']} {who}" + (f" ({when})" if when else "")


def _request_rows(request: EvidenceRequest, labels: dict, generated: str, *, full=True):
    rows = [
        ("reference", request.reference),
        ("name", request.name),
        ("company", request.company),
    ]
    if full:
        rows.append(("advisor", request.advisor))
    rows += [
        ("state", _state_label(labels, request.state)),
        ("date_created", display_date(request.date_created)),
        ("date_sent", display_date(request.date_sent)),
        ("date_deadline", display_date(request.date_deadline)),
        ("date_done", display_date(request.date_done)),
        ("level_requested", (request.pades_level_requested or "").upper().replace("_", "-")),
        ("level_achieved", (request.pades_level_achieved or "").upper().replace("_", "-")),
        ("tsa", request.tsa_url or labels["tsa_none"]),
        ("generated_at", generated),
    ]
    return rows


def _id_document(signer: EvidenceSigner, labels: dict) -> str:
    parts = [p for p in (signer.id_doc_type, signer.id_doc_number) if p]
    text = " ".join(str(p) for p in parts)
    if signer.id_doc_expiry:
        text += f" ({labels['id_expiry']} {display_date(signer.id_doc_expiry)})"
    return text.strip()


def _signer_rows(signer: EvidenceSigner, labels: dict):
    return [
        ("name", signer.name),
        ("role", signer.role),
        ("capacity", signer.capacity),
        ("represented_party", signer.represented_party),
        ("email", signer.email),
        ("mobile", signer.mobile),
        ("presence", signer.presence),
        ("id_document", _id_document(signer, labels)),
        ("id_sha256", (signer.id_doc_sha256, "mono") if signer.id_doc_sha256 else ""),
        ("authentication", signer.auth_method),
        ("otp_sent", ", ".join(display_date(d) for d in signer.otp_sent)),
        ("otp_verified", ", ".join(display_date(d) for d in signer.otp_verified)),
        ("ip_address", signer.ip_address),
        ("user_agent", (esc_limit(signer.user_agent, 400), "wrap") if signer.user_agent else ""),
        ("consent_sha256", (signer.consent_sha256, "mono") if signer.consent_sha256 else ""),
        ("signer_state", _state_label(labels, signer.state)),
        ("date_signed", display_date(signer.date_signed)),
        ("date_refused", display_date(signer.date_refused)),
        ("refusal_reason", signer.refusal_reason),
        ("certificate", f"certificates/{_cert_file_name(signer.certificate)}"
         if signer.certificate else ""),
    ]


def esc_limit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (escaping happens when it is rendered)."""
    text = str(text or "")
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _document_rows(doc: EvidenceDocument, index: int, bundle: EvidenceBundle, labels: dict,
                   hashes: dict, only_signer: EvidenceSigner | None = None):
    original_sha = hashes.get(("original", index)) or doc.original_sha256
    final_sha = hashes.get(("signed", index)) or doc.final_sha256
    rows = [
        ("doc_type", doc.doc_type),
        ("original_sha256", (original_sha or labels["none"], "mono")),
        ("prepared_sha256", (doc.prepared_sha256, "mono") if doc.prepared_sha256 else ""),
    ]
    for step in doc.steps:
        rows.append((_step_label(step, bundle, labels, only_signer), (step.sha256, "mono")))
    rows.append(("final_sha256", (final_sha, "mono") if final_sha else labels["not_signed"]))
    return rows


def _event_details(event: dict, limit: int = 260) -> str:
    payload = event.get("payload")
    if isinstance(payload, dict):
        parts = []
        for key in sorted(payload):
            value = payload[key]
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            parts.append(f"{key}: {value}")
        text = "; ".join(parts)
    elif payload in (None, ""):
        text = ""
    else:
        text = json.dumps(payload, ensure_ascii=False)
    return esc_limit(text, limit)


def render_evidence_pdf(bundle: EvidenceBundle, *, hashes: dict | None = None,
                        files: dict | None = None) -> bytes:
    """The unsealed evidence report (PDF bytes). ``hashes`` maps ("original"|"signed", index)
    to computed SHA-256s; ``files`` maps those keys to ZIP paths."""
    labels = _labels(bundle)
    hashes = hashes or {}
    files = files or {}
    request = bundle.request
    generated = display_date(_generated_at(bundle))
    report = _Report(labels, labels["title"], request.reference, generated,
                     request.lang or bundle.lang)
    signers = _signer_by_ref(bundle)

    report.add(labels["title"], "h1")
    report.add(f"{request.name} \u2014 {request.reference}" if request.name
               else request.reference, "sub")
    notice = labels.get(f"notice_{request.state}")
    if notice and request.state != "signed":
        report.add(notice, "notice")

    report.heading("request")
    report.kv_table(_request_rows(request, labels, generated))

    report.heading("documents")
    for index, doc in enumerate(bundle.documents, start=1):
        report.add(f"{index}. {doc.name}", "h3")
        rows = _document_rows(doc, index, bundle, labels, hashes)
        paths = [files.get(("original", index)), files.get(("signed", index))]
        rows.append(("files", ", ".join(p for p in paths if p)))
        report.kv_table(rows)

    report.heading("signers")
    for index, signer in enumerate(bundle.signers, start=1):
        report.add(f"{index}. {signer.name}", "h3")
        report.kv_table(_signer_rows(signer, labels))

    report.heading("timeline")
    rows = []
    for event in bundle.events:
        signer = signers.get(event.get("signer"))
        who = signer.name if signer else ("" if event.get("signer") is None
                                          else str(event.get("signer")))
        details = _event_details(event)
        digest = str(event.get("hash") or "")[:16]
        rows.append([
            report.p(event.get("sequence"), "small"),
            report.p(display_date(event.get("date")), "small"),
            report.p(labels.get(f"event_{event.get('event_type')}", event.get("event_type")),
                     "small"),
            report.p(who, "small", 120),
            report.p(event.get("ip_address") or "", "wrap", 60),
            report.p(details + (f" [{digest}\u2026]" if digest else ""), "wrap", 400),
        ])
    report.grid([labels["col_seq"], labels["col_date"], labels["col_event"],
                 labels["col_signer"], labels["col_ip"], labels["col_details"]],
                rows, [24, 78, 78, 84, 66, 180])

    report.heading("chain")
    report.kv_table([
        ("chain_head", (bundle.events[-1].get("hash") if bundle.events else chain.GENESIS_HASH,
                        "mono")),
        ("event_count", str(len(bundle.events))),
    ])
    report.add(labels["chain_rule"], "small")

    report.heading("consent_texts")
    consents = _consents(bundle)
    if consents:
        report.kv_table([(c.label or f"#{i}", (c.sha256, "mono"))
                         for i, c in enumerate(consents, start=1)])
    else:
        report.add(labels["consent_none"])

    report.heading("certificates")
    cert_rows = []
    for name, value in sorted(bundle.certificates.items()):
        for subject, fp in _cert_summary(_pem_bytes(value)):
            cert_rows.append((f"certificates/{_cert_file_name(name)}",
                              (f"{subject}\n{labels['fingerprint']}: {fp}", "wrap")))
    report.kv_table(cert_rows, label_width=170)

    report.heading("verification")
    report.add(labels["verification_text"])
    return report.build(author=request.company or "o2s_esign")


def render_attestation_pdf(bundle: EvidenceBundle, signer_index: int) -> bytes:
    """The unsealed attestation of one signer (0-based index into ``bundle.signers``): that
    signer's data and events, the documents and their hashes, and only the number of other
    signers (none of their personal data)."""
    if not isinstance(signer_index, int) or not 0 <= signer_index < len(bundle.signers):
        raise EvidenceError("bad_signer_index", {"index": signer_index})
    labels = _labels(bundle)
    signer = bundle.signers[signer_index]
    request = bundle.request
    generated = display_date(_generated_at(bundle))
    report = _Report(labels, labels["attestation_title"], request.reference, generated,
                     request.lang or bundle.lang)

    report.add(labels["attestation_title"], "h1")
    report.add(f"{request.name} \u2014 {request.reference}" if request.name
               else request.reference, "sub")
    report.add(labels["attestation_intro"])
    notice = labels.get(f"notice_{request.state}")
    if notice and request.state != "signed":
        report.add(notice, "notice")

    report.heading("request")
    report.kv_table(_request_rows(request, labels, generated, full=False))

    report.heading("signer")
    report.kv_table(_signer_rows(signer, labels))

    report.heading("documents")
    for index, doc in enumerate(bundle.documents, start=1):
        report.add(f"{index}. {doc.name}", "h3")
        report.kv_table(_document_rows(doc, index, bundle, labels, {}, only_signer=signer))

    others = [s for s in bundle.signers if s is not signer]
    report.heading("other_signers")
    report.add(labels["other_signers_text"].format(
        count=len(others), signed=sum(1 for s in others if s.state == "signed")))

    report.heading("signer_events")
    rows = []
    for event in bundle.events:
        if signer.ref is None or event.get("signer") != signer.ref:
            continue
        rows.append([
            report.p(event.get("sequence"), "small"),
            report.p(display_date(event.get("date")), "small"),
            report.p(labels.get(f"event_{event.get('event_type')}", event.get("event_type")),
                     "small"),
            report.p(event.get("ip_address") or "", "wrap", 60),
            report.p(str(event.get("hash") or ""), "mono"),
        ])
    report.grid([labels["col_seq"], labels["col_date"], labels["col_event"], labels["col_ip"],
                 "SHA-256"], rows, [24, 90, 100, 80, 216])

    report.heading("chain")
    report.kv_table([
        ("chain_head", (bundle.events[-1].get("hash") if bundle.events else chain.GENESIS_HASH,
                        "mono")),
        ("event_count", str(len(bundle.events))),
    ])
    report.add(labels["chain_rule"], "small")
    return report.build(author=request.company or "o2s_esign")


def build_signer_attestation(bundle: EvidenceBundle, signer_index: int, *,
                             sealer: Sealer) -> bytes:
    """Sealed per-signer attestation PDF (see :func:`render_attestation_pdf`)."""
    return sealer.seal_pdf(render_attestation_pdf(bundle, signer_index))


# --- the ZIP ----------------------------------------------------------------------------------

def _generated_at(bundle: EvidenceBundle) -> datetime:
    if bundle.generated_at is None:
        bundle.generated_at = datetime.now(UTC).replace(tzinfo=None)
    return _utc(bundle.generated_at)


def _consents(bundle: EvidenceBundle) -> list[ConsentText]:
    result = []
    for item in bundle.consent_texts:
        result.append(item if isinstance(item, ConsentText) else ConsentText(str(item)))
    return result


def _consent_txt(bundle: EvidenceBundle) -> bytes:
    lines = [
        "Consent texts shown to signers / Textes de consentement présentés aux signataires",
        ("SHA-256 = hash of the UTF-8 text between the BEGIN and END lines (without the line "
         "break that follows BEGIN and the one that precedes END)."),
        "",
    ]
    consents = _consents(bundle)
    if not consents:
        lines.append("No consent text was recorded. / Aucun texte de consentement enregistré.")
    for index, consent in enumerate(consents, start=1):
        lines += [
            f"=== {index}. {consent.label or 'Consent text'} ===",
            f"SHA-256: {consent.sha256}",
            "----- BEGIN TEXT -----",
            consent.text,
            "----- END TEXT -----",
            "",
        ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _audit_json(bundle: EvidenceBundle) -> bytes:
    document = {
        "format": AUDIT_FORMAT,
        "request": bundle.request.reference,
        "hash_algorithm": "sha256",
        "genesis_hash": chain.GENESIS_HASH,
        "hashed_fields": list(chain.HASHED_FIELDS),
        "rule": "hash = sha256(previous_hash as ASCII + canonical JSON of the hashed fields: "
                "sorted keys, separators ',' ':', UTF-8, no ASCII escaping)",
        "events": bundle.events,
    }
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _readme(bundle: EvidenceBundle, company_ca: bytes | None) -> bytes:
    request = bundle.request
    fingerprints = ""
    if company_ca:
        fingerprints = "\n".join(f"  {subject}\n  SHA-256 {fp}"
                                 for subject, fp in _cert_summary(company_ca))
    text = f"""EVIDENCE FILE / DOSSIER DE PREUVE
Request / Demande : {request.reference}{f" - {request.name}" if request.name else ""}
Generated / Généré le : {iso_utc(_generated_at(bundle))}

=== English ===

This ZIP is the evidence file of an electronic signature request.

  original/          the PDF documents as sent to the signers
  signed/            the signed PDF documents (PAdES signatures; absent or partial when the
                     request was not completed)
  evidence.pdf       readable report: request, documents and hashes, signers, audit trail
  audit_trail.json   every event of the request, hash-chained
  consent.txt        the consent texts shown, with their SHA-256
  certificates/      the certificates involved (company CA, seal, signers, time-stamping)
  timestamps/        RFC 3161 time-stamp tokens
  manifest.json      the SHA-256 of every file, the audit trail's last hash, the generation time
  manifest.json.p7s  the company's electronic seal over manifest.json
  verify.py          a verification script

To verify, unpack the ZIP and run, in the unpacked folder:

    python3 verify.py

or, without unpacking:

    python3 verify.py EVIDENCE.zip

It needs only Python 3. With pyHanko installed (pip install pyhanko) it also validates every
signature and the seal of manifest.json. It prints PASS / FAIL / SKIP per check and exits
with status 0 only if no check failed. Check that the fingerprint of
certificates/company-ca.pem is the one the company published:
{fingerprints or "  (no company CA certificate in this file)"}

=== Français ===

Ce ZIP est le dossier de preuve d'une demande de signature électronique.

  original/          les documents PDF tels qu'envoyés aux signataires
  signed/            les documents PDF signés (signatures PAdES ; absents ou partiels si la
                     demande n'a pas abouti)
  evidence.pdf       rapport lisible : demande, documents et empreintes, signataires, journal
  audit_trail.json   tous les événements de la demande, chaînés par empreintes
  consent.txt        les textes de consentement présentés, avec leur SHA-256
  certificates/      les certificats en jeu (AC de la société, cachet, signataires, horodatage)
  timestamps/        jetons d'horodatage RFC 3161
  manifest.json      le SHA-256 de chaque fichier, la dernière empreinte du journal, la date
  manifest.json.p7s  le cachet électronique de la société sur manifest.json
  verify.py          un script de vérification

Pour vérifier, décompressez le ZIP et lancez, dans le dossier obtenu :

    python3 verify.py

ou, sans décompresser :

    python3 verify.py DOSSIER.zip

Seul Python 3 est nécessaire. Si pyHanko est installé (pip install pyhanko), chaque signature
et le cachet de manifest.json sont aussi validés. Le script affiche PASS / FAIL / SKIP pour
chaque contrôle et ne se termine avec le code 0 que si aucun contrôle n'a échoué. Vérifiez que
l'empreinte de certificates/company-ca.pem est celle publiée par la société (voir ci-dessus).
"""
    return text.encode("utf-8")


def _check_sha(expected: str | None, actual: str, document: str, which: str):
    if expected and expected.lower() != actual:
        raise EvidenceError("document_hash_mismatch", {
            "document": document, "which": which, "expected": expected, "actual": actual})


def build_evidence_zip(out: BinaryIO, bundle: EvidenceBundle, *, sealer: Sealer
                       ) -> EvidenceResult:
    """Write the evidence ZIP of ``bundle`` to ``out`` (append-only) and return its manifest,
    SHA-256 and size.

    Raises :class:`~.errors.EvidenceError` when the audit trail chain is broken
    (``chain_broken``), a stored file does not match its recorded hash
    (``document_hash_mismatch``) or a time-stamp was expected and not obtained
    (``seal_failed``); sealer errors (e.g. ``TsaError``) propagate. On error ``out`` holds a
    partial ZIP: write to a temporary file and keep it only on success.
    """
    report = chain.verify_chain(bundle.events)
    if not report.ok:
        raise EvidenceError("chain_broken", {"first_broken": report.first_broken,
                                             "reason": report.reason})
    generated_at = _generated_at(bundle)
    zb = _ZipBuilder(out, generated_at)
    try:
        return _write_evidence(zb, bundle, sealer, report, generated_at)
    except BaseException:
        zb.abort()
        raise


def _write_evidence(zb: _ZipBuilder, bundle: EvidenceBundle, sealer: Sealer,
                    report: chain.ChainReport, generated_at: datetime) -> EvidenceResult:
    hashes: dict = {}
    paths: dict = {}
    documents_meta = []

    for index, doc in enumerate(bundle.documents, start=1):
        base = f"{index}-{safe_name(doc.name)}.pdf"
        original_path = f"original/{base}"
        original_sha, original_size, _ = zb.add_source(original_path, doc.original,
                                                       document=doc.name)
        _check_sha(doc.original_sha256, original_sha, doc.name, "original")
        hashes[("original", index)] = original_sha
        paths[("original", index)] = original_path
        meta = {"name": doc.name, "original": original_path, "original_sha256": original_sha,
                "signed": None, "final_sha256": None, "original_is_prefix": False}
        if doc.signed is not None:
            signed_path = f"signed/{base}"
            signed_sha, _, prefix_sha = zb.add_source(signed_path, doc.signed,
                                                      document=doc.name,
                                                      prefix_size=original_size)
            _check_sha(doc.final_sha256, signed_sha, doc.name, "signed")
            hashes[("signed", index)] = signed_sha
            paths[("signed", index)] = signed_path
            meta.update(signed=signed_path, final_sha256=signed_sha,
                        original_is_prefix=prefix_sha == original_sha)
        documents_meta.append(meta)

    zb.add_bytes("audit_trail.json", _audit_json(bundle))
    zb.add_bytes("consent.txt", _consent_txt(bundle))

    company_ca = None
    trust_anchors = []
    for name, value in sorted(bundle.certificates.items()):
        file_name = _cert_file_name(name)
        pem = _pem_bytes(value)
        zb.add_bytes(f"certificates/{file_name}", pem)
        if file_name == COMPANY_CA:
            company_ca = pem
            trust_anchors.append(f"certificates/{file_name}")
    for name, value in sorted(bundle.timestamps.items()):
        zb.add_bytes(f"timestamps/{_token_file_name(name)}", bytes(value))

    evidence_pdf = sealer.seal_pdf(render_evidence_pdf(bundle, hashes=hashes, files=paths))
    zb.add_bytes("evidence.pdf", evidence_pdf)
    zb.add_bytes("README.txt", _readme(bundle, company_ca))
    zb.add_bytes("verify.py", VERIFY_SOURCE.read_bytes())

    timestamper = getattr(sealer, "timestamp", None)
    want_timestamp = bool(bundle.request.tsa_url) and callable(timestamper)
    request_meta = {key: iso_utc(value) if isinstance(value, (datetime, date)) else value
                    for key, value in asdict(bundle.request).items()}
    manifest = {
        "format": FORMAT,
        "hash_algorithm": "sha256",
        "generated_at": iso_utc(generated_at),
        "request": request_meta,
        "chain_head": report.head,
        "event_count": report.count,
        "signer_count": len(bundle.signers),
        "documents": documents_meta,
        "trust_anchors": trust_anchors,
        "manifest_timestamp": want_timestamp,
        "files": dict(sorted(zb.files.items())),
    }
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
                      + "\n").encode("utf-8")
    zb.add_bytes(MANIFEST, manifest_bytes, listed=False)
    zb.add_bytes(MANIFEST_SEAL, sealer.seal_detached(manifest_bytes), listed=False)
    if want_timestamp:
        token = timestamper(manifest_bytes)
        if not token:
            raise EvidenceError("seal_failed", {"reason": "no time-stamp for manifest.json"})
        zb.add_bytes(MANIFEST_TSR, token, listed=False)
    digest, size = zb.close()
    return EvidenceResult(manifest=manifest, sha256=digest, size=size)


# --- adapter to lib.signing -------------------------------------------------------------------

class PadesSealer:
    """:class:`Sealer` backed by ``lib.signing.PadesSigner`` (duck-typed, no import here)."""

    def __init__(self, signer, *, identity, level: str, tsa=None, trust_roots=(),
                 extra_crls=()):
        self.signer = signer
        self.identity = identity
        self.level = level
        self.tsa = tsa
        self.trust_roots = list(trust_roots)
        self.extra_crls = list(extra_crls)

    def seal_pdf(self, data: bytes) -> bytes:
        """Company seal on a report PDF, at the configured level."""
        return self.signer.seal(data, identity=self.identity, level=self.level, tsa=self.tsa,
                                trust_roots=self.trust_roots, extra_crls=self.extra_crls).data

    def seal_detached(self, data: bytes) -> bytes:
        """Detached CMS over ``data`` (time-stamped when a TSA is configured)."""
        return self.signer.sign_detached(data, identity=self.identity, tsa=self.tsa)

    def timestamp(self, data: bytes) -> bytes | None:
        """RFC 3161 token over ``data``; None without a TSA."""
        if self.tsa is None:
            return None
        return self.signer.timestamp(data, self.tsa)


__all__ = [
    "DEFAULT_LABELS", "FORMAT", "ConsentText", "EvidenceBundle", "EvidenceDocument",
    "EvidenceRequest", "EvidenceResult", "EvidenceSigner", "HashStep", "PadesSealer", "Sealer",
    "build_evidence_zip", "build_signer_attestation", "certificate_files", "consent_sha256",
    "render_attestation_pdf",
    "render_evidence_pdf", "safe_name",
]
