"""Deadlines by severity and their escalation (town → district → city), with the clock frozen."""

from __future__ import annotations

import datetime

from aixin.cases import services
from aixin.cases.models import CaseEvent
from aixin.notify.models import Notification
from tests.cases.helpers import act, case_in_state, ref_act, report


def _escalations(case):
    return [e.note for e in CaseEvent.objects.filter(case=case, action="escalate")]


def _deadline_notes(username):
    return list(
        Notification.objects.filter(recipient__username=username, kind="case_deadline").values_list(
            "title", flat=True
        )
    )


def test_each_stage_starts_its_deadline_by_severity(people, child_a, clock):
    case = report(people.village, child_a, severity="urgent")
    assert case.due_at == clock.now + datetime.timedelta(hours=2)
    clock.advance(hours=1)
    act(people.district, case, "accept")
    case.refresh_from_db()
    assert case.due_at == clock.now + datetime.timedelta(hours=4)  # urgent: refer within 4 h
    act(people.district, case, "refer", departments=["education"])
    case.refresh_from_db()
    referral = case.referrals.get()
    assert case.due_at == clock.now + datetime.timedelta(hours=72)
    assert referral.due_at == clock.now + datetime.timedelta(hours=4)


def test_a_missed_acceptance_escalates_to_the_district_then_the_city_once_each(people, child_a, clock):
    case = report(people.village, child_a, severity="high")  # accept within 24 h, city 24 h later
    clock.advance(hours=23, minutes=59)
    assert services.escalate_overdue() == {"cases": 0, "referrals": 0}

    clock.advance(minutes=2)
    assert services.escalate_overdue() == {"cases": 1, "referrals": 0}
    assert services.escalate_overdue() == {"cases": 0, "referrals": 0}  # running twice escalates once
    case.refresh_from_db()
    assert case.escalation_level == 2
    assert _escalations(case) == ["「已报告」阶段逾期（期限 2026-03-03 17:00），已升级至区县"]
    assert _deadline_notes("dist_a") == ["风险事件逾期：甲童（校园欺凌）"]
    assert _deadline_notes("city") == []

    clock.advance(hours=24)
    assert services.escalate_overdue() == {"cases": 1, "referrals": 0}
    assert services.escalate_overdue() == {"cases": 0, "referrals": 0}
    case.refresh_from_db()
    assert case.escalation_level == 1
    assert len(_escalations(case)) == 2
    assert _deadline_notes("city") == ["风险事件逾期：甲童（校园欺凌）"]
    assert len(_deadline_notes("dist_a")) == 1


def test_a_scan_long_after_the_deadline_goes_straight_to_the_city_in_one_step(people, child_a, clock):
    case = report(people.village, child_a, severity="low")
    clock.advance(days=30)
    assert services.escalate_overdue() == {"cases": 1, "referrals": 0}
    case.refresh_from_db()
    assert case.escalation_level == 1
    assert len(_escalations(case)) == 1


def test_acting_in_time_stops_the_escalation_and_the_next_stage_starts_afresh(people, child_a, clock):
    case = report(people.village, child_a, severity="high")
    clock.advance(hours=25)
    services.escalate_overdue()
    act(people.district, case, "accept")
    case.refresh_from_db()
    assert (case.escalation_level, case.due_at) == (3, clock.now + datetime.timedelta(hours=24))
    clock.advance(hours=1)
    assert services.escalate_overdue() == {"cases": 0, "referrals": 0}


def test_a_referral_not_signed_for_in_time_escalates_and_tells_its_liaison(people, child_a, clock):
    case = case_in_state("referred", people, child_a)  # high: respond within 24 h
    clock.advance(hours=24, minutes=1)
    assert services.escalate_overdue() == {"cases": 0, "referrals": 1}
    assert services.escalate_overdue() == {"cases": 0, "referrals": 0}
    event = CaseEvent.objects.get(case=case, action="escalate")
    assert event.referral == case.referrals.get()
    assert event.note == "教委转办「待签收」逾期（期限 2026-03-03 17:00），已升级至区县"
    assert _deadline_notes("jiaowei_a") == ["风险事件逾期：甲童（校园欺凌）"]
    assert _deadline_notes("dist_a") == ["风险事件逾期：甲童（校园欺凌）"]


def test_a_closed_case_never_escalates(people, child_a, clock):
    case_in_state("closed", people, child_a)
    clock.advance(days=365)
    assert services.escalate_overdue() == {"cases": 0, "referrals": 0}


def test_a_referral_signed_for_gets_the_resolve_deadline(people, child_a, clock):
    case = case_in_state("referred", people, child_a)
    referral = case.referrals.get()
    clock.advance(hours=3)
    ref_act(people.edu_a, referral, "accept")
    referral.refresh_from_db()
    assert referral.due_at == clock.now + datetime.timedelta(hours=168)


def test_the_periodic_scan_escalates_through_the_same_service(people, child_a, clock):
    from aixin.cases.tasks import escalate_case_deadlines

    report(people.village, child_a, severity="urgent")
    clock.advance(hours=3)
    assert escalate_case_deadlines.call_local() == {"cases": 1, "referrals": 0}
    assert escalate_case_deadlines.call_local() == {"cases": 0, "referrals": 0}
