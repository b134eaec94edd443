"""What the caller gives :func:`~.archive.build_evidence_zip`: the request, its documents,
signers, events, certificates and consent texts (plain dataclasses, no ORM)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import BinaryIO

from .formats import _utc, consent_sha256

Source = str | os.PathLike | Callable[[], BinaryIO]


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
    # the uploaded file, when the PDF signed was made from it (converted, neutralised...)
    source: Source | None = None
    source_name: str = ""
    source_sha256: str | None = None
    source_mimetype: str = ""
    source_kind: str = ""          # "pdf" | "image" | "office"
    removed: list[str] = field(default_factory=list)   # lib.convert.REMOVED_LABELS codes
    repaired: bool = False
    decrypted: bool = False
    conversion_note: str = ""      # what was done, in the evidence's language
    #: fields placed on the document: dicts with "name", "type" (signature, initials, date,
    #: text, checkbox), "page" (1-based), "rect" [x1, y1, x2, y2] (points, the page's user
    #: space), "signer" (the signer's ``ref``), "value" (text, bool or None) and "filled_at"
    #: (datetime or None); listed in evidence.pdf and in manifest.json ("fields")
    fields: list[dict] = field(default_factory=list)


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
    protection: str = ""           # translated legal protection, e.g. "Guardianship (tutelle)"
    protection_document: str = ""  # the supporting document (judgment, mandate): reference, name
    protection_sha256: str = ""    # SHA-256 of the supporting document's file
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
    signature_image: bytes | None = None  # PNG of the signature drawn or typed (shown)


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
    already translated strings; ``generated_at`` (UTC) defaults to now; ``verification_url``,
    when given, is named in README.txt as where to get the verifier and check the file."""

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
    verification_url: str = ""    # the company's public verification page (verifier download)
    #: validation report per document (1-based index in ``documents``): a list of
    #: ``lib.validation_report.SignatureValidation``; written to validation/ and evidence.pdf
    validation: dict = field(default_factory=dict)
    validated_at: datetime | None = None


@dataclass(frozen=True)
class EvidenceResult:
    """What :func:`build_evidence_zip` wrote: the manifest and the ZIP's SHA-256 and size."""

    manifest: dict
    sha256: str
    size: int


def _generated_at(bundle: EvidenceBundle) -> datetime:
    if bundle.generated_at is None:
        bundle.generated_at = datetime.now(UTC).replace(tzinfo=None)
    return _utc(bundle.generated_at)


def _consents(bundle: EvidenceBundle) -> list[ConsentText]:
    result = []
    for item in bundle.consent_texts:
        result.append(item if isinstance(item, ConsentText) else ConsentText(str(item)))
    return result
