"""Symmetric helpers: key derivation and authenticated encryption of secrets at rest.

Used to keep private keys and provider secrets out of the database in clear: the Odoo layer
derives a purpose-bound key from a master key held outside the database and stores only the
opaque blob returned by :func:`encrypt_secret`.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import PkiError

#: format marker of the blobs produced by :func:`encrypt_secret`
BLOB_VERSION = b"o2s1"
NONCE_SIZE = 12
KEY_SIZE = 32

__all__ = ["BLOB_VERSION", "decrypt_secret", "derive_key", "encrypt_secret",
           "generate_master_key"]


def generate_master_key() -> bytes:
    """Return 32 random bytes from the OS CSPRNG, suitable as a master key."""
    return os.urandom(KEY_SIZE)


def derive_key(master: bytes, purpose: str, length: int = KEY_SIZE) -> bytes:
    """Derive a key bound to ``purpose`` from ``master`` with HKDF-SHA256 (no salt,
    ``info`` = the UTF-8 purpose string), so one master key serves unrelated uses safely."""
    if not isinstance(master, (bytes, bytearray)) or len(master) < 16:
        raise ValueError("master key must be at least 16 bytes")
    if not purpose:
        raise ValueError("purpose is required")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                info=purpose.encode("utf-8")).derive(bytes(master))


def encrypt_secret(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` with AES-256-GCM under ``key`` (32 bytes).

    Returns ``b"o2s1" + nonce (12 random bytes) + ciphertext-and-tag``. ``aad`` (e.g. the
    database name and record id) is authenticated but not stored: pass the same to decrypt.
    """
    if len(key) != KEY_SIZE:
        raise ValueError("AES-256-GCM needs a 32-byte key")
    nonce = os.urandom(NONCE_SIZE)
    return BLOB_VERSION + nonce + AESGCM(key).encrypt(nonce, bytes(plaintext), bytes(aad))


def decrypt_secret(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Reverse :func:`encrypt_secret`. Raises ``PkiError("decrypt_failed")`` on a wrong key,
    wrong ``aad``, unknown version or any altered byte."""
    blob = bytes(blob or b"")
    head = len(BLOB_VERSION) + NONCE_SIZE
    if len(key) != KEY_SIZE or not blob.startswith(BLOB_VERSION) or len(blob) < head + 16:
        raise PkiError("decrypt_failed")
    nonce = blob[len(BLOB_VERSION):head]
    try:
        return AESGCM(key).decrypt(nonce, blob[head:], bytes(aad))
    except InvalidTag:
        raise PkiError("decrypt_failed") from None
