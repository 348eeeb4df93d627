"""The case workflow as data (R-10.2): which action is allowed from which state, who may take
it, what it needs, and which deadline starts with the new state.

Case actions are taken by district staff (the city administrator or the district's federation
staff; `DISTRICT`), notes also by the town supervisor and village director of the child's area
(`LOCAL`) and by a liaison with a referral on the case (`LIAISON`). Referral actions are taken by
the liaison of the referral's department within its region.

    reported ─accept→ accepted ─refer→ referred ─(a department accepts)→ in_progress
                         │  ▲              │                                 │
                         │  └─(all referrals rejected)                       │
                         └──────────────resolve──────────────────────────────┴→ resolved
    resolved ─close (verification note)→ closed ─reopen→ accepted
    resolved ─return (verification failed)→ accepted

    referral: pending ─accept→ accepted ─act→ acting ─done→ done;  pending ─reject (reason)→ rejected
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from aixin.cases.models import CaseState, ReferralState

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

DISTRICT = "district"
LOCAL = "local"
LIAISON = "liaison"


@dataclass(frozen=True)
class Action:
    code: str
    label: StrPromise
    sources: frozenset[str]
    # The state after the action; None keeps the current one (a note), a dict maps per source.
    target: str | dict[str, str] | None
    actors: frozenset[str]
    note_required: bool = False
    note_label: StrPromise | str = ""
    # The deadline (AIXIN_CASE_DEADLINES key) that starts with the new state; "" = none.
    deadline: str = ""

    def target_from(self, state: str) -> str:
        if self.target is None:
            return state
        if isinstance(self.target, dict):
            return self.target[state]
        return self.target


S = CaseState
OPEN_FOR_WORK = frozenset({S.ACCEPTED, S.REFERRED, S.IN_PROGRESS})

CASE_ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        Action(
            "accept", _("受理"), frozenset({S.REPORTED}), S.ACCEPTED, frozenset({DISTRICT}), deadline="refer"
        ),
        Action(
            "refer",
            _("转办部门"),
            OPEN_FOR_WORK,
            {S.ACCEPTED: S.REFERRED, S.REFERRED: S.REFERRED, S.IN_PROGRESS: S.IN_PROGRESS},
            frozenset({DISTRICT}),
            deadline="resolve",
        ),
        Action(
            "resolve",
            _("办结"),
            OPEN_FOR_WORK,
            S.RESOLVED,
            frozenset({DISTRICT}),
            note_required=True,
            note_label=_("办理结果"),
            deadline="verify",
        ),
        Action(
            "close",
            _("核实结案"),
            frozenset({S.RESOLVED}),
            S.CLOSED,
            frozenset({DISTRICT}),
            note_required=True,
            note_label=_("核实情况"),
        ),
        Action(
            "return",
            _("核实未通过，退回办理"),
            frozenset({S.RESOLVED}),
            S.ACCEPTED,
            frozenset({DISTRICT}),
            note_required=True,
            note_label=_("退回理由"),
            deadline="refer",
        ),
        Action(
            "reopen",
            _("重新打开"),
            frozenset({S.CLOSED}),
            S.ACCEPTED,
            frozenset({DISTRICT}),
            note_required=True,
            note_label=_("重新打开的理由"),
            deadline="refer",
        ),
        Action(
            "note",
            _("添加办理记录"),
            frozenset({S.REPORTED, *OPEN_FOR_WORK, S.RESOLVED}),
            None,
            frozenset({DISTRICT, LOCAL, LIAISON}),
            note_required=True,
            note_label=_("办理记录"),
        ),
    )
}

R = ReferralState
REFERRAL_ACTIONS: dict[str, Action] = {
    a.code: a
    for a in (
        Action(
            "accept", _("签收"), frozenset({R.PENDING}), R.ACCEPTED, frozenset({LIAISON}), deadline="resolve"
        ),
        Action(
            "reject",
            _("退回"),
            frozenset({R.PENDING}),
            R.REJECTED,
            frozenset({LIAISON}),
            note_required=True,
            note_label=_("退回理由"),
        ),
        Action(
            "act",
            _("记录办理情况"),
            frozenset({R.ACCEPTED, R.ACTING}),
            R.ACTING,
            frozenset({LIAISON}),
            note_required=True,
            note_label=_("办理情况"),
        ),
        Action(
            "done",
            _("办结"),
            frozenset({R.ACCEPTED, R.ACTING}),
            R.DONE,
            frozenset({LIAISON}),
            note_required=True,
            note_label=_("办理结果"),
        ),
    )
}

# The deadline that runs while a case or referral is in a state (for the escalation scan).
CASE_STATE_DEADLINE: dict[str, str] = {
    S.REPORTED: "accept",
    S.ACCEPTED: "refer",
    S.REFERRED: "resolve",
    S.IN_PROGRESS: "resolve",
    S.RESOLVED: "verify",
}
REFERRAL_STATE_DEADLINE: dict[str, str] = {R.PENDING: "respond", R.ACCEPTED: "resolve", R.ACTING: "resolve"}


def allowed_case_actions(state: str, actor_kind: str) -> list[Action]:
    """The case actions an actor of this kind may take from `state`, in workflow order."""
    return [a for a in CASE_ACTIONS.values() if state in a.sources and actor_kind in a.actors]


def allowed_referral_actions(state: str) -> list[Action]:
    return [a for a in REFERRAL_ACTIONS.values() if state in a.sources]


# How the timeline names each kind of event.
EVENT_LABELS: dict[str, StrPromise] = {
    "report": _("报告"),
    "mandatory_referral": _("强制报告，自动转公安"),
    "follow": _("状态随部门办理变化"),
    "referral_sent": _("转至部门"),
    "escalate": _("逾期升级"),
    "report_correction": _("更正补充报告"),
    "report_receipt": _("登记接报回执"),
    **{f"referral_{code}": a.label for code, a in REFERRAL_ACTIONS.items()},
    **{code: a.label for code, a in CASE_ACTIONS.items()},
}
STATE_LABELS: dict[str, StrPromise] = {
    **{s.value: s.label for s in ReferralState},
    **{s.value: s.label for s in CaseState},
}
