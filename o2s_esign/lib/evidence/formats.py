"""Names, dates and hashes as the evidence file writes them: ASCII file names, UTC dates (ISO
for the machine-readable files, readable for the reports) and the SHA-256 of a consent text."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, date, datetime


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
