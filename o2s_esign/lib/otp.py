"""One-time codes (SMS OTP) and stateless link tokens.

Codes come from ``secrets`` and are stored only as an HMAC bound to the database, request,
signer and a per-code nonce (the ``binding``), so a stored hash is useless elsewhere and a code
for signer A never matches signer B. Comparisons are constant time and inputs are length
bounded before any work is done.

The ORM keeps the state (issue time, attempts, used flag, send times); the pure functions here
decide (:func:`can_send`, :func:`check_attempt`, :func:`verify_code`), so the policy is tested
without a database.
"""

import base64
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

#: longest code input (after removing spaces) that is even looked at
MAX_CODE_LENGTH = 12
#: length of a link token: base64url of 32 bytes without padding
TOKEN_LENGTH = 43
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_SPACES = " \t\r\n\u00a0\u202f\u2009-."


def generate_code(digits: int = 6) -> str:
    """A random numeric code of ``digits`` digits (zero padded), from the OS CSPRNG."""
    if not isinstance(digits, int) or not 4 <= digits <= 10:
        raise ValueError("digits must be an integer between 4 and 10")
    return str(secrets.randbelow(10 ** digits)).zfill(digits)


def generate_nonce() -> str:
    """A fresh per-code nonce (128 bits, hex) to put in the binding of :func:`hash_code`."""
    return secrets.token_hex(16)


def make_binding(db: str, request, signer, nonce: str) -> str:
    """The binding string of a code: database, request id, signer id and the code's nonce.

    JSON-encoded so that no part can spill into another (``"a|b","c"`` differs from
    ``"a","b|c"``).
    """
    return json.dumps([str(db), str(request), str(signer), str(nonce)], separators=(",", ":"))


def _check_key(key) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
        raise ValueError("key must be at least 16 bytes")
    return bytes(key)


def hash_code(key: bytes, code: str, binding: str) -> str:
    """HMAC-SHA256(key, binding + "|" + code), hex: what the database stores for a code."""
    key = _check_key(key)
    message = f"{binding}|{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def normalize_code(code) -> str | None:
    """``code`` without spaces (and the dots or dashes people type), or ``None`` if it cannot be
    a code: not a string, longer than :data:`MAX_CODE_LENGTH`, or not only ASCII digits."""
    if not isinstance(code, str) or len(code) > 4 * MAX_CODE_LENGTH:
        return None
    cleaned = "".join(ch for ch in code if ch not in _SPACES)
    if not cleaned or len(cleaned) > MAX_CODE_LENGTH:
        return None
    if not (cleaned.isascii() and cleaned.isdigit()):
        return None
    return cleaned


def check_code(key: bytes, code: str, binding: str, stored_hash: str) -> bool:
    """True if ``code`` (spaces ignored) is the code whose hash is ``stored_hash`` for this
    binding. Constant-time comparison; malformed or over-long input is rejected up front."""
    cleaned = normalize_code(code)
    if cleaned is None or not isinstance(stored_hash, str) or len(stored_hash) != 64:
        return False
    candidate = hash_code(key, cleaned, binding)
    return hmac.compare_digest(candidate.encode("ascii"), stored_hash.encode("ascii", "replace"))


def _token_message(parts) -> bytes:
    if not parts:
        raise ValueError("a token needs at least one part")
    texts = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, (str, int)):
            raise TypeError("token parts must be str (or int)")
        texts.append(str(part))
    return json.dumps(texts, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def make_token(key: bytes, *parts: str) -> str:
    """Stateless link token: base64url (43 characters, 256 bits) of HMAC-SHA256 over ``parts``.

    The parts are joined unambiguously (as a JSON list); put a purpose string first, e.g.
    ``make_token(key, "decline", str(signer_id), str(request_id))``.
    """
    key = _check_key(key)
    digest = hmac.new(key, _token_message(parts), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_token(key: bytes, token: str, *parts: str) -> bool:
    """True if ``token`` is :func:`make_token` of ``parts``; constant time, bounded input."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        return False
    if not _TOKEN_ALPHABET.issuperset(token):
        return False
    expected = make_token(key, *parts)
    return hmac.compare_digest(expected.encode("ascii"), token.encode("ascii"))


# --- policy -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class OtpPolicy:
    """Limits for SMS codes (NIST SP 800-63B: 10 minutes, single use, rate limited). The one
    place they are set (the README's Rights section quotes them)."""

    digits: int = 6
    ttl: int = 600                 # seconds a code stays valid
    max_attempts: int = 5          # wrong entries per code before it is locked
    max_wrong_codes: int = 10      # wrong entries per signer over the life of a request, all
                                   # codes together, before the signer is locked (until unlocked)
    resend_cooldown: int = 60      # seconds between two sends to the same signer
    max_sends_per_hour: int = 5    # sends per signer in any sliding hour


class SendDecision(NamedTuple):
    """Result of :func:`can_send`: unpacks as ``(allowed, reason, retry_after)``."""

    allowed: bool
    reason: str | None       # None, "cooldown" or "hourly_limit"
    retry_after: int         # whole seconds to wait (0 when allowed)


class AttemptDecision(NamedTuple):
    """Result of :func:`check_attempt`: unpacks as ``(allowed, reason)``."""

    allowed: bool
    reason: str | None       # None, "no_code", "used", "expired" or "locked"


class CodeCheck(NamedTuple):
    """Result of :func:`verify_code`.

    ``attempts`` is the new count of failed attempts to store; ``locked`` means the code is now
    unusable (log ``otp_locked``); ``remaining`` the attempts left.
    """

    ok: bool
    reason: str | None       # None, "no_code", "used", "expired", "locked" or "invalid"
    attempts: int
    locked: bool
    remaining: int


def _ceil_seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def can_send(now: datetime, sends: list[datetime], policy: OtpPolicy = OtpPolicy()
             ) -> SendDecision:
    """May a new code be sent now, given the times of the previous sends to this signer?

    Refuses within ``resend_cooldown`` of the last send (``cooldown``) and when
    ``max_sends_per_hour`` sends happened in the last hour (``hourly_limit``); ``retry_after``
    says when it becomes possible. Send times in the future (clock skew) count as now.
    """
    recent = sorted(min(sent, now) for sent in sends if now - sent < timedelta(hours=1))
    if recent:
        wait = recent[-1] + timedelta(seconds=policy.resend_cooldown) - now
        if wait > timedelta(0):
            return SendDecision(False, "cooldown", _ceil_seconds(wait))
    if len(recent) >= policy.max_sends_per_hour:
        # the oldest send that must leave the window before one more is allowed
        oldest = recent[len(recent) - policy.max_sends_per_hour]
        wait = oldest + timedelta(hours=1) - now
        return SendDecision(False, "hourly_limit", _ceil_seconds(wait))
    return SendDecision(True, None, 0)


def expires_at(issued_at: datetime, policy: OtpPolicy = OtpPolicy()) -> datetime:
    """When a code issued at ``issued_at`` stops being accepted."""
    return issued_at + timedelta(seconds=policy.ttl)


def check_attempt(now: datetime, issued_at: datetime | None, attempts: int, *,
                  used: bool = False, policy: OtpPolicy = OtpPolicy()) -> AttemptDecision:
    """May the current code be tried at all (before looking at what was typed)?"""
    if issued_at is None:
        return AttemptDecision(False, "no_code")
    if used:
        return AttemptDecision(False, "used")
    if attempts >= policy.max_attempts:
        return AttemptDecision(False, "locked")
    if now >= expires_at(issued_at, policy) or now < issued_at - timedelta(minutes=5):
        return AttemptDecision(False, "expired")
    return AttemptDecision(True, None)


def signer_locked(wrong_codes: int, policy: OtpPolicy = OtpPolicy()) -> bool:
    """Whether ``wrong_codes`` wrong entries (every code of a request together) lock a signer:
    then no code is sent or accepted any more until their advisor unlocks them."""
    return wrong_codes >= policy.max_wrong_codes


def verify_code(now: datetime, code: str, *, key: bytes, binding: str, stored_hash: str | None,
                issued_at: datetime | None, attempts: int, used: bool = False,
                policy: OtpPolicy = OtpPolicy()) -> CodeCheck:
    """Check a typed ``code`` against the stored state of the signer's current code.

    Every refused entry of a live code counts as a failed attempt (also malformed input); a
    wrong entry that reaches ``max_attempts`` locks the code. On success the caller marks the
    code used (single use) and logs ``otp_verified``.
    """
    decision = check_attempt(now, issued_at, attempts, used=used, policy=policy)
    if not decision.allowed or not stored_hash:
        reason = decision.reason or "no_code"
        remaining = max(0, policy.max_attempts - attempts)
        return CodeCheck(False, reason, attempts, reason == "locked", remaining)
    if check_code(key, code, binding, stored_hash):
        return CodeCheck(True, None, attempts, False, max(0, policy.max_attempts - attempts))
    attempts += 1
    remaining = max(0, policy.max_attempts - attempts)
    return CodeCheck(False, "invalid", attempts, remaining == 0, remaining)
