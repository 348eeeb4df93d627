"""The figures the dashboard shows for cases (R-12.1), per region scope."""

from __future__ import annotations

from aixin.cases import selectors
from tests.cases.helpers import case_in_state, report


def test_open_cases_by_age_and_severity_count_the_scope_only(people, child_a, child_b, clock):
    report(people.village, child_a, severity="high")
    clock.advance(days=10)
    report(people.village, child_a, severity="low")
    report(people.district_b, child_b, severity="low")
    table = selectors.open_cases_by_age(scope=people.district.region)
    assert table["1天内"] == {"urgent": 0, "high": 0, "medium": 0, "low": 1}
    assert table["7–30天"] == {"urgent": 0, "high": 1, "medium": 0, "low": 0}
    assert sum(sum(row.values()) for row in selectors.open_cases_by_age(scope=None).values()) == 3


def test_overdue_cases_and_referrals(people, child_a, child_b, clock):
    case = case_in_state("referred", people, child_a)  # high: referral respond 24 h, case 168 h
    report(people.district_b, child_b)
    clock.advance(hours=25)
    assert list(selectors.overdue_referrals(scope=people.district.region)) == [case.referrals.get()]
    assert list(selectors.overdue_cases(scope=people.district.region)) == []
    assert selectors.overdue_cases(scope=None).count() == 1  # district B's report, 24 h to accept


def test_closure_rate_and_median_time_per_district_and_department(people, child_a, child_b, clock):
    case_in_state("closed", people, child_a)  # all within the frozen instant
    clock.advance(hours=10)
    report(people.village, child_a)
    report(people.district_b, child_b)
    by_district = {s.key: s for s in selectors.closure_by_district(scope=None)}
    assert (by_district["500101"].total, by_district["500101"].closed, by_district["500101"].rate) == (
        2,
        1,
        0.5,
    )
    assert by_district["500101"].median_hours == 0.0
    assert (by_district["500102"].total, by_district["500102"].closed, by_district["500102"].rate) == (
        1,
        0,
        0.0,
    )
    assert [s.key for s in selectors.closure_by_district(scope=people.district.region)] == ["500101"]
    by_dept = selectors.closure_by_department(scope=people.district.region)
    assert [(s.key, s.name, s.total, s.closed, s.rate) for s in by_dept] == [("education", "教委", 1, 1, 1.0)]
