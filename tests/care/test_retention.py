"""When the registry minimises a closed child (retention), the care records about the child lose
their notes and photos; the records stay for the compliance figures."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aixin.care.models import CareRecord
from aixin.pairing.models import Pairing, PairingStatus
from aixin.registry.models import Child, ChildStatus
from aixin.registry.retention import children_minimise
from tests.care.helpers import paired_child, record

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def closed_long_ago(tree, settings, tmp_path):
    """A child paired, visited (a note and a photo), then unpaired and closed five years ago."""
    settings.MEDIA_ROOT = str(tmp_path)
    pairing = paired_child(tree.village_a1, name="王小丫")
    day = timezone.localdate() - datetime.timedelta(days=3)
    visit = record(
        pairing,
        day,
        ["weekly_contact"],
        kind="home_visit",
        notes="孩子说晚上一个人在家，害怕",
        photo=SimpleUploadedFile("visit.png", PNG, "image/png"),
    )
    call = record(pairing, day, ["weekly_contact"], notes="电话问了作业")
    Pairing.objects.filter(pk=pairing.pk).update(status=PairingStatus.ENDED)
    ended = timezone.now() - datetime.timedelta(days=5 * 366)
    Child.objects.filter(pk=pairing.child_id).update(
        status=ChildStatus.CLOSED, closed_at=ended, updated_at=ended
    )
    return {
        "child_id": pairing.child_id,
        "visit": visit,
        "call": call,
        "photo": Path(tmp_path) / visit.photo.name,
    }


def test_minimising_a_child_empties_the_notes_and_photos_of_the_care_records(
    closed_long_ago, django_capture_on_commit_callbacks
):
    assert closed_long_ago["photo"].exists()

    with django_capture_on_commit_callbacks(execute=True):
        result = children_minimise()

    assert result.child_ids == [closed_long_ago["child_id"]]
    visit = CareRecord.objects.get(pk=closed_long_ago["visit"].pk)
    call = CareRecord.objects.get(pk=closed_long_ago["call"].pk)
    assert (visit.notes_encrypted, visit.notes, visit.photo.name) == ("", "", "")
    assert (call.notes_encrypted, call.notes) == ("", "")
    assert not closed_long_ago["photo"].exists()
    # The records themselves stay: the compliance figures count them.
    assert (visit.kind, visit.date, visit.rules_mask) == (
        "home_visit",
        closed_long_ago["visit"].date,
        closed_long_ago["visit"].rules_mask,
    )


def test_a_dry_run_leaves_the_care_records_and_their_photos(closed_long_ago):
    children_minimise(dry_run=True)

    visit = CareRecord.objects.get(pk=closed_long_ago["visit"].pk)
    assert visit.notes == "孩子说晚上一个人在家，害怕" and visit.photo.name
    assert closed_long_ago["photo"].exists()


def test_the_care_records_of_a_child_still_within_the_retention_are_left(tree):
    pairing = paired_child(tree.village_a1, name="李小军")
    rec = record(pairing, timezone.localdate(), ["weekly_contact"], notes="一切都好")
    Pairing.objects.filter(pk=pairing.pk).update(status=PairingStatus.ENDED)
    Child.objects.filter(pk=pairing.child_id).update(status=ChildStatus.CLOSED, closed_at=timezone.now())

    assert children_minimise().child_ids == []
    assert CareRecord.objects.get(pk=rec.pk).notes == "一切都好"
