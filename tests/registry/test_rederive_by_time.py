"""The category rules depend on time: a left-behind child is one under 16; a parent's lost
contact counts once it has lasted six months. Each night the rules are applied again to the
children whose answers time alone can change, and the change is kept in their history."""

from __future__ import annotations

import datetime

from aixin.alerts.models import Alert, AlertKind, AlertStatus
from aixin.registry.models import Child, ChildChange
from aixin.registry.rules import Condition
from aixin.registry.services import TIME_REASON, children_rederive_by_time
from aixin.registry.tasks import rederive_by_time
from tests import factories

TODAY = datetime.date.today()


def born_years_ago(years: int, days: int) -> datetime.date:
    """Born `years` years and `days` days before today (not on a 29 February)."""
    day = TODAY - datetime.timedelta(days=days)
    return day.replace(year=day.year - years, day=min(day.day, 28))


def both_away() -> list[Condition]:
    return [Condition(parent="father", kind="working_away"), Condition(parent="mother", kind="working_away")]


def test_a_left_behind_child_who_turned_16_this_week_is_no_longer_counted_as_left_behind(tree):
    turned = factories.make_child(
        tree.village_a1, name="刚满十六", conditions=both_away(), household_type="rural"
    )
    young = factories.make_child(
        tree.village_a1, name="十四岁", conditions=both_away(), household_type="rural"
    )
    # Registered while 15, as the register would have left them:
    Child.objects.filter(pk=turned.pk).update(birth_date=born_years_ago(16, 3), is_left_behind=True)
    Child.objects.filter(pk=young.pk).update(birth_date=born_years_ago(14, 3))

    changed = children_rederive_by_time(today=TODAY)

    assert [c.pk for c in changed] == [turned.pk]
    turned.refresh_from_db()
    assert turned.is_left_behind is False
    row = ChildChange.objects.get(child=turned, field="is_left_behind")
    assert (row.old_value, row.new_value, row.source, row.reason) == ("是", "否", "rules", TIME_REASON)
    assert children_rederive_by_time(today=TODAY) == []  # the same night again: nothing


def test_a_parent_lost_for_six_months_makes_the_child_de_facto_unsupported_and_one_to_one(tree):
    conditions = [
        Condition(parent="father", kind="dead"),
        Condition(parent="mother", kind="lost_contact", started_on=TODAY - datetime.timedelta(days=170)),
    ]
    child = factories.make_child(tree.village_a1, name="母亲失联", conditions=conditions)
    assert (child.is_de_facto_unsupported, child.care_tier) == (False, "group")  # not six months yet

    changed = children_rederive_by_time(today=TODAY + datetime.timedelta(days=20))

    assert [c.pk for c in changed] == [child.pk]
    child.refresh_from_db()
    assert (child.is_de_facto_unsupported, child.care_tier) == (True, "one_to_one")
    alert = Alert.objects.get(child=child, kind=AlertKind.RETIERED)
    assert alert.status == AlertStatus.OPEN
    assert alert.message.startswith("关爱类型由团体关爱")


def test_a_child_someone_saves_meanwhile_is_left_to_that_save(tree, monkeypatch):
    from aixin.registry import services

    child = factories.make_child(
        tree.village_a1, name="同时修改", conditions=both_away(), household_type="rural"
    )
    Child.objects.filter(pk=child.pk).update(birth_date=born_years_ago(16, 2), is_left_behind=True)
    real = services._rederive

    def saved_by_someone_meanwhile(target, *, today=None):
        Child.objects.filter(pk=target.pk).update(version=target.version + 1, notes_encrypted="")
        real(target, today=today)

    monkeypatch.setattr(services, "_rederive", saved_by_someone_meanwhile)

    assert children_rederive_by_time(today=TODAY) == []
    assert not ChildChange.objects.filter(child=child).exists()
    assert Child.objects.get(pk=child.pk).is_left_behind is True  # that save applies the rules itself


def test_the_nightly_task_applies_the_rules_for_today(tree):
    child = factories.make_child(tree.village_a1, name="夜间", conditions=both_away(), household_type="rural")
    Child.objects.filter(pk=child.pk).update(birth_date=born_years_ago(16, 1), is_left_behind=True)

    assert rederive_by_time.call_local() == 1
    child.refresh_from_db()
    assert child.is_left_behind is False
