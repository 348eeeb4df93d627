"""Field encryption (aixin.lib.crypto): SM4-GCM and AES-256-GCM tokens, the keyring from the
environment or a key file, and the one list of encrypted columns."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps

from aixin.lib import crypto
from aixin.lib.crypto import AES_256_GCM, SM4_GCM, DecryptionError, KeyringError, build_keyring

needs_sm4 = pytest.mark.skipif(not crypto.sm4_gcm_supported(), reason="no SM4-GCM in this OpenSSL")


def key(n: int = 32) -> str:
    return base64.urlsafe_b64encode(os.urandom(n)).decode()


# Fixed keys for test parameters: the ids of parametrised tests must be the same in every
# pytest-xdist worker.
FIXED = base64.urlsafe_b64encode(bytes(range(32))).decode()
FIXED_OTHER = base64.urlsafe_b64encode(bytes(range(32, 64))).decode()
FIXED_16 = base64.urlsafe_b64encode(bytes(range(16))).decode()


def ring(keys: str = "", **kw):
    return build_keyring(keys=keys, secret_key="test-secret", **kw)


@needs_sm4
def test_sm4_gcm_matches_the_rfc_8998_test_vector():
    k = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plain = bytes.fromhex("".join(c * 16 for c in "ABCDEFEA"))
    sealed = crypto._seal(SM4_GCM, k, nonce, plain, aad)
    assert sealed[:-16].hex().upper() == (
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    assert sealed[-16:].hex().upper() == "83DE3541E4C2B58177E065A9BF7B62EC"
    assert crypto._open(SM4_GCM, k, nonce, sealed, aad) == plain


@pytest.mark.parametrize(
    ("algorithm", "size"),
    [
        pytest.param(SM4_GCM, 16, marks=needs_sm4),
        pytest.param(SM4_GCM, 32, marks=needs_sm4),
        (AES_256_GCM, 32),
    ],
)
def test_a_value_comes_back_unchanged_under_each_algorithm(algorithm, size):
    r = ring(f"4:{algorithm}:{key(size)}")
    token = crypto.encrypt("重庆市万州区红花村3组12号", context="child.address", ring=r)
    assert token.startswith(f"k4:{algorithm}:")
    assert "红花村" not in token
    assert crypto.decrypt(token, context="child.address", ring=r) == "重庆市万州区红花村3组12号"
    # A fresh nonce each time: equal values do not give equal tokens.
    assert crypto.encrypt("红花村", context="child.address", ring=r) != crypto.encrypt(
        "红花村", context="child.address", ring=r
    )


@pytest.mark.parametrize("algorithm", [pytest.param(SM4_GCM, marks=needs_sm4), AES_256_GCM])
def test_a_changed_character_makes_the_value_refuse_to_open(algorithm):
    r = ring(f"2:{algorithm}:{key()}")
    token = crypto.encrypt("13800001234", context="guardian.phone", ring=r)
    head, body = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(body))
    raw[15] ^= 0x01
    tampered = head + ":" + base64.urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(DecryptionError, match="does not open"):
        crypto.decrypt(tampered, context="guardian.phone", ring=r)


@pytest.mark.parametrize("algorithm", [pytest.param(SM4_GCM, marks=needs_sm4), AES_256_GCM])
def test_a_value_moved_to_another_field_refuses_to_open(algorithm):
    r = ring(f"2:{algorithm}:{key()}")
    token = crypto.encrypt("13800001234", context="guardian.phone", ring=r)
    with pytest.raises(DecryptionError):
        crypto.decrypt(token, context="volunteer.phone", ring=r)


def test_a_token_opens_with_the_key_it_names_while_a_newer_key_seals():
    k2, k3 = key(), key()
    before = ring(f"2:{AES_256_GCM}:{k2}")
    token = crypto.encrypt("500101201503041234", context="child.id_number", ring=before)
    after = ring(f"3:{AES_256_GCM}:{k3},2:{AES_256_GCM}:{k2}")
    assert after.current.id == 3
    assert crypto.decrypt(token, context="child.id_number", ring=after) == "500101201503041234"
    assert crypto.encrypt("x", context="c", ring=after).startswith(f"k3:{AES_256_GCM}:")
    assert crypto.needs_rotation(token, ring=after)
    fresh = crypto.reencrypt(token, context="child.id_number", ring=after)
    assert fresh.startswith(after.prefix)
    assert crypto.decrypt(fresh, context="child.id_number", ring=after) == "500101201503041234"


def test_a_token_under_a_retired_key_names_the_missing_key():
    token = crypto.encrypt("x", context="c", ring=ring(f"2:{AES_256_GCM}:{key()}"))
    with pytest.raises(DecryptionError, match="key 2 is not in the keyring"):
        crypto.decrypt(token, context="c", ring=ring(f"3:{AES_256_GCM}:{key()}"))


def test_values_sealed_before_keyrings_existed_still_open():
    legacy = key()
    old = AESGCM(base64.urlsafe_b64decode(legacy))
    nonce = os.urandom(12)
    sealed = old.encrypt(nonce, b"13800001234", b"guardian.phone")
    v1 = "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()
    # With the single old key, and with that key kept as key 1 beside a new current key.
    assert crypto.decrypt(v1, context="guardian.phone", ring=ring(legacy_key=legacy)) == "13800001234"
    both = ring(f"5:{AES_256_GCM}:{key()}", legacy_key=legacy)
    assert both.current.id == 5
    assert crypto.decrypt(v1, context="guardian.phone", ring=both) == "13800001234"
    assert crypto.needs_rotation(v1, ring=both)


def test_without_configured_keys_the_demo_key_from_secret_key_still_opens_old_values():
    derived = crypto._derive("test-secret", b"field-encryption")
    nonce = os.urandom(12)
    v1 = "v1:" + base64.urlsafe_b64encode(nonce + AESGCM(derived).encrypt(nonce, b"abc", b"c")).decode()
    assert crypto.decrypt(v1, context="c", ring=ring(f"2:{AES_256_GCM}:{key()}")) == "abc"


def test_auto_uses_sm4_gcm_where_it_is_available_and_aes_256_gcm_otherwise(monkeypatch):
    monkeypatch.setattr(crypto, "sm4_gcm_supported", lambda: False)
    assert ring(f"2:{key()}").current.algorithm == AES_256_GCM
    assert ring().current.algorithm == AES_256_GCM
    monkeypatch.setattr(crypto, "sm4_gcm_supported", lambda: True)
    assert ring(f"2:{key(16)}").current.algorithm == SM4_GCM
    assert ring().current.algorithm == SM4_GCM


def test_asking_for_sm4_where_it_is_unavailable_is_refused_with_the_way_out(monkeypatch):
    monkeypatch.setattr(crypto, "sm4_gcm_supported", lambda: False)
    with pytest.raises(KeyringError, match="AIXIN_FIELD_CIPHER=aes-256-gcm"):
        ring(cipher="sm4-gcm")


def test_a_cipher_setting_that_disagrees_with_the_current_key_is_refused():
    with pytest.raises(KeyringError, match="make them agree"):
        ring(f"2:{AES_256_GCM}:{key()}", cipher=SM4_GCM)
    with pytest.raises(KeyringError, match="must be one of"):
        ring(cipher="des")


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("2:not base64!!", "not valid base64"),
        (f"2:{base64.urlsafe_b64encode(b'short').decode()}", "16 bytes"),
        (f"x:{FIXED}", "positive integer"),
        (f"2:{AES_256_GCM}:{FIXED_16}", "must be 32 bytes"),
        (f"2:{FIXED},2:{FIXED_OTHER}", "listed twice"),
        (f"2:rot13:{FIXED}", "algorithm must be"),
    ],
)
def test_unusable_key_settings_are_refused_saying_what_is_wrong(keys, message):
    with pytest.raises(KeyringError, match=message):
        ring(keys, cipher=AES_256_GCM)


def write_key_file(tmp_path, text: str, mode: int = 0o600):
    path = tmp_path / "field-keys"
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_a_key_file_lists_keys_current_first(tmp_path):
    k7, k6 = key(), key()
    path = write_key_file(tmp_path, f"# rotated 2026-12\n7:{AES_256_GCM}:{k7}\n\n6:{AES_256_GCM}:{k6}\n")
    r = ring(key_file=path)
    assert r.current.id == 7
    assert sorted(r.keys) == [1, 6, 7]


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602])
def test_a_key_file_other_users_can_open_is_refused(tmp_path, mode):
    path = write_key_file(tmp_path, f"2:{AES_256_GCM}:{key()}\n", mode)
    with pytest.raises(KeyringError, match="chmod 600"):
        ring(key_file=path)


def test_key_file_and_key_list_together_are_refused(tmp_path):
    path = write_key_file(tmp_path, f"2:{AES_256_GCM}:{key()}\n")
    with pytest.raises(KeyringError, match="not both"):
        ring(f"3:{key()}", key_file=path)


def test_the_settings_keyring_follows_an_edited_key_file(tmp_path, settings):
    settings.AIXIN_FIELD_CIPHER = "auto"
    settings.AIXIN_FIELD_KEYS = ""
    path = write_key_file(tmp_path, f"2:{AES_256_GCM}:{key()}\n")
    settings.AIXIN_FIELD_KEY_FILE = path
    crypto.forget_key_file_state()
    token = crypto.encrypt("x", context="c")
    assert token.startswith(f"k2:{AES_256_GCM}:")
    old = (tmp_path / "field-keys").read_text()
    write_key_file(tmp_path, f"3:{AES_256_GCM}:{key()}\n" + old)
    crypto.forget_key_file_state()
    assert crypto.encrypt("x", context="c").startswith(f"k3:{AES_256_GCM}:")
    assert crypto.decrypt(token, context="c") == "x"


def test_the_blind_index_is_the_same_whichever_key_encrypts(settings):
    settings.AIXIN_FIELD_KEYS = f"2:{AES_256_GCM}:{key()}"
    first = crypto.blind_index("500101201503041234", context="child.id_number")
    settings.AIXIN_FIELD_KEYS = f"3:{AES_256_GCM}:{key()},2:{AES_256_GCM}:{key()}"
    assert crypto.blind_index("500101201503041234", context="child.id_number") == first


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("红花村3组12号", "红花村****"),
        ("重庆市万州区白羊镇红花村3组12号", "重庆市万州区白羊镇红花村****"),
        ("太白路社区5栋2单元", "太白路社区****"),
        ("3组12号", "****"),
        ("", ""),
    ],
)
def test_an_address_is_masked_below_the_village(address, masked):
    assert crypto.mask_address(address) == masked


def test_every_encrypted_column_is_in_the_rotation_list():
    """A model column named *_encrypted that rotate-keys does not know would keep old keys alive."""
    registered = {(f.model, f.field) for f in crypto.ENCRYPTED_FIELDS}
    assert _columns_named("_encrypted") == {(m, f) for m, f in registered if _model_exists(m)}


def test_every_sealed_column_is_registered_and_none_is_in_the_rotation_list():
    """A `*_sealed` column (append-only tables) must have its context registered, and rotation
    must never try to rewrite it (the database refuses)."""
    registered = {(f.model, f.field) for f in crypto.SEALED_FIELDS}
    assert _columns_named("_sealed") == {(m, f) for m, f in registered if _model_exists(m)}
    assert not registered & {(f.model, f.field) for f in crypto.ENCRYPTED_FIELDS}


def _columns_named(suffix: str) -> set[tuple[str, str]]:
    """(app_label.Model, column) of every installed model's column whose name ends in `suffix`."""
    return {
        (f"{m._meta.app_label}.{m.__name__}", f.name)
        for m in apps.get_models()
        for f in m._meta.concrete_fields
        if f.name.endswith(suffix)
    }


def _model_exists(label: str) -> bool:
    try:
        apps.get_model(label)
    except LookupError:
        return False
    return True


def test_writers_use_the_contexts_of_the_rotation_list():
    from aixin.ingest.credentials import SECRET_CONTEXT
    from aixin.registry import derive

    assert crypto.context_of("ingest.DepartmentCredential", "secret_encrypted") == SECRET_CONTEXT
    assert derive.PHONE_CONTEXT == "guardian.phone"
    assert derive.ID_CONTEXT == "child.id_number"
    if _model_exists("accounts.TotpDevice"):
        from aixin.accounts.totp import SECRET_CONTEXT as TOTP_CONTEXT

        assert crypto.context_of("accounts.TotpDevice", "secret_encrypted") == TOTP_CONTEXT
    if _model_exists("taskforces.TaskForceMember"):
        from aixin.taskforces.services import PHONE_CONTEXT

        assert crypto.context_of("taskforces.TaskForceMember", "phone_encrypted") == PHONE_CONTEXT
