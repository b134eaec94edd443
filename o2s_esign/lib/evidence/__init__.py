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

The package, by concern (every public name is re-exported here: ``evidence.X`` works)::

    inputs.py        the dataclasses the caller fills in (EvidenceBundle and its parts)
    labels.py        the report's and attestation's labels (DEFAULT_LABELS)
    formats.py       file names, dates, the consent text hash
    certificates.py  certificate files and their summaries
    zipwriter.py     the ZIP writer (stored entries, append-only)
    report.py        the report and attestation PDFs
    archive.py       the evidence ZIP (build_evidence_zip): layout, manifest, seal
    seal.py          the Sealer protocol and PadesSealer
"""

from .archive import (
    AUDIT_FORMAT,
    FORMAT,
    MANIFEST,
    MANIFEST_SEAL,
    MANIFEST_TSR,
    VERIFY_SOURCE,
    build_evidence_zip,
)
from .certificates import COMPANY_CA, certificate_files
from .formats import consent_sha256, display_date, iso_utc, safe_name
from .inputs import (
    ConsentText,
    EvidenceBundle,
    EvidenceDocument,
    EvidenceRequest,
    EvidenceResult,
    EvidenceSigner,
    HashStep,
    Source,
)
from .labels import DEFAULT_LABELS
from .report import (
    build_signer_attestation,
    esc,
    esc_limit,
    render_attestation_pdf,
    render_evidence_pdf,
    report_keywords,
)
from .seal import PadesSealer, Sealer
from .zipwriter import CHUNK

__all__ = [
    "AUDIT_FORMAT", "CHUNK", "COMPANY_CA", "DEFAULT_LABELS", "FORMAT", "MANIFEST", "MANIFEST_SEAL",
    "MANIFEST_TSR", "VERIFY_SOURCE", "ConsentText", "EvidenceBundle", "EvidenceDocument",
    "EvidenceRequest", "EvidenceResult", "EvidenceSigner", "HashStep", "PadesSealer", "Sealer",
    "Source", "build_evidence_zip", "build_signer_attestation", "certificate_files",
    "consent_sha256", "display_date", "esc", "esc_limit", "iso_utc", "render_attestation_pdf",
    "render_evidence_pdf", "report_keywords", "safe_name",
]
