"""Validation of the signatures and document timestamps embedded in a PDF, with pyHanko: how the
tests check what ``o2s_esign/lib/signing.py`` produces (the module itself never validates).

Time of validation:

* every signature is first validated "now", with the revocation data embedded in the document
  (DSS) and, if ``allow_fetching``, fetched online;
* when that fails to establish trust *and* the signer's certificate has expired since, it is
  validated again "as of" the signing time: the time of the signature timestamp when the
  signature carries a valid, trusted one (B-T and above; ``time_source="timestamp"``),
  otherwise the time claimed by the signer in the signature dictionary (B-B;
  ``time_source="claimed"``, weaker: nothing but the signer vouches for it). The report says
  which moment was used (``validated_at``). Revoked or otherwise broken chains are never
  rescued this way: only the expiry case is.

Logging: pyHanko logs a WARNING for every problem it meets (a path that cannot be built, a
broken timestamp imprint, a failed diff...). ``validate_pdf`` is also fed damaged and unreadable
PDFs, so it contains pyHanko's records: a filter on the ``pyhanko*`` loggers
drops the records (INFO and above) emitted *by the thread running validate_pdf while it runs*
(other threads are not affected) and the WARNING/ERROR messages go to the report of the
signature being validated (``messages``, also appended to ``summary``). They are re-logged at
DEBUG on this module's logger.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError as PyHankoPdfError
from pyhanko.pdf_utils.misc import PdfStrictReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import KeyUsageConstraints
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import (
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko_certvalidator import ValidationContext

try:  # the signing core as the plain tests load it (tests/lib/conftest.py)...
    from o2s_esign_lib.errors import PdfError
except ImportError:  # ...or as Odoo loads it, for the addon's own tests
    from odoo.addons.o2s_esign.lib.errors import PdfError

__all__ = ["SignatureReport", "validate_pdf"]

_logger = logging.getLogger(__name__)

#: signer certificates need digitalSignature or nonRepudiation (seals often have only the former)
KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"},
                                match_all_key_usages=False)


@dataclass
class SignatureReport:
    """Validation outcome of one embedded signature or document timestamp."""

    field_name: str
    kind: str  # "signature" | "doc_timestamp"
    revision: int
    signer_cn: str | None = None
    signer_email: str | None = None
    signing_time: datetime | None = None
    timestamp_time: datetime | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    coverage: str | None = None
    modification_level: str | None = None
    docmdp_ok: bool | None = None
    bottom_line: bool = False
    level: str | None = None
    validated_at: datetime | None = None
    time_source: str = "now"
    summary: str = ""
    error: str | None = None
    #: WARNING/ERROR messages pyHanko logged while validating this signature (deduplicated)
    messages: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)


# --- containment of pyHanko's log records ----------------------------------------------------

#: bounds of what one validation keeps from pyHanko's log records
MAX_MESSAGES = 20
MAX_MESSAGE_CHARS = 500

_state = threading.local()


class _Capture:
    """pyHanko's log records of one validate_pdf call (its thread only)."""

    def __init__(self):
        self.debug = _logger.isEnabledFor(logging.DEBUG)
        self.dropped: list[tuple[str, str, str]] = []  # (logger, level, message) for DEBUG
        self.current: list[str] | None = None  # messages of the signature being validated

    def add(self, record: logging.LogRecord):
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break validation
            message = str(record.msg)
        message = message.strip()[:MAX_MESSAGE_CHARS]
        if self.debug and len(self.dropped) < 10 * MAX_MESSAGES:
            self.dropped.append((record.name, record.levelname, message))
        if record.levelno >= logging.WARNING and self.current is not None \
                and message not in self.current and len(self.current) < MAX_MESSAGES:
            self.current.append(message)


class _ContainPyhanko(logging.Filter):
    """Drops (INFO and above) the records of the thread inside validate_pdf, into its capture;
    records of other threads, and outside validate_pdf, pass untouched."""

    def filter(self, record):
        capture = getattr(_state, "capture", None)
        if capture is None or record.levelno < logging.INFO:
            return True
        capture.add(record)
        return False


_FILTER = _ContainPyhanko()
_filter_lock = threading.Lock()


def _install_filter():
    """Attach the filter to every ``pyhanko*`` logger (a logger's filters only see the
    records created on it, not those of its children); cheap, done on every call so that
    loggers of modules imported since are covered too."""
    with _filter_lock:
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if name.startswith("pyhanko") and isinstance(logger, logging.Logger) \
                    and _FILTER not in logger.filters:
                logger.addFilter(_FILTER)


@contextmanager
def _contain_pyhanko_logs():
    """Capture pyHanko's records emitted by this thread inside the block."""
    _install_filter()
    previous = getattr(_state, "capture", None)
    capture = _state.capture = _Capture()
    try:
        yield capture
    finally:
        _state.capture = previous
        _install_filter()
        for name, level, message in capture.dropped:
            _logger.debug("pyHanko (%s, %s): %s", name, level, message)


@contextmanager
def _messages_of(report_messages: list[str]):
    """Route the WARNING/ERROR messages captured inside the block to ``report_messages``."""
    capture = getattr(_state, "capture", None)
    if capture is None:
        yield
        return
    previous, capture.current = capture.current, report_messages
    try:
        yield
    finally:
        capture.current = previous


def _with_messages(report: SignatureReport, messages: list[str]) -> SignatureReport:
    report.messages = messages
    if messages:
        report.summary = "\n".join([report.summary, *messages]) if report.summary \
            else "\n".join(messages)
    return report


def _cert_identity(cert) -> tuple[str | None, str | None]:
    if cert is None:
        return None, None
    subject = cert.subject.native
    email = subject.get("email_address")
    if not email:
        try:
            san = cert.subject_alt_name_value
            for name in san or []:
                if name.name == "rfc822_name":
                    email = name.native
                    break
        except (ValueError, KeyError):
            email = None
    return subject.get("common_name"), email


def _enum_name(value) -> str | None:
    return value.name if value is not None else None


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class _Contexts:
    def __init__(self, trust_roots, dss, allow_fetching, fetcher_backend):
        self.trust_roots = list(trust_roots or [])
        self.dss = dss
        self.allow_fetching = allow_fetching
        self.fetcher_backend = fetcher_backend

    def make(self, moment: datetime | None = None) -> ValidationContext:
        kwargs = {"trust_roots": self.trust_roots, "allow_fetching": self.allow_fetching,
                  "revocation_mode": "soft-fail"}
        if moment is not None:
            kwargs["moment"] = moment
        if self.fetcher_backend is not None:
            kwargs["fetcher_backend"] = self.fetcher_backend
        if self.dss is not None:
            return self.dss.as_validation_context(kwargs)
        return ValidationContext(**kwargs)


def _dss_info(reader: PdfFileReader):
    """(DSS object or None, revisions that wrote DSS data, whether it holds revocation data)."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return None, [], False
    revisions = []
    for revision in range(reader.xrefs.total_revisions):
        try:
            root = reader.get_historical_root(revision)
            if "/DSS" not in root:
                continue
            ref = root.raw_get("/DSS")
            explicit = {(r.idnum, r.generation)
                        for r in reader.xrefs.explicit_refs_in_revision(revision)}
            if isinstance(ref, generic.IndirectObject):
                if (ref.idnum, ref.generation) in explicit:
                    revisions.append(revision)
            elif (reader.root_ref.idnum, reader.root_ref.generation) in explicit:
                revisions.append(revision)
        except (KeyError, AttributeError, PyHankoPdfError):
            continue
    return dss, revisions, bool(dss.ocsps or dss.crls)


async def _validate_one(es, contexts: _Contexts, now: datetime) -> SignatureReport:
    kind = "doc_timestamp" if es.sig_object_type == "/DocTimeStamp" else "signature"
    report = SignatureReport(field_name=es.field_name, kind=kind, revision=es.signed_revision,
                             validated_at=now)
    try:
        cert = es.signer_cert
    except (ValueError, KeyError, IndexError):
        cert = None
    report.signer_cn, report.signer_email = _cert_identity(cert)
    if kind == "doc_timestamp":
        status = await async_validate_pdf_timestamp(es, contexts.make())
        report.timestamp_time = _aware(status.timestamp)
        report.signing_time = report.timestamp_time
        report.bottom_line = bool(status.intact and status.valid and status.trusted)
    else:
        status = await async_validate_pdf_signature(
            es, contexts.make(), ts_validation_context=contexts.make(),
            key_usage_settings=KEY_USAGE)
        ts_status = status.timestamp_validity
        ts_ok = ts_status is not None and ts_status.valid and ts_status.trusted and \
            ts_status.intact
        report.timestamp_time = _aware(ts_status.timestamp) if ts_status is not None else None
        report.signing_time = _aware(status.signer_reported_dt)
        expired = cert is not None and cert.not_valid_after < now
        if not status.trusted and expired and not status.revoked:
            moment = report.timestamp_time if ts_ok else report.signing_time
            if moment is not None:
                status = await async_validate_pdf_signature(
                    es, contexts.make(moment), ts_validation_context=contexts.make(),
                    key_usage_settings=KEY_USAGE)
                report.validated_at = moment
                report.time_source = "timestamp" if ts_ok else "claimed"
        report.docmdp_ok = status.docmdp_ok
        report.bottom_line = bool(status.bottom_line)
        report.details["timestamp_trusted"] = bool(ts_ok)
    report.intact = bool(status.intact)
    report.valid = bool(status.valid)
    report.trusted = bool(status.trusted)
    report.coverage = _enum_name(status.coverage)
    report.modification_level = _enum_name(status.modification_level)
    try:
        report.summary = status.summary()
    except (AttributeError, ValueError):
        report.summary = ""
    return report


def _detect_levels(reports: list[SignatureReport], dss_revisions, dss_has_revinfo):
    """Best-effort PAdES level per signature: b_t with a signature timestamp; b_lt when a later
    revision wrote a DSS holding revocation data; b_lta when a document timestamp covers such
    a DSS revision."""
    doc_ts_revisions = [r.revision for r in reports
                        if r.kind == "doc_timestamp" and r.intact and r.valid]
    for report in reports:
        if report.kind != "signature":
            continue
        if report.timestamp_time is None:
            report.level = "b_b"
            continue
        report.level = "b_t"
        later_dss = [rev for rev in dss_revisions if rev > report.revision]
        if dss_has_revinfo and later_dss:
            report.level = "b_lt"
            if any(dss_rev <= ts_rev for dss_rev in later_dss for ts_rev in doc_ts_revisions):
                report.level = "b_lta"


async def _validate_all(data: bytes, trust_roots, allow_fetching: bool):
    reader = None
    for strict in (True, False):
        try:
            reader = PdfFileReader(io.BytesIO(data), strict=strict)
            signatures = list(reader.embedded_signatures)
            break
        except PdfStrictReadError:
            continue
    else:  # pragma: no cover - the non-strict attempt raises instead
        raise PdfError("corrupt", {"reason": "unreadable"})
    dss, dss_revisions, dss_has_revinfo = _dss_info(reader)
    session = None
    backend = None
    if allow_fetching:
        import aiohttp
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend

        session = aiohttp.ClientSession()
        backend = AIOHttpFetcherBackend(session)
    contexts = _Contexts(trust_roots, dss, allow_fetching, backend)
    now = datetime.now(UTC)
    reports = []
    try:
        for es in signatures:
            messages: list[str] = []
            try:
                with _messages_of(messages):
                    report = await _validate_one(es, contexts, now)
            except (ValueError, KeyError, TypeError, IndexError, PyHankoPdfError,
                    Exception) as exc:
                kind = "doc_timestamp" if es.sig_object_type == "/DocTimeStamp" \
                    else "signature"
                report = SignatureReport(
                    field_name=es.field_name, kind=kind, revision=es.signed_revision,
                    validated_at=now, error=f"{type(exc).__name__}: {exc}"[:500])
            reports.append(_with_messages(report, messages))
    finally:
        if session is not None:
            await session.close()
    _detect_levels(reports, dss_revisions, dss_has_revinfo)
    return reports


def validate_pdf(data: bytes, *, trust_roots: list,
                 allow_fetching: bool = False) -> list[SignatureReport]:
    """Validate every signature and document timestamp embedded in ``data``, in document
    order, against ``trust_roots`` (asn1crypto certificates: the company CA, the TSA's root).

    Revocation data comes from the document's DSS (and from the network only when
    ``allow_fetching``). See the module docstring for the moment of validation. Raises
    ``PdfError("corrupt")`` when the file cannot be read; a signature that cannot be
    processed is reported with ``error`` set and every flag false. pyHanko's log records are
    kept out of the logs: what it warned about a signature is in that report's ``messages``
    (see the module docstring).
    """
    with _contain_pyhanko_logs():
        try:
            return asyncio.run(_validate_all(bytes(data), trust_roots, allow_fetching))
        except PdfError:
            raise
        except (PyHankoPdfError, ValueError, KeyError) as exc:
            raise PdfError("corrupt", {"reason": f"{type(exc).__name__}: {exc}"[:200]}) \
                from None
