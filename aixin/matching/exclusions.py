"""Pairs that matching must never propose (issue 4 §1): a mother who is the child's relative,
a conflict of interest, or another reason staff record on the child's file. A pairing the
mother declined excludes its pair too. Every change is audited."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from aixin.accounts.access import (
    get_child_for_user,
    get_visible,
    get_volunteer_for_user,
    match_exclusions_visible_to,
    may_manage,
)
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.matching.models import ExclusionReason, MatchExclusion
from aixin.pairing.models import Pairing, PairingStatus
from aixin.regions.models import Region


def excluded_pairs(district: Region, child_ids: list[int] | None = None) -> set[tuple[int, int]]:
    """(child id, mother id) pairs of the district's children that must not be proposed — all of
    the district's, or those of `child_ids` (a handful: a child's suggestions). A district's
    exclusions are few, so a whole run reads them by district, not by a long list of ids."""
    declined = Pairing.objects.filter(district=district, status=PairingStatus.DECLINED)
    recorded = MatchExclusion.objects.filter(district=district)
    if child_ids is not None:
        declined, recorded = declined.filter(child_id__in=child_ids), recorded.filter(child_id__in=child_ids)
    return set(declined.values_list("child_id", "volunteer_id")) | set(
        recorded.values_list("child_id", "volunteer_id")
    )


def exclusion_add(
    *,
    actor: Any,
    child_id: Any,
    volunteer_id: Any,
    reason: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> MatchExclusion:
    if not may_manage(actor):
        raise NotAllowed(_("只有市、区县妇联工作人员可以设置不宜结对"))
    child = get_child_for_user(actor, child_id)
    try:
        volunteer = get_volunteer_for_user(actor, volunteer_id)
    except Http404 as exc:  # not in the actor's scope, or no such mother
        raise InvalidInput(_("请选择本区县的爱心妈妈"), field="volunteer") from exc
    if reason not in ExclusionReason.values:
        raise InvalidInput(_("请选择不宜结对的原因"), field="reason")
    note = (note or "").strip()
    if reason == ExclusionReason.OTHER and not note:
        raise InvalidInput(_("选择“其他”时请写明原因"), field="note")
    if volunteer.district_id != child.district_id:
        raise InvalidInput(_("%(name)s不在该儿童所在区县，本就不会被推荐") % {"name": volunteer.name})
    try:
        with transaction.atomic():
            exclusion = MatchExclusion.objects.create(
                child=child,
                volunteer=volunteer,
                district_id=child.district_id,
                reason=reason,
                note=note[:200],
                created_by=actor,
            )
            audit_log(
                actor=actor,
                action=AuditAction.CREATE,
                object_type="child",
                object_id=child.pk,
                region=child.region,
                summary=_("设置%(child)s与爱心妈妈%(mother)s不宜结对：%(reason)s")
                % {"child": child.name, "mother": volunteer.name, "reason": exclusion.get_reason_display()},
                details={"volunteer": volunteer.pk, "reason": reason},
                request=request,
            )
    except IntegrityError as exc:
        raise Conflict(_("已设置过%(name)s与该儿童不宜结对") % {"name": volunteer.name}) from exc
    return exclusion


@transaction.atomic
def exclusion_remove(*, actor: Any, exclusion_id: Any, request: HttpRequest | None = None) -> int:
    """Lift an exclusion; answers the child's id."""
    if not may_manage(actor):
        raise NotAllowed(_("只有市、区县妇联工作人员可以设置不宜结对"))
    exclusion = get_visible(
        match_exclusions_visible_to(actor).select_related("child", "volunteer"), exclusion_id
    )
    child = exclusion.child
    audit_log(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="child",
        object_id=child.pk,
        region=child.region,
        summary=_("撤销%(child)s与爱心妈妈%(mother)s不宜结对的设置")
        % {"child": child.name, "mother": exclusion.volunteer.name},
        details={"volunteer": exclusion.volunteer_id, "reason": exclusion.reason},
        request=request,
    )
    exclusion.delete()
    return int(child.pk)
