"""Writes for group activities (R-8.1)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from aixin.accounts.access import children_visible_to, may_manage, region_in_scope
from aixin.activities.models import Activity, ActivityKind, ActivityParticipation
from aixin.activities.selectors import resolve_participant_lines
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import InvalidInput, NotAllowed
from aixin.regions.models import RegionLevel


class UnresolvedParticipants(InvalidInput):
    """Pasted lines that do not name exactly one child in scope; `problems` has one message per
    line (with its line number)."""

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message, field="participant_lines")
        self.problems = problems


def _checked_child_ids(
    *, actor: Any, place: Any, child_ids: Iterable[int], participant_lines: str, what: str
) -> list[int]:
    """The union of the ticked children and the pasted lines, every one visible to the actor."""
    try:
        ids = {int(pk) for pk in child_ids}
    except (TypeError, ValueError) as exc:
        raise InvalidInput("参加儿童名单格式不正确，请刷新页面后重新勾选", field="child_ids") from exc
    if (participant_lines or "").strip():
        resolution = resolve_participant_lines(user=actor, place=place, text=participant_lines)
        if resolution.problems:
            raise UnresolvedParticipants(
                f"粘贴的名单中有 {len(resolution.problems)} 行未能识别，{what}，请修改后重新提交",
                problems=resolution.problems,
            )
        ids.update(resolution.child_ids)
    ordered = sorted(ids)
    found = set(children_visible_to(actor).filter(pk__in=ordered).values_list("pk", flat=True))
    missing = [pk for pk in ordered if pk not in found]
    if missing:
        listed = "、".join(str(pk) for pk in missing[:10])
        raise InvalidInput(
            f"以下儿童不存在或不在你的管辖范围内（编号 {listed}），请核对参加名单", field="child_ids"
        )
    return ordered


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
    participant_lines: str = "",
    request: HttpRequest | None = None,
) -> Activity:
    """Record a group activity that was held, with the children who took part: the ticked
    `child_ids` plus the children named in `participant_lines` (one ID number or name a line).
    Admins only; the region and every child must be in the actor's scope. Nothing is written if
    any line or child is refused."""
    if not may_manage(actor):
        raise NotAllowed("只有市、区县妇联工作人员可以登记团体活动")
    name = (name or "").strip()
    if not name:
        raise InvalidInput("请填写活动名称", field="name")
    if kind not in ActivityKind.values:
        raise InvalidInput("活动类型不正确，请从列表中选择", field="kind")
    if held_on is None:
        raise InvalidInput("请填写活动日期", field="held_on")
    if held_on > timezone.localdate():
        raise InvalidInput("活动日期不能晚于今天：请在活动举办后再登记参加的儿童", field="held_on")
    if region is None or region.level == RegionLevel.CITY or not region_in_scope(actor, region):
        raise InvalidInput("举办地须为你管辖范围内的区县、乡镇或村(社区)", field="region")
    ids = _checked_child_ids(
        actor=actor,
        place=region,
        child_ids=child_ids,
        participant_lines=participant_lines,
        what="活动未保存",
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
        request=request,
    )
    return activity


@dataclass(frozen=True)
class ParticipantsAdded:
    added: int
    skipped: int


@transaction.atomic
def participants_add(
    *,
    actor: Any,
    activity: Activity,
    child_ids: Iterable[int],
    participant_lines: str = "",
    request: HttpRequest | None = None,
) -> ParticipantsAdded:
    """Add children to an activity already recorded. A child already taking part is skipped,
    not an error; nothing is added if any line or child is refused."""
    if not may_manage(actor):
        raise NotAllowed("只有市、区县妇联工作人员可以修改团体活动的参加名单")
    activity = Activity.objects.select_for_update().select_related("region").get(pk=activity.pk)
    if not region_in_scope(actor, activity.region):
        raise NotAllowed("该活动不在你的管辖范围内")
    ids = _checked_child_ids(
        actor=actor,
        place=activity.region,
        child_ids=child_ids,
        participant_lines=participant_lines,
        what="未添加任何儿童",
    )
    if not ids:
        raise InvalidInput("请勾选或粘贴要添加的儿童", field="child_ids")
    already = set(
        ActivityParticipation.objects.filter(activity=activity, child_id__in=ids).values_list(
            "child_id", flat=True
        )
    )
    new_ids = [pk for pk in ids if pk not in already]
    ActivityParticipation.objects.bulk_create(
        [ActivityParticipation(activity=activity, child_id=pk, held_on=activity.held_on) for pk in new_ids]
    )
    if new_ids:
        audit_log(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="activity",
            object_id=activity.pk,
            region=activity.region,
            summary=f"团体活动“{activity.name}”新增参加儿童 {len(new_ids)} 名",
            details={"added_child_ids": new_ids, "skipped_child_ids": sorted(already)},
            request=request,
        )
    return ParticipantsAdded(added=len(new_ids), skipped=len(already))
