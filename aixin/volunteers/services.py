"""Writes for loving mothers (爱心妈妈, R-5.1, R-5.2): registration, profile edits, the
recruitment → screening → approval → service → exit life-cycle, and a phone log-in.

Every function is keyword-only, atomic, checks that the actor may manage volunteers in the
volunteer's region, and records an audit event.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aixin.accounts.access import get_volunteer_for_user, may_manage, region_in_scope
from aixin.accounts.models import Role
from aixin.accounts.services import temporary_login
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib import crypto
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from aixin.lib.idnumber import IdNumberError, parse
from aixin.regions.models import Region, RegionLevel
from aixin.registry import derive
from aixin.volunteers.models import (
    BackgroundCheck,
    SourceGroup,
    Specialty,
    Volunteer,
    VolunteerStatus,
    VolunteerStatusChange,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

MIN_CAPACITY = 1
MAX_CAPACITY = 5

S = VolunteerStatus
# The life-cycle. Exit is possible from every state but exited itself.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECRUITED: frozenset({S.SCREENING, S.EXITED}),
    S.SCREENING: frozenset({S.APPROVED, S.EXITED}),
    S.APPROVED: frozenset({S.ACTIVE, S.EXITED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.EXITED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.EXITED}),
    S.EXITED: frozenset(),
}
# Leaving service ends the mother's open pairings, so these need a reason.
REASON_REQUIRED = frozenset({S.EXITED, S.SUSPENDED})

TRANSITION_VERBS: dict[str, StrPromise] = {
    S.SCREENING: gettext_lazy("开始准入审查"),
    S.APPROVED: gettext_lazy("审查通过"),
    S.ACTIVE: gettext_lazy("开始服务"),
    S.SUSPENDED: gettext_lazy("暂停服务"),
    S.EXITED: gettext_lazy("退出"),
}


def allowed_transitions(volunteer: Volunteer) -> list[str]:
    """The statuses this volunteer may move to now; a flagged background check leaves only exit."""
    allowed = ALLOWED_TRANSITIONS[volunteer.status]
    if volunteer.background_check == BackgroundCheck.FLAGGED:
        allowed = allowed & {S.EXITED}
    return [s for s in VolunteerStatus.values if s in allowed]


def _require_manager(actor: Any) -> None:
    if not may_manage(actor):
        raise NotAllowed(_("只有市、区县妇联工作人员可以管理爱心妈妈"))


def _region(value: Any, *, field: str, label: str) -> Region | None:
    if value in (None, ""):
        return None
    if isinstance(value, Region):
        return value
    region = Region.objects.filter(pk=value).first() if str(value).isdigit() else None
    region = region or Region.objects.filter(code=str(value)).first()
    if region is None:
        raise InvalidInput(_("%(label)s“%(value)s”不存在") % {"label": label, "value": value}, field=field)
    return region


def _home_village(actor: Any, value: Any) -> Region:
    region = _region(value, field="home_region", label=_("居住村(社区)"))
    if region is None:
        raise InvalidInput(_("请选择爱心妈妈居住的村(社区)"), field="home_region")
    if region.level != RegionLevel.VILLAGE:
        raise InvalidInput(
            _("居住地须选到村(社区)一级，“%(name)s”不是村(社区)") % {"name": region.name}, field="home_region"
        )
    if not region_in_scope(actor, region):
        raise InvalidInput(
            _("居住村(社区)“%(name)s”不在你的管辖范围内") % {"name": region.name}, field="home_region"
        )
    return region


def _capacity(value: Any) -> int:
    try:
        capacity = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(_("可结对人数须为1到5之间的整数"), field="capacity") from exc
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        raise InvalidInput(_("可结对人数须为1到5之间的整数，现为%(n)s") % {"n": capacity}, field="capacity")
    return capacity


def _specialties(values: Any) -> list[str]:
    chosen = list(values or [])
    unknown = [v for v in chosen if v not in Specialty.values]
    if unknown:
        raise InvalidInput(_("未知的专长：%(v)s") % {"v": "、".join(map(str, unknown))}, field="specialties")
    return [v for v in Specialty.values if v in chosen]


def _check_phone(phone: str, *, actor: Any, exclude_pk: int | None = None) -> str:
    phone = "".join(str(phone or "").split())
    if not phone:
        raise InvalidInput(_("请填写爱心妈妈的手机号"), field="phone")
    if not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
        raise InvalidInput(_("手机号应为1开头的11位数字，现为“%(p)s”") % {"p": phone}, field="phone")
    index = crypto.blind_index(phone, context=derive.VOLUNTEER_PHONE_CONTEXT)
    others = Volunteer.objects.filter(phone_index=index)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    clash = others.select_related("district").first()
    if clash is not None:
        if region_in_scope(actor, clash.home_region):
            raise Conflict(
                _("手机号%(p)s已登记为爱心妈妈%(name)s（%(district)s），请勿重复登记")
                % {"p": crypto.mask_phone(phone), "name": clash.name, "district": clash.district.name},
                field="phone",
            )
        raise Conflict(
            _("手机号%(p)s已在其他区县登记为爱心妈妈，请勿重复登记") % {"p": crypto.mask_phone(phone)},
            field="phone",
        )
    return phone


def _set_id_number(volunteer: Volunteer, raw: Any) -> None:
    raw = str(raw or "").strip()
    if not raw:
        return
    try:
        info = parse(raw)
    except IdNumberError as exc:
        raise InvalidInput(str(exc), field="id_number") from exc
    derive.set_volunteer_id_number(volunteer, info.number)


def _apply_profile(volunteer: Volunteer, data: Mapping[str, Any], *, actor: Any) -> None:
    name = str(data.get("name") or "").strip()
    if not name:
        raise InvalidInput(_("请填写爱心妈妈姓名"), field="name")
    derive.set_name(volunteer, name)
    source_group = data.get("source_group") or ""
    if source_group not in SourceGroup.values:
        raise InvalidInput(_("请选择来源群体"), field="source_group")
    volunteer.source_group = source_group
    volunteer.work_unit = str(data.get("work_unit") or "").strip()
    derive.set_region(volunteer, _home_village(actor, data.get("home_region")), field="home_region")
    volunteer.work_region = _region(data.get("work_region"), field="work_region", label=_("工作地"))
    volunteer.specialties = _specialties(data.get("specialties"))
    volunteer.notes = str(data.get("notes") or "").strip()
    for coord in ("latitude", "longitude"):
        if coord in data:
            setattr(volunteer, coord, data.get(coord))
    if "trained" in data:
        volunteer.trained = bool(data.get("trained"))
    _apply_preferences(volunteer, data)


def _apply_preferences(volunteer: Volunteer, data: Mapping[str, Any]) -> None:
    """The ages (0–17) and sex of the children she would care for; blank = any."""
    bounds: dict[str, int | None] = {}
    labels = {"preferred_age_min": _("意向儿童最小年龄"), "preferred_age_max": _("意向儿童最大年龄")}
    for key, label in labels.items():
        raw = data.get(key)
        if raw in (None, ""):
            bounds[key] = None
            continue
        try:
            age = int(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(_("%(f)s须为0到17之间的整数") % {"f": label}, field=key) from exc
        if not 0 <= age <= 17:
            raise InvalidInput(_("%(f)s须为0到17之间的整数，现为%(n)s") % {"f": label, "n": age}, field=key)
        bounds[key] = age
    low, high = bounds["preferred_age_min"], bounds["preferred_age_max"]
    if low is not None and high is not None and low > high:
        raise InvalidInput(
            _("意向儿童年龄范围有误：最小年龄%(a)s大于最大年龄%(b)s") % {"a": low, "b": high},
            field="preferred_age_min",
        )
    sex = str(data.get("preferred_child_sex") or "")
    if sex not in ("", "M", "F"):
        raise InvalidInput(_("意向儿童性别应为男、女或不限"), field="preferred_child_sex")
    volunteer.preferred_age_min, volunteer.preferred_age_max = low, high
    volunteer.preferred_child_sex = sex


def _audit(
    actor: Any,
    action: str,
    volunteer: Volunteer,
    summary: str,
    request: HttpRequest | None,
    details: dict[str, Any] | None = None,
) -> None:
    audit_log(
        actor=actor,
        action=action,
        object_type="volunteer",
        object_id=volunteer.pk,
        region=volunteer.home_region,
        summary=summary,
        details=details,
        request=request,
    )


@transaction.atomic
def volunteer_create(*, actor: Any, data: Mapping[str, Any], request: HttpRequest | None = None) -> Volunteer:
    _require_manager(actor)
    volunteer = Volunteer(status=VolunteerStatus.RECRUITED)
    _apply_profile(volunteer, data, actor=actor)
    volunteer.capacity = _capacity(data.get("capacity", 1))
    derive.set_volunteer_phone(volunteer, _check_phone(data.get("phone", ""), actor=actor))
    _set_id_number(volunteer, data.get("id_number"))
    volunteer.save()
    VolunteerStatusChange.objects.create(
        volunteer=volunteer,
        from_status="",
        to_status=VolunteerStatus.RECRUITED,
        note=_("登记报名"),
        changed_by=actor,
    )
    _audit(
        actor, AuditAction.CREATE, volunteer, _("登记爱心妈妈%(name)s") % {"name": volunteer.name}, request
    )
    return volunteer


@transaction.atomic
def volunteer_update(
    *,
    actor: Any,
    volunteer_id: int,
    version: int,
    data: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Volunteer:
    _require_manager(actor)
    volunteer = get_volunteer_for_user(actor, volunteer_id)
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if volunteer.version != int(version):
        raise StaleEdit(_("该爱心妈妈档案已被他人修改，请刷新后重新编辑"))
    before = {
        f: getattr(volunteer, f)
        for f in (
            "name",
            "source_group",
            "work_unit",
            "home_region_id",
            "work_region_id",
            "specialties",
            "capacity",
            "notes",
            "preferred_age_min",
            "preferred_age_max",
            "preferred_child_sex",
        )
    }
    _apply_profile(volunteer, data, actor=actor)
    capacity = _capacity(data.get("capacity", volunteer.capacity))
    if capacity < volunteer.load:
        raise InvalidInput(
            _("当前已结对%(n)s人，可结对人数不能少于%(n)s") % {"n": volunteer.load}, field="capacity"
        )
    volunteer.capacity = capacity
    phone = "".join(str(data.get("phone") or "").split())
    if phone:
        derive.set_volunteer_phone(volunteer, _check_phone(phone, actor=actor, exclude_pk=volunteer.pk))
    _set_id_number(volunteer, data.get("id_number"))
    fields = {
        f: getattr(volunteer, f)
        for f in (
            "name",
            "name_pinyin",
            "source_group",
            "work_unit",
            "home_region",
            "town",
            "district",
            "work_region",
            "specialties",
            "capacity",
            "notes",
            "latitude",
            "longitude",
            "trained",
            "preferred_age_min",
            "preferred_age_max",
            "preferred_child_sex",
            "phone_encrypted",
            "phone_index",
            "phone_masked",
            "id_number_encrypted",
            "id_number_index",
            "id_number_masked",
        )
    }
    updated = Volunteer.objects.filter(pk=volunteer.pk, version=volunteer.version).update(
        **fields, version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:  # pragma: no cover - the row lock makes this unreachable
        raise StaleEdit(_("该爱心妈妈档案已被他人修改，请刷新后重新编辑"))
    volunteer.refresh_from_db()
    changed = sorted(k for k, v in before.items() if getattr(volunteer, k) != v)
    if phone:
        changed.append("phone")
    _audit(
        actor,
        AuditAction.UPDATE,
        volunteer,
        _("修改爱心妈妈%(name)s的档案") % {"name": volunteer.name},
        request,
        {"fields": changed},
    )
    return volunteer


@transaction.atomic
def volunteer_transition(
    *,
    actor: Any,
    volunteer_id: int,
    to_status: str,
    note: str = "",
    background_check: str | None = None,
    checked_on: datetime.date | None = None,
    request: HttpRequest | None = None,
) -> Volunteer:
    _require_manager(actor)
    volunteer = get_volunteer_for_user(actor, volunteer_id)
    volunteer = Volunteer.objects.select_for_update().select_related("home_region").get(pk=volunteer.pk)
    current = VolunteerStatus(volunteer.status)
    if to_status not in VolunteerStatus.values:
        raise InvalidInput(_("未知的状态“%(s)s”") % {"s": to_status}, field="to_status")
    target = VolunteerStatus(to_status)
    note = (note or "").strip()
    today = timezone.localdate()

    if target not in ALLOWED_TRANSITIONS[current]:
        raise InvalidInput(
            _("爱心妈妈%(name)s当前状态为“%(cur)s”，不能变更为“%(to)s”")
            % {"name": volunteer.name, "cur": current.label, "to": target.label},
            field="to_status",
        )
    if background_check is not None and background_check != "":
        if background_check not in BackgroundCheck.values:
            raise InvalidInput(_("未知的入职查询结果"), field="background_check")
        if checked_on is None:
            raise InvalidInput(_("请填写入职查询日期"), field="checked_on")
        if checked_on > today:
            raise InvalidInput(
                _("入职查询日期%(d)s晚于今天，请核对") % {"d": checked_on.isoformat()}, field="checked_on"
            )
        volunteer.background_check = background_check
        volunteer.background_checked_on = checked_on
    if target != S.EXITED and volunteer.background_check == BackgroundCheck.FLAGGED:
        raise InvalidInput(_("入职查询有不良记录，不能准入，只能办理退出"), field="background_check")
    checked = (
        volunteer.background_check == BackgroundCheck.CLEAR and volunteer.background_checked_on is not None
    )
    if current == S.SCREENING and target == S.APPROVED and not checked:
        raise InvalidInput(
            _("审查通过前须录入入职查询结果“无违法犯罪记录”及查询日期"), field="background_check"
        )
    if target in REASON_REQUIRED and not note:
        raise InvalidInput(_("请填写%(verb)s的原因") % {"verb": TRANSITION_VERBS[target]}, field="note")

    volunteer.status = target
    if target == S.EXITED:
        volunteer.exit_reason = note[:300]
    volunteer.version += 1
    volunteer.save()
    VolunteerStatusChange.objects.create(
        volunteer=volunteer, from_status=current, to_status=target, note=note[:300], changed_by=actor
    )
    closed: list[int] = []
    if target in REASON_REQUIRED:
        from aixin.pairing.services import pairings_close_for_volunteer

        reason = _("爱心妈妈%(verb)s：%(note)s") % {"verb": TRANSITION_VERBS[target], "note": note}
        closed = pairings_close_for_volunteer(
            actor=actor, volunteer=volunteer, reason=reason, request=request
        )
        volunteer.refresh_from_db()
    _audit(
        actor,
        AuditAction.TRANSITION,
        volunteer,
        _("爱心妈妈%(name)s：%(cur)s → %(to)s")
        % {"name": volunteer.name, "cur": current.label, "to": target.label},
        request,
        {
            "from": current.value,
            "to": target.value,
            "note": note,
            "closed_pairings": closed,
            "background_check": volunteer.background_check,
        },
    )
    return volunteer


@transaction.atomic
def volunteer_create_login(
    *, actor: Any, volunteer_id: int, request: HttpRequest | None = None
) -> tuple[str, str]:
    """A `volunteer` account at her home village, so she can log in on her phone. The temporary
    password is returned once and never stored in clear."""
    _require_manager(actor)
    volunteer = get_volunteer_for_user(actor, volunteer_id)
    volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    if volunteer.user_id is not None:
        raise Conflict(_("爱心妈妈%(name)s已有登录账号") % {"name": volunteer.name})
    if volunteer.status == S.EXITED:
        raise InvalidInput(_("爱心妈妈%(name)s已退出，不能开通账号") % {"name": volunteer.name})
    user, password = temporary_login(
        name=volunteer.name,
        prefix="",
        fallback="mama",
        number=volunteer.pk,
        role=Role.VOLUNTEER,
        region_id=volunteer.home_region_id,
    )
    username = user.username
    Volunteer.objects.filter(pk=volunteer.pk).update(user=user, version=F("version") + 1)
    _audit(
        actor,
        AuditAction.CREATE,
        volunteer,
        _("为爱心妈妈%(name)s开通登录账号%(u)s") % {"name": volunteer.name, "u": username},
        request,
    )
    return username, password
