"""Tests of o2s_esign/lib/crypto.py (HKDF, AES-256-GCM secret blobs)."""

import pytest
from o2s_esign_lib import crypto
from o2s_esign_lib.errors import PkiError


def test_master_key_is_random_32_bytes():
    a, b = crypto.generate_master_key(), crypto.generate_master_key()
    assert len(a) == 32 and len(b) == 32 and a != b


def test_derive_key_is_deterministic_and_purpose_bound():
    master = crypto.generate_master_key()
    k1 = crypto.derive_key(master, "signing-keys")
    assert k1 == crypto.derive_key(master, "signing-keys")
    assert k1 != crypto.derive_key(master, "sms-secrets")
    assert len(crypto.derive_key(master, "x", length=16)) == 16
    # RFC 5869 test case 3 (no salt, empty info) pins the construction to HKDF-SHA256
    ikm = bytes.fromhex("0b" * 22)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    ref = HKDF(hashes.SHA256(), 42, None, b"purpose").derive(ikm)
    assert crypto.derive_key(ikm, "purpose", 42) == ref


def test_encrypt_roundtrip_and_format():
    key = crypto.derive_key(crypto.generate_master_key(), "test")
    blob = crypto.encrypt_secret(key, b"secret \xe9", aad=b"db1/7")
    assert blob.startswith(b"o2s1") and len(blob) == 4 + 12 + len(b"secret \xe9") + 16
    assert crypto.encrypt_secret(key, b"secret \xe9", aad=b"db1/7") != blob  # random nonce
    assert crypto.decrypt_secret(key, blob, aad=b"db1/7") == b"secret \xe9"


@pytest.mark.parametrize("mutate", [
    lambda k, b, a: (crypto.generate_master_key(), b, a),            # wrong key
    lambda k, b, a: (k, b, b"other"),                               # wrong aad
    lambda k, b, a: (k, b[:-1] + bytes([b[-1] ^ 1]), a),            # flipped tag byte
    lambda k, b, a: (k, b[:20] + bytes([b[20] ^ 1]) + b[21:], a),   # flipped ciphertext byte
    lambda k, b, a: (k, b"o2s2" + b[4:], a),                        # unknown version
    lambda k, b, a: (k, b[:10], a),                                 # truncated
    lambda k, b, a: (k, b"", a),                                    # empty
])
def test_decrypt_failures_raise_pki_error(mutate):
    key = crypto.generate_master_key()
    blob = crypto.encrypt_secret(key, b"payload", aad=b"aad")
    k, b, a = mutate(key, blob, b"aad")
    with pytest.raises(PkiError) as info:
        crypto.decrypt_secret(k, b, aad=a)
    assert info.value.code == "decrypt_failed"
    assert not info.value.transient
