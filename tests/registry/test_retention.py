"""Minimisation of closed records after the retention period (aixin.registry.retention)."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from aixin.audit.models import AuditEvent
from aixin.lib.crypto import ENCRYPTED_FIELDS
from aixin.registry import derive
from aixin.registry.models import Child, ChildChange, ChildStatus, Guardian, ParentCondition
from aixin.registry.retention import MASKED, children_minimise
from aixin.registry.rules import Condition
from aixin.registry.tasks import minimise_closed_records
from tests import factories

NOW = timezone.make_aware(datetime.datetime(2026, 6, 1, 12, 0))
PHONE = "13912345678"


def _ended(
    tree: Any, *, name: str, years_ago: float, status: str = ChildStatus.CLOSED, closed_at: bool = True
) -> Child:
    child = factories.make_child(
        tree.village_a1,
        name=name,
        birth=datetime.date(2012, 7, 15),
        guardian_phone=PHONE,
        conditions=[
            Condition(parent="father", kind="severe_disability", disability_grade=1, disability_category=2)
        ],
        school="红花村小学",
        grade="三年级",
        latitude=30.8,
        longitude=108.4,
    )
    child.address = "红花村3组12号"
    child.notes = "父亲长期住院，母亲改嫁"
    child.source_hashes = {"civil_affairs": "5d41402abc4b2a76b9719d911017c592aaaaaaaa"}
    child.save()
    ParentCondition.objects.filter(child=child).update(evidence="残疾证 5001011980")
    ChildChange.objects.create(
        child=child, field="address", old_value="红花村****", new_value="", reason="家访时核实：住在张家院子"
    )
    ChildChange.objects.create(child=child, field="care_tier", old_value="团体关爱", new_value="困难关爱")
    ended_at = NOW - datetime.timedelta(days=round(365.25 * years_ago))
    Child.objects.filter(pk=child.pk).update(
        status=status,
        closed_as="moved_away" if status == "closed" else "",
        closed_reason="迁往成都市投奔母亲",
        closed_at=ended_at if closed_at else None,
        updated_at=ended_at,
    )
    child.refresh_from_db()
    return child


def test_a_child_closed_longer_than_the_retention_keeps_only_initial_birth_year_and_district(
    tree: Any, settings: Any
) -> None:
    settings.AIXIN_RETENTION_YEARS = 3
    child = _ended(tree, name="欧阳晓琳", years_ago=3.5)

    result = children_minimise(now=NOW)

    assert result.child_ids == [child.pk]
    child.refresh_from_db()
    assert child.name == "欧*"
    assert child.id_number_encrypted == ""
    assert child.id_number_masked == ""
    assert child.id_number_index == f"minimised-{child.pk}"
    assert child.birth_date == datetime.date(2012, 1, 1)
    assert (child.district_id, child.town_id, child.region_id) == (tree.district_a.pk,) * 3
    assert (child.address_encrypted, child.notes_encrypted) == ("", "")
    assert (child.address, child.notes) == ("", "")
    assert (child.latitude, child.longitude, child.school, child.grade) == (None, None, "", "")
    assert (child.closed_reason, child.dedupe_key, child.ethnicity) == ("", "", "")
    assert child.source_hashes == {}
    assert child.minimised_at == NOW
    # Kept for statistics.
    assert child.sex == "M"
    assert child.closed_as == "moved_away"  # why children leave, counted without who
    assert child.status == ChildStatus.CLOSED
    guardian = Guardian.objects.get(child=child)
    assert (guardian.name, guardian.phone_encrypted, guardian.phone_index, guardian.phone_masked) == (
        "",
        "",
        "",
        "",
    )
    assert guardian.relation == "祖母"
    condition = ParentCondition.objects.get(child=child)
    assert (condition.evidence, condition.disability_grade, condition.disability_category) == ("", None, None)
    assert condition.kind == "severe_disability"


def test_the_history_of_a_minimised_child_no_longer_shows_old_personal_values(tree: Any) -> None:
    child = _ended(tree, name="欧阳晓琳", years_ago=4)

    children_minimise(now=NOW)

    address = ChildChange.objects.get(child=child, field="address")
    assert (address.old_value, address.new_value, address.reason) == (MASKED, MASKED, "")
    tier = ChildChange.objects.get(child=child, field="care_tier")
    assert (tier.old_value, tier.new_value) == ("团体关爱", "困难关爱")
    assert ChildChange.objects.filter(child=child, field="minimised").count() == 1
    # Nothing of the child's identity is left anywhere in its rows.
    texts = [
        str(v)
        for v in ChildChange.objects.filter(child=child).values_list("old_value", "new_value", "reason")
    ]
    # Only the text fields: a timestamp's microseconds may hold any four digits.
    rows = [*Child.objects.filter(pk=child.pk).values(), *Guardian.objects.filter(child=child).values()]
    texts += [value for row in rows for value in row.values() if isinstance(value, str)]
    blob = "".join(texts)
    for secret in ("晓琳", "红花村", "张家院子", "成都", "2012-07-15", PHONE[-4:], "小学"):
        assert secret not in blob


def test_a_child_closed_within_the_retention_is_left_as_it_is(tree: Any, settings: Any) -> None:
    settings.AIXIN_RETENTION_YEARS = 3
    child = _ended(tree, name="欧阳晓琳", years_ago=2.5)
    active = factories.make_child(tree.village_a1, name="王大力")
    Child.objects.filter(pk=active.pk).update(updated_at=NOW - datetime.timedelta(days=3650))
    before = list(Child.objects.order_by("pk").values())

    result = children_minimise(now=NOW)

    assert result.count == 0
    assert list(Child.objects.order_by("pk").values()) == before
    assert not AuditEvent.objects.filter(object_type="retention").exists()
    assert derive.reveal_guardian_phone(Guardian.objects.get(child=child)) == PHONE


def test_the_retention_is_a_setting(tree: Any, settings: Any) -> None:
    child = _ended(tree, name="欧阳晓琳", years_ago=2.5)
    settings.AIXIN_RETENTION_YEARS = 2

    assert children_minimise(now=NOW).child_ids == [child.pk]


def test_handed_over_and_archived_children_without_a_closing_date_are_minimised_by_their_last_change(
    tree: Any,
) -> None:
    handed = _ended(tree, name="欧阳晓琳", years_ago=5, status=ChildStatus.HANDED_OVER, closed_at=False)
    archived = _ended(tree, name="司马光明", years_ago=5, status=ChildStatus.ARCHIVED, closed_at=False)
    recent = _ended(tree, name="诸葛亮亮", years_ago=1, status=ChildStatus.ARCHIVED, closed_at=False)

    assert children_minimise(now=NOW).child_ids == [handed.pk, archived.pk]
    recent.refresh_from_db()
    assert recent.minimised_at is None


def test_minimising_twice_changes_nothing_the_second_time_and_audits_one_event_per_run(tree: Any) -> None:
    first = _ended(tree, name="欧阳晓琳", years_ago=4)
    _ended(tree, name="司马光明", years_ago=4)

    assert children_minimise(now=NOW).count == 2
    after_first = list(Child.objects.order_by("pk").values())
    history_first = ChildChange.objects.count()
    assert children_minimise(now=NOW + datetime.timedelta(days=1)).count == 0

    assert list(Child.objects.order_by("pk").values()) == after_first
    assert ChildChange.objects.count() == history_first
    event = AuditEvent.objects.get(object_type="retention")
    assert event.details["count"] == 2
    assert first.pk in event.details["child_ids"]
    assert "2 名儿童" in event.summary


def test_a_dry_run_counts_without_writing(tree: Any) -> None:
    child = _ended(tree, name="欧阳晓琳", years_ago=4)

    result = children_minimise(now=NOW, dry_run=True)

    assert result.child_ids == [child.pk]
    child.refresh_from_db()
    assert child.minimised_at is None
    assert child.name == "欧阳晓琳"
    assert not AuditEvent.objects.filter(object_type="retention").exists()


def test_the_minimise_command_reports_and_writes_only_without_dry_run(tree: Any) -> None:
    child = _ended(tree, name="欧阳晓琳", years_ago=40)  # relative to today, not NOW
    out = StringIO()
    call_command("minimise", "--dry-run", stdout=out)
    assert "1 份待最小化" in out.getvalue()
    child.refresh_from_db()
    assert child.minimised_at is None

    out = StringIO()
    call_command("minimise", stdout=out)
    assert "已最小化 1 份" in out.getvalue()
    child.refresh_from_db()
    assert child.minimised_at is not None


def test_the_daily_job_minimises(tree: Any) -> None:
    child = _ended(tree, name="欧阳晓琳", years_ago=40)

    assert minimise_closed_records.call_local() == 1
    child.refresh_from_db()
    assert child.name == "欧*"


@pytest.mark.parametrize("spec", [s for s in ENCRYPTED_FIELDS if s.model.startswith("registry.")])
def test_every_encrypted_registry_column_is_emptied(tree: Any, spec: Any) -> None:
    """A new encrypted column on a child's records must be added to the minimisation."""
    from django.apps import apps

    _ended(tree, name="欧阳晓琳", years_ago=4)
    children_minimise(now=NOW)
    model = apps.get_model(spec.model)
    assert set(model.objects.values_list(spec.field, flat=True)) == {""}
