"""Writes to the children registry (R-3.1–3.4, 3.6).

Every write is atomic, made by an admin in scope (`access.may_manage`), re-derives the categories
and the care tier through `derive`, records each changed field as a ChildChange and is audited.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone

from aixin.accounts.access import children_visible_to, get_visible, may_manage, may_reveal_full_identifiers
from aixin.accounts.access import region_in_scope as _region_in_scope
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from aixin.lib.idnumber import IdNumberError, IdNumberInfo, parse
from aixin.regions.models import Region, RegionLevel
from aixin.registry import derive
from aixin.registry.models import (
    PERMANENT_CONDITION_KINDS,
    CareTier,
    Child,
    ChildChange,
    ChildStatus,
    ClosedAs,
    Guardian,
    GuardianshipType,
    HouseholdType,
    Parent,
    ParentCondition,
    ParentConditionKind,
    SchoolStage,
    closed_as_of,
)
from aixin.registry.rules import Condition

OTHER_DIFFICULTY_REASONS = {
    "family_poverty": "家庭贫困",
    "own_disability": "自身残疾",
    "guardianship_failure": "监护缺失",
}


@dataclass
class ChildData:
    """What staff enter for a child. On update `id_number=""` keeps the recorded number."""

    name: str
    id_number: str
    village: Region
    ethnicity: str = "汉族"
    household_type: str = HouseholdType.RURAL
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    school: str = ""
    grade: str = ""
    school_stage: str = SchoolStage.NONE
    full_time_student: bool = True
    is_scattered_orphan: bool = False
    is_other_difficulty: bool = False
    other_difficulty_reasons: list[str] = field(default_factory=list)
    is_justice_involved: bool = False
    difficulty_life: bool = False
    difficulty_study: bool = False
    difficulty_physical: bool = False
    difficulty_mental: bool = False
    risk_psych_behaviour: bool = False
    risk_harm_others: bool = False
    risk_being_harmed: bool = False
    notes: str = ""
    source: str = "manual"


@dataclass
class GuardianData:
    name: str
    relation: str
    phone: str = ""
    guardianship_type: str = GuardianshipType.PARENT
    is_primary: bool = True


@dataclass
class ConditionData:
    parent: str
    kind: str
    started_on: datetime.date | None = None
    term_months: int | None = None
    disability_grade: int | None = None
    disability_category: int | None = None
    evidence: str = ""
    ended_on: datetime.date | None = None


# Fields copied from ChildData onto the child, in the order changes are listed.
PLAIN_FIELDS = (
    "ethnicity",
    "household_type",
    "address",
    "latitude",
    "longitude",
    "school",
    "grade",
    "school_stage",
    "full_time_student",
    "is_scattered_orphan",
    "is_other_difficulty",
    "other_difficulty_reasons",
    "is_justice_involved",
    "difficulty_life",
    "difficulty_study",
    "difficulty_physical",
    "difficulty_mental",
    "risk_psych_behaviour",
    "risk_harm_others",
    "risk_being_harmed",
    "notes",
)
# Fields whose change is recorded in the history (id_number_masked stands for the number).
TRACKED_FIELDS = (
    "name",
    "id_number_masked",
    "birth_date",
    "sex",
    "region",
    *PLAIN_FIELDS,
    "is_left_behind",
    "is_de_facto_unsupported",
    "parents_both_away",
    "derived_tier",
    "care_tier",
)


# ---------------------------------------------------------------------------------------------
# Helpers


def _require_manager(actor: Any) -> None:
    if not getattr(actor, "is_authenticated", False) or not may_manage(actor):
        raise NotAllowed("只有区县及以上妇联工作人员可以修改儿童台账")


def _display(child: Child, name: str) -> str:
    if name == "region":
        region = child.region
        return f"{region.town.name if region.town else ''}{region.name}" if region else ""
    value = getattr(child, name)
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(OTHER_DIFFICULTY_REASONS.get(v, str(v)) for v in value)
    display = getattr(child, f"get_{name}_display", None)
    if callable(display) and value != "":
        return str(display())
    return str(value)


def _snapshot(child: Child) -> dict[str, str]:
    return {name: _display(child, name) for name in TRACKED_FIELDS}


def snapshot(child: Child) -> dict[str, str]:
    """The tracked fields of a child as shown in its history (for other writers, e.g. imports).
    Encrypted fields are in clear here: pass values through `derive.history_value` to store."""
    return _snapshot(child)


def _record_changes(
    child: Child, before: dict[str, str], *, actor: Any, reason: str = "", source: str = "manual"
) -> list[ChildChange]:
    # Snapshots hold encrypted fields in clear (to see that they changed); the history does not.
    after = _snapshot(child)
    rows = [
        ChildChange(
            child=child,
            field=name,
            old_value=derive.history_value(name, before.get(name, "")),
            new_value=derive.history_value(name, after[name]),
            changed_by=actor,
            reason=reason[:300],
            source=source,
        )
        for name in TRACKED_FIELDS
        if before.get(name, "") != after[name]
    ]
    ChildChange.objects.bulk_create(rows)
    return rows


def _parse_id(raw: str) -> IdNumberInfo:
    try:
        return parse(raw)
    except IdNumberError as exc:
        raise InvalidInput(str(exc), field="id_number") from exc


def _place(child: Child) -> str:
    region = Region.objects.select_related("district", "town").get(pk=child.region_id)
    district = region.district.name if region.district else ""
    town = region.town.name if region.town else ""
    return f"{district}{town}{region.name}"


def _check_duplicate(actor: Any, info: IdNumberInfo, *, exclude_pk: int | None = None) -> None:
    # The uniqueness check itself must see every child in the city, whatever the actor's scope;
    # what it reveals about the other record is then limited to the actor's scope.
    existing = Child.objects.filter(id_number_index=derive.id_number_index(info.number))
    if exclude_pk is not None:
        existing = existing.exclude(pk=exclude_pk)
    other = existing.only("pk", "region_id").first()
    if other is None:
        return
    if children_visible_to(actor).filter(pk=other.pk).exists():
        raise Conflict(f"该身份证号的儿童已在台账中（所在：{_place(other)}）", field="id_number")
    raise Conflict("该身份证号的儿童已在其他地区的台账中，请联系市妇联核实", field="id_number")


def _check_village(actor: Any, village: Region | None) -> None:
    if village is None:
        raise InvalidInput("请选择儿童现居住的村（社区）", field="village")
    if village.level != RegionLevel.VILLAGE:
        raise InvalidInput(f"“{village.name}”不是村（社区），请选择到村一级", field="village")
    if village.valid_to is not None:
        raise InvalidInput(f"“{village.name}”已撤销，请选择现行的村（社区）", field="village")
    if not _region_in_scope(actor, village):
        raise NotAllowed(f"“{village.name}”不在你的管辖范围内", field="village")


def _validate_other_reasons(reasons: list[str]) -> None:
    unknown = [r for r in reasons if r not in OTHER_DIFFICULTY_REASONS]
    if unknown:
        raise InvalidInput(f"未知的困境原因：{'、'.join(unknown)}", field="other_difficulty_reasons")


def _validate_guardian(data: GuardianData) -> None:
    if not data.name.strip():
        raise InvalidInput("请填写监护人姓名", field="guardian_name")
    if not data.relation.strip():
        raise InvalidInput("请填写监护人与儿童的关系", field="guardian_relation")
    phone = data.phone.strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
        raise InvalidInput(
            f"监护人电话“{phone}”格式不正确，应为手机号或座机号码（只含数字）", field="guardian_phone"
        )
    if data.guardianship_type not in GuardianshipType.values:
        raise InvalidInput("请选择监护类型", field="guardianship_type")


def _validate_condition(data: ConditionData, *, today: datetime.date) -> None:
    if data.parent not in Parent.values:
        raise InvalidInput("请选择父亲或母亲", field="parent")
    if data.kind not in ParentConditionKind.values:
        raise InvalidInput("请选择父母情形", field="kind")
    if data.started_on and data.started_on > today:
        raise InvalidInput(f"起始日期{data.started_on.isoformat()}晚于今天", field="started_on")
    if data.started_on and data.ended_on and data.ended_on < data.started_on:
        raise InvalidInput("结束日期早于起始日期", field="ended_on")
    if data.ended_on and data.kind in PERMANENT_CONDITION_KINDS:
        raise InvalidInput(
            f"{ParentConditionKind(data.kind).label}是永久情形，不能填写结束日期", field="ended_on"
        )
    if data.disability_grade is not None and data.disability_grade not in (1, 2, 3, 4):
        raise InvalidInput("残疾等级应为1至4级", field="disability_grade")
    if data.disability_category is not None and not 1 <= data.disability_category <= 7:
        raise InvalidInput(
            "残疾类别应为1至7（视力、听力、言语、肢体、智力、精神、多重）", field="disability_category"
        )


def _locked_child(actor: Any, child_id: Any) -> Child:
    """The child, locked for the rest of the transaction; 404 outside the actor's scope."""
    locked = children_visible_to(actor).select_for_update(of=("self",)).select_related("region__town")
    child: Child = get_visible(locked, child_id)
    return child


def _rederive(child: Child, *, today: datetime.date | None = None) -> None:
    derive.apply_rules(child, derive.conditions_of(child), today=today)


def _audit(
    actor: Any,
    action: str,
    child: Child,
    summary: str,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    audit_log(
        actor=actor,
        action=action,
        object_type="child",
        object_id=child.pk,
        region=child.region,
        summary=summary,
        details=details,
        request=request,
    )


def _apply_data(child: Child, data: ChildData) -> None:
    derive.set_name(child, data.name)
    for name in PLAIN_FIELDS:
        setattr(child, name, getattr(data, name))
    child.ethnicity = (child.ethnicity or "").strip()
    child.address = data.address.strip()
    child.school = child.school.strip()
    child.grade = child.grade.strip()
    if not child.is_other_difficulty:
        child.other_difficulty_reasons = []


def _validate_child_data(data: ChildData) -> None:
    if not data.name.strip():
        raise InvalidInput("请填写儿童姓名", field="name")
    if len(data.name.strip()) > 50:
        raise InvalidInput("儿童姓名过长（最多50个字）", field="name")
    if data.household_type not in HouseholdType.values:
        raise InvalidInput("请选择户籍类型", field="household_type")
    if data.school_stage not in SchoolStage.values:
        raise InvalidInput("请选择就学情况", field="school_stage")
    if data.latitude is not None and not -90 <= data.latitude <= 90:
        raise InvalidInput("纬度应在-90到90之间", field="latitude")
    if data.longitude is not None and not -180 <= data.longitude <= 180:
        raise InvalidInput("经度应在-180到180之间", field="longitude")
    _validate_other_reasons(data.other_difficulty_reasons)


# ---------------------------------------------------------------------------------------------
# Children


@transaction.atomic
def child_create(
    *,
    actor: Any,
    data: ChildData,
    guardians: list[GuardianData],
    conditions: list[ConditionData],
    request: HttpRequest | None = None,
    today: datetime.date | None = None,
) -> Child:
    _require_manager(actor)
    today = today or timezone.localdate()
    _validate_child_data(data)
    info = _parse_id(data.id_number)
    _check_village(actor, data.village)
    for g in guardians:
        _validate_guardian(g)
    for c in conditions:
        _validate_condition(c, today=today)
    _check_duplicate(actor, info)

    child = Child(created_by=actor, source=data.source or "manual")
    before = {name: "" for name in TRACKED_FIELDS}
    _apply_data(child, data)
    derive.set_identity(child, info)
    derive.set_region(child, data.village)
    derive.apply_rules(child, [_as_rule_condition(c) for c in conditions], today=today)
    child.save()
    for g in guardians:
        _save_guardian(Guardian(child=child), g)
    for c in conditions:
        _save_condition(ParentCondition(child=child), c)
    _record_changes(child, before, actor=actor, reason="新建档案", source=child.source)
    _audit(
        actor, AuditAction.CREATE, child, f"新建儿童档案：{child.name}（{child.id_number_masked}）", request
    )
    return child


def _stale_message(child_id: Any) -> str:
    last = (
        ChildChange.objects.filter(child_id=child_id, changed_by__isnull=False)
        .select_related("changed_by")
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None:
        return "该儿童档案已被他人修改，请刷新后重新编辑"
    when = timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M")
    return f"该儿童档案已被他人修改（{last.changed_by} 于 {when}），请刷新后重新编辑"


@transaction.atomic
def child_update(
    *,
    actor: Any,
    child_id: Any,
    version: int,
    data: ChildData,
    request: HttpRequest | None = None,
    today: datetime.date | None = None,
) -> Child:
    _require_manager(actor)
    child = _locked_child(actor, child_id)
    if child.version != version:
        raise StaleEdit(_stale_message(child.pk))
    _validate_child_data(data)
    _check_village(actor, data.village)
    info = None
    if data.id_number.strip():
        info = _parse_id(data.id_number)
        _check_duplicate(actor, info, exclude_pk=child.pk)

    before = _snapshot(child)
    _apply_data(child, data)
    if info is not None:
        derive.set_identity(child, info)
    derive.set_region(child, data.village)
    _rederive(child, today=today)
    after = _snapshot(child)
    if before == after and info is None:
        return child

    values = {
        f.attname: getattr(child, f.attname)
        for f in Child._meta.concrete_fields
        if f.attname not in ("id", "version", "created_at", "created_by_id")
    }
    values["updated_at"] = timezone.now()
    matched = Child.objects.filter(pk=child.pk, version=version).update(**values, version=F("version") + 1)
    if matched != 1:
        raise StaleEdit(_stale_message(child.pk))
    child.refresh_from_db()
    changes = _record_changes(child, before, actor=actor)
    _audit(
        actor,
        AuditAction.UPDATE,
        child,
        f"修改儿童档案：{child.name}",
        request,
        details={"fields": [c.field for c in changes]},
    )
    return child


def _save_bumped(child: Child, before: dict[str, str], *, actor: Any, reason: str = "") -> list[ChildChange]:
    """Save a locked child with a version bump, recording what changed."""
    child.version = F("version") + 1
    child.save()
    child.refresh_from_db()
    return _record_changes(child, before, actor=actor, reason=reason)


@transaction.atomic
def child_override_tier(
    *, actor: Any, child_id: Any, tier: str, reason: str, request: HttpRequest | None = None
) -> Child:
    """Set the care tier by hand (reason required) or, with tier="", go back to the derived tier."""
    _require_manager(actor)
    reason = (reason or "").strip()
    if tier and tier not in CareTier.values:
        raise InvalidInput("请选择关爱类型", field="tier")
    if not reason:
        raise InvalidInput("请填写调整关爱类型的理由", field="reason")
    child = _locked_child(actor, child_id)
    before = _snapshot(child)
    before_override = child.get_tier_override_display() if child.tier_override else "（按规则）"
    child.tier_override = tier
    child.tier_override_reason = reason[:300] if tier else ""
    child.tier_override_by = actor if tier else None
    child.tier_override_at = timezone.now() if tier else None
    child.care_tier = tier or child.derived_tier
    _save_bumped(child, before, actor=actor, reason=reason)
    ChildChange.objects.create(
        child=child,
        field="tier_override",
        old_value=before_override,
        new_value=child.get_tier_override_display() if tier else "（按规则）",
        reason=reason[:300],
        changed_by=actor,
        source="manual",
    )
    summary = (
        f"人工调整关爱类型为{child.get_care_tier_display()}：{reason}"
        if tier
        else f"取消人工调整，恢复规则关爱类型{child.get_care_tier_display()}：{reason}"
    )
    _audit(actor, AuditAction.UPDATE, child, summary, request)
    return child


@transaction.atomic
def child_close(
    *,
    actor: Any,
    child_id: Any,
    reason: str = "",
    closed_as: str = "",
    request: HttpRequest | None = None,
) -> Child:
    """Close a child's record with its 退出类型 and a reason (R-3.6). Records are never deleted.
    The reason may be left out for a type other than 其他 (the type is the reason); a caller that
    gives only a reason gets the type the reason states (`closed_as_of`)."""
    from aixin.pairing.models import OPEN_STATUSES

    _require_manager(actor)
    reason = (reason or "").strip()
    if closed_as and closed_as not in ClosedAs.values:
        raise InvalidInput("退出类型无效", field="closed_as")
    if not reason and closed_as in ("", ClosedAs.OTHER):
        raise InvalidInput("请填写退出原因（如迁出本市、父母返乡、不再符合条件）", field="reason")
    kind = ClosedAs(closed_as or closed_as_of(reason))
    label = str(kind.label)
    reason = reason or label
    child = _locked_child(actor, child_id)
    if child.status == ChildStatus.CLOSED:
        raise Conflict("该儿童已退出台账，无需重复操作")
    open_pairing = child.pairings.filter(status__in=OPEN_STATUSES).select_related("volunteer").first()
    if open_pairing is not None:
        raise Conflict(
            f"该儿童仍与爱心妈妈{open_pairing.volunteer.name}结对（{open_pairing.get_status_display()}），"
            "请先解除或撤销结对再退出台账"
        )
    before = {"status": child.get_status_display(), "closed_reason": child.closed_reason}
    child.status = ChildStatus.CLOSED
    child.closed_as = kind
    child.closed_reason = reason[:300]
    child.closed_at = timezone.now()
    child.version = F("version") + 1
    child.save()
    child.refresh_from_db()
    ChildChange.objects.bulk_create(
        [
            ChildChange(
                child=child,
                field="status",
                old_value=before["status"],
                new_value=child.get_status_display(),
                reason=reason[:300],
                changed_by=actor,
                source="manual",
            ),
            ChildChange(
                child=child,
                field="closed_reason",
                old_value=before["closed_reason"],
                new_value=reason if reason == label else f"{label}：{child.closed_reason}",
                reason=reason[:300],
                changed_by=actor,
                source="manual",
            ),
        ]
    )
    _audit(actor, AuditAction.TRANSITION, child, f"儿童退出台账（{label}）：{reason}", request)
    from aixin.alerts.services import resolve_satisfied

    resolve_satisfied(children=[child.pk])  # alerts about a child who left the register close
    return child


@transaction.atomic
def child_reopen(*, actor: Any, child_id: Any, reason: str, request: HttpRequest | None = None) -> Child:
    """Put a closed record back in the register (a child who moved away came back, a record
    closed by mistake), with a reason. Its categories and tier are derived again for today;
    the daily scan raises what it then needs (a loving mother, a hand-over)."""
    _require_manager(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写恢复原因（如儿童已回到本地、误操作退出）", field="reason")
    child = _locked_child(actor, child_id)
    if child.status != ChildStatus.CLOSED:
        raise Conflict(f"该儿童的档案状态为“{child.get_status_display()}”，只有已退出台账的档案可以恢复")
    before = {
        "status": child.get_status_display(),
        "closed_reason": child.closed_reason,
        **_snapshot_derived(child),
    }
    child.status = ChildStatus.ACTIVE
    child.closed_as = ""
    child.closed_reason = ""
    child.closed_at = None
    _rederive(child)
    child.version = F("version") + 1
    child.save()
    child.refresh_from_db()
    after = {"status": child.get_status_display(), "closed_reason": "", **_snapshot_derived(child)}
    ChildChange.objects.bulk_create(
        [
            ChildChange(
                child=child,
                field=name,
                old_value=str(before[name]),
                new_value=str(after[name]),
                reason=reason[:300],
                changed_by=actor,
                source="manual",
            )
            for name in before
            if before[name] != after[name]
        ]
    )
    _audit(actor, AuditAction.TRANSITION, child, f"儿童恢复在册：{reason}", request)
    return child


def _snapshot_derived(child: Child) -> dict[str, str]:
    return {"care_tier": child.get_care_tier_display()}


def child_reveal_id_number(*, actor: Any, child_id: Any, request: HttpRequest | None = None) -> str:
    """The full ID number, for admins only; every reveal is audited."""
    if not getattr(actor, "is_authenticated", False) or not may_reveal_full_identifiers(actor):
        raise NotAllowed("只有区县及以上妇联工作人员可以查看完整身份证号")
    child: Child = get_visible(children_visible_to(actor).select_related("region"), child_id)
    number = derive.reveal_id_number(child)
    _audit(actor, AuditAction.REVEAL, child, f"查看完整身份证号：{child.name}", request)
    return number


# ---------------------------------------------------------------------------------------------
# Guardians and parents' conditions


def _save_guardian(guardian: Guardian, data: GuardianData) -> Guardian:
    guardian.name = data.name.strip()
    guardian.relation = data.relation.strip()
    guardian.guardianship_type = data.guardianship_type
    guardian.is_primary = data.is_primary
    derive.set_guardian_phone(guardian, data.phone)
    guardian.save()
    if guardian.is_primary:
        Guardian.objects.filter(child_id=guardian.child_id, is_primary=True).exclude(pk=guardian.pk).update(
            is_primary=False
        )
    return guardian


@transaction.atomic
def guardian_add(
    *, actor: Any, child_id: Any, data: GuardianData, request: HttpRequest | None = None
) -> Guardian:
    _require_manager(actor)
    _validate_guardian(data)
    child = _locked_child(actor, child_id)
    guardian = _save_guardian(Guardian(child=child), data)
    ChildChange.objects.create(
        child=child,
        field="guardian",
        new_value=f"{guardian.name}（{guardian.relation}，{guardian.phone_masked}）",
        changed_by=actor,
        source="manual",
        reason="新增监护人",
    )
    Child.objects.filter(pk=child.pk).update(version=F("version") + 1, updated_at=timezone.now())
    _audit(actor, AuditAction.UPDATE, child, f"新增监护人：{guardian.name}", request)
    return guardian


@transaction.atomic
def guardian_update(
    *, actor: Any, guardian_id: Any, data: GuardianData, request: HttpRequest | None = None
) -> Guardian:
    _require_manager(actor)
    _validate_guardian(data)
    guardian = Guardian.objects.filter(pk=guardian_id).only("child_id").first()
    if guardian is None:
        from django.http import Http404

        raise Http404("监护人不存在")
    child = _locked_child(actor, guardian.child_id)
    guardian = Guardian.objects.select_for_update().get(pk=guardian.pk)
    old = f"{guardian.name}（{guardian.relation}，{guardian.phone_masked}）"
    guardian = _save_guardian(guardian, data)
    new = f"{guardian.name}（{guardian.relation}，{guardian.phone_masked}）"
    ChildChange.objects.create(
        child=child,
        field="guardian",
        old_value=old,
        new_value=new,
        changed_by=actor,
        source="manual",
        reason="修改监护人",
    )
    Child.objects.filter(pk=child.pk).update(version=F("version") + 1, updated_at=timezone.now())
    _audit(actor, AuditAction.UPDATE, child, f"修改监护人：{guardian.name}", request)
    return guardian


def _as_rule_condition(c: ConditionData) -> Condition:
    return Condition(
        parent=c.parent,
        kind=c.kind,
        started_on=c.started_on,
        term_months=c.term_months,
        disability_grade=c.disability_grade,
        disability_category=c.disability_category,
        ended_on=c.ended_on,
    )


def _save_condition(row: ParentCondition, c: ConditionData) -> ParentCondition:
    row.parent = c.parent
    row.kind = c.kind
    row.started_on = c.started_on
    row.term_months = c.term_months
    row.disability_grade = c.disability_grade
    row.disability_category = c.disability_category
    row.evidence = c.evidence.strip()
    row.ended_on = c.ended_on
    row.save()
    return row


def _condition_text(row: ParentCondition) -> str:
    parts = [f"{row.get_parent_display()}{row.get_kind_display()}"]
    if row.started_on:
        parts.append(f"自{row.started_on.isoformat()}")
    if row.term_months:
        parts.append(f"期限{row.term_months}个月")
    if row.ended_on:
        parts.append(f"至{row.ended_on.isoformat()}")
    if row.evidence:
        parts.append(f"证明：{row.evidence}")
    return "，".join(parts)


@transaction.atomic
def condition_add(
    *,
    actor: Any,
    child_id: Any,
    data: ConditionData,
    request: HttpRequest | None = None,
    today: datetime.date | None = None,
) -> ParentCondition:
    _require_manager(actor)
    today = today or timezone.localdate()
    _validate_condition(data, today=today)
    child = _locked_child(actor, child_id)
    before = _snapshot(child)
    row = _save_condition(ParentCondition(child=child), data)
    ChildChange.objects.create(
        child=child,
        field="parent_condition",
        new_value=_condition_text(row),
        changed_by=actor,
        source="manual",
        reason="新增父母情形",
    )
    _rederive(child, today=today)
    _save_bumped(child, before, actor=actor, reason=f"父母情形变化：{_condition_text(row)}")
    _audit(actor, AuditAction.UPDATE, child, f"新增父母情形：{_condition_text(row)}", request)
    return row


@transaction.atomic
def condition_end(
    *,
    actor: Any,
    condition_id: Any,
    ended_on: datetime.date,
    request: HttpRequest | None = None,
    today: datetime.date | None = None,
) -> ParentCondition:
    _require_manager(actor)
    today = today or timezone.localdate()
    found = ParentCondition.objects.filter(pk=condition_id).only("child_id").first()
    if found is None:
        from django.http import Http404

        raise Http404("父母情形不存在")
    child = _locked_child(actor, found.child_id)
    row = ParentCondition.objects.select_for_update().get(pk=found.pk)
    if row.kind in PERMANENT_CONDITION_KINDS:
        raise InvalidInput(f"{row}是永久情形，不能结束", field="ended_on")
    if row.started_on and ended_on < row.started_on:
        raise InvalidInput("结束日期早于起始日期", field="ended_on")
    if ended_on > today:
        raise InvalidInput(f"结束日期{ended_on.isoformat()}晚于今天", field="ended_on")
    before = _snapshot(child)
    old = _condition_text(row)
    row.ended_on = ended_on
    row.save(update_fields=["ended_on", "updated_at"])
    ChildChange.objects.create(
        child=child,
        field="parent_condition",
        old_value=old,
        new_value=_condition_text(row),
        changed_by=actor,
        source="manual",
        reason="父母情形结束",
    )
    _rederive(child, today=today)
    _save_bumped(child, before, actor=actor, reason=f"父母情形结束：{old}")
    _audit(actor, AuditAction.UPDATE, child, f"父母情形结束：{old}", request)
    return row


# ---------------------------------------------------------------------------------------------
# As time passes

# Days of birthdays looked back over: a missed nightly run or two is caught up the next night.
BIRTHDAY_WINDOW_DAYS = 7
# Ages at which the rules' answers change (R-3.2): left-behind ends at 16, the others at 18
# (unless still a full-time student).
THRESHOLD_AGES = (16, 18)
TIME_REASON = "随时间重新认定（年龄或父母情形期限变化）"


def children_rederive_by_time(*, today: datetime.date | None = None, chunk: int = 500) -> list[Child]:
    """Apply the category rules again to the children whose answers time alone can change, and
    save what changed: those who reached 16 or 18 in the last BIRTHDAY_WINDOW_DAYS days, and
    those with a parent condition bounded in time (lost contact counts from six months after it
    began, a prison term ends, a condition was given an end date). Each change is kept in the
    child's history (source "rules", no person) as an edit would be, and a changed care tier
    raises a RETIERED alert. Children nobody changed since are written with a version check; one
    edited meanwhile is left to that edit, which applied the rules itself. Returns the children
    changed; running it again the same day changes nothing."""
    from aixin.alerts.models import AlertKind
    from aixin.alerts.services import raise_alerts
    from aixin.lib.idnumber import latest_birth_date_aged

    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=BIRTHDAY_WINDOW_DAYS)
    birthdays = Q()
    for years in THRESHOLD_AGES:
        birthdays |= Q(
            birth_date__gt=latest_birth_date_aged(years, since),
            birth_date__lte=latest_birth_date_aged(years, today),
        )
    timed = ParentCondition.objects.filter(child=OuterRef("pk")).filter(
        Q(started_on__isnull=False) | Q(ended_on__isnull=False) | Q(term_months__isnull=False)
    )
    candidates = (
        Child.objects.filter(status=ChildStatus.ACTIVE)
        .filter(birthdays | Exists(timed))
        .select_related("region__town")
        .prefetch_related("parent_conditions")
        .order_by("pk")
    )
    derived: tuple[str, ...] = (
        *("is_de_facto_unsupported", "is_scattered_orphan", "is_left_behind", "parents_both_away"),
        *("derived_tier", "care_tier", "dedupe_key"),
    )
    changed: list[Child] = []
    retiered: dict[int, str] = {}  # child id → the alert's message
    rows = candidates.iterator(chunk_size=chunk)
    while batch := list(itertools.islice(rows, chunk)):
        with transaction.atomic():
            for child in batch:
                old = {name: getattr(child, name) for name in derived}
                _rederive(child, today=today)
                new = {name: getattr(child, name) for name in derived}
                if new == old:
                    continue  # most nights, for most of them
                child.__dict__.update(old)
                before, tier_before = _snapshot(child), child.get_care_tier_display()
                child.__dict__.update(new)
                matched = Child.objects.filter(pk=child.pk, version=child.version).update(
                    **new, version=F("version") + 1, updated_at=timezone.now()
                )
                if not matched:
                    continue
                _record_changes(child, before, actor=None, reason=TIME_REASON, source="rules")
                changed.append(child)
                tier_after = child.get_care_tier_display()
                if tier_after != tier_before:
                    retiered[child.pk] = f"关爱类型由{tier_before}调整为{tier_after}（{TIME_REASON}）"
            retiered_now = [child for child in batch if child.pk in retiered]
            raise_alerts(AlertKind.RETIERED, retiered_now, lambda child: retiered[child.pk])
    return changed


__all__ = [
    "TRACKED_FIELDS",
    "ChildData",
    "ConditionData",
    "GuardianData",
    "child_close",
    "child_create",
    "child_override_tier",
    "child_reopen",
    "child_reveal_id_number",
    "child_update",
    "children_rederive_by_time",
    "condition_add",
    "condition_end",
    "guardian_add",
    "guardian_update",
    "snapshot",
]
