"""GET /api/v1/pairings: pairings in the caller's scope; a loving mother sees her own.

With `?changed_since=<ISO 8601>` (R-4.6, for civil affairs systems that poll): only pairings
whose `updated_at` is later, oldest change first. A poller pages with `offset` until it has
`count` items, then polls again with the last `updated_at` it received (full microseconds).

With `?with_id_number=true`, each item carries the child's full ID number, which civil affairs
(the master source of these children, who hold their ID numbers) match on — the API form of the
结对状态（共享民政） workbook, under the same rule: only a caller who may export that workbook
(`may_export(user, "pairing_status")`) gets it, anyone else is refused (403); every answer that
carries ID numbers is audited as an export of that kind. Without it `id_number` is null: the
number travels only when asked for."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field

from aixin.accounts.access import EVERYONE, EXPORT_ROLES, ScopedRouter, access, may_export, request_user
from aixin.accounts.models import Role
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import InvalidInput, NotAllowed
from aixin.pairing.models import Pairing, PairingStatus
from aixin.pairing.schemas import PairingOut, PairingPage
from aixin.pairing.selectors import (
    pairing_list,
    pairings_changed_since,
    parse_changed_since,
    region_for_filter,
)
from aixin.registry import derive
from aixin.registry.models import CareTier

router = ScopedRouter(tags=["pairing"])
MAX_LIMIT = 200
# Beyond any real page; a larger offset would overflow the database's integer (a 500).
MAX_OFFSET = 1_000_000_000
# The export kind whose rule decides who gets full ID numbers (aixin.accounts.access.EXPORT_ROLES).
SHARE_KIND = "pairing_status"


class SharedPairingOut(PairingOut):
    id_number: str | None = Field(
        None,
        description="儿童的完整身份证号（用于与民政台账比对）：仅在 with_id_number=true 且调用者可以导出"
        "“结对状态（共享民政）”（市妇联管理员、区县妇联工作人员）时返回，每次返回都记入审计日志；否则为 null",
    )


class SharedPairingPage(PairingPage):
    items: list[SharedPairingOut]  # type: ignore[assignment]


def _out(p: Pairing, *, with_id_number: bool = False) -> SharedPairingOut:
    return SharedPairingOut(
        id=p.pk,
        child_id=p.child_id,
        child_name=p.child.name,
        volunteer_id=p.volunteer_id,
        volunteer_name=p.volunteer.name,
        tier=p.tier,
        tier_label=str(p.get_tier_display()),
        status=p.status,
        status_label=str(p.get_status_display()),
        district=p.district.name,
        town=p.town.name,
        village=p.village.name,
        village_code=p.village.code,
        proposed_at=p.proposed_at,
        start_date=p.start_date,
        end_date=p.end_date,
        updated_at=p.updated_at,
        id_number=derive.reveal_id_number(p.child) if with_id_number else None,
    )


def audit_shared(
    request: HttpRequest,
    rows: int,
    filters: dict[str, Any],
    *,
    actor: Any,
    region: Any,
    who: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    """An answer that carried full ID numbers: audited as the 结对状态（共享民政） export is. `who`
    names a caller that is not a person (a department credential)."""
    audit_log(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="pairing_status",  # the 结对状态（共享民政） export's
        region=region,
        summary=_("%(who)s通过接口获取结对状态（共享民政）%(n)s条，含完整身份证号") % {"who": who, "n": rows},
        details={
            "kind": SHARE_KIND,
            "rows": rows,
            "filters": filters,
            "encrypted": False,
            "full_id_numbers": True,
            "via": "api",
            **(details or {}),
        },
        request=request,
    )


@router.get("", response=SharedPairingPage, url_name="pairings_list")
@access(*EVERYONE)
def pairings_list(
    request: HttpRequest,
    status: str = "",
    region: str = "",
    tier: str = "",
    changed_since: str = "",
    limit: int = 50,
    offset: int = 0,
    with_id_number: bool = False,
) -> SharedPairingPage:
    """结对列表（调用者管辖范围内）。changed_since：只列此后有变化的结对，按变化先后排列。

    with_id_number=true：每项带完整身份证号 id_number，仅限可以导出“结对状态（共享民政）”的角色
    （市妇联管理员、区县妇联工作人员），其他角色 403；每次返回身份证号都记入审计日志。"""
    if with_id_number and not may_export(request.user, SHARE_KIND):
        allowed = "、".join(str(Role(r).label) for r in sorted(EXPORT_ROLES[SHARE_KIND]))
        raise NotAllowed(
            _("你的角色不能获取完整身份证号：与“结对状态（共享民政）”导出相同，仅限%(roles)s")
            % {"roles": allowed},
            field="with_id_number",
        )
    check_filters(status, tier)
    found = region_for_filter(request.user, region)
    qs = pairing_list(request.user, region=found, status=status, tier=tier)
    if region and found is None:
        qs = qs.none()
    page = shared_page(
        qs, changed_since=changed_since, limit=limit, offset=offset, with_id_number=with_id_number
    )
    if with_id_number and page.items:
        filters: dict[str, Any] = {"status": status, "region": region, "tier": tier}
        filters |= {"changed_since": changed_since, "limit": page.limit, "offset": page.offset}
        user = request_user(request)
        audit_shared(request, len(page.items), filters, actor=user, region=user.region)
    return page


def check_filters(status: str, tier: str) -> None:
    """An API caller's `status` and `tier` are among the values (an unknown one would list
    everything, and a system with a typo would believe itself filtered)."""
    statuses = ["open", *PairingStatus.values]
    if status and status not in statuses:
        raise InvalidInput(_("status 应为以下之一：%(v)s") % {"v": "、".join(statuses)}, field="status")
    if tier and tier not in CareTier.values:
        raise InvalidInput(_("tier 应为以下之一：%(v)s") % {"v": "、".join(CareTier.values)}, field="tier")


def shared_page(
    qs: QuerySet[Pairing], *, changed_since: str, limit: int, offset: int, with_id_number: bool
) -> SharedPairingPage:
    """A page of already scoped pairings, changed after `changed_since` when given (oldest change
    first), each with the child's full ID number when `with_id_number` (the caller has checked
    that it may have them, and audits the answer)."""
    since = parse_changed_since(changed_since) if changed_since else None
    if since is not None:
        qs = pairings_changed_since(qs, since)
    limit = max(1, min(limit, MAX_LIMIT))
    offset = min(max(0, offset), MAX_OFFSET)
    items = [_out(p, with_id_number=with_id_number) for p in qs[offset : offset + limit]]
    return SharedPairingPage(count=qs.count(), limit=limit, offset=offset, items=items)
