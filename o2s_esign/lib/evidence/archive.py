"""The evidence ZIP itself: its layout, the audit trail and consent files, the README, the
manifest and its seal and timestamp (see the package docstring)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from .. import chain
from .. import validation_report as lib_validation
from ..errors import EvidenceError
from .certificates import COMPANY_CA, _cert_file_name, _cert_summary, _pem_bytes, _token_file_name
from .formats import iso_utc, safe_name
from .inputs import EvidenceBundle, EvidenceResult, _consents, _generated_at
from .report import render_evidence_pdf
from .seal import Sealer
from .zipwriter import _ZipBuilder

FORMAT = "o2s-esign-evidence/1"
AUDIT_FORMAT = "o2s-esign-audit/1"
MANIFEST = "manifest.json"
MANIFEST_SEAL = "manifest.json.p7s"
MANIFEST_TSR = "timestamps/manifest.json.tsr"
VERIFY_SOURCE = Path(__file__).parents[1] / "verify.py"  # lib/verify.py, shipped as is


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
    page = bundle.verification_url
    page_ref = f" ({page})" if page else ""
    page_check_en = ("The verification page also checks an uploaded evidence ZIP.\n"
                     if page else "")
    page_check_fr = ("La page de vérification contrôle aussi un dossier de preuve déposé. "
                     if page else "")
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

To verify, use a verifier this ZIP cannot change: the verify.py offered for download
on the company's verification page{page_ref} (the page shows its SHA-256), or the one of the
o2s_esign repository. The verify.py inside this ZIP is a convenience copy: a forger could
replace it. Then run, pinning the company CA to the fingerprint the company publishes:

    python3 verify.py --strict --ca-fingerprint FINGERPRINT EVIDENCE.zip

(or --trust company-ca.pem with a copy of the company CA obtained from the company). It needs
only Python 3; with pyHanko installed (pip install pyhanko) it also validates every signature
and the seal of manifest.json. Signatures and seals are trusted only when they chain to the
company CA; the time-stamping authority roots of certificates/ serve for time-stamps only.
It prints PASS / FAIL / SKIP per check and exits with status 0 only if no check failed.
{page_check_en}The fingerprint of certificates/company-ca.pem:
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

Pour vérifier, utilisez un vérificateur que ce ZIP ne peut pas modifier : le verify.py
proposé au téléchargement sur la page de vérification de la société{page_ref} (la page affiche
son SHA-256), ou celui du dépôt o2s_esign. Le verify.py contenu dans ce ZIP n'est qu'une copie
de commodité : un faussaire pourrait le remplacer. Lancez-le en épinglant l'AC de la société
sur l'empreinte qu'elle publie :

    python3 verify.py --strict --ca-fingerprint EMPREINTE DOSSIER.zip

(ou --trust company-ca.pem avec une copie de l'AC obtenue auprès de la société). Seul Python 3
est nécessaire ; si pyHanko est installé (pip install pyhanko), chaque signature et le cachet
de manifest.json sont aussi validés. Signatures et cachets ne sont reconnus que s'ils remontent
à l'AC de la société ; les racines d'horodatage de certificates/ ne servent qu'aux jetons
d'horodatage. Le script affiche PASS / FAIL / SKIP pour chaque contrôle et ne se termine avec
le code 0 que si aucun contrôle n'a échoué. {page_check_fr}L'empreinte de
certificates/company-ca.pem est indiquée ci-dessus.
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


def _fields_meta(fields) -> list[dict]:
    """The document's fields as manifest.json states them (ISO times, plain values)."""
    result = []
    for item in fields:
        filled = item.get("filled_at")
        value = item.get("value")
        result.append({
            "name": str(item.get("name") or ""),
            "type": str(item.get("type") or ""),
            "page": int(item["page"]) if item.get("page") is not None else None,
            "rect": [round(float(v), 2) for v in item.get("rect") or ()],
            "signer": item.get("signer") if isinstance(item.get("signer"), (int, str))
            else (None if item.get("signer") is None else str(item.get("signer"))),
            "value": value if isinstance(value, (bool, int, float)) or value is None
            else str(value),
            "filled_at": iso_utc(filled) if isinstance(filled, (datetime, date)) else filled,
        })
    return result


def _source_suffix(name: str) -> str:
    """The uploaded file's extension (``.jpg``, ``.docx``...), ASCII, or ``.bin``."""
    match = re.search(r"(\.[A-Za-z0-9]{1,5})\Z", str(name or "").strip())
    return match.group(1).lower() if match else ".bin"


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
        if doc.source is not None:
            suffix = _source_suffix(doc.source_name)
            source_path = f"source/{index}-{safe_name(doc.source_name)}{suffix}"
            source_sha, _, _ = zb.add_source(source_path, doc.source, document=doc.name)
            _check_sha(doc.source_sha256, source_sha, doc.name, "source")
            hashes[("source", index)] = source_sha
            paths[("source", index)] = source_path
            meta["source"] = {
                "file": source_path, "name": doc.source_name, "sha256": source_sha,
                "mimetype": doc.source_mimetype, "kind": doc.source_kind,
                "removed": list(doc.removed), "repaired": bool(doc.repaired),
                "decrypted": bool(doc.decrypted),
            }
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
        if doc.fields:
            meta["fields"] = _fields_meta(doc.fields)
        documents_meta.append(meta)

    for index, doc in enumerate(bundle.documents, start=1):
        results = bundle.validation.get(index)
        if results is not None and ("signed", index) in hashes:
            path = f"validation/{index}-{safe_name(doc.name)}.json"
            zb.add_bytes(path, lib_validation.report_json(
                paths[("signed", index)], hashes[("signed", index)], results,
                bundle.validated_at or generated_at))
            paths[("validation", index)] = path

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
