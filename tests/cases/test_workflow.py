"""The case workflow (R-10.2): every legal and every illegal transition, who may take each, and
what each records."""

from __future__ import annotations

from typing import Any

import pytest

from aixin.cases import workflow
from aixin.cases.models import Case, CaseEvent, CaseState, Referral, ReferralState
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from tests.cases import helpers
from tests.cases.helpers import act, case_in_state, ref_act

CASE_STATES = [s.value for s in CaseState]
CASE_ACTIONS = list(workflow.CASE_ACTIONS)

# (state, action) → the state after it, for district staff.
LEGAL = {
    ("reported", "accept"): "accepted",
    ("accepted", "refer"): "referred",
    ("referred", "refer"): "referred",
    ("in_progress", "refer"): "in_progress",
    ("accepted", "resolve"): "resolved",
    ("resolved", "close"): "closed",
    ("resolved", "return"): "accepted",
    ("closed", "reopen"): "accepted",
    **{(s, "note"): s for s in ("reported", "accepted", "referred", "in_progress", "resolved")},
}
# Allowed from the state, but refused while a department still works on the case.
GUARDED = {("referred", "resolve"), ("in_progress", "resolve")}


def _snapshot(case: Case) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (case.state, case.version, case.due_at, CaseEvent.objects.count(), Referral.objects.count())


@pytest.mark.parametrize(
    ("state", "action"),
    [(s, a) for s in CASE_STATES for a in CASE_ACTIONS if (s, a) in LEGAL],
)
def test_district_staff_take_every_legal_case_action(state, action, people, child_a):
    case = case_in_state(state, people, child_a)
    events = CaseEvent.objects.filter(case=case).count()
    done = act(
        people.district, case, action, departments=["public_security"], version=case.version, note="已处理"
    )
    done.refresh_from_db()
    assert done.state == LEGAL[(state, action)]
    event = CaseEvent.objects.filter(case=case, action=action).order_by("-pk").first()
    assert (event.from_state, event.to_state, event.actor, event.note) == (
        state,
        LEGAL[(state, action)],
        people.district,
        "已处理",
    )
    assert CaseEvent.objects.filter(case=case).count() > events
    if done.state != state or action == "refer":
        assert done.version > case.version


@pytest.mark.parametrize(
    ("state", "action"),
    [(s, a) for s in CASE_STATES for a in CASE_ACTIONS if (s, a) not in LEGAL and (s, a) not in GUARDED],
)
def test_every_illegal_case_action_is_refused_naming_the_state_and_changes_nothing(
    state, action, people, child_a
):
    case = case_in_state(state, people, child_a)
    before = _snapshot(case)
    with pytest.raises(Conflict) as exc:
        act(people.district, case, action, departments=["public_security"])
    label = CaseState(state).label
    assert exc.value.message == f"风险事件当前为「{label}」，不能「{workflow.CASE_ACTIONS[action].label}」"
    assert _snapshot(case) == before


@pytest.mark.parametrize("state", ["referred", "in_progress"])
def test_a_case_is_not_resolved_while_a_department_still_works_on_it(state, people, child_a):
    case = case_in_state(state, people, child_a)
    before = _snapshot(case)
    with pytest.raises(Conflict) as exc:
        act(people.district, case, "resolve", note="想先结掉")
    assert exc.value.message == "仍有部门流转未办结（教委），不能办结；请等部门办结或退回"
    assert _snapshot(case) == before


def test_the_whole_loop_records_who_when_and_why_at_every_step(people, child_a):
    case = case_in_state("closed", people, child_a)
    steps = list(
        CaseEvent.objects.filter(case=case).order_by("pk").values_list("action", "from_state", "to_state")
    )
    assert steps == [
        ("report", "", "reported"),
        ("accept", "reported", "accepted"),
        ("refer", "accepted", "referred"),
        ("referral_sent", "", "pending"),
        ("referral_accept", "pending", "accepted"),
        ("follow", "referred", "in_progress"),
        ("referral_done", "accepted", "done"),
        ("resolve", "in_progress", "resolved"),
        ("close", "resolved", "closed"),
    ]
    assert case.closed_at is not None and case.due_at is None
    closing = CaseEvent.objects.get(case=case, action="close")
    assert (closing.actor, closing.note) == (people.district, "回访核实，孩子已正常上学")


@pytest.mark.parametrize("action", ["resolve", "close", "return", "reopen"])
def test_a_step_that_needs_a_reason_is_refused_without_one(action, people, child_a):
    state = {"resolve": "accepted", "close": "resolved", "return": "resolved", "reopen": "closed"}[action]
    case = case_in_state(state, people, child_a)
    before = _snapshot(case)
    with pytest.raises(InvalidInput) as exc:
        act(people.district, case, action, note="  ")
    assert exc.value.field == "note"
    assert exc.value.message.startswith(f"「{workflow.CASE_ACTIONS[action].label}」需要填写")
    assert _snapshot(case) == before


@pytest.mark.parametrize("who", ["town", "village", "police_a"])
def test_only_district_staff_accept_a_report(who, people, child_a):
    case = (
        case_in_state("referred", people, child_a)
        if who == "police_a"
        else case_in_state("reported", people, child_a)
    )
    if who == "police_a":
        # A liaison on the case still may not take the district's steps.
        ref_act(people.edu_a, case.referrals.get(), "reject", note="不属本部门职责")
        case.refresh_from_db()
        people.police_a = people.edu_a
        action = "refer"
    else:
        action = "accept"
    before = _snapshot(case)
    with pytest.raises(NotAllowed) as exc:
        act(getattr(people, who), case, action, departments=["public_security"])
    assert exc.value.message == f"「{workflow.CASE_ACTIONS[action].label}」须由区县妇联工作人员办理"
    assert _snapshot(case) == before


def test_local_staff_and_liaisons_add_notes_that_change_no_state(people, child_a):
    case = case_in_state("in_progress", people, child_a)
    act(people.town, case, "note", note="督导员已家访")
    act(people.edu_a, case, "note", note="学校已安排心理老师")
    notes = list(CaseEvent.objects.filter(case=case, action="note").order_by("pk"))
    assert [(n.actor, n.note, n.from_state, n.to_state) for n in notes] == [
        (people.town, "督导员已家访", "in_progress", "in_progress"),
        (people.edu_a, "学校已安排心理老师", "in_progress", "in_progress"),
    ]
    assert notes[1].referral == case.referrals.get()
    case.refresh_from_db()
    assert case.state == "in_progress"


def test_referring_to_a_department_without_a_liaison_in_the_region_is_refused(people, child_a):
    case = case_in_state("accepted", people, child_a)
    before = _snapshot(case)
    with pytest.raises(InvalidInput) as exc:
        act(people.district, case, "refer", departments=["health"])
    assert exc.value.message == "万州区没有卫健的部门联络员，不能转办；请先为卫健开通联络员账号"
    assert _snapshot(case) == before


def test_a_liaison_of_another_district_does_not_count_as_a_liaison_in_the_region(people, child_a, tree):
    helpers.liaison(tree.district_b, "health", "weijian_b")
    case = case_in_state("accepted", people, child_a)
    with pytest.raises(InvalidInput):
        act(people.district, case, "refer", departments=["health"])


def test_referring_again_to_a_department_still_working_is_refused(people, child_a):
    case = case_in_state("referred", people, child_a)
    before = _snapshot(case)
    with pytest.raises(Conflict) as exc:
        act(people.district, case, "refer", departments=["education"])
    assert exc.value.message == "已转办教委，尚未办结，不能重复转办"
    assert _snapshot(case) == before


def test_referring_without_a_department_or_to_an_unknown_one_is_refused(people, child_a):
    case = case_in_state("accepted", people, child_a)
    with pytest.raises(InvalidInput) as exc:
        act(people.district, case, "refer", departments=[])
    assert exc.value.message == "请至少选择一个转办部门"
    with pytest.raises(InvalidInput) as exc:
        act(people.district, case, "refer", departments=["army"])
    assert exc.value.message == "部门“army”不在可选范围内"


def test_one_referral_to_several_departments_at_once(people, child_a):
    case = case_in_state("accepted", people, child_a)
    act(people.district, case, "refer", departments=["education", "public_security"], note="请公安和学校协同")
    assert sorted(case.referrals.values_list("department", "state")) == [
        ("education", "pending"),
        ("public_security", "pending"),
    ]


# ---------------------------------------------------------------------------------------------
# Referrals

REFERRAL_STATES = [s.value for s in ReferralState]
REFERRAL_ACTIONS = list(workflow.REFERRAL_ACTIONS)
REFERRAL_LEGAL = {
    ("pending", "accept"): "accepted",
    ("pending", "reject"): "rejected",
    ("accepted", "act"): "acting",
    ("accepted", "done"): "done",
    ("acting", "act"): "acting",
    ("acting", "done"): "done",
}


def referral_in_state(state: str, people: helpers.People, child: Any) -> Referral:
    case = case_in_state("referred", people, child)
    referral = case.referrals.get()
    if state == "accepted":
        ref_act(people.edu_a, referral, "accept")
    elif state == "acting":
        ref_act(people.edu_a, referral, "accept")
        ref_act(people.edu_a, referral, "act", note="已联系学校")
    elif state == "done":
        ref_act(people.edu_a, referral, "accept")
        ref_act(people.edu_a, referral, "done", note="已办结")
    elif state == "rejected":
        ref_act(people.edu_a, referral, "reject", note="不属本部门职责")
    referral.refresh_from_db()
    assert referral.state == state
    return referral


@pytest.mark.parametrize(("state", "action"), sorted(REFERRAL_LEGAL))
def test_the_liaison_takes_every_legal_referral_action(state, action, people, child_a):
    referral = referral_in_state(state, people, child_a)
    ref_act(people.edu_a, referral, action, note="依职责办理", version=referral.version)
    referral.refresh_from_db()
    assert referral.state == REFERRAL_LEGAL[(state, action)]
    event = CaseEvent.objects.filter(referral=referral, action=f"referral_{action}").order_by("-pk").first()
    assert (event.from_state, event.to_state, event.actor, event.note) == (
        state,
        REFERRAL_LEGAL[(state, action)],
        people.edu_a,
        "依职责办理",
    )


@pytest.mark.parametrize(
    ("state", "action"),
    [(s, a) for s in REFERRAL_STATES for a in REFERRAL_ACTIONS if (s, a) not in REFERRAL_LEGAL],
)
def test_every_illegal_referral_action_is_refused_and_changes_nothing(state, action, people, child_a):
    referral = referral_in_state(state, people, child_a)
    before = (referral.state, referral.version, CaseEvent.objects.count())
    with pytest.raises(Conflict) as exc:
        ref_act(people.edu_a, referral, action, note="再试一次")
    label = ReferralState(state).label
    assert exc.value.message == f"该转办当前为「{label}」，不能「{workflow.REFERRAL_ACTIONS[action].label}」"
    referral.refresh_from_db()
    assert (referral.state, referral.version, CaseEvent.objects.count()) == before


def test_a_rejection_needs_a_reason_and_keeps_it(people, child_a):
    referral = referral_in_state("pending", people, child_a)
    with pytest.raises(InvalidInput) as exc:
        ref_act(people.edu_a, referral, "reject", note="")
    assert exc.value.message == "「退回」需要填写退回理由"
    ref_act(people.edu_a, referral, "reject", note="属公安职责，建议转公安")
    referral.refresh_from_db()
    assert (referral.state, referral.reason, referral.responded_by) == (
        "rejected",
        "属公安职责，建议转公安",
        people.edu_a,
    )


def test_when_every_referral_is_rejected_the_case_goes_back_to_the_district(people, child_a):
    referral = referral_in_state("rejected", people, child_a)
    case = referral.case
    case.refresh_from_db()
    assert case.state == "accepted"
    assert CaseEvent.objects.filter(case=case, action="follow", to_state="accepted").exists()


def test_the_first_acceptance_puts_the_case_in_progress(people, child_a):
    referral = referral_in_state("accepted", people, child_a)
    referral.case.refresh_from_db()
    assert referral.case.state == "in_progress"


def test_only_the_referred_departments_liaison_acts_on_a_referral(people, child_a, tree):
    referral = referral_in_state("pending", people, child_a)
    before = (referral.state, CaseEvent.objects.count())
    # Staff see the referral but do not sign for a department.
    with pytest.raises(NotAllowed) as exc:
        ref_act(people.district, referral, "accept")
    assert exc.value.message == "只有教委的部门联络员可以「签收」该转办"
    # Public security of the same district does not see education's referral at all.
    with pytest.raises(NotAllowed) as exc:
        ref_act(people.police_a, referral, "accept")
    assert exc.value.message == "该转办不存在或不在你的管辖范围内"
    referral.refresh_from_db()
    assert (referral.state, CaseEvent.objects.count()) == before


def test_a_closed_cases_referrals_take_no_more_steps(people, child_a):
    case = case_in_state("closed", people, child_a)
    referral = case.referrals.get()
    with pytest.raises(Conflict) as exc:
        ref_act(people.edu_a, referral, "act", note="补充")
    assert exc.value.message == "风险事件已核实结案，不能再「记录办理情况」转办"


def test_a_closed_case_can_be_reopened_and_worked_again(people, child_a):
    case = case_in_state("closed", people, child_a)
    act(people.district, case, "reopen", note="孩子再次反映被欺负")
    case.refresh_from_db()
    assert (case.state, case.closed_at, case.resolved_at) == ("accepted", None, None)
    act(people.district, case, "refer", departments=["education"])
    assert case.referrals.filter(state="pending").count() == 1


def test_an_unknown_action_is_refused(people, child_a):
    case = case_in_state("reported", people, child_a)
    with pytest.raises(InvalidInput) as exc:
        act(people.district, case, "delete")
    assert exc.value.message == "未知的操作“delete”"


def test_a_stale_version_is_refused_with_the_current_state(people, child_a):
    case = case_in_state("reported", people, child_a)
    old = case.version
    act(people.district, case, "accept", version=old)
    with pytest.raises(StaleEdit) as exc:
        act(people.district, case, "resolve", version=old, note="结")
    assert exc.value.message == "该风险事件已被他人更新（现为「已受理」），请刷新后再操作"
