"""Field encryption at rest and keyed blind indexes (R-12.3).

Values are encrypted with AES-256-GCM under a key of their own (settings.AIXIN_FIELD_KEY), with
a random nonce and a key-version prefix so that keys can be rotated. Look-up and uniqueness use
an HMAC-SHA256 blind index under a second key, so the database never sees a plaintext and an
attacker with the database alone cannot test guesses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"aixin", info=label).derive(secret.encode())


@lru_cache(maxsize=4)
def _keys(field_key: str, index_key: str, secret_key: str) -> tuple[bytes, bytes]:
    enc = base64.urlsafe_b64decode(field_key) if field_key else _derive(secret_key, b"field-encryption")
    idx = base64.urlsafe_b64decode(index_key) if index_key else _derive(secret_key, b"blind-index")
    if len(enc) != 32:
        raise ValueError("AIXIN_FIELD_KEY must be 32 bytes, url-safe base64 encoded")
    return enc, idx


def _settings_keys() -> tuple[bytes, bytes]:
    from django.conf import settings

    return _keys(settings.AIXIN_FIELD_KEY, settings.AIXIN_BLIND_INDEX_KEY, settings.SECRET_KEY)


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt `plaintext`; `context` (e.g. "child.id_number") is bound as associated data so a
    ciphertext cannot be moved to another field."""
    if plaintext == "":
        return ""
    key, _ = _settings_keys()
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return _VERSION + ":" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str, *, context: str) -> str:
    if token == "":
        return ""
    version, _, body = token.partition(":")
    if version != _VERSION:
        raise ValueError(f"unknown key version {version!r}")
    key, _ = _settings_keys()
    raw = base64.urlsafe_b64decode(body)
    return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()


def blind_index(value: str, *, context: str) -> str:
    if value == "":
        return ""
    _, key = _settings_keys()
    return hmac.new(key, context.encode() + b"\0" + value.encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
