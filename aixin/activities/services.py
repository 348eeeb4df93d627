"""Writes for group activities (R-8.1)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from aixin.accounts.access import children_visible_to, may_manage, region_in_scope
from aixin.activities.models import Activity, ActivityKind, ActivityParticipation
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import InvalidInput, NotAllowed
from aixin.regions.models import RegionLevel


@transaction.atomic
def activity_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    held_on: datetime.date,
    venue: str = "",
    region: Any,
    child_ids: Iterable[int],
) -> Activity:
    """Record a group activity that was held, with the children who took part. Admins only; the
    region and every child must be in the actor's scope."""
    if not may_manage(actor):
        raise NotAllowed("只有市、区县妇联工作人员可以登记团体活动")
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写活动名称", field="name")
    if kind not in ActivityKind.values:
        raise InvalidInput("活动类型不正确，请从列表中选择", field="kind")
    if held_on > timezone.localdate():
        raise InvalidInput("活动日期不能晚于今天：请在活动举办后再登记参加的儿童", field="held_on")
    if region is None or region.level == RegionLevel.CITY or not region_in_scope(actor, region):
        raise InvalidInput("举办地须为你管辖范围内的区县、乡镇或村(社区)", field="region")
    ids = sorted({int(pk) for pk in child_ids})
    found = set(children_visible_to(actor).filter(pk__in=ids).values_list("pk", flat=True))
    missing = [pk for pk in ids if pk not in found]
    if missing:
        listed = "、".join(str(pk) for pk in missing[:10])
        raise InvalidInput(
            f"以下儿童不存在或不在你的管辖范围内（编号 {listed}），请核对参加名单", field="child_ids"
        )
    district = region if region.level == RegionLevel.DISTRICT else region.district
    activity = Activity.objects.create(
        name=name[:100],
        kind=kind,
        held_on=held_on,
        venue=(venue or "").strip()[:100],
        region=region,
        district=district,
        created_by=actor,
    )
    ActivityParticipation.objects.bulk_create(
        [ActivityParticipation(activity=activity, child_id=pk, held_on=held_on) for pk in ids]
    )
    audit_log(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="activity",
        object_id=activity.pk,
        region=region,
        summary=f"登记团体活动：{activity.name}（{len(ids)} 名儿童）",
        details={"child_ids": ids},
    )
    return activity
