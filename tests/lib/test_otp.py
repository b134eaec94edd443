"""OTP codes, link tokens and the send/attempt policy."""

import base64
import hashlib
import hmac
import inspect
import secrets
from collections import Counter
from datetime import datetime, timedelta

import pytest
from o2s_esign_lib import otp

KEY = b"k" * 32
T0 = datetime(2026, 11, 27, 14, 0, 0)


def test_generate_code_shape_and_spread():
    codes = [otp.generate_code() for _ in range(3000)]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(set(codes)) > 2900  # 10^6 space: collisions are rare
    first_digits = Counter(c[0] for c in codes)
    assert set(first_digits) == set("0123456789")  # zero padded, leading zeros happen
    assert otp.generate_code(8).isdigit() and len(otp.generate_code(8)) == 8
    for bad in (0, 3, 11, "6", 6.0):
        with pytest.raises(ValueError):
            otp.generate_code(bad)


def test_generate_code_uses_secrets():
    assert "secrets.randbelow" in inspect.getsource(otp.generate_code)


def test_hash_code_formula():
    binding = otp.make_binding("prod", 12, 34, "n0nce")
    expected = hmac.new(KEY, f"{binding}|123456".encode(), hashlib.sha256).hexdigest()
    assert otp.hash_code(KEY, "123456", binding) == expected


def test_check_code_and_binding():
    nonce = otp.generate_nonce()
    bind_a = otp.make_binding("prod", 12, 34, nonce)
    bind_b = otp.make_binding("prod", 12, 35, nonce)
    stored = otp.hash_code(KEY, "042917", bind_a)
    assert otp.check_code(KEY, "042917", bind_a, stored)
    assert otp.check_code(KEY, " 042 917\n", bind_a, stored)
    assert otp.check_code(KEY, "042-917", bind_a, stored)
    assert not otp.check_code(KEY, "042917", bind_b, stored)          # other signer
    assert not otp.check_code(KEY, "042917", otp.make_binding("test", 12, 34, nonce), stored)
    assert not otp.check_code(KEY, "042917", otp.make_binding("prod", 12, 34, "x"), stored)
    assert not otp.check_code(b"K" * 32, "042917", bind_a, stored)   # other key
    assert not otp.check_code(KEY, "042918", bind_a, stored)
    assert not otp.check_code(KEY, "42917", bind_a, stored)


@pytest.mark.parametrize("typed", [
    "", "   ", None, 42917, "０４２９１７", "04291７", "abcdef", "1" * 13, "1 " * 40, "9" * 10_000,
])
def test_check_code_rejects_malformed(typed):
    stored = otp.hash_code(KEY, "042917", "b")
    assert otp.check_code(KEY, typed, "b", stored) is False


def test_check_code_bad_stored_hash():
    assert not otp.check_code(KEY, "123456", "b", None)
    assert not otp.check_code(KEY, "123456", "b", "")
    assert not otp.check_code(KEY, "123456", "b", "é" * 64)


def test_binding_parts_cannot_spill():
    assert otp.make_binding("a|b", 1, 2, "n") != otp.make_binding("a", "b|1", 2, "n")


def test_short_key_refused():
    with pytest.raises(ValueError):
        otp.hash_code(b"short", "123456", "b")
    with pytest.raises(ValueError):
        otp.make_token("not bytes", "x")


def test_compare_digest_is_used():
    assert "compare_digest" in inspect.getsource(otp.check_code)
    assert "compare_digest" in inspect.getsource(otp.check_token)


def test_token_shape_and_formula():
    token = otp.make_token(KEY, "decline", "12", "34")
    assert len(token) == otp.TOKEN_LENGTH == 43
    raw = base64.urlsafe_b64decode(token + "=")
    assert len(raw) == 32
    expected = hmac.new(KEY, b'["decline","12","34"]', hashlib.sha256).digest()
    assert raw == expected


def test_check_token():
    token = otp.make_token(KEY, "decline", "12", "34")
    assert otp.check_token(KEY, token, "decline", "12", "34")
    assert otp.check_token(KEY, token, "decline", 12, 34)  # ints are their decimal text
    assert not otp.check_token(KEY, token, "decline", "12", "35")
    assert not otp.check_token(KEY, token, "decline", "1", "234")
    assert not otp.check_token(KEY, token, "decline", "12|34")
    assert not otp.check_token(b"K" * 32, token, "decline", "12", "34")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not otp.check_token(KEY, flipped, "decline", "12", "34")


@pytest.mark.parametrize("bad", [None, "", "a" * 42, "a" * 44, "a" * 10_000, "é" * 43,
                                 "a" * 42 + "=", b"a" * 43])
def test_check_token_rejects_malformed(bad):
    assert otp.check_token(KEY, bad, "x") is False


def test_token_parts_types():
    with pytest.raises(TypeError):
        otp.make_token(KEY, "x", None)
    with pytest.raises(TypeError):
        otp.make_token(KEY, "x", True)
    with pytest.raises(ValueError):
        otp.make_token(KEY)


def test_random_tokens_do_not_verify():
    hits = sum(otp.check_token(KEY, secrets.token_urlsafe(32), "p") for _ in range(200))
    assert hits == 0


# --- policy ------------------------------------------------------------------------------------

def test_policy_defaults():
    policy = otp.OtpPolicy()
    assert (policy.digits, policy.ttl, policy.max_attempts, policy.resend_cooldown,
            policy.max_sends_per_hour, policy.max_wrong_codes) == (6, 600, 5, 60, 5, 10)


def test_signer_locked_at_the_tenth_wrong_code():
    assert not otp.signer_locked(0)
    assert not otp.signer_locked(9)
    assert otp.signer_locked(10)
    assert otp.signer_locked(11)
    assert otp.signer_locked(3, otp.OtpPolicy(max_wrong_codes=3))


def test_can_send_first_time():
    assert otp.can_send(T0, []) == (True, None, 0)


def test_can_send_cooldown():
    sends = [T0 - timedelta(seconds=20)]
    allowed, reason, retry = otp.can_send(T0, sends)
    assert (allowed, reason, retry) == (False, "cooldown", 40)
    assert otp.can_send(T0 + timedelta(seconds=40), sends).allowed
    # sub-second remainders round up, never to 0
    assert otp.can_send(T0 + timedelta(seconds=39, microseconds=500_000), sends).retry_after == 1


def test_can_send_hourly_limit():
    policy = otp.OtpPolicy()
    sends = [T0 - timedelta(minutes=m) for m in (50, 40, 30, 20, 10)]
    decision = otp.can_send(T0, sends, policy)
    assert decision == (False, "hourly_limit", 10 * 60)  # the send of 50 min ago leaves first
    assert otp.can_send(T0 + timedelta(minutes=10), sends, policy).allowed
    old = [T0 - timedelta(minutes=m) for m in (61, 62, 63, 64, 65, 66)]
    assert otp.can_send(T0, old, policy).allowed


def test_can_send_future_send_counts_as_now():
    decision = otp.can_send(T0, [T0 + timedelta(minutes=5)])
    assert decision.reason == "cooldown" and decision.retry_after == 60


def test_check_attempt():
    policy = otp.OtpPolicy()
    assert otp.check_attempt(T0, T0, 0) == (True, None)
    assert otp.check_attempt(T0, None, 0) == (False, "no_code")
    assert otp.check_attempt(T0, T0, 0, used=True) == (False, "used")
    assert otp.check_attempt(T0, T0, 5) == (False, "locked")
    assert otp.check_attempt(T0 + timedelta(seconds=599), T0, 4).allowed
    assert otp.check_attempt(T0 + timedelta(seconds=600), T0, 0) == (False, "expired")
    assert otp.check_attempt(T0 - timedelta(hours=1), T0, 0, policy=policy).reason == "expired"


def test_verify_code_flow_until_lock():
    binding = otp.make_binding("db", 1, 2, otp.generate_nonce())
    stored = otp.hash_code(KEY, "111111", binding)
    attempts = 0
    for expected_remaining in (4, 3, 2, 1):
        result = otp.verify_code(T0, "222222", key=KEY, binding=binding, stored_hash=stored,
                                 issued_at=T0, attempts=attempts)
        assert (result.ok, result.reason, result.locked) == (False, "invalid", False)
        assert result.remaining == expected_remaining
        attempts = result.attempts
    result = otp.verify_code(T0, "garbage", key=KEY, binding=binding, stored_hash=stored,
                             issued_at=T0, attempts=attempts)
    assert (result.ok, result.reason, result.locked, result.attempts) == (False, "invalid",
                                                                          True, 5)
    # the right code no longer helps
    result = otp.verify_code(T0, "111111", key=KEY, binding=binding, stored_hash=stored,
                             issued_at=T0, attempts=result.attempts)
    assert (result.ok, result.reason, result.locked) == (False, "locked", True)


def test_verify_code_success_expiry_and_reuse():
    binding = otp.make_binding("db", 1, 2, "n")
    stored = otp.hash_code(KEY, "111111", binding)
    kwargs = {"key": KEY, "binding": binding, "stored_hash": stored, "issued_at": T0}
    ok = otp.verify_code(T0 + timedelta(minutes=9), "111 111", attempts=2, **kwargs)
    assert ok.ok and ok.reason is None and ok.attempts == 2
    used = otp.verify_code(T0, "111111", attempts=0, used=True, **kwargs)
    assert (used.ok, used.reason) == (False, "used")
    late = otp.verify_code(T0 + timedelta(minutes=10), "111111", attempts=0, **kwargs)
    assert (late.ok, late.reason, late.attempts) == (False, "expired", 0)
    none = otp.verify_code(T0, "111111", key=KEY, binding=binding, stored_hash=None,
                           issued_at=None, attempts=0)
    assert (none.ok, none.reason) == (False, "no_code")
