"""Reads for cases: the pages' lists (always from the scoping selectors in
aixin.accounts.access) and the figures the dashboard shows (R-12.1: open cases and their age,
overdue items, closure).

The dashboard selectors take a region scope (None = the whole city); the caller — the dashboard,
which has already checked that the user may see that region — decides the scope. They read
counts, never names.
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Case as SqlCase
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from aixin.accounts.access import case_events_visible_to, cases_visible_to, referrals_visible_to
from aixin.accounts.models import Department, Role
from aixin.cases import workflow
from aixin.cases.categories import Severity
from aixin.cases.models import (
    OPEN_CASE_STATES,
    OPEN_REFERRAL_STATES,
    Case,
    CaseEvent,
    CaseState,
    Referral,
    ReferralState,
)
from aixin.regions.models import Region

# ---------------------------------------------------------------------------------------------
# Pages


def case_list(
    *,
    user: Any,
    state: str = "",
    severity: str = "",
    overdue: bool = False,
    now: datetime.datetime | None = None,
) -> QuerySet[Case]:
    now = now or timezone.now()
    qs = cases_visible_to(user).select_related("child", "region", "town", "district")
    if state == "open":
        qs = qs.filter(state__in=OPEN_CASE_STATES)
    elif state in CaseState.values:
        qs = qs.filter(state=state)
    if severity in Severity.values:
        qs = qs.filter(severity=severity)
    if overdue:
        qs = qs.filter(overdue_q(now))
    listed: QuerySet[Case] = qs.annotate(
        open_referrals=Count("referrals", filter=Q(referrals__state__in=OPEN_REFERRAL_STATES))
    ).order_by(*_case_list_order())
    return listed


def _case_list_order() -> tuple[Any, ...]:
    """The case list's order: open cases first, then the most urgent (Severity runs 紧急, 高, 中,
    低), then the nearest deadline (closed cases have none), then the newest."""
    open_first = SqlCase(When(state__in=OPEN_CASE_STATES, then=Value(0)), default=Value(1))
    most_urgent = SqlCase(
        *(When(severity=value, then=Value(rank)) for rank, value in enumerate(Severity.values)),
        default=Value(len(Severity.values)),
    )
    return (open_first, most_urgent, F("due_at").asc(nulls_last=True), "-created_at", "-pk")


def overdue_q(now: datetime.datetime) -> Q:  # a Q combined with an Exists is still a filter
    """Cases whose own deadline passed, or with a referral past its deadline."""
    late_referral = Exists(
        Referral.objects.filter(case=OuterRef("pk"), state__in=OPEN_REFERRAL_STATES, due_at__lt=now)
    )
    return Q(state__in=OPEN_CASE_STATES) & (Q(due_at__lt=now) | Q(late_referral))


def liaison_inbox(*, user: Any, state: str = "open") -> QuerySet[Referral]:
    """A liaison's referrals: open ones first by deadline."""
    qs = referrals_visible_to(user).select_related("case", "case__child", "region", "town", "district")
    if state == "open":
        qs = qs.filter(state__in=OPEN_REFERRAL_STATES)
    elif state in ReferralState.values:
        qs = qs.filter(state=state)
    return qs.order_by("due_at", "pk")


def case_timeline(*, user: Any, case: Case) -> QuerySet[CaseEvent]:
    return (
        case_events_visible_to(user).filter(case=case).select_related("referral").order_by("created_at", "pk")
    )


def case_referrals(*, user: Any, case: Case) -> QuerySet[Referral]:
    """The referrals of a case a user may see: staff all, a liaison their department's."""
    return referrals_visible_to(user).filter(case=case).select_related("responded_by").order_by("pk")


def open_cases_of_child(*, user: Any, child: Any) -> QuerySet[Case]:
    return cases_visible_to(user).filter(child=child, state__in=OPEN_CASE_STATES).order_by("-pk")


def actor_kind(user: Any, case: Case) -> str | None:
    from aixin.cases.services import _actor_kind

    return _actor_kind(user, case)


def case_actions(*, user: Any, case: Case) -> list[workflow.Action]:
    """The case actions the page offers this user (the service checks again)."""
    kind = actor_kind(user, case)
    if kind is None:
        return []
    return workflow.allowed_case_actions(case.state, kind)


def referral_actions(*, user: Any, referral: Referral, case: Case) -> list[workflow.Action]:
    if (
        getattr(user, "role", None) != Role.DEPARTMENT_LIAISON
        or user.department != referral.department
        or case.state == CaseState.CLOSED
    ):
        return []
    return workflow.allowed_referral_actions(referral.state)


def liaison_departments_in(region: Region) -> list[str]:
    """The departments that have an active liaison for `region` (the refer form's choices)."""
    from aixin.accounts.models import User

    codes = [c for c in region.path.strip("/").split("/") if c]
    have = set(
        User.objects.filter(role=Role.DEPARTMENT_LIAISON, is_active=True, region__code__in=codes).values_list(
            "department", flat=True
        )
    )
    return [d for d in Department.values if d in have]


# ---------------------------------------------------------------------------------------------
# The dashboard

AGE_BUCKETS: tuple[tuple[str, datetime.timedelta | None], ...] = (
    ("1天内", datetime.timedelta(days=1)),
    ("1–7天", datetime.timedelta(days=7)),
    ("7–30天", datetime.timedelta(days=30)),
    ("30天以上", None),
)


def _in_scope(qs: QuerySet[Any], scope: Region | None) -> QuerySet[Any]:
    return qs if scope is None else qs.filter(region__path__startswith=scope.path)


def open_cases_by_age(
    *, scope: Region | None, now: datetime.datetime | None = None
) -> dict[str, dict[str, int]]:
    """Open cases by age (time since the report) and severity: {bucket: {severity: n}}, every
    bucket and severity present (zeros included), buckets youngest first."""
    now = now or timezone.now()
    table: dict[str, dict[str, int]] = {label: dict.fromkeys(Severity.values, 0) for label, _ in AGE_BUCKETS}
    rows = _in_scope(Case.objects.filter(state__in=OPEN_CASE_STATES), scope).values_list(
        "created_at", "severity"
    )
    for created_at, severity in rows:
        age = now - created_at
        for label, upper in AGE_BUCKETS:
            if upper is None or age < upper:
                table[label][severity] += 1
                break
    return table


def overdue_cases(*, scope: Region | None, now: datetime.datetime | None = None) -> QuerySet[Case]:
    """Open cases past their own deadline, most overdue first."""
    now = now or timezone.now()
    return _in_scope(Case.objects.filter(state__in=OPEN_CASE_STATES, due_at__lt=now), scope).order_by(
        "due_at"
    )


def overdue_referrals(*, scope: Region | None, now: datetime.datetime | None = None) -> QuerySet[Referral]:
    now = now or timezone.now()
    return _in_scope(Referral.objects.filter(state__in=OPEN_REFERRAL_STATES, due_at__lt=now), scope).order_by(
        "due_at"
    )


@dataclass(frozen=True)
class ClosureStat:
    key: str  # district code or department code
    name: str
    total: int
    closed: int
    rate: float | None  # closed / total, None without cases
    median_hours: float | None  # report → closed (districts) or referral → done (departments)


def _median_hours(spans: list[datetime.timedelta]) -> float | None:
    if not spans:
        return None
    return round(statistics.median(s.total_seconds() for s in spans) / 3600, 1)


def closure_by_district(*, scope: Region | None, since: datetime.datetime | None = None) -> list[ClosureStat]:
    """Per district: cases reported (since `since`), closed, closure rate and the median time
    from report to verified closure."""
    qs = _in_scope(Case.objects.all(), scope)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    totals: dict[int, int] = defaultdict(int)
    spans: dict[int, list[datetime.timedelta]] = defaultdict(list)
    for district_id, state, created_at, closed_at in qs.values_list(
        "district_id", "state", "created_at", "closed_at"
    ):
        totals[district_id] += 1
        if state == CaseState.CLOSED and closed_at is not None:
            spans[district_id].append(closed_at - created_at)
    districts = Region.objects.in_bulk(list(totals))
    out = [
        ClosureStat(
            key=districts[d].code,
            name=districts[d].name,
            total=n,
            closed=len(spans[d]),
            rate=round(len(spans[d]) / n, 3) if n else None,
            median_hours=_median_hours(spans[d]),
        )
        for d, n in totals.items()
    ]
    return sorted(out, key=lambda s: s.key)


def closure_by_department(
    *, scope: Region | None, since: datetime.datetime | None = None
) -> list[ClosureStat]:
    """Per department: referrals received (since `since`), done, the rate of done among those
    not rejected, and the median time from referral to done."""
    qs = _in_scope(Referral.objects.all(), scope)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    totals: dict[str, int] = defaultdict(int)
    spans: dict[str, list[datetime.timedelta]] = defaultdict(list)
    for dept, state, created_at, done_at in qs.values_list("department", "state", "created_at", "done_at"):
        if state == ReferralState.REJECTED:
            continue
        totals[dept] += 1
        if state == ReferralState.DONE and done_at is not None:
            spans[dept].append(done_at - created_at)
    return [
        ClosureStat(
            key=d,
            name=str(Department(d).label),
            total=totals[d],
            closed=len(spans[d]),
            rate=round(len(spans[d]) / totals[d], 3) if totals[d] else None,
            median_hours=_median_hours(spans[d]),
        )
        for d in Department.values
        if d in totals
    ]
