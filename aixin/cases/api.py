"""POST /api/v1/incidents (report a concern), GET /api/v1/incidents (scoped list),
POST /api/v1/incidents/{id}/transitions (take a case or referral action).

No `from __future__ import annotations` here: django-ninja resolves `Query[...]` at import time.
"""

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest
from ninja import Query
from ninja.errors import HttpError
from ninja.responses import Status

from aixin.accounts.access import (
    STAFF,
    ScopedRouter,
    access,
    children_visible_to,
    get_case_for_user,
    get_referral_for_user,
    get_visible,
    referrals_visible_to,
    request_user,
)
from aixin.accounts.models import Role
from aixin.cases import selectors, services
from aixin.cases.models import Case, ReportEntryKind
from aixin.cases.schemas import (
    IncidentFilterIn,
    IncidentIn,
    IncidentOut,
    IncidentPageOut,
    ReferralOut,
    TransitionIn,
)

router = ScopedRouter(tags=["incidents"])
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000  # beyond any row count; larger numbers overflow the database
LIAISON = Role.DEPARTMENT_LIAISON


def _out(case: Case, user: Any) -> dict[str, Any]:
    referrals = referrals_visible_to(user).filter(case=case).order_by("pk")
    return IncidentOut(
        id=case.pk,
        number=case.number,
        child_id=case.child_id,
        child_name=case.child.name,
        village=case.region.name,
        category=case.category,
        category_label=str(case.get_category_display()),
        mandatory=case.mandatory,
        severity=case.severity,
        state=case.state,
        state_label=str(case.get_state_display()),
        due_at=case.due_at,
        escalation_level=case.escalation_level,
        version=case.version,
        reported_at=case.created_at,
        referrals=[
            ReferralOut(
                id=r.pk,
                department=r.department,
                department_label=str(r.get_department_display()),
                state=r.state,
                due_at=r.due_at,
                reason=r.reason,
                version=r.version,
            )
            for r in referrals
        ],
    ).model_dump(mode="json")


def _visible_case(user: Any, case_id: int) -> Case:
    try:
        case: Case = get_case_for_user(user, case_id)
    except Http404 as exc:
        raise HttpError(404, "记录不存在或不在你的管辖范围内") from exc
    return case


@router.post("", response={201: IncidentOut}, url_name="incidents_create")
@access(*STAFF, Role.VOLUNTEER)
def incidents_create(request: HttpRequest, payload: IncidentIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    if payload.child_id is not None:
        # A child outside the reporter's scope is not found, as on every detail.
        try:
            get_visible(children_visible_to(user), payload.child_id)
        except Http404 as exc:
            raise HttpError(404, "记录不存在或不在你的管辖范围内") from exc
    case = services.report_create(
        actor=user,
        child_id=payload.child_id,
        category=payload.category,
        severity=payload.severity,
        description=payload.description,
        observed_at=payload.observed_at,
        place=payload.place,
        request=request,
    )
    return Status(201, _out(case, user))


@router.get("", response=IncidentPageOut, url_name="incidents_list")
@access(*STAFF, Role.VOLUNTEER, LIAISON)
def incidents_list(request: HttpRequest, filters: Query[IncidentFilterIn]) -> dict[str, Any]:
    user = request_user(request)
    limit = max(1, min(int(filters.limit or settings.AIXIN_PAGE_SIZE), MAX_LIMIT))
    offset = min(max(0, int(filters.offset or 0)), MAX_OFFSET)
    qs = selectors.case_list(
        user=user, state=filters.state or "all", severity=filters.severity, overdue=filters.overdue
    ).order_by("-pk")
    page = list(qs[offset : offset + limit])
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": [_out(c, user) for c in page]}


@router.post("/{incident_id}/transitions", response=IncidentOut, url_name="incidents_transition")
@access(*STAFF, LIAISON)
def incidents_transition(request: HttpRequest, incident_id: int, payload: TransitionIn) -> dict[str, Any]:
    user = request_user(request)
    case = _visible_case(user, incident_id)
    if payload.action in ReportEntryKind.values:
        services.report_add_entry(
            actor=user,
            case_id=case.pk,
            kind=payload.action,
            text=payload.note,
            agency=payload.agency,
            receipt_number=payload.receipt_number,
            request=request,
        )
    elif payload.referral_id is not None:
        try:
            referral = get_referral_for_user(user, payload.referral_id)
        except Http404 as exc:
            raise HttpError(404, "记录不存在或不在你的管辖范围内") from exc
        if referral.case_id != case.pk:
            raise HttpError(404, "该风险事件没有这条转办")
        services.referral_transition(
            actor=user,
            referral_id=referral.pk,
            action=payload.action,
            version=payload.version,
            note=payload.note,
            request=request,
        )
    else:
        services.case_transition(
            actor=user,
            case_id=case.pk,
            action=payload.action,
            version=payload.version,
            note=payload.note,
            departments=payload.departments,
            request=request,
        )
    return _out(_visible_case(user, case.pk), user)
