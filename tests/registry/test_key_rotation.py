"""`aixin rotate-keys`: every encrypted column moves to the current key in short batches, an
interrupted run continues, values edited meanwhile are kept, and the blind indexes (ID-number
search, duplicate detection) keep working because their key never rotates."""

from __future__ import annotations

import base64
import io
import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from aixin.audit.models import AuditEvent
from aixin.ingest.credentials import credential_create
from aixin.lib import crypto
from aixin.lib.errors import Conflict
from aixin.registry import derive, keyrotation, selectors, services
from aixin.registry.models import Child
from tests import factories
from tests.registry.helpers import child_data, grandma, new_id
from tests.registry.test_encrypted_fields import disabled_father_dead_mother


def raw_tokens() -> dict[tuple[str, int], str]:
    """Every non-empty token of every encrypted column, read with SQL: {(column, pk): token}."""
    out: dict[tuple[str, int], str] = {}
    for spec in crypto.ENCRYPTED_FIELDS:
        try:
            model = apps.get_model(spec.model)
        except LookupError:
            continue
        column = model._meta.get_field(spec.field).column
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {column} FROM {model._meta.db_table}")  # noqa: S608
            for pk, token in cursor.fetchall():
                if token:
                    out[(f"{spec.model}.{spec.field}", pk)] = token
    return out


def plaintexts() -> dict[tuple[str, int], str]:
    contexts = {f"{s.model}.{s.field}": s.context for s in crypto.ENCRYPTED_FIELDS}
    return {k: crypto.decrypt(t, context=contexts[k[0]]) for k, t in raw_tokens().items()}


def legacy_v1(plain: str, context: str) -> str:
    """A token as the code before keyrings wrote it (AES-256-GCM under the SECRET_KEY-derived key)."""
    from django.conf import settings

    key = crypto._derive(settings.SECRET_KEY, b"field-encryption")
    nonce = os.urandom(12)
    return (
        "v1:"
        + base64.urlsafe_b64encode(
            nonce + AESGCM(key).encrypt(nonce, plain.encode(), context.encode())
        ).decode()
    )


@pytest.fixture
def world(users, tree):
    admin = users["district_admin"]
    numbers = [new_id(seq=n) for n in (11, 12, 13)]
    children = [
        services.child_create(
            actor=admin,
            data=child_data(
                tree.village_a1, name=f"儿童{i}", id_number=number, address=f"红花村{i}组", notes="备注"
            ),
            guardians=[grandma(f"1391234567{i}")],
            conditions=disabled_father_dead_mother(),
        )
        for i, number in enumerate(numbers)
    ]
    volunteer = factories.make_volunteer(tree.village_a1)
    derive.set_volunteer_id_number(volunteer, new_id(seq=40))
    volunteer.save()
    credential_create(
        actor=factories.make_user("system_admin", tree.city, "sysadmin"),
        name="民政系统",
        source="civil_affairs",
        region=tree.city,
    )
    # One child written before keyrings existed.
    Child.objects.filter(pk=children[0].pk).update(
        id_number_encrypted=legacy_v1(numbers[0], derive.ID_CONTEXT)
    )
    return {"children": children, "numbers": numbers, "admin": admin}


@pytest.fixture
def new_key(settings):
    """Make key 2 current (key 1, the demo key, stays in the keyring to read the old values)."""
    size = 16 if crypto.sm4_gcm_supported() else 32
    settings.AIXIN_FIELD_KEYS = f"2:{base64.urlsafe_b64encode(os.urandom(size)).decode()}"
    crypto.forget_key_file_state()
    return crypto.keyring().prefix


def rotate(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("rotate-keys", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_rotation_moves_every_encrypted_value_to_the_new_key_and_each_reads_the_same(world, new_key):
    before = plaintexts()
    assert len(before) >= 3 * 6 + 3  # children × (id, address, notes, phone, grade, category) + others
    assert not any(t.startswith(new_key) for t in raw_tokens().values())
    report = rotate("--batch", "2")
    assert report["complete"] is True
    assert report["rotated"] == len(before)
    assert all(t.startswith(new_key) for t in raw_tokens().values())
    assert plaintexts() == before
    child = Child.objects.get(pk=world["children"][0].pk)
    assert derive.reveal_id_number(child) == world["numbers"][0]
    assert child.address == "红花村0组"


def test_an_interrupted_rotation_continues_where_it_stopped(world, new_key):
    total = len(raw_tokens())
    # Three batches of two: the three children's ID numbers (2 + 1), then two addresses.
    first = rotate("--batch", "2", "--max-batches", "3")
    assert first["interrupted"] is True
    assert first["rotated"] == 5
    assert first["remaining"] == total - 5
    assert sum(t.startswith(new_key) for t in raw_tokens().values()) == 5
    second = rotate("--batch", "2")
    assert second["complete"] is True
    assert second["rotated"] == total - 5
    assert all(t.startswith(new_key) for t in raw_tokens().values())


def test_id_number_search_and_duplicate_detection_work_after_rotation(world, new_key, users, tree):
    index_before = Child.objects.values_list("id_number_index", flat=True).order_by("pk")
    index_before = list(index_before)
    rotate()
    assert list(Child.objects.values_list("id_number_index", flat=True).order_by("pk")) == index_before
    number = world["numbers"][0]  # the child whose token was a pre-keyring "v1:" one
    found = selectors.child_list(user=world["admin"], filters={"q": number})
    assert [c.pk for c in found] == [world["children"][0].pk]
    with pytest.raises(Conflict, match="已在台账中"):
        services.child_create(
            actor=world["admin"],
            data=child_data(tree.village_a1, id_number=number),
            guardians=[],
            conditions=[],
        )


def test_a_value_edited_while_its_batch_is_rotated_is_kept(world, new_key, monkeypatch):
    target = world["children"][1]
    read = Child.objects.get(pk=target.pk).address_encrypted
    original = crypto.reencrypt

    def edit_meanwhile(token: str, *, context: str, ring: Any = None) -> str:
        result = original(token, context=context, ring=ring)
        if token == read:
            # Someone saves a new address after the batch read the row and before it writes.
            Child.objects.filter(pk=target.pk).update(
                address_encrypted=crypto.encrypt("新搬迁安置点", context=derive.ADDRESS_CONTEXT)
            )
        return result

    monkeypatch.setattr(keyrotation.crypto, "reencrypt", edit_meanwhile)
    report = rotate()
    assert Child.objects.get(pk=target.pk).address == "新搬迁安置点"
    assert report["complete"] is True  # the edit was written under the current key already


def test_a_dry_run_counts_values_per_key_and_writes_nothing(world, new_key):
    before = raw_tokens()
    report = rotate("--dry-run")
    assert raw_tokens() == before
    ids = next(c for c in report["columns"] if c["field"] == "id_number_encrypted" and "Child" in c["model"])
    assert sum(ids["by_key"].values()) == 3
    assert ids["by_key"]["k1:aes-256-gcm"] >= 1  # the "v1:" token is key 1, AES-256-GCM
    assert report["complete"] is False
    assert not AuditEvent.objects.filter(object_type="field_keys").exists()


def test_a_value_that_does_not_open_is_reported_and_everything_else_is_rotated(world, new_key):
    broken = world["children"][2]
    Child.objects.filter(pk=broken.pk).update(
        notes_encrypted="k1:aes-256-gcm:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 项无法解密"):
        call_command("rotate-keys", stdout=out)
    assert f"主键 {broken.pk}）：the value does not open for 'child.notes'" in out.getvalue()
    left = [k for k, t in raw_tokens().items() if not t.startswith(new_key)]
    assert left == [("registry.Child.notes_encrypted", broken.pk)]


def test_rotation_keeps_versions_and_update_times_and_is_audited(world, new_key):
    before = list(Child.objects.order_by("pk").values_list("version", "updated_at"))
    report = rotate()
    assert list(Child.objects.order_by("pk").values_list("version", "updated_at")) == before
    event = AuditEvent.objects.get(object_type="field_keys")
    assert event.object_id == new_key.rstrip(":")
    assert f"重新加密 {report['rotated']} 项" in event.summary


def test_a_second_run_after_completion_has_nothing_to_do(world, new_key):
    rotate()
    again = rotate()
    assert (again["rotated"], again["remaining"], again["complete"]) == (0, 0, True)
