import datetime

import pytest

from aixin.accounts.access import children_visible_to, pairings_visible_to
from aixin.care.models import CareRule
from aixin.care.selectors import (
    checklist_for_pairing,
    compliance_by_area,
    compliance_by_volunteer,
    compliance_for_period,
    current_compliance,
    inactive_children,
)
from aixin.care.tasks import scan_overdue
from aixin.pairing.models import Pairing
from aixin.registry.models import Child
from tests import factories
from tests.care.helpers import paired_child, record

D = datetime.date
TODAY = D(2026, 3, 11)  # a Wednesday; this week is 9–15 March, the previous one 2–8 March


def statuses(pairing, today):
    return {i.rule.code: i.status for i in checklist_for_pairing(pairing, today=today)}


def test_weekly_contact_is_done_on_sunday_due_on_monday_and_overdue_a_week_later(tree):
    pairing = paired_child(tree.village_a1, start=D(2026, 2, 2))
    record(pairing, D(2026, 2, 25), ["weekly_contact"])
    assert statuses(pairing, D(2026, 3, 1))["weekly_contact"] == "done"
    assert statuses(pairing, D(2026, 3, 2))["weekly_contact"] == "due"
    assert statuses(pairing, D(2026, 3, 9))["weekly_contact"] == "overdue"


def test_checklist_items_carry_the_period_and_last_date(tree):
    pairing = paired_child(tree.village_a1, start=D(2026, 2, 2))
    record(pairing, D(2026, 3, 10), ["weekly_contact"])
    items = {i.rule.code: i for i in checklist_for_pairing(pairing, today=TODAY)}
    assert list(items) == [
        "weekly_contact",
        "monthly_guardian",
        "term_activity",
        "yearly_festival",
        "yearly_reading",
        "yearly_safety",
        "family_education",
    ]
    weekly = items["weekly_contact"]
    assert (weekly.status, weekly.period_start, weekly.period_end, weekly.last_done_on) == (
        "done",
        D(2026, 3, 9),
        D(2026, 3, 15),
        D(2026, 3, 10),
    )
    assert (items["term_activity"].period_start, items["term_activity"].period_end) == (
        D(2026, 2, 20),
        D(2026, 8, 31),
    )


def test_a_period_before_the_pairing_began_is_not_held_against_it(tree):
    pairing = paired_child(tree.village_a1, start=D(2026, 3, 5))
    got = statuses(pairing, D(2026, 3, 6))
    assert got["weekly_contact"] == "due"
    assert got["monthly_guardian"] == "due"
    # The pairing was active during the week of 2–8 March, so missing it counts.
    assert statuses(pairing, D(2026, 3, 9))["weekly_contact"] == "overdue"


def test_rules_for_other_tiers_and_inactive_rules_are_left_off(tree):
    pairing = paired_child(tree.village_a1, start=D(2026, 2, 2))
    CareRule.objects.filter(code="yearly_safety").update(active=False)
    assert "yearly_safety" not in statuses(pairing, TODAY)
    group = paired_child(tree.village_a1, name="孙小草", tier_flags={}, start=D(2026, 2, 2))
    assert checklist_for_pairing(group, today=TODAY) == []


@pytest.fixture
def dataset(tree):
    """Four pairings since 5 January 2026: three in district A (mothers 1, 1, 2), one in B."""
    m1 = factories.make_volunteer(tree.village_a1, name="李爱华", capacity=3)
    m2 = factories.make_volunteer(tree.village_a2, name="赵秀英")
    m3 = factories.make_volunteer(tree.village_b1, name="钱桂兰")
    start = D(2026, 1, 5)
    p1 = paired_child(tree.village_a1, name="甲", mother=m1, start=start)
    p2 = paired_child(tree.village_a1b, name="乙", mother=m1, start=start)
    p3 = paired_child(tree.village_a2, name="丙", mother=m2, start=start)
    p4 = paired_child(tree.village_b1, name="丁", mother=m3, start=start)
    record(p1, D(2026, 3, 10), ["weekly_contact", "monthly_guardian"])
    record(p1, D(2026, 3, 4), ["weekly_contact"])
    record(p2, D(2026, 3, 3), ["weekly_contact"])
    record(p2, D(2026, 2, 10), ["monthly_guardian"])
    record(p4, D(2026, 3, 9), ["weekly_contact", "yearly_reading"], kind="home_visit")
    return {"p": [p1, p2, p3, p4], "m": [m1, m2, m3]}


def as_tuples(rows):
    return {r.rule_code: (r.due, r.done, r.overdue, r.rate) for r in rows}


def test_current_compliance_counts_due_done_and_overdue_per_rule(dataset, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):  # rules, terms, then one aggregate per rule
        got = as_tuples(current_compliance(Pairing.objects.all(), today=TODAY))
    assert got == {
        "weekly_contact": (4, 2, 1, 0.5),
        "monthly_guardian": (4, 1, 2, 0.25),
        "term_activity": (4, 0, 4, 0.0),
        "yearly_festival": (4, 0, 0, 0.0),
        "yearly_reading": (4, 1, 0, 0.25),
        "yearly_safety": (4, 0, 0, 0.0),
        "family_education": (4, 0, 0, 0.0),
    }


def test_current_compliance_respects_the_callers_scope(dataset, users):
    got = as_tuples(current_compliance(pairings_visible_to(users["district_admin"]), today=TODAY))
    assert got["weekly_contact"] == (3, 1, 1, 0.3333)
    got = as_tuples(current_compliance(pairings_visible_to(users["district_b_admin"]), today=TODAY))
    assert got["weekly_contact"] == (1, 1, 0, 1.0)


def test_current_and_period_compliance_agree_on_the_current_week(dataset):
    current = as_tuples(current_compliance(Pairing.objects.all(), today=TODAY))
    period = as_tuples(compliance_for_period(Pairing.objects.all(), start=D(2026, 3, 9), end=TODAY))
    for code in current:
        assert current[code][:2] == period[code][:2], code


def test_period_compliance_counts_every_week_of_february(dataset):
    got = as_tuples(compliance_for_period(Pairing.objects.all(), start=D(2026, 2, 1), end=D(2026, 2, 28)))
    # Weeks overlapping February 2026: 26 Jan–1 Feb … 23 Feb–1 Mar, five of them, four pairings each.
    # The week ending 1 March was still running on 28 February: missed, but not yet overdue.
    assert got["weekly_contact"] == (20, 0, 16, 0.0)
    assert got["monthly_guardian"] == (4, 1, 0, 0.25)
    later = as_tuples(
        compliance_for_period(Pairing.objects.all(), start=D(2026, 2, 1), end=D(2026, 2, 28), today=TODAY)
    )
    assert later["weekly_contact"] == (20, 0, 20, 0.0)
    assert later["monthly_guardian"] == (4, 1, 3, 0.25)


def test_period_compliance_counts_only_periods_in_which_a_pairing_was_active(dataset, tree):
    p3 = dataset["p"][2]
    Pairing.objects.filter(pk=p3.pk).update(status="ended", end_date=D(2026, 2, 15))
    paired_child(tree.village_a1, name="戊", start=D(2026, 2, 20))
    got = as_tuples(compliance_for_period(Pairing.objects.all(), start=D(2026, 2, 1), end=D(2026, 2, 28)))
    # Three pairings all five weeks, the ended one the first three, the late one the last two.
    assert got["weekly_contact"][0] == 3 * 5 + 3 + 2
    assert got["monthly_guardian"][:2] == (5, 1)


def test_compliance_per_area_and_per_mother(dataset, tree):
    areas = {a.name: a for a in compliance_by_area(Pairing.objects.all(), level="district", today=TODAY)}
    a, b = areas["万州区"], areas["涪陵区"]
    assert (a.id, b.id) == (tree.district_a.id, tree.district_b.id)
    assert {r.rule_code: (r.done, r.due) for r in a.rules}["weekly_contact"] == (1, 3)
    assert (a.done, a.due, a.rate) == (2, 21, 0.0952)
    assert (b.done, b.due, b.rate) == (2, 7, 0.2857)
    assert [g.name for g in compliance_by_area(Pairing.objects.all(), level="district", today=TODAY)] == [
        "万州区",
        "涪陵区",
    ]
    villages = {v.id: v for v in compliance_by_area(Pairing.objects.all(), level="village", today=TODAY)}
    assert (villages[tree.village_a1.id].done, villages[tree.village_a1.id].due) == (2, 7)

    mothers = {m.name: m for m in compliance_by_volunteer(Pairing.objects.all(), today=TODAY)}
    m1 = {r.rule_code: (r.done, r.due, r.overdue) for r in mothers["李爱华"].rules}
    assert m1["weekly_contact"] == (1, 2, 0)
    assert m1["monthly_guardian"] == (1, 2, 0)
    assert m1["term_activity"] == (0, 2, 2)
    assert (mothers["赵秀英"].done, mothers["赵秀英"].overdue) == (0, 3)


def test_inactive_children_are_those_not_contacted_for_n_days(dataset, users):
    today = D(2026, 3, 20)

    def names(children, days):
        return [c.name for c in inactive_children(children, days=days, today=today)]

    # 丙 never contacted comes first, then 乙 (last contact 3 March).
    assert names(Child.objects.all(), 14) == ["丙", "乙"]
    assert sorted(names(Child.objects.all(), 7)) == sorted(["甲", "乙", "丙", "丁"])
    assert names(children_visible_to(users["district_b_admin"]), 14) == []
    assert names(children_visible_to(users["district_b_admin"]), 7) == ["丁"]


def test_a_newly_paired_child_is_not_flagged_before_n_days(tree):
    paired_child(tree.village_a1, name="己", start=D(2026, 3, 15))
    assert list(inactive_children(Child.objects.all(), days=14, today=D(2026, 3, 20))) == []


def test_the_daily_scan_counts_overdue_items_per_district(dataset, tree, caplog):
    counts = scan_overdue.call_local()
    assert set(counts) <= {tree.district_a.id, tree.district_b.id}
    from aixin.care.tasks import overdue_scan

    assert overdue_scan(today=TODAY) == {tree.district_a.id: 1 + 1 + 3, tree.district_b.id: 1 + 1}
    assert overdue_scan(today=TODAY) == overdue_scan(today=TODAY)
