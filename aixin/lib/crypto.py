"""Field encryption at rest and keyed blind indexes (R-12.3, R-12.4).

Sensitive columns hold tokens `k<id>:<algorithm>:<base64(nonce + ciphertext + tag)>`: the value
sealed with SM4-GCM or AES-256-GCM under key `<id>` of a keyring, a random 96-bit nonce, and a
context string (e.g. "child.address") as associated data, so that a token moved to another
column fails to open. Tokens written before keyrings existed (`v1:…`, AES-256-GCM) open with key 1.

The keyring (first key = current, the others only decrypt) comes from the settings, never from
the database:
- `AIXIN_FIELD_KEY_FILE`: a file (not readable by other users) with one `id:algorithm:base64key`
  line per key, or
- `AIXIN_FIELD_KEYS`: `"3:base64key,2:base64key"` (an entry may also be `id:algorithm:base64key`),
- and the single legacy `AIXIN_FIELD_KEY` (or, without it, a key derived from SECRET_KEY) as key 1.
`AIXIN_FIELD_CIPHER` ("auto" | "sm4-gcm" | "aes-256-gcm") is the algorithm new tokens use: "auto"
picks SM4-GCM when the installed cryptography/OpenSSL can do it. A 16-byte key serves SM4 only; a
32-byte key serves AES-256 directly and SM4 through an HKDF-derived 16-byte subkey.

`ENCRYPTED_FIELDS` lists every encrypted column; `aixin rotate-keys` re-encrypts those whose
tokens are not on the current key and algorithm. Look-up and uniqueness use an HMAC-SHA256 blind
index under a separate key (`AIXIN_BLIND_INDEX_KEY`), which rotation never touches: the index of
a value stays the same whatever key encrypts it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import functools
import hashlib
import hmac
import os
import stat
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SM4_GCM = "sm4-gcm"
AES_256_GCM = "aes-256-gcm"
ALGORITHMS = (SM4_GCM, AES_256_GCM)
CIPHER_CHOICES = ("auto", *ALGORITHMS)
NONCE_BYTES = 12
TAG_BYTES = 16
LEGACY_KEY_ID = 1
_LEGACY_VERSION = "v1"
# How often a running process looks at the key file again (a new current key is picked up
# without a restart).
KEY_FILE_RECHECK_SECONDS = 2.0


class KeyringError(ValueError):
    """The key configuration cannot be used; the message says what to fix."""


class DecryptionError(ValueError):
    """A token that does not open: altered, for another column, or under an unknown key."""


@dataclass(frozen=True)
class EncryptedField:
    """One encrypted column: `model` as "app_label.ModelName", the TextField holding the tokens,
    and the context bound into them."""

    model: str
    field: str
    context: str


# Every encrypted column, in one place: rotation re-encrypts exactly these, and a test fails
# when a model has an `*_encrypted` column missing here.
ENCRYPTED_FIELDS: tuple[EncryptedField, ...] = (
    EncryptedField("registry.Child", "id_number_encrypted", "child.id_number"),
    EncryptedField("registry.Child", "address_encrypted", "child.address"),
    EncryptedField("registry.Child", "notes_encrypted", "child.notes"),
    EncryptedField("registry.Guardian", "phone_encrypted", "guardian.phone"),
    EncryptedField(
        "registry.ParentCondition", "disability_grade_encrypted", "parent_condition.disability_grade"
    ),
    EncryptedField(
        "registry.ParentCondition", "disability_category_encrypted", "parent_condition.disability_category"
    ),
    EncryptedField("volunteers.Volunteer", "phone_encrypted", "volunteer.phone"),
    EncryptedField("volunteers.Volunteer", "id_number_encrypted", "volunteer.id_number"),
    EncryptedField("ingest.DepartmentCredential", "secret_encrypted", "ingest.credential"),
    EncryptedField("taskforces.TaskForceMember", "phone_encrypted", "taskforce.member_phone"),
    EncryptedField("accounts.TotpDevice", "secret_encrypted", "user.totp"),
    EncryptedField("care.CareRecord", "notes_encrypted", "care_record.notes"),
    EncryptedField("notify.Notification", "body_encrypted", "notification.body"),
    EncryptedField("cases.Referral", "reason_encrypted", "case_referral.reason"),
    # The data keys of the append-only columns below: rotation re-wraps these, never the rows.
    EncryptedField("ops.DataKey", "wrapped_encrypted", "ops.data_key"),
)

# Columns of append-only tables (risk reports, case events, task-force progress notes), named
# `*_sealed`: sealed once under a data key of their context (aixin.ops.datakeys), which the
# keyring wraps. Key rotation re-wraps the data keys and never rewrites these rows, which the
# database refuses to change anyway. A test fails when a model has a `*_sealed` column missing here.
SEALED_FIELDS: tuple[EncryptedField, ...] = (
    EncryptedField("cases.Report", "description_sealed", "case_report.description"),
    EncryptedField("cases.ReportEntry", "text_sealed", "case_report_entry.text"),
    EncryptedField("cases.CaseEvent", "note_sealed", "case_event.note"),
    EncryptedField("taskforces.ActionNote", "text_sealed", "taskforce.action_note"),
)


def context_of(model: str, field_name: str) -> str:
    """The context of a registered column (so that writers and rotation cannot disagree)."""
    for spec in (*ENCRYPTED_FIELDS, *SEALED_FIELDS):
        if spec.model == model and spec.field == field_name:
            return spec.context
    raise KeyError(f"{model}.{field_name} is not in crypto.ENCRYPTED_FIELDS or crypto.SEALED_FIELDS")


# ---------------------------------------------------------------------------------------------
# Algorithms


@cache
def sm4_gcm_supported() -> bool:
    """Whether the installed cryptography and OpenSSL can seal with SM4-GCM (checked by doing it)."""
    sm4 = getattr(algorithms, "SM4", None)
    if sm4 is None:
        return False
    try:
        encryptor = Cipher(sm4(bytes(16)), modes.GCM(bytes(NONCE_BYTES))).encryptor()
        encryptor.authenticate_additional_data(b"aixin")
        encryptor.update(b"probe")
        encryptor.finalize()
    except (UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def resolve_cipher(setting: str) -> str:
    """The algorithm that AIXIN_FIELD_CIPHER asks for, refusing one that cannot be used here."""
    choice = (setting or "auto").strip().lower()
    if choice not in CIPHER_CHOICES:
        raise KeyringError(f"AIXIN_FIELD_CIPHER must be one of {', '.join(CIPHER_CHOICES)}, got {setting!r}")
    if choice == "auto":
        return SM4_GCM if sm4_gcm_supported() else AES_256_GCM
    if choice == SM4_GCM and not sm4_gcm_supported():
        raise KeyringError(
            "AIXIN_FIELD_CIPHER=sm4-gcm, but the installed cryptography/OpenSSL cannot do SM4-GCM; "
            "upgrade them or set AIXIN_FIELD_CIPHER=aes-256-gcm"
        )
    return choice


@lru_cache(maxsize=64)
def _working_key(secret: bytes, algorithm: str) -> bytes:
    if algorithm == AES_256_GCM:
        if len(secret) != 32:
            raise KeyringError("an aes-256-gcm key must be 32 bytes")
        return secret
    if len(secret) == 16:
        return secret
    return HKDF(algorithm=SHA256(), length=16, salt=b"aixin", info=b"sm4-gcm field key").derive(secret)


@dataclass(frozen=True)
class FieldKey:
    id: int
    algorithm: str  # the algorithm it seals with while it is the current key
    secret: bytes = field(repr=False)

    def working_key(self, algorithm: str) -> bytes:
        return _working_key(self.secret, algorithm)


def _seal(algorithm: str, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if algorithm == AES_256_GCM:
        return AESGCM(key).encrypt(nonce, data, aad)
    encryptor = Cipher(_sm4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    sealed = encryptor.update(data) + encryptor.finalize()
    return sealed + encryptor.tag


@functools.lru_cache(maxsize=16)
def _sm4(key: bytes) -> algorithms.SM4:
    """The SM4 cipher of a key, checked once (imports seal two values a row)."""
    return algorithms.SM4(key)


def _open(algorithm: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    if algorithm == AES_256_GCM:
        return AESGCM(key).decrypt(nonce, sealed, aad)
    if len(sealed) < TAG_BYTES:
        raise InvalidTag
    decryptor = Cipher(_sm4(key), modes.GCM(nonce, sealed[-TAG_BYTES:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(sealed[:-TAG_BYTES]) + decryptor.finalize()


# ---------------------------------------------------------------------------------------------
# The keyring


@dataclass(frozen=True)
class Keyring:
    current: FieldKey
    keys: Mapping[int, FieldKey]
    index_key: bytes = field(repr=False)

    @property
    def prefix(self) -> str:
        """What every token under the current key and algorithm starts with."""
        return f"k{self.current.id}:{self.current.algorithm}:"

    def key(self, key_id: int) -> FieldKey:
        found = self.keys.get(key_id)
        if found is None:
            raise DecryptionError(
                f"key {key_id} is not in the keyring: keep every key that tokens still use "
                "(see `aixin rotate-keys --dry-run`) until rotation has finished"
            )
        return found


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=b"aixin", info=label).derive(secret.encode())


def _decode_key(text: str, where: str) -> bytes:
    raw = text.strip()
    try:
        secret = base64.urlsafe_b64decode(raw.replace("+", "-").replace("/", "_") + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyringError(f"{where}: the key is not valid base64") from exc
    if len(secret) not in (16, 32):
        raise KeyringError(f"{where}: a key must be 16 bytes (SM4) or 32 bytes, got {len(secret)}")
    return secret


def _key_id(text: str, where: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise KeyringError(f"{where}: the key id must be a positive integer, got {text!r}")
    return int(text)


def _algorithm(text: str, where: str) -> str:
    name = text.strip().lower()
    if name not in ALGORITHMS:
        raise KeyringError(f"{where}: the algorithm must be {' or '.join(ALGORITHMS)}, got {text!r}")
    return name


def _make_key(key_id: int, algorithm: str, secret: bytes, where: str) -> FieldKey:
    if algorithm == AES_256_GCM and len(secret) != 32:
        raise KeyringError(f"{where}: an aes-256-gcm key must be 32 bytes, got {len(secret)}")
    if algorithm == SM4_GCM and not sm4_gcm_supported():
        raise KeyringError(f"{where}: key {key_id} is sm4-gcm, but this installation cannot do SM4-GCM")
    return FieldKey(key_id, algorithm, secret)


def parse_key_list(text: str, *, default_algorithm: str) -> list[FieldKey]:
    """AIXIN_FIELD_KEYS: comma-separated `id:base64key` or `id:algorithm:base64key`, current first."""
    out: list[FieldKey] = []
    for n, entry in enumerate((e for e in text.split(",") if e.strip()), start=1):
        where = f"AIXIN_FIELD_KEYS entry {n}"
        parts = entry.strip().split(":")
        if len(parts) == 2:
            key_id, algorithm, secret = parts[0], default_algorithm, parts[1]
        elif len(parts) == 3:
            key_id, algorithm, secret = parts[0], _algorithm(parts[1], where), parts[2]
        else:
            raise KeyringError(f"{where}: expected id:base64key or id:algorithm:base64key")
        out.append(_make_key(_key_id(key_id, where), algorithm, _decode_key(secret, where), where))
    return out


def check_key_file_permissions(path: str) -> None:
    """Refuse a key file that other users may read or write."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise KeyringError(f"AIXIN_FIELD_KEY_FILE {path} cannot be read: {exc.strerror}") from exc
    if mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH):
        raise KeyringError(
            f"AIXIN_FIELD_KEY_FILE {path} is accessible to other users (mode {stat.filemode(mode)}); "
            f"run `chmod 600 {path}` (owned by the user the application runs as)"
        )


def parse_key_file(path: str) -> list[FieldKey]:
    """AIXIN_FIELD_KEY_FILE: one `id:algorithm:base64key` per line, current first; blank lines
    and lines starting with # are ignored."""
    check_key_file_permissions(path)
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    out: list[FieldKey] = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{path} line {number}"
        parts = text.split(":")
        if len(parts) != 3:
            raise KeyringError(f"{where}: expected id:algorithm:base64key")
        key_id, algorithm = _key_id(parts[0], where), _algorithm(parts[1], where)
        out.append(_make_key(key_id, algorithm, _decode_key(parts[2], where), where))
    if not out:
        raise KeyringError(f"AIXIN_FIELD_KEY_FILE {path} holds no key")
    return out


def build_keyring(
    *,
    cipher: str = "auto",
    keys: str = "",
    key_file: str = "",
    legacy_key: str = "",
    index_key: str = "",
    secret_key: str = "",
) -> Keyring:
    """The keyring from the settings' values (see the module docstring)."""
    algorithm = resolve_cipher(cipher)
    if keys.strip() and key_file.strip():
        raise KeyringError("set either AIXIN_FIELD_KEYS or AIXIN_FIELD_KEY_FILE, not both")
    listed: list[FieldKey] = []
    if key_file.strip():
        listed = parse_key_file(key_file.strip())
    elif keys.strip():
        listed = parse_key_list(keys, default_algorithm=algorithm)
    if listed and cipher.strip().lower() in ALGORITHMS and listed[0].algorithm != algorithm:
        raise KeyringError(
            f"the current key {listed[0].id} seals with {listed[0].algorithm}, "
            f"but AIXIN_FIELD_CIPHER={cipher}; make them agree (or set AIXIN_FIELD_CIPHER=auto)"
        )
    by_id: dict[int, FieldKey] = {}
    for key in listed:
        if key.id in by_id:
            raise KeyringError(f"key id {key.id} is listed twice")
        by_id[key.id] = key
    if legacy_key:
        legacy = _decode_key(legacy_key, "AIXIN_FIELD_KEY")
        if len(legacy) != 32:
            raise KeyringError("AIXIN_FIELD_KEY must be 32 bytes, url-safe base64 encoded")
    else:
        legacy = _derive(secret_key, b"field-encryption")
    known = by_id.get(LEGACY_KEY_ID)
    if known is None:
        by_id[LEGACY_KEY_ID] = FieldKey(LEGACY_KEY_ID, algorithm, legacy)
    elif legacy_key and known.secret != legacy:
        raise KeyringError("key id 1 is AIXIN_FIELD_KEY; give the listed key 1 the same value or another id")
    current = listed[0] if listed else by_id[LEGACY_KEY_ID]
    index = base64.urlsafe_b64decode(index_key) if index_key else _derive(secret_key, b"blind-index")
    return Keyring(current=current, keys=by_id, index_key=index)


@lru_cache(maxsize=8)
def _cached_keyring(values: tuple[str, str, str, str, str, str], file_stamp: Any) -> Keyring:
    cipher, keys, key_file, legacy_key, index_key, secret_key = values
    return build_keyring(
        cipher=cipher,
        keys=keys,
        key_file=key_file,
        legacy_key=legacy_key,
        index_key=index_key,
        secret_key=secret_key,
    )


_stamp_seen: dict[str, tuple[float, Any]] = {}


def _file_stamp(path: str) -> Any:
    """The key file's identity (so that an edited file is read again), re-checked every couple
    of seconds rather than on every value."""
    if not path:
        return None
    now = time.monotonic()
    seen = _stamp_seen.get(path)
    if seen is not None and now - seen[0] < KEY_FILE_RECHECK_SECONDS:
        return seen[1]
    try:
        st = os.stat(path)
        stamp: Any = (st.st_mtime_ns, st.st_size, st.st_mode, st.st_ino)
    except OSError:
        stamp = "missing"
    _stamp_seen[path] = (now, stamp)
    return stamp


def forget_key_file_state() -> None:
    """Make the next call read the key file again (tests, and rotate-keys before it starts)."""
    _stamp_seen.clear()
    _cached_keyring.cache_clear()


_pinned: contextvars.ContextVar[Keyring | None] = contextvars.ContextVar("aixin_keyring", default=None)


@contextlib.contextmanager
def pinned_keyring() -> Iterator[Keyring]:
    """Use one keyring for everything inside the block, in this thread (bulk work: an import
    encrypts and indexes hundreds of thousands of values, and looking the keyring up in the
    settings costs as much as the cipher). The keys cannot change in the middle of a batch."""
    ring = keyring()
    token = _pinned.set(ring)
    try:
        yield ring
    finally:
        _pinned.reset(token)


def keyring() -> Keyring:
    """The keyring of the current settings."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    from django.conf import settings

    key_file = str(getattr(settings, "AIXIN_FIELD_KEY_FILE", "") or "")
    values = (
        str(getattr(settings, "AIXIN_FIELD_CIPHER", "auto") or "auto"),
        str(getattr(settings, "AIXIN_FIELD_KEYS", "") or ""),
        key_file,
        str(settings.AIXIN_FIELD_KEY or ""),
        str(settings.AIXIN_BLIND_INDEX_KEY or ""),
        str(settings.SECRET_KEY),
    )
    return _cached_keyring(values, _file_stamp(key_file))


# ---------------------------------------------------------------------------------------------
# Tokens


def encrypt(plaintext: str, *, context: str, ring: Keyring | None = None) -> str:
    """Encrypt `plaintext` under the current key; `context` (e.g. "child.id_number") is bound as
    associated data so a ciphertext cannot be moved to another field. "" stays ""."""
    if plaintext == "":
        return ""
    ring = ring or keyring()
    key = ring.current
    nonce = os.urandom(NONCE_BYTES)
    sealed = _seal(key.algorithm, key.working_key(key.algorithm), nonce, plaintext.encode(), context.encode())
    return f"k{key.id}:{key.algorithm}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def token_key(token: str) -> tuple[int, str]:
    """The key id and algorithm a token was sealed with."""
    head, _, rest = token.partition(":")
    if head == _LEGACY_VERSION:
        return LEGACY_KEY_ID, AES_256_GCM
    algorithm, sep, _ = rest.partition(":")
    if not (head.startswith("k") and head[1:].isdigit() and sep and algorithm in ALGORITHMS):
        raise DecryptionError(f"not an encrypted value (starts {token[:12]!r})")
    return int(head[1:]), algorithm


def decrypt(token: str, *, context: str, ring: Keyring | None = None) -> str:
    if token == "":
        return ""
    ring = ring or keyring()
    key_id, algorithm = token_key(token)
    body = token.split(":", 1 if token.startswith(_LEGACY_VERSION + ":") else 2)[-1]
    try:
        raw = base64.urlsafe_b64decode(body)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("the encrypted value is damaged (not base64)") from exc
    key = ring.key(key_id).working_key(algorithm)
    try:
        plain = _open(algorithm, key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError(
            f"the value does not open for {context!r}: altered, moved from another field, or key "
            f"{key_id} is not the key it was sealed with"
        ) from exc
    return plain.decode()


def needs_rotation(token: str, *, ring: Keyring | None = None) -> bool:
    """Whether a token is not under the current key and algorithm."""
    return token != "" and not token.startswith((ring or keyring()).prefix)


def reencrypt(token: str, *, context: str, ring: Keyring | None = None) -> str:
    """The same value under the current key (a token already on it is returned as it is)."""
    ring = ring or keyring()
    if not needs_rotation(token, ring=ring):
        return token
    return encrypt(decrypt(token, context=context, ring=ring), context=context, ring=ring)


def encrypt_int(value: int | None, *, context: str) -> str:
    return "" if value is None else encrypt(str(int(value)), context=context)


def decrypt_int(token: str, *, context: str) -> int | None:
    text = decrypt(token, context=context)
    return int(text) if text else None


class encrypted_text(property):
    """A model attribute over an encrypted column: reading opens it, assigning seals it, and the
    model's constructor accepts it as a keyword (Django admits properties there).
    `Model.attr.seal(text)` is the stored value, for inserts that name the column."""

    def __init__(self, column: str, context: str) -> None:
        super().__init__(
            lambda obj: self.open(getattr(obj, column)),
            lambda obj, value: setattr(obj, column, self.seal(value)),
            doc=f"The clear text of `{column}`.",
        )
        self.column = column
        self.context = context

    def seal(self, value: str) -> str:
        return encrypt(value or "", context=self.context)

    def open(self, token: str) -> str:
        return decrypt(token, context=self.context)


# ---------------------------------------------------------------------------------------------
# Data keys (for append-only columns: aixin.ops.datakeys keeps them, wrapped by the keyring)


def new_data_key(ring: Keyring | None = None) -> tuple[str, bytes]:
    """A fresh random data key for the current algorithm: (algorithm, key)."""
    algorithm = (ring or keyring()).current.algorithm
    return algorithm, os.urandom(32 if algorithm == AES_256_GCM else 16)


def seal_with_data_key(plaintext: str, *, key_id: int, algorithm: str, key: bytes, context: str) -> str:
    """`plaintext` sealed under data key `key_id`: `d<id>:<algorithm>:<base64(nonce + sealed)>`,
    with `context` as associated data. "" stays ""."""
    if plaintext == "":
        return ""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _seal(algorithm, key, nonce, plaintext.encode(), context.encode())
    return f"d{key_id}:{algorithm}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def data_key_id(token: str) -> tuple[int, str]:
    """The data key id and algorithm of a token made by `seal_with_data_key`."""
    head, _, rest = token.partition(":")
    algorithm, sep, _ = rest.partition(":")
    if not (head.startswith("d") and head[1:].isdigit() and sep and algorithm in ALGORITHMS):
        raise DecryptionError(f"not a sealed value (starts {token[:12]!r})")
    return int(head[1:]), algorithm


def open_with_data_key(token: str, *, key: bytes, context: str) -> str:
    """The plaintext of a `seal_with_data_key` token; DecryptionError when it does not open."""
    _key_id, algorithm = data_key_id(token)
    try:
        raw = base64.urlsafe_b64decode(token.split(":", 2)[2])
        plain = _open(algorithm, key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
    except (binascii.Error, InvalidTag, ValueError) as exc:
        raise DecryptionError(
            f"the value does not open for {context!r}: altered, moved from another field, or not "
            "under this data key"
        ) from exc
    return plain.decode()


def blind_index(value: str, *, context: str) -> str:
    """HMAC-SHA256 under the blind-index key, which key rotation never changes."""
    if value == "":
        return ""
    mac = _index_mac(keyring().index_key, context).copy()
    mac.update(value.encode())
    return mac.hexdigest()


@functools.lru_cache(maxsize=32)
def _index_mac(key: bytes, context: str) -> hmac.HMAC:
    """The HMAC state after the context prefix: copied for each value (half the cost of
    starting over, for the half a million ID numbers of a large import)."""
    return hmac.new(key, context.encode() + b"\0", hashlib.sha256)


# ---------------------------------------------------------------------------------------------
# Masks


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


_ADDRESS_PLACES = ("社区", "村", "居委会", "街道", "镇", "乡")


def mask_address(address: str) -> str:
    """Keep the address up to its village (or community, town) and hide the rest:
    "红花村3组12号" → "红花村****"; an address below the village only → "****"."""
    if not address:
        return ""
    cut = max((address.rfind(p) + len(p) for p in _ADDRESS_PLACES if p in address), default=0)
    return address[:cut] + "****"
