"""ETSI EN 319 102-1 style validation report of the signatures of a PDF (pyHanko's AdES
validation, ``pyhanko.sign.validation.ades``).

For each embedded signature, the process of EN 319 102-1 that fits what the signature carries:

* a signature followed by a document timestamp (B-LTA): validation of signatures providing
  long term availability and integrity of validation material (§ 5.6.3, ``ades_lta_validation``);
* a signature with a signature timestamp (B-T, B-LT): validation of signatures with time
  (§ 5.5, ``ades_with_time_validation``);
* a signature without any timestamp (B-B): basic validation (§ 5.3, ``ades_basic_validation``),
  whose time is the validation time: nothing but the signer vouches for the signing time;
* a document timestamp: validation of a time-stamp token (§ 5.4).

Each gives a main indication, ``TOTAL-PASSED``, ``TOTAL-FAILED`` or ``INDETERMINATE``, with
the sub-indication of the standard (e.g. ``HASH_FAILURE``, ``NO_CERTIFICATE_CHAIN_FOUND``).
PAdES adds what the CMS signature cannot say: whether the signature still covers the document.
A signature after which the document changed in a way its lock (DocMDP/FieldMDP) or pyHanko's
modification analysis does not allow (a page, an annotation, a filled field after the final
seal...) is ``TOTAL-FAILED`` with the sub-indication ``HASH_FAILURE`` (the signed data is not
the document's content any more) and ``covers_document`` false.

Trust: signatures and seals chain to ``trust_roots`` only; time-stamp tokens to ``tsa_roots``
(and ``trust_roots``). No network: revocation data come from the document (DSS) and ``crls``.
pyHanko logs a WARNING for each problem met; those records of the validating thread are kept
out of the logs while it runs (their text goes to the report's ``message``).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from asn1crypto import crl as asn1_crl

from .errors import EvidenceError

__all__ = ["FORMAT", "SignatureValidation", "report_json", "validate_pdf_signatures"]

FORMAT = "o2s-esign-validation/1"
PASSED, FAILED, INDETERMINATE = "TOTAL-PASSED", "TOTAL-FAILED", "INDETERMINATE"
PROCESSES = {
    "basic": "ETSI EN 319 102-1 5.3 (basic signature)",
    "with_time": "ETSI EN 319 102-1 5.5 (signature with time)",
    "lta": "ETSI EN 319 102-1 5.6.3 (long term availability and integrity)",
    "timestamp": "ETSI EN 319 102-1 5.4 (time-stamp token)",
}
#: the clause of ETSI EN 319 102-1 of each process, as the reports show it
SECTIONS = {"basic": "5.3", "with_time": "5.5", "lta": "5.6.3", "timestamp": "5.4"}
MAX_MESSAGE = 300

_logger = logging.getLogger(__name__)
_state = threading.local()


@dataclass
class SignatureValidation:
    """The validation report of one embedded signature or document timestamp: names and dates
    only (no e-mail address or other personal data of the certificate)."""

    field_name: str
    kind: str                      # "signature" | "doc_timestamp"
    signer_name: str               # the certificate's common name
    process: str                   # a key of PROCESSES
    indication: str                # TOTAL-PASSED | TOTAL-FAILED | INDETERMINATE
    sub_indication: str | None     # the standard's sub-indication (None when passed)
    signing_time: str | None       # claimed by the signer (ISO 8601 UTC)
    timestamp_time: str | None     # signature timestamp, or the document timestamp's time
    best_signature_time: str | None
    covers_document: bool | None   # None for document timestamps
    coverage: str | None
    modification_level: str | None
    docmdp_ok: bool | None
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


# --- pyHanko's log records ---------------------------------------------------------------------

class _Contain(logging.Filter):
    """Drops the records of the thread running a validation (their text goes to its list)."""

    def filter(self, record):
        messages = getattr(_state, "messages", None)
        if messages is None:
            return True
        if record.levelno >= logging.WARNING and len(messages) < 5:
            try:
                text = record.getMessage()
            except Exception:  # a broken format string must not break validation
                text = str(record.msg)
            text = (text.strip().splitlines() or [""])[0][:MAX_MESSAGE]
            if text and text not in messages:
                messages.append(text)
        return False


_FILTER = _Contain()
_filter_lock = threading.Lock()


def _install_filter():
    """Attach the filter to every ``pyhanko*`` logger (a logger's filters only see the records
    created on it, not those of its children); done on every call, for loggers created since."""
    with _filter_lock:
        for name, log in list(logging.Logger.manager.loggerDict.items()):
            if name.startswith("pyhanko") and isinstance(log, logging.Logger) \
                    and _FILTER not in log.filters:
                log.addFilter(_FILTER)


@contextmanager
def _contained(messages: list):
    """pyHanko's records of this thread, inside the block, go to ``messages`` only."""
    _install_filter()
    previous, _state.messages = getattr(_state, "messages", None), messages
    try:
        yield messages
    finally:
        _state.messages = previous
        _install_filter()


# --- validation --------------------------------------------------------------------------------

def _iso(moment) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec(trust_roots, tsa_roots, crls, diff_policy=None):
    from pyhanko.sign.validation import KeyUsageConstraints
    from pyhanko.sign.validation import policy_decl as pd
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )
    from pyhanko_certvalidator.registry import SimpleTrustManager
    from pyhanko_certvalidator.revinfo.archival import CRLContainer

    revocation = CertRevTrustPolicy(RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
        intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT))
    signers = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=list(trust_roots)),
        revinfo_policy=revocation)
    timestamps = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[*tsa_roots, *trust_roots]),
        revinfo_policy=revocation)
    known_crls = []
    for item in crls or ():
        if isinstance(item, bytes):
            item = asn1_crl.CertificateList.load(item)
        known_crls.append(CRLContainer(item))
    spec = pd.SignatureValidationSpec(
        cert_validation_policy=signers,
        ts_cert_validation_policy=timestamps,
        revinfo_gathering_policy=pd.RevocationInfoGatheringSpec(
            online_fetching_rule=pd.RevinfoOnlineFetchingRule.LOCAL_ONLY,
            certificate_fetching_rule=pd.CertificateFetchingRule.NEVER_FETCH),
        local_knowledge=pd.LocalKnowledge(known_crls=known_crls),
        key_usage_settings=KeyUsageConstraints(
            key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False),
    )
    kwargs = {} if diff_policy is None else {"diff_policy": diff_policy}
    return pd.PdfSignatureValidationSpec(spec, **kwargs)


def _has_signature_timestamp(embedded) -> bool:
    try:
        attrs = embedded.signer_info["unsigned_attrs"]
        return any(attr["type"].native == "signature_time_stamp_token" for attr in attrs or [])
    except (KeyError, ValueError, TypeError):
        return False


def _common_name(embedded) -> str:
    try:
        cert = embedded.signer_cert
    except Exception:  # no certificate in the CMS
        return ""
    if cert is None:
        return ""
    try:
        return cert.subject.native.get("common_name") or cert.subject.human_friendly
    except (ValueError, TypeError, AttributeError):
        return ""


def _indication(subindic) -> tuple[str, str | None]:
    status = subindic.status.name
    if status == "PASSED":
        return PASSED, None
    return (FAILED if status == "FAILED" else INDETERMINATE), subindic.standard_name


async def _validate_one(embedded, spec, later_doc_timestamp: bool) -> SignatureValidation:
    from pyhanko.sign.validation import ades

    field_name = embedded.field_name or ""
    name = _common_name(embedded)
    if embedded.sig_object_type == "/DocTimeStamp":
        embedded.compute_integrity_info()
        result = await ades.ades_timestamp_validation(
            embedded.signed_data, spec.signature_validation_spec,
            expected_tst_imprint=lambda algo: embedded.compute_digest(algo))
        indication, sub = _indication(result.ades_subindic)
        status = result.api_status
        return SignatureValidation(
            field_name=field_name, kind="doc_timestamp", signer_name=name, process="timestamp",
            indication=indication, sub_indication=sub, signing_time=None,
            timestamp_time=_iso(getattr(status, "timestamp", None)),
            best_signature_time=_iso(getattr(status, "timestamp", None)),
            covers_document=None, coverage=None, modification_level=None, docmdp_ok=None,
            message=result.failure_msg or "")
    timestamped = _has_signature_timestamp(embedded)
    embedded.compute_integrity_info(diff_policy=spec.diff_policy)
    integrity = embedded.summarise_integrity_info()
    if later_doc_timestamp:
        process = "lta"
        result = await ades.ades_lta_validation(embedded, spec)
    elif timestamped:
        process = "with_time"
        result = await ades.ades_with_time_validation(
            embedded.signed_data, spec.signature_validation_spec,
            raw_digest=embedded.compute_digest(), extra_status_kwargs=integrity,
            status_cls=ades.PdfSignatureStatus)
    else:
        process = "basic"
        result = await ades.ades_basic_validation(
            embedded.signed_data, spec.signature_validation_spec,
            raw_digest=embedded.compute_digest())
    indication, sub = _indication(result.ades_subindic)
    status = result.api_status
    coverage = integrity.get("coverage")
    coverage_name = coverage.name if coverage is not None else None
    docmdp_ok = integrity.get("docmdp_ok")
    diff = integrity.get("diff_result")
    level = getattr(diff, "modification_level", None)
    if level is not None:
        level_name = level.name
    elif diff is not None:  # a suspicious modification
        level_name = "OTHER"
    else:
        level_name = "NONE" if coverage_name == "ENTIRE_FILE" else None
    covers = bool(coverage_name in ("ENTIRE_FILE", "ENTIRE_REVISION")
                  and level_name not in (None, "OTHER") and docmdp_ok is not False)
    message = (result.failure_msg or "") if indication != PASSED else ""
    if not covers and indication != FAILED:
        # the signed bytes are intact, but the document is no longer what was signed
        indication, sub = FAILED, "HASH_FAILURE"
        message = "the document was changed after this signature in a way it does not allow " \
            f"({coverage_name or 'UNCLEAR'}, {level_name or 'UNKNOWN'})"
    ts_validity = getattr(status, "timestamp_validity", None)
    best = getattr(result, "best_signature_time", None)
    return SignatureValidation(
        field_name=field_name, kind="signature", signer_name=name, process=process,
        indication=indication, sub_indication=sub,
        signing_time=_iso(getattr(embedded, "self_reported_timestamp", None)),
        timestamp_time=_iso(ts_validity.timestamp) if ts_validity is not None else None,
        best_signature_time=_iso(best) if process != "basic" else None,
        covers_document=covers, coverage=coverage_name, modification_level=level_name,
        docmdp_ok=docmdp_ok,
        message=message[:MAX_MESSAGE])


async def _validate_all(data: bytes, spec) -> list[SignatureValidation]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    signatures = list(reader.embedded_signatures)
    doc_ts_revisions = [e.signed_revision for e in signatures
                        if e.sig_object_type == "/DocTimeStamp"]
    results = []
    for embedded in signatures:
        later = any(rev > embedded.signed_revision for rev in doc_ts_revisions)
        try:
            results.append(await _validate_one(embedded, spec, later))
        except Exception as exc:  # a damaged signature is a failed one, not a crash
            results.append(SignatureValidation(
                field_name=embedded.field_name or "", kind="signature",
                signer_name=_common_name(embedded), process="basic", indication=INDETERMINATE,
                sub_indication="GENERIC", signing_time=None, timestamp_time=None,
                best_signature_time=None, covers_document=None, coverage=None,
                modification_level=None, docmdp_ok=None,
                message=f"{type(exc).__name__}: {exc}"[:MAX_MESSAGE]))
    return results


def validate_pdf_signatures(data: bytes, *, trust_roots, tsa_roots=(), crls=(),
                            timeout: float | None = None, max_signatures: int | None = None
                            ) -> list[SignatureValidation]:
    """The report of every signature and document timestamp of the PDF ``data``, in the
    order of the document's revisions. ``trust_roots``/``tsa_roots`` are asn1crypto
    certificates; ``crls`` asn1crypto CRLs or DER. A PDF that cannot be read gives [].

    Bounds for files from anyone (the public verification page): a PDF with more than
    ``max_signatures`` signatures raises ``EvidenceError("too_many_signatures")`` before any is
    validated; a validation still running after ``timeout`` seconds raises
    ``EvidenceError("validation_timeout")`` (the caller gets its answer; the daemon thread ends
    on its own, on a file the upload limit already bounds)."""
    if max_signatures is not None:
        count = _signature_count(data)
        if count > max_signatures:
            raise EvidenceError("too_many_signatures", {"count": count, "max": max_signatures})
    spec = _spec(trust_roots, tsa_roots, crls)
    messages: list = []
    box: dict = {}

    def run():  # in a thread of its own: the caller may be inside a running event loop
        with _contained(messages):
            try:
                box["result"] = asyncio.run(_validate_all(bytes(data), spec))
            except Exception as exc:  # an unreadable PDF: reported in the caller's thread
                box["error"] = exc

    worker = threading.Thread(target=run, name="o2s-esign-validation", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        _logger.info("PDF signatures not validated within %s s", timeout)
        raise EvidenceError("validation_timeout", {"seconds": timeout}, transient=True)
    if "error" in box:
        exc = box["error"]
        _logger.info("PDF signatures not validated: %s: %s", type(exc).__name__, exc)
        return []
    for message in messages:
        _logger.debug("pyHanko: %s", message)
    return box["result"]


def _signature_count(data: bytes) -> int:
    """How many signature dictionaries the PDF's fields hold (0 when it cannot be read)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return len(PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures)
    except Exception:  # an unreadable PDF is reported by the validation itself
        return 0


def report_json(document: str, sha256: str, results: list[SignatureValidation],
                validated_at: datetime) -> bytes:
    """The ``validation/<document>.json`` file of the evidence ZIP."""
    body = {
        "format": FORMAT,
        "document": document,
        "sha256": sha256,
        "validated_at": _iso(validated_at),
        "validator": "pyHanko AdES validation (pyhanko.sign.validation.ades)",
        "processes": PROCESSES,
        "signatures": [result.as_dict() for result in results],
    }
    return (json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
