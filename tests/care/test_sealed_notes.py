"""A loving mother's notes after a visit ("孩子说爸爸喝了酒就打人") are sealed at rest like the
child's own notes: the table holds a token, the record reads back the text."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from aixin.care.models import NOTES_CONTEXT, CareRecord
from aixin.lib import crypto
from tests import factories
from tests.care.helpers import paired_child, record
from tests.migration_helpers import migration_test

NOTE = "孩子说爸爸喝了酒就打人，奶奶不让说"


def raw_notes(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes_encrypted FROM care_carerecord WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def test_the_notes_of_a_care_record_are_stored_sealed_and_read_back(tree):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, datetime.date.today(), ["weekly_contact"], notes=NOTE)

    stored = raw_notes(rec.pk)
    assert "孩子" not in stored and "打人" not in stored
    assert stored.startswith("k")  # a keyring token: key id, algorithm, sealed bytes
    assert CareRecord.objects.get(pk=rec.pk).notes == NOTE


def test_sealed_notes_do_not_open_as_another_field(tree):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, datetime.date.today(), ["weekly_contact"], notes=NOTE)

    assert crypto.decrypt(raw_notes(rec.pk), context=NOTES_CONTEXT) == NOTE
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(raw_notes(rec.pk), context="child.notes")


def test_a_record_without_notes_stores_nothing(tree):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, datetime.date.today(), ["weekly_contact"])

    assert raw_notes(rec.pk) == ""
    assert CareRecord.objects.get(pk=rec.pk).notes == ""


BEFORE = ("care", "0003_care_record_period_cover_index")
AFTER = ("care", "0006_remove_carerecord_notes")


@migration_test
@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_notes_and_its_reverse_opens_them():
    tree = factories.make_tree()
    pairing = paired_child(tree.village_a1)
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps.get_model("care", "CareRecord")
    fields = {
        "pairing_id": pairing.pk,
        "child_id": pairing.child_id,
        "volunteer_id": pairing.volunteer_id,
        "district_id": tree.district_a.pk,
        "town_id": tree.town_a1.pk,
        "village_id": tree.village_a1.pk,
        "date": datetime.date(2026, 3, 10),
        "kind": "phone",
    }
    written = old.objects.create(notes=NOTE, **fields)
    blank = old.objects.create(notes="", **fields)

    MigrationExecutor(connection).migrate([AFTER])
    assert NOTE not in raw_notes(written.pk)
    assert CareRecord.objects.get(pk=written.pk).notes == NOTE
    assert CareRecord.objects.get(pk=blank.pk).notes == ""

    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    back = executor.loader.project_state([BEFORE]).apps.get_model("care", "CareRecord")
    assert back.objects.get(pk=written.pk).notes == NOTE
    assert back.objects.get(pk=blank.pk).notes == ""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
