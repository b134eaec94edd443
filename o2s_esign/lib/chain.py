"""Hash chain of the audit trail (``o2s.esign.event``).

Each event of a request is linked to the previous one::

    hash_n = sha256(hash_{n-1}.encode("ascii") + canonical_json(event_body(event_n))).hexdigest()

with ``hash_0 = GENESIS_HASH`` and ``sequence`` contiguous from 1. Editing, inserting or
deleting an event breaks the chain at that point; truncating the tail is detected by comparing
the head with a head recorded elsewhere (the sealed evidence manifest).

``verify.py`` (the standalone verifier shipped in every evidence ZIP) holds a deliberate copy of
``canonical_json`` and of the chain walk, so that it runs without this package; a test keeps the
two implementations in agreement.
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass

GENESIS_HASH = "0" * 64

#: the fields of an event covered by its hash, in no particular order (canonical JSON sorts keys)
HASHED_FIELDS = (
    "request", "sequence", "event_type", "date", "signer", "ip_address", "user_agent", "payload",
)

_HASH_RE = re.compile(r"[0-9a-f]{64}\Z")


def _check_value(value, path="$"):
    """Reject anything canonical JSON cannot represent exactly and portably."""
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite float at {path}")
        raise TypeError(f"float at {path}: format numbers with decimals as strings")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"non-string key {key!r} at {path}")
            _check_value(item, f"{path}.{key}")
        return
    raise TypeError(f"unsupported type {type(value).__name__} at {path}")


def canonical_json(obj) -> bytes:
    """Deterministic UTF-8 JSON of ``obj`` (sorted keys, no spaces, no ASCII escaping).

    Values must be ``str``, ``int``, ``bool``, ``None``, ``list`` or ``dict`` (string keys).
    Floats are refused (``TypeError``; non-finite ones ``ValueError``): their text form is not
    portable, so callers format amounts and dates as strings (dates as
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` UTC). Tuples, sets, datetimes and bytes are refused too.
    """
    _check_value(obj)
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
    ).encode("utf-8")


def event_body(event: dict) -> dict:
    """The hashed part of ``event``: exactly :data:`HASHED_FIELDS` (``KeyError`` if one lacks)."""
    return {field: event[field] for field in HASHED_FIELDS}


def compute_hash(previous_hash: str, event: dict) -> str:
    """Hash of ``event`` chained after ``previous_hash`` (64 lowercase hex digits both)."""
    if not isinstance(previous_hash, str) or not _HASH_RE.match(previous_hash):
        raise ValueError("previous_hash must be 64 lowercase hexadecimal digits")
    digest = hashlib.sha256(previous_hash.encode("ascii"))
    digest.update(canonical_json(event_body(event)))
    return digest.hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """Result of :func:`verify_chain`.

    ``head`` is the hash of the last event that verified (``GENESIS_HASH`` if none did);
    ``count`` the number of events given; ``first_broken`` the chain position (= expected
    ``sequence``, 1-based) where verification first failed, ``None`` when the chain is intact,
    empty, or intact but ending on another head than expected (``head_mismatch``).
    """

    ok: bool
    head: str
    count: int
    first_broken: int | None = None
    reason: str | None = None


def verify_chain(events: list[dict], expected_head: str | None = None) -> ChainReport:
    """Re-walk the chain of ``events`` (in the order given) from :data:`GENESIS_HASH`.

    Per event at position ``n`` (1-based): ``sequence == n`` (else ``sequence_gap``),
    ``previous_hash`` equals the hash of the event before (else ``previous_hash_mismatch``),
    and ``hash`` is the recomputed hash (else ``hash_mismatch``; also for malformed events).
    With ``expected_head``, an intact chain must end on it (else ``head_mismatch``: truncation
    or extra events). An empty list is never ok (``empty``): every request logs its creation.
    """
    count = len(events)
    if not count:
        return ChainReport(False, GENESIS_HASH, 0, None, "empty")
    previous = GENESIS_HASH
    for position, event in enumerate(events, start=1):
        sequence = event.get("sequence") if isinstance(event, dict) else None
        if type(sequence) is not int or sequence != position:
            return ChainReport(False, previous, count, position, "sequence_gap")
        if event.get("previous_hash") != previous:
            return ChainReport(False, previous, count, position, "previous_hash_mismatch")
        try:
            expected = compute_hash(previous, event)
        except (KeyError, TypeError, ValueError):
            expected = None
        if expected is None or event.get("hash") != expected:
            return ChainReport(False, previous, count, position, "hash_mismatch")
        previous = expected
    if expected_head is not None and previous != expected_head:
        return ChainReport(False, previous, count, None, "head_mismatch")
    return ChainReport(True, previous, count, None, None)
