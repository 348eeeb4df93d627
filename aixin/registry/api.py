"""GET /api/v1/children and /children/{id}: staff get the fuller schema with a masked ID number;
loving mothers get only their own children with the minimal schema (R-1.2).

No `from __future__ import annotations` here: django-ninja resolves `Query[...]` at import time.
"""

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query

from aixin.accounts.access import (
    EVERYONE,
    ScopedRouter,
    access,
    get_visible,
    may_reveal_full_identifiers,
    request_user,
)
from aixin.accounts.models import Role
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.idnumber import age_on
from aixin.registry import derive, file_reason, selectors
from aixin.registry.models import Child
from aixin.registry.schemas import ChildFilterIn, ChildMinimalOut, ChildStaffDetailOut, ChildStaffOut

router = ScopedRouter(tags=["children"])
MAX_LIMIT = 200
# Beyond any real page; a larger offset would overflow the database's integer (a 500).
MAX_OFFSET = 1_000_000_000


def _minimal(child: Child, today: datetime.date) -> dict[str, Any]:
    guardian = child.guardians.first()
    return ChildMinimalOut(
        id=child.pk,
        name=child.name,
        age=age_on(child.birth_date, today),
        sex=child.get_sex_display(),
        school=child.school,
        grade=child.grade,
        village=child.region.name,
        guardian_name=guardian.name if guardian else "",
        guardian_phone=derive.reveal_guardian_phone(guardian) if guardian else "",
        needs=selectors.needs_of(child),
    ).model_dump()


def _staff(child: Child, today: datetime.date) -> dict[str, Any]:
    return ChildStaffOut(**_staff_fields(child, today)).model_dump(mode="json")


def _staff_fields(child: Child, today: datetime.date) -> dict[str, Any]:
    return {
        "id": child.pk,
        "name": child.name,
        "sex": child.get_sex_display(),
        "age": age_on(child.birth_date, today),
        "birth_date": child.birth_date,
        "id_number_masked": child.id_number_masked,
        "district": child.district.name,
        "town": child.town.name,
        "village": child.region.name,
        "region_code": child.region.code,
        "school": child.school,
        "grade": child.grade,
        "categories": selectors.categories_of(child),
        "difficulties": selectors.difficulties_of(child),
        "risks": selectors.risks_of(child),
        "care_tier": child.care_tier,
        "derived_tier": child.derived_tier,
        "tier_override": child.tier_override,
        "status": child.status,
        "paired": bool(getattr(child, "is_paired", False)),
        "mother_name": getattr(child, "mother_name", None),
        "last_contact_on": child.last_contact_on,
    }


def _is_volunteer(request: HttpRequest) -> bool:
    return request_user(request).role == Role.VOLUNTEER


@router.get("", url_name="children_list")
@access(*EVERYONE)
def children_list(request: HttpRequest, filters: Query[ChildFilterIn]) -> dict[str, Any]:
    today = timezone.localdate()
    data = filters.model_dump()
    limit = max(1, min(int(data.pop("limit") or 50), MAX_LIMIT))
    offset = min(max(0, int(data.pop("offset") or 0)), MAX_OFFSET)
    qs = selectors.child_list(
        user=request.user, filters=selectors.ChildFilters.from_mapping(data), today=today
    )
    page = list(qs.prefetch_related("guardians")[offset : offset + limit])
    shape = _minimal if _is_volunteer(request) else _staff
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": [shape(c, today) for c in page]}


@router.get("/{child_id}", url_name="children_detail")
@access(*EVERYONE)
def children_detail(request: HttpRequest, child_id: int, reason: str = "") -> dict[str, Any]:
    """Staff who do not own the case (R-12.5, `selectors.owns_child`) pass `?reason=`; it is
    audited with the view."""
    from django.http import Http404
    from ninja.errors import HttpError

    today = timezone.localdate()
    qs = selectors.child_list(user=request.user, today=today).prefetch_related("guardians")
    try:
        child = get_visible(qs, child_id)
    except Http404 as exc:
        raise HttpError(404, "记录不存在或不在你的管辖范围内") from exc
    reason = file_reason.clean_reason(reason)
    if not reason and not selectors.owns_child(request.user, child):
        raise HttpError(403, "该儿童不属于你负责的个案，查看档案须说明原因：请在请求中加上 reason 参数")
    audit_log(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="child",
        object_id=child.pk,
        region=child.region,
        summary=f"通过接口查看儿童档案：{child.name}",
        details={"reason": reason} if reason else None,
        request=request,
    )
    if _is_volunteer(request):
        return _minimal(child, today)
    fields = _staff_fields(child, today)
    fields.update(
        guardians=[
            {
                "name": g.name,
                "relation": g.relation,
                "phone_masked": g.phone_masked,
                "guardianship_type": g.guardianship_type,
                "is_primary": g.is_primary,
            }
            for g in child.guardians.all()
        ],
        tier_override_reason=child.tier_override_reason,
        # The house below the village, like the full ID number, only for administrators.
        address=child.address if may_reveal_full_identifiers(request.user) else child.address_masked,
    )
    return ChildStaffDetailOut(**fields).model_dump(mode="json")
