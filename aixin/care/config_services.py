"""Writes of the "6+1" configuration (R-7.1): the rules, the school calendar and the festivals.

The rules are data, so the city administrator changes the programme here, not in code. A rule's
`code` and `bit` are its identity in existing care records and are never changed: deactivating
a rule keeps every record's bits and only takes the rule out of checklists and compliance.
Every change is audited; every function is atomic and raises a DomainError with a Chinese
message that says what is wrong and where.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F

from aixin.accounts.models import Role
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.care.models import Cadence, CareRecord, CareRule, Festival, SchoolTerm
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.registry.models import CareTier

# The tiers a 6+1 rule may apply to: group care (多对多) has activities, not a routine checklist.
RULE_TIERS = (CareTier.ONE_TO_ONE.value, CareTier.MANY_TO_ONE.value)
MAX_SORT_ORDER = 999
MAX_TERM_DAYS = 366


def _check_actor(actor: Any) -> None:
    if getattr(actor, "role", None) != Role.CITY_ADMIN:
        raise NotAllowed("只有市级管理员可以修改“6+1”规则、学期和节日设置")


def _text(value: str, *, label: str, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{label}不能为空", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{label}最多 {max_length} 个字，现在是 {len(value)} 个字", field=field)
    return value


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _changes(obj: Any, new: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [_iso(getattr(obj, name)), _iso(value)]
        for name, value in new.items()
        if getattr(obj, name) != value
    }


def _audit(
    actor: Any,
    action: str,
    object_type: str,
    object_id: Any,
    summary: str,
    details: dict[str, Any],
    request: Any,
) -> None:
    audit_log(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        region=getattr(actor, "region", None),
        summary=summary,
        details=details,
        request=request,
    )


# ---------------------------------------------------------------------------------------------
# Rules


@transaction.atomic
def care_rule_update(
    *,
    actor: Any,
    rule_id: int,
    name: str,
    short_name: str,
    cadence: str,
    active: bool,
    applies_to: Sequence[str],
    sort_order: int,
    request: Any = None,
) -> CareRule:
    """Change what a rule asks for and of whom; never its code or bit."""
    _check_actor(actor)
    rule = CareRule.objects.select_for_update().filter(pk=rule_id).first()
    if rule is None:
        raise InvalidInput("该“6+1”条目不存在，请刷新页面")
    new: dict[str, Any] = {
        "name": _text(name, label="条目名称", field="name", max_length=100),
        "short_name": _text(short_name, label="简称", field="short_name", max_length=20),
    }
    if cadence not in Cadence.values:
        raise InvalidInput(f"频次“{cadence}”无效，请从列表中选择", field="cadence")
    new["cadence"] = cadence
    tiers = list(dict.fromkeys(t for t in applies_to if t))
    unknown = [t for t in tiers if t not in RULE_TIERS]
    if unknown:
        raise InvalidInput(f"适用类型“{'、'.join(unknown)}”无效", field="applies_to")
    if not tiers:
        raise InvalidInput(f"“{new['name']}”至少要适用于一种关爱类型", field="applies_to")
    new["applies_to"] = [t for t in RULE_TIERS if t in tiers]
    if not 0 <= int(sort_order) <= MAX_SORT_ORDER:
        raise InvalidInput(f"排序须在 0 到 {MAX_SORT_ORDER} 之间", field="sort_order")
    new["sort_order"] = int(sort_order)
    new["active"] = bool(active)
    if rule.active and not new["active"]:
        others = CareRule.objects.select_for_update().filter(active=True).exclude(pk=rule.pk)
        if not others.exists():
            raise Conflict("至少要保留一项启用的“6+1”条目", field="active")
    changes = _changes(rule, new)
    if not changes:
        return rule
    for field_name, value in new.items():
        setattr(rule, field_name, value)
    rule.save(update_fields=[*new, "updated_at"])
    summary = f"修改“6+1”条目“{rule.name}”（{rule.code}）"
    if "active" in changes:
        summary += "：启用" if rule.active else "：停用"
    _audit(actor, AuditAction.UPDATE, "care_rule", rule.pk, summary, {"code": rule.code, **changes}, request)
    return rule


# ---------------------------------------------------------------------------------------------
# School terms


def _check_term(name: str, start: datetime.date | None, end: datetime.date | None) -> str:
    name = _text(name, label="学期名称", field="name", max_length=50)
    if start is None:
        raise InvalidInput("请填写学期开始日期", field="start")
    if end is None:
        raise InvalidInput("请填写学期结束日期", field="end")
    if start >= end:
        raise InvalidInput(
            f"学期“{name}”的开始日期 {start:%Y-%m-%d} 须早于结束日期 {end:%Y-%m-%d}", field="end"
        )
    if (end - start).days > MAX_TERM_DAYS:
        raise InvalidInput(f"学期“{name}”超过一年，请核对开始和结束日期", field="end")
    return name


def _check_no_overlap(
    name: str, start: datetime.date, end: datetime.date, *, exclude_pk: int | None = None
) -> None:
    # Lock the calendar so two concurrent edits cannot both pass the overlap check.
    list(SchoolTerm.objects.select_for_update().values_list("pk", flat=True))
    overlapping = SchoolTerm.objects.filter(start__lte=end, end__gte=start)
    if exclude_pk is not None:
        overlapping = overlapping.exclude(pk=exclude_pk)
    clash = overlapping.order_by("start").first()
    if clash is not None:
        raise Conflict(
            f"学期“{name}”（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）与已有学期“{clash.name}”"
            f"（{clash.start:%Y-%m-%d} 至 {clash.end:%Y-%m-%d}）时间重叠",
            field="start",
        )


@transaction.atomic
def school_term_create(
    *,
    actor: Any,
    name: str,
    start: datetime.date | None,
    end: datetime.date | None,
    request: Any = None,
) -> SchoolTerm:
    _check_actor(actor)
    name = _check_term(name, start, end)
    assert start is not None and end is not None
    _check_no_overlap(name, start, end)
    term = SchoolTerm.objects.create(name=name, start=start, end=end)
    _audit(
        actor,
        AuditAction.CREATE,
        "school_term",
        term.pk,
        f"新增学期“{term.name}”（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）",
        {"name": name, "start": start.isoformat(), "end": end.isoformat()},
        request,
    )
    return term


@transaction.atomic
def school_term_update(
    *,
    actor: Any,
    term_id: int,
    name: str,
    start: datetime.date | None,
    end: datetime.date | None,
    request: Any = None,
) -> SchoolTerm:
    _check_actor(actor)
    term = SchoolTerm.objects.select_for_update().filter(pk=term_id).first()
    if term is None:
        raise InvalidInput("该学期不存在，请刷新页面")
    name = _check_term(name, start, end)
    assert start is not None and end is not None
    _check_no_overlap(name, start, end, exclude_pk=term.pk)
    changes = _changes(term, {"name": name, "start": start, "end": end})
    if not changes:
        return term
    term.name, term.start, term.end = name, start, end
    term.save(update_fields=["name", "start", "end", "updated_at"])
    _audit(
        actor,
        AuditAction.UPDATE,
        "school_term",
        term.pk,
        f"修改学期“{term.name}”（{start:%Y-%m-%d} 至 {end:%Y-%m-%d}）",
        changes,
        request,
    )
    return term


def term_rule_records_in(start: datetime.date, end: datetime.date) -> int:
    """Care records dated in [start, end] that fulfil a rule whose cadence is the school term."""
    mask = 0
    for bit in CareRule.objects.filter(cadence=Cadence.TERM).values_list("bit", flat=True):
        mask |= 1 << bit
    if not mask:
        return 0
    return (
        CareRecord.objects.filter(date__range=(start, end))
        .annotate(term_hit=F("rules_mask").bitand(mask))
        .filter(term_hit__gt=0)
        .count()
    )


@transaction.atomic
def school_term_delete(*, actor: Any, term_id: int, request: Any = None) -> None:
    """Delete a term that holds no care record of a term rule (those would lose their term)."""
    _check_actor(actor)
    term = SchoolTerm.objects.select_for_update().filter(pk=term_id).first()
    if term is None:
        raise InvalidInput("该学期不存在或已删除，请刷新页面")
    count = term_rule_records_in(term.start, term.end)
    if count:
        raise Conflict(
            f"学期“{term.name}”（{term.start:%Y-%m-%d} 至 {term.end:%Y-%m-%d}）内已有 {count} 条"
            f"按学期完成的关爱记录，不能删除；如日期有误，请修改该学期"
        )
    details = {"name": term.name, "start": term.start.isoformat(), "end": term.end.isoformat()}
    pk = term.pk
    term.delete()
    _audit(
        actor,
        AuditAction.DELETE,
        "school_term",
        pk,
        f"删除学期“{details['name']}”（{details['start']} 至 {details['end']}）",
        details,
        request,
    )


# ---------------------------------------------------------------------------------------------
# Festivals


def _check_festival(name: str, date: datetime.date | None, *, exclude_pk: int | None = None) -> str:
    name = _text(name, label="节日名称", field="name", max_length=30)
    if date is None:
        raise InvalidInput(f"请填写“{name}”的日期", field="date")
    list(Festival.objects.select_for_update().filter(name=name).values_list("pk", flat=True))
    same_year = Festival.objects.filter(name=name, date__year=date.year)
    if exclude_pk is not None:
        same_year = same_year.exclude(pk=exclude_pk)
    same = same_year.first()
    if same is not None:
        raise Conflict(
            f"{date.year}年已设置“{name}”（{same.date:%Y-%m-%d}），同一节日每年只能有一个日期",
            field="name",
        )
    return name


@transaction.atomic
def festival_create(*, actor: Any, name: str, date: datetime.date | None, request: Any = None) -> Festival:
    _check_actor(actor)
    name = _check_festival(name, date)
    assert date is not None
    festival = Festival.objects.create(name=name, date=date)
    _audit(
        actor,
        AuditAction.CREATE,
        "festival",
        festival.pk,
        f"新增节日“{name}”（{date:%Y-%m-%d}）",
        {"name": name, "date": date.isoformat()},
        request,
    )
    return festival


@transaction.atomic
def festival_update(
    *, actor: Any, festival_id: int, name: str, date: datetime.date | None, request: Any = None
) -> Festival:
    _check_actor(actor)
    festival = Festival.objects.select_for_update().filter(pk=festival_id).first()
    if festival is None:
        raise InvalidInput("该节日不存在，请刷新页面")
    name = _check_festival(name, date, exclude_pk=festival.pk)
    assert date is not None
    changes = _changes(festival, {"name": name, "date": date})
    if not changes:
        return festival
    festival.name, festival.date = name, date
    festival.save(update_fields=["name", "date", "updated_at"])
    _audit(
        actor,
        AuditAction.UPDATE,
        "festival",
        festival.pk,
        f"修改节日“{name}”（{date:%Y-%m-%d}）",
        changes,
        request,
    )
    return festival


@transaction.atomic
def festival_delete(*, actor: Any, festival_id: int, request: Any = None) -> None:
    """Delete a festival date. Care records name their festival as text, so none is affected."""
    _check_actor(actor)
    festival = Festival.objects.select_for_update().filter(pk=festival_id).first()
    if festival is None:
        raise InvalidInput("该节日不存在或已删除，请刷新页面")
    details = {"name": festival.name, "date": festival.date.isoformat()}
    pk = festival.pk
    festival.delete()
    _audit(
        actor,
        AuditAction.DELETE,
        "festival",
        pk,
        f"删除节日“{details['name']}”（{details['date']}）",
        details,
        request,
    )
