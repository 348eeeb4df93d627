from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aixin.alerts.models import Alert, AlertKind
from aixin.ingest.triggers import after_batch
from aixin.registry.models import ChildStatus
from tests import factories
from tests.alerts.helpers import TODAY, born_turning_18_in, change, created, make_batch, open_alerts

ZERO = {k: 0 for k in AlertKind.values}


def test_a_new_one_to_one_child_without_a_mother_raises_an_unpaired_alert(tree):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1, name="新童", difficulty_life=True)
    created(batch, child)

    counts = after_batch(batch, today=TODAY)

    assert counts == {**ZERO, "unpaired": 1}
    alert = Alert.objects.get(child=child)
    assert alert.kind == AlertKind.UNPAIRED
    assert alert.message == "新纳入一对一关爱，尚未结对爱心妈妈"
    assert alert.batch == batch
    assert (alert.region, alert.town, alert.district) == (tree.village_a1, tree.town_a1, tree.district_a)


def test_a_new_many_to_one_child_is_named_as_such_in_the_alert(tree):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1, risk_harm_others=True)
    created(batch, child)

    after_batch(batch, today=TODAY)

    assert [a.message for a in open_alerts(child)] == ["新纳入多对一关爱，尚未结对爱心妈妈"]


def test_a_child_already_needing_a_mother_is_reminded_once_in_the_words_for_a_known_child(tree):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1, difficulty_life=True)
    change(batch, child, "school", "旧小学", "新小学")

    assert after_batch(batch, today=TODAY)["unpaired"] == 1
    assert [a.message for a in open_alerts(child)] == ["需一对一关爱，尚未结对爱心妈妈"]
    # The next batch touching her opens no second alert while this one is open.
    again = make_batch(tree)
    change(again, child, "grade", "三年级", "四年级")
    assert after_batch(again, today=TODAY)["unpaired"] == 0
    assert len(open_alerts(child)) == 1


def test_group_children_and_children_already_paired_raise_no_unpaired_alert(tree):
    batch = make_batch(tree)
    group_child = factories.make_child(tree.village_a1, name="团体童")
    paired = factories.make_child(tree.village_a1, name="已结对", difficulty_life=True)
    factories.make_active_pairing(paired, factories.make_volunteer(tree.village_a1))
    created(batch, group_child)
    change(batch, paired, "school", "旧小学", "新小学")

    assert after_batch(batch, today=TODAY) == ZERO
    assert not Alert.objects.exists()


def test_a_child_the_batch_did_not_touch_gets_no_alert(tree):
    batch = make_batch(tree)
    factories.make_child(tree.village_a1, difficulty_life=True, birth=born_turning_18_in(10))

    assert after_batch(batch, today=TODAY) == ZERO
    assert not Alert.objects.exists()


def test_a_changed_tier_raises_a_retiered_alert_saying_from_what_to_what(tree):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1, difficulty_life=True)
    change(batch, child, "difficulty_life", "否", "是")
    change(batch, child, "care_tier", "团体关爱（多对多）", "困难关爱（一对一）")

    counts = after_batch(batch, today=TODAY)

    assert counts["retiered"] == 1
    [alert] = open_alerts(child, AlertKind.RETIERED)
    assert alert.message == "关爱类型由团体关爱（多对多）调整为困难关爱（一对一）"
    # Now one-to-one and without a mother: she is also waiting to be paired.
    assert [a.message for a in open_alerts(child, AlertKind.UNPAIRED)] == [
        "新纳入一对一关爱，尚未结对爱心妈妈"
    ]


def test_a_new_child_is_not_reported_as_retiered(tree):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1, difficulty_life=True)
    created(batch, child)
    change(batch, child, "care_tier", "", "困难关爱（一对一）")

    assert after_batch(batch, today=TODAY)["retiered"] == 0


def test_a_child_turning_18_within_90_days_raises_a_handover_alert_due_on_the_birthday(tree):
    batch = make_batch(tree)
    soon = factories.make_child(tree.village_a1, name="将满", birth=born_turning_18_in(30))
    later = factories.make_child(tree.village_a1, name="还早", birth=born_turning_18_in(120))
    change(batch, soon, "school", "", "职教中心")
    change(batch, later, "school", "", "职教中心")

    counts = after_batch(batch, today=TODAY)

    assert counts["handover"] == 1
    [alert] = open_alerts(soon, AlertKind.HANDOVER)
    birthday = TODAY + datetime.timedelta(days=30)
    assert alert.due_on == birthday
    assert f"{birthday.year}年{birthday.month}月{birthday.day}日年满18周岁" in alert.message
    assert open_alerts(later) == []


def test_dropping_out_of_school_raises_a_risk_review(tree):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1, school_stage="dropped_out")
    change(batch, child, "school_stage", "初中", "辍学")

    assert after_batch(batch, today=TODAY)["risk_review"] == 1
    [alert] = open_alerts(child, AlertKind.RISK_REVIEW)
    assert "就学情况变为辍学" in alert.message


def test_a_new_justice_involved_flag_raises_a_risk_review(tree):
    batch = make_batch(tree, source="public_security")
    child = factories.make_child(tree.village_a1, is_justice_involved=True)
    change(batch, child, "is_justice_involved", "否", "是")

    after_batch(batch, today=TODAY)

    [alert] = open_alerts(child, AlertKind.RISK_REVIEW)
    assert "被标记为涉案未成年人" in alert.message


def test_other_school_changes_raise_no_risk_review(tree):
    batch = make_batch(tree, source="education")
    child = factories.make_child(tree.village_a1, school_stage="junior")
    change(batch, child, "school_stage", "小学", "初中")

    assert after_batch(batch, today=TODAY)["risk_review"] == 0


@pytest.mark.parametrize(("source", "label"), [("court", "法院"), ("procuratorate", "检察院")])
def test_every_child_in_court_or_procuratorate_data_gets_a_risk_review(tree, source, label):
    batch = make_batch(tree, source=source)
    a = factories.make_child(tree.village_a1, name="甲")
    b = factories.make_child(tree.village_b1, name="乙")
    change(batch, a, "notes", "", "司法部门报送")
    created(batch, b)

    assert after_batch(batch, today=TODAY)["risk_review"] == 2
    assert [x.message for x in open_alerts(a, AlertKind.RISK_REVIEW)] == [
        f"{label}报送了该儿童的信息，请复核风险并跟进关爱"
    ]


def test_parents_returning_home_proposes_leaving_the_register_without_closing_the_child(tree):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1, name="返乡童")
    change(batch, child, "is_left_behind", "是", "否")
    change(batch, child, "parents_both_away", "是", "否")

    assert after_batch(batch, today=TODAY)["close_proposal"] == 1
    [alert] = open_alerts(child, AlertKind.CLOSE_PROPOSAL)
    assert alert.message == "父母已返乡，不再符合留守儿童条件，建议退出台账"
    child.refresh_from_db()
    assert child.status == ChildStatus.ACTIVE


@pytest.mark.parametrize(
    "category",
    ["is_scattered_orphan", "is_other_difficulty", "is_justice_involved", "is_de_facto_unsupported"],
)
def test_a_child_still_in_another_category_is_not_proposed_for_leaving(tree, category):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1)
    type(child).objects.filter(pk=child.pk).update(**{category: True})
    change(batch, child, "is_left_behind", "是", "否")

    assert after_batch(batch, today=TODAY)["close_proposal"] == 0


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("迁出", "民政数据显示该儿童已迁出，建议核实后退出台账"),
        ("死亡", "民政数据显示该儿童已死亡，建议核实后退出台账"),
        ("不再符合条件", "民政数据显示该儿童不再符合条件，建议核实后退出台账"),
    ],
)
def test_a_department_status_of_moved_dead_or_ineligible_proposes_leaving(tree, said, expected):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1)
    change(batch, child, "child_status", "在册", said)

    assert after_batch(batch, today=TODAY)["close_proposal"] == 1
    assert [a.message for a in open_alerts(child, AlertKind.CLOSE_PROPOSAL)] == [expected]
    child.refresh_from_db()
    assert child.status == ChildStatus.ACTIVE


def test_a_department_status_of_in_register_proposes_nothing(tree):
    batch = make_batch(tree)
    child = factories.make_child(tree.village_a1)
    change(batch, child, "child_status", "", "在册")

    assert after_batch(batch, today=TODAY)["close_proposal"] == 0


def test_closed_children_touched_by_a_batch_raise_nothing(tree):
    batch = make_batch(tree, source="court")
    child = factories.make_child(tree.village_a1, difficulty_life=True, birth=born_turning_18_in(5))
    type(child).objects.filter(pk=child.pk).update(status=ChildStatus.CLOSED)
    change(batch, child, "care_tier", "团体关爱（多对多）", "困难关爱（一对一）")

    assert after_batch(batch, today=TODAY) == ZERO


def test_running_the_triggers_twice_opens_no_second_alert(tree):
    batch = make_batch(tree, source="court")
    child = factories.make_child(tree.village_a1, difficulty_life=True, birth=born_turning_18_in(20))
    change(batch, child, "care_tier", "团体关爱（多对多）", "困难关爱（一对一）")
    change(batch, child, "child_status", "", "户籍迁出")

    first = after_batch(batch, today=TODAY)
    second = after_batch(batch, today=TODAY)
    again = make_batch(tree, source="court")
    change(again, child, "care_tier", "团体关爱（多对多）", "困难关爱（一对一）")
    third = after_batch(again, today=TODAY)

    assert first == {k: 1 for k in AlertKind.values}
    assert second == ZERO
    assert third == ZERO
    assert Alert.objects.count() == 5
    assert sorted(Alert.objects.values_list("kind", flat=True)) == sorted(AlertKind.values)


def test_a_batch_that_moves_a_child_to_group_care_closes_her_unpaired_alert(tree):
    first = make_batch(tree)
    child = factories.make_child(tree.village_a1, difficulty_life=True)
    created(first, child)
    after_batch(first, today=TODAY)
    type(child).objects.filter(pk=child.pk).update(
        difficulty_life=False, care_tier="group", derived_tier="group"
    )
    second = make_batch(tree)
    change(second, child, "care_tier", "困难关爱（一对一）", "团体关爱（多对多）")

    after_batch(second, today=TODAY)

    alert = Alert.objects.get(child=child, kind=AlertKind.UNPAIRED)
    assert alert.status == "resolved"
    assert "关爱类型" in alert.resolution


def test_the_number_of_queries_does_not_grow_with_the_batch(tree):
    def run(n: int, source: str) -> int:
        batch = make_batch(tree, source=source)
        for i in range(n):
            child = factories.make_child(
                tree.village_a1, name=f"童{i}", difficulty_life=True, birth=born_turning_18_in(10)
            )
            created(batch, child)
            change(batch, child, "child_status", "", "迁出")
        with CaptureQueriesContext(connection) as ctx:
            counts = after_batch(batch, today=TODAY)
        assert counts["unpaired"] == n and counts["handover"] == n and counts["risk_review"] == n
        return len(ctx.captured_queries)

    small = run(2, "court")
    large = run(25, "procuratorate")
    assert large == small
