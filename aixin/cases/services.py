"""Writes for risk reports and the case workflow (R-10.1, R-10.2).

Every write locks the case row first (`select_for_update`; a referral is locked after its case,
always in that order), checks the state machine in `workflow`, writes the new state with a
version bump, and appends a `CaseEvent` — all in one transaction. Two people acting on one case
at once are serialised by the lock: the second sees the first one's state and either succeeds
on it, is refused with the current state named, or (when a version was sent) is told the case
changed. Notes are appended and never conflict.

A report in one of the nine mandatory-reporting situations is referred to public security in
the same transaction that records it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from aixin.accounts.access import cases_visible_to, children_visible_to, referrals_visible_to
from aixin.accounts.models import Department, Role, User
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.cases import workflow
from aixin.cases.categories import Category, Severity, is_mandatory
from aixin.cases.models import (
    OPEN_CASE_STATES,
    OPEN_REFERRAL_STATES,
    Case,
    CaseEvent,
    CaseState,
    EscalationLevel,
    Referral,
    ReferralState,
    Report,
    ReportEntry,
    ReportEntryKind,
)
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from aixin.lib.uploads import EVIDENCE_KINDS, check_upload, delete_on_failure, random_name
from aixin.notify.models import NotificationKind
from aixin.notify.services import notify
from aixin.regions.models import Region

DESCRIPTION_MAX = 2000
NOTE_MAX = 2000
PLACE_MAX = 200
# A report may be made a little "in the future" by a phone whose clock runs fast.
CLOCK_SKEW = datetime.timedelta(minutes=10)
SYSTEM_NAME = "系统"


# ---------------------------------------------------------------------------------------------
# Helpers: deadlines, people to tell, checks


def deadline(severity: str, key: str, start: datetime.datetime) -> datetime.datetime:
    """The deadline of stage `key` for a case of `severity` that enters the stage at `start`."""
    hours = settings.AIXIN_CASE_DEADLINES[severity][key]
    return start + datetime.timedelta(hours=hours)


def escalate_after(severity: str) -> datetime.timedelta:
    return datetime.timedelta(hours=settings.AIXIN_CASE_DEADLINES[severity]["escalate_after"])


def _ancestor_codes(region: Region) -> list[str]:
    return [code for code in region.path.strip("/").split("/") if code]


def liaisons_for(department: str, region: Region) -> list[User]:
    """The active liaisons of `department` placed at `region` or any unit above it."""
    return list(
        User.objects.filter(
            role=Role.DEPARTMENT_LIAISON,
            department=department,
            is_active=True,
            region__code__in=_ancestor_codes(region),
        ).order_by("pk")
    )


def district_staff(district_id: int) -> list[User]:
    return list(
        User.objects.filter(role=Role.DISTRICT_ADMIN, region_id=district_id, is_active=True).order_by("pk")
    )


def city_staff() -> list[User]:
    return list(User.objects.filter(role=Role.CITY_ADMIN, is_active=True).order_by("pk"))


def local_staff(case: Case) -> list[User]:
    """The town supervisor(s) and village director(s) of the child's area."""
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(role=Role.TOWN_SUPERVISOR, region_id=case.town_id)
            | Q(role=Role.VILLAGE_DIRECTOR, region_id=case.region_id)
        )
        .order_by("pk")
    )


def _case_link(case: Case) -> str:
    return reverse("cases:case_detail", args=[case.pk])


def _actor_kind(actor: Any, case: Case) -> str | None:
    """How `actor` stands to `case`: district staff, local staff, a liaison on it, or nobody."""
    role = getattr(actor, "role", None)
    if role == Role.CITY_ADMIN:
        return workflow.DISTRICT
    if role == Role.DISTRICT_ADMIN and case.district_id == actor.region_id:
        return workflow.DISTRICT
    if role == Role.TOWN_SUPERVISOR and case.town_id == actor.region_id:
        return workflow.LOCAL
    if role == Role.VILLAGE_DIRECTOR and case.region_id == actor.region_id:
        return workflow.LOCAL
    if role == Role.DEPARTMENT_LIAISON and referrals_visible_to(actor).filter(case_id=case.pk).exists():
        return workflow.LIAISON
    return None


def _who_may(action: workflow.Action) -> str:
    if action.actors == frozenset({workflow.DISTRICT}):
        return "区县妇联工作人员"
    if action.actors == frozenset({workflow.LIAISON}):
        return "被转办部门的联络员"
    return "本辖区工作人员或被转办部门的联络员"


def _clean_note(note: str, action: workflow.Action) -> str:
    note = (note or "").strip()
    if action.note_required and not note:
        label = action.note_label or "说明"
        raise InvalidInput(f"「{action.label}」需要填写{label}", field="note")
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"说明不能超过 {NOTE_MAX} 字", field="note")
    return note


def _check_file(file: Any, field: str) -> str:
    return check_upload(
        file, kinds=EVIDENCE_KINDS, max_bytes=settings.AIXIN_CASE_MAX_ATTACHMENT_BYTES, field=field
    )


def _event(
    case: Case,
    *,
    action: str,
    actor: Any,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    referral: Referral | None = None,
    attachment: Any = None,
    attachment_ext: str = "",
    stored: list[Any] | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        referral=referral,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(str(actor) if getattr(actor, "is_authenticated", False) else SYSTEM_NAME)[:150],
        actor_role=getattr(actor, "role", "") or "",
        note_sealed=CaseEvent.note.seal(note),
        district_id=case.district_id,
    )
    if attachment is not None:
        event.attachment.save(random_name(attachment_ext), attachment, save=False)
        if stored is not None:
            stored.append(event.attachment)
    event.save()
    return event


def _audit(actor: Any, case: Case, summary: str, request: Any, action: str = AuditAction.TRANSITION) -> None:
    audit_log(
        actor=actor,
        action=action,
        object_type="case",
        object_id=case.pk,
        region=case.region,
        summary=summary,
        request=request,
    )


def _set_state(case: Case, new_state: str, now: datetime.datetime) -> None:
    """Move the case to `new_state`: the deadline of the new stage starts, escalation resets."""
    case.state = new_state
    key = workflow.CASE_STATE_DEADLINE.get(new_state)
    case.due_at = deadline(case.severity, key, now) if key else None
    case.escalation_level = EscalationLevel.TOWN
    if new_state == CaseState.ACCEPTED and case.accepted_at is None:
        case.accepted_at = now
    if new_state == CaseState.RESOLVED:
        case.resolved_at = now
    if new_state == CaseState.CLOSED:
        case.closed_at = now
    if new_state in (CaseState.ACCEPTED, CaseState.IN_PROGRESS, CaseState.REFERRED):
        case.resolved_at = None
        case.closed_at = None


def _save_case(case: Case) -> None:
    case.version = F("version") + 1
    case.save()
    case.refresh_from_db(fields=["version", "updated_at"])


def _lock_case(actor: Any, case_id: int) -> Case:
    case: Case | None = (
        cases_visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("district", "region", "child")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotAllowed("该风险事件不存在或不在你的管辖范围内")
    return case


# ---------------------------------------------------------------------------------------------
# Reporting a concern


def report_create(
    *,
    actor: Any,
    child_id: Any,
    category: str,
    severity: str,
    description: str,
    observed_at: datetime.datetime | None,
    place: str = "",
    photo: Any = None,
    request: Any = None,
) -> Case:
    """Record a concern about a child the reporter may see and open its case.

    A mandatory-reporting situation is urgent whatever severity was chosen, and its case goes
    straight to public security (state "referred" with a pending public-security referral). A
    stored photo is deleted again if the transaction fails."""
    with delete_on_failure() as stored, transaction.atomic():
        return _report_create(
            actor=actor,
            child_id=child_id,
            category=category,
            severity=severity,
            description=description,
            observed_at=observed_at,
            place=place,
            photo=photo,
            request=request,
            stored=stored,
        )


def _report_create(
    *,
    actor: Any,
    child_id: Any,
    category: str,
    severity: str,
    description: str,
    observed_at: datetime.datetime | None,
    place: str,
    photo: Any,
    request: Any,
    stored: list[Any],
) -> Case:
    now = timezone.now()
    if child_id in (None, ""):
        raise InvalidInput("请选择要报告的儿童", field="child_id")
    try:
        child = (
            children_visible_to(actor)
            .select_related("region", "town", "district")
            .filter(pk=int(child_id))
            .first()
        )
    except (TypeError, ValueError):
        child = None
    if child is None:
        raise InvalidInput("该儿童不存在或不在你的关爱、管辖范围内，不能报告", field="child_id")
    if category not in Category.values:
        raise InvalidInput("请选择风险类别", field="category")
    mandatory = is_mandatory(category)
    if mandatory:
        severity = Severity.URGENT
    if severity not in Severity.values:
        raise InvalidInput("请选择紧急程度（紧急、高、中、低）", field="severity")
    description = (description or "").strip()
    if not description:
        raise InvalidInput("请写下你看到或听到的情况", field="description")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"情况描述不能超过 {DESCRIPTION_MAX} 字", field="description")
    if observed_at is None:
        raise InvalidInput("请填写发现的时间", field="observed_at")
    if timezone.is_naive(observed_at):
        observed_at = timezone.make_aware(observed_at)
    if observed_at > now + CLOCK_SKEW:
        raise InvalidInput("发现时间不能晚于现在", field="observed_at")
    place = (place or "").strip()
    if len(place) > PLACE_MAX:
        raise InvalidInput(f"地点不能超过 {PLACE_MAX} 字", field="place")
    photo_ext = _check_file(photo, "photo") if photo is not None else ""

    report = Report(
        child=child,
        reporter=actor,
        reporter_name=str(actor)[:150],
        reporter_role=actor.role,
        category=category,
        mandatory=mandatory,
        severity=severity,
        description_sealed=Report.description.seal(description),
        observed_at=observed_at,
        place=place,
        region_id=child.region_id,
        town_id=child.town_id,
        district_id=child.district_id,
    )
    if photo is not None:
        report.photo.save(random_name(photo_ext), photo, save=False)
        stored.append(report.photo)
    report.save()
    case = Case(
        report=report,
        child=child,
        category=category,
        mandatory=mandatory,
        severity=severity,
        region_id=child.region_id,
        town_id=child.town_id,
        district_id=child.district_id,
    )
    _set_state(case, CaseState.REPORTED, now)
    case.save()
    _event(case, action="report", actor=actor, to_state=CaseState.REPORTED, note=description)
    label = Category(category).label
    if mandatory:
        _mandatory_referral(case, now)
    else:
        notify(
            [*district_staff(case.district_id), *local_staff(case)],
            kind=NotificationKind.CASE_REFERRAL,
            title=f"新的风险报告：{child.name}（{label}）",
            body=f"{report.reporter_name}报告：{description[:100]}",
            link=_case_link(case),
            dedupe_key=f"case:{case.pk}:reported",
        )
    _review_tier(case)
    _audit(
        actor,
        case,
        f"{'强制报告' if mandatory else '报告风险'}：{child.name}（{label}）",
        request,
        action=AuditAction.CREATE,
    )
    return case


def _mandatory_referral(case: Case, now: datetime.datetime) -> None:
    """Mandatory reporting: refer to public security at once and alert its liaison, the district
    and the child's town and village. The referral is made even when the district has no public-
    security liaison yet (a report may never be refused); the district is then told to call."""
    referral = Referral.objects.create(
        case=case,
        department=Department.PUBLIC_SECURITY,
        region_id=case.region_id,
        town_id=case.town_id,
        district_id=case.district_id,
        due_at=deadline(case.severity, "respond", now),
        referred_by=case.report.reporter,
    )
    from_state = case.state
    _set_state(case, CaseState.REFERRED, now)
    case.accepted_at = now
    _save_case(case)
    liaisons = liaisons_for(Department.PUBLIC_SECURITY, case.region)
    note = "强制报告情形，已自动转公安机关"
    if not liaisons:
        note += f"；{case.district.name}尚未开通公安部门联络员，请区县立即电话报警并登记回执号"
    _event(
        case, action="mandatory_referral", actor=None, from_state=from_state, to_state=case.state, note=note
    )
    _event(
        case,
        action="referral_sent",
        actor=None,
        to_state=ReferralState.PENDING,
        referral=referral,
        note="强制报告：转公安",
    )
    child = case.child
    title = f"强制报告：{child.name}（{case.get_category_display()}）"
    notify(
        [*liaisons, *district_staff(case.district_id), *local_staff(case)],
        kind=NotificationKind.CASE_MANDATORY,
        title=title,
        body=note,
        link=_case_link(case),
        dedupe_key=f"case:{case.pk}:mandatory",
    )


def _review_tier(case: Case) -> None:
    """R-10.3: a child with an open case has their tier reviewed (one open alert per child)."""
    from aixin.alerts.services import raise_alerts

    raise_alerts(
        "risk_review",
        [case.child],
        lambda c: f"{c.name}有风险事件（{case.get_category_display()}），请复核关爱类型",
    )


@transaction.atomic
def report_add_entry(
    *,
    actor: Any,
    case_id: int,
    kind: str,
    text: str = "",
    agency: str = "",
    receipt_number: str = "",
    request: Any = None,
) -> ReportEntry:
    """Add a correction or the receiving agency's receipt number to a report. The report itself
    never changes; the receipt number is given once (a wrong one is corrected by a correction)."""
    case = _lock_case(actor, case_id)
    who = _actor_kind(actor, case)
    if who is None and case.report.reporter_id != getattr(actor, "pk", None):
        raise NotAllowed("只有报告人、本辖区工作人员或被转办部门的联络员可以补充报告")
    text = (text or "").strip()
    agency = (agency or "").strip()
    receipt_number = (receipt_number or "").strip()
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"内容不能超过 {NOTE_MAX} 字", field="text")
    if kind == ReportEntryKind.CORRECTION:
        if not text:
            raise InvalidInput("请写明更正或补充的内容", field="text")
        receipt_number = agency = ""
    elif kind == ReportEntryKind.RECEIPT:
        if not receipt_number:
            raise InvalidInput("请填写接报单位给出的回执号", field="receipt_number")
        if len(receipt_number) > 64 or len(agency) > 100:
            raise InvalidInput("回执号不超过 64 个字符，接报单位不超过 100 字", field="receipt_number")
        if not agency:
            raise InvalidInput("请填写接报单位（例如：万州区公安局某派出所）", field="agency")
        existing = case.report.entries.filter(kind=ReportEntryKind.RECEIPT).first()
        if existing is not None:
            raise Conflict(
                f"该报告已登记回执号 {existing.receipt_number}（{existing.agency}），不能再改；"
                "如有错误，请添加更正说明",
                field="receipt_number",
            )
    else:
        raise InvalidInput("请选择补充的类型（更正补充或接报回执）", field="kind")
    try:
        with transaction.atomic():
            entry = ReportEntry.objects.create(
                report=case.report,
                kind=kind,
                text_sealed=ReportEntry.text.seal(text),
                agency=agency,
                receipt_number=receipt_number,
                author=actor,
                author_name=str(actor)[:150],
            )
    except IntegrityError as exc:  # a concurrent receipt won the race
        raise Conflict("该报告刚刚已登记回执号，请刷新查看；如有错误，请添加更正说明") from exc
    summary = f"登记回执号 {receipt_number}（{agency}）" if kind == ReportEntryKind.RECEIPT else text
    _event(case, action=f"report_{kind}", actor=actor, note=summary)
    # The audit log (kept in clear, for years) says what was done, never what a correction says.
    said = summary if kind == ReportEntryKind.RECEIPT else f"{ReportEntryKind(kind).label}（{len(text)}字）"
    _audit(actor, case, f"补充风险报告：{said[:100]}", request, action=AuditAction.UPDATE)
    return entry


# ---------------------------------------------------------------------------------------------
# The case workflow


def case_transition(
    *,
    actor: Any,
    case_id: int,
    action: str,
    version: int | None = None,
    note: str = "",
    departments: Sequence[str] = (),
    attachment: Any = None,
    request: Any = None,
) -> Case:
    """Take a case action (accept, refer, resolve, close, return, reopen, note)."""
    with delete_on_failure() as stored, transaction.atomic():
        return _case_transition(
            actor=actor,
            case_id=case_id,
            action=action,
            version=version,
            note=note,
            departments=departments,
            attachment=attachment,
            request=request,
            stored=stored,
        )


def _case_transition(
    *,
    actor: Any,
    case_id: int,
    action: str,
    version: int | None,
    note: str,
    departments: Sequence[str],
    attachment: Any,
    request: Any,
    stored: list[Any],
) -> Case:
    now = timezone.now()
    act = workflow.CASE_ACTIONS.get(action)
    if act is None:
        raise InvalidInput(f"未知的操作“{action}”", field="action")
    case = _lock_case(actor, case_id)
    current = CaseState(case.state).label
    if version is not None and int(version) != case.version:
        raise StaleEdit(f"该风险事件已被他人更新（现为「{current}」），请刷新后再操作")
    if case.state not in act.sources:
        raise Conflict(f"风险事件当前为「{current}」，不能「{act.label}」", field="action")
    if _actor_kind(actor, case) not in act.actors:
        raise NotAllowed(f"「{act.label}」须由{_who_may(act)}办理")
    note = _clean_note(note, act)
    attachment_ext = _check_file(attachment, "attachment") if attachment is not None else ""
    from_state = case.state
    to_state = act.target_from(from_state)
    referral = None
    if act.code == "refer":
        wanted = _check_departments(case, departments)
    if act.code == "resolve":
        open_refs = list(case.referrals.filter(state__in=OPEN_REFERRAL_STATES))
        if open_refs:
            names = "、".join(str(r.get_department_display()) for r in open_refs)
            raise Conflict(f"仍有部门流转未办结（{names}），不能办结；请等部门办结或退回", field="action")
    if act.code == "note" and actor.role == Role.DEPARTMENT_LIAISON:
        # A liaison's note belongs to their department's referral on this case.
        referral = referrals_visible_to(actor).filter(case_id=case.pk).order_by("-pk").first()

    if to_state != from_state:
        _set_state(case, to_state, now)
        _save_case(case)
    _event(
        case,
        action=act.code,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        note=note,
        referral=referral,
        attachment=attachment,
        attachment_ext=attachment_ext,
        stored=stored,
    )
    if act.code == "refer":
        _refer(case, actor, wanted, note, now)
        if to_state == from_state:
            # Referring again from an open state is still a change other people act on.
            _save_case(case)
    if act.code == "close":
        _notify_district(case, f"风险事件已核实结案：{case.child.name}", note, "closed", except_user=actor)
    _audit(
        actor,
        case,
        f"风险事件{act.label}：{case.child.name}（{current} → {CaseState(to_state).label}）",
        request,
    )
    return case


def _check_departments(case: Case, departments: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(d for d in departments if d))
    if not wanted:
        raise InvalidInput("请至少选择一个转办部门", field="departments")
    for dept in wanted:
        if dept not in Department.values:
            raise InvalidInput(f"部门“{dept}”不在可选范围内", field="departments")
    open_depts = set(
        case.referrals.filter(state__in=OPEN_REFERRAL_STATES).values_list("department", flat=True)
    )
    for dept in wanted:
        label = Department(dept).label
        if dept in open_depts:
            raise Conflict(f"已转办{label}，尚未办结，不能重复转办", field="departments")
        if not liaisons_for(dept, case.region):
            raise InvalidInput(
                f"{case.district.name}没有{label}的部门联络员，不能转办；请先为{label}开通联络员账号",
                field="departments",
            )
    return wanted


def _refer(case: Case, actor: Any, departments: list[str], note: str, now: datetime.datetime) -> None:
    for dept in departments:
        referral = Referral.objects.create(
            case=case,
            department=dept,
            region_id=case.region_id,
            town_id=case.town_id,
            district_id=case.district_id,
            due_at=deadline(case.severity, "respond", now),
            referred_by=actor,
        )
        _event(
            case,
            action="referral_sent",
            actor=actor,
            to_state=ReferralState.PENDING,
            referral=referral,
            note=note,
        )
        notify(
            liaisons_for(dept, case.region),
            kind=NotificationKind.CASE_REFERRAL,
            title=f"新的转办：{case.child.name}（{case.get_category_display()}）",
            body=note[:200],
            link=_case_link(case),
            dedupe_key=f"case:{case.pk}:referral:{referral.pk}",
        )


def _notify_district(case: Case, title: str, body: str, key: str, *, except_user: Any = None) -> None:
    skip = getattr(except_user, "pk", None)
    notify(
        [u for u in district_staff(case.district_id) if u.pk != skip],
        kind=NotificationKind.CASE_REFERRAL,
        title=title,
        body=body[:200],
        link=_case_link(case),
        dedupe_key=f"case:{case.pk}:{key}:v{case.version}",
    )


def referral_transition(
    *,
    actor: Any,
    referral_id: int,
    action: str,
    version: int | None = None,
    note: str = "",
    attachment: Any = None,
    request: Any = None,
) -> Referral:
    """A department liaison acts on a referral to their department: accept, reject (with a
    reason), act (a note of what was done), done."""
    with delete_on_failure() as stored, transaction.atomic():
        return _referral_transition(
            actor=actor,
            referral_id=referral_id,
            action=action,
            version=version,
            note=note,
            attachment=attachment,
            request=request,
            stored=stored,
        )


def _referral_transition(
    *,
    actor: Any,
    referral_id: int,
    action: str,
    version: int | None,
    note: str,
    attachment: Any,
    request: Any,
    stored: list[Any],
) -> Referral:
    now = timezone.now()
    act = workflow.REFERRAL_ACTIONS.get(action)
    if act is None:
        raise InvalidInput(f"未知的操作“{action}”", field="action")
    case_id = referrals_visible_to(actor).filter(pk=referral_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise NotAllowed("该转办不存在或不在你的管辖范围内")
    case = _lock_case(actor, case_id)  # the case first, then the referral: one lock order
    referral: Referral = Referral.objects.select_for_update().get(pk=referral_id)
    label = referral.get_department_display()
    if actor.role != Role.DEPARTMENT_LIAISON or actor.department != referral.department:
        raise NotAllowed(f"只有{label}的部门联络员可以「{act.label}」该转办")
    current = ReferralState(referral.state).label
    if version is not None and int(version) != referral.version:
        raise StaleEdit(f"该转办已被他人更新（现为「{current}」），请刷新后再操作")
    if case.state == CaseState.CLOSED:
        raise Conflict(f"风险事件已核实结案，不能再「{act.label}」转办", field="action")
    if referral.state not in act.sources:
        raise Conflict(f"该转办当前为「{current}」，不能「{act.label}」", field="action")
    note = _clean_note(note, act)
    attachment_ext = _check_file(attachment, "attachment") if attachment is not None else ""

    from_state = referral.state
    to_state = act.target_from(from_state)
    referral.state = to_state
    if act.code in ("accept", "reject"):
        referral.responded_by = actor
        referral.responded_at = now
    if act.code == "reject":
        referral.reason = note[:300]
    if act.code == "done":
        referral.done_at = now
    if to_state != from_state:
        key = workflow.REFERRAL_STATE_DEADLINE.get(to_state)
        referral.due_at = deadline(case.severity, key, now) if key else None
        referral.escalation_level = EscalationLevel.TOWN
    referral.version = F("version") + 1
    referral.save()
    referral.refresh_from_db()
    _event(
        case,
        action=f"referral_{act.code}",
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        note=note,
        referral=referral,
        attachment=attachment,
        attachment_ext=attachment_ext,
        stored=stored,
    )
    _follow_referral(case, referral, act.code, actor, now)
    _notify_district(
        case,
        f"{label}{act.label}：{case.child.name}",
        note,
        f"referral:{referral.pk}:{act.code}:r{referral.version}",
    )
    _audit(
        actor,
        case,
        f"{label}{act.label}转办：{case.child.name}（{current} → {ReferralState(to_state).label}）",
        request,
    )
    return referral


def _follow_referral(case: Case, referral: Referral, code: str, actor: Any, now: datetime.datetime) -> None:
    """What a referral's step does to its case: the first acceptance puts a referred case in
    progress; when every referral of a referred case is rejected it goes back to the district."""
    from_state = case.state
    if code == "accept" and case.state == CaseState.REFERRED:
        _set_state(case, CaseState.IN_PROGRESS, now)
        note = f"{referral.get_department_display()}已签收"
    elif (
        code == "reject"
        and case.state == CaseState.REFERRED
        and not case.referrals.filter(state__in=OPEN_REFERRAL_STATES).exists()
    ):
        _set_state(case, CaseState.ACCEPTED, now)
        note = "转办均被退回，请区县重新转办或自行办结"
    else:
        return
    _save_case(case)
    _event(case, action="follow", actor=actor, from_state=from_state, to_state=case.state, note=note)


# ---------------------------------------------------------------------------------------------
# Deadlines (the periodic job)


def _target_level(due_at: datetime.datetime, severity: str, now: datetime.datetime) -> int:
    if now >= due_at + escalate_after(severity):
        return int(EscalationLevel.CITY)
    if now >= due_at:
        return int(EscalationLevel.DISTRICT)
    return int(EscalationLevel.TOWN)


def _escalation_due(row: Case | Referral, severity: str, now: datetime.datetime) -> int | None:
    """The level an overdue case or referral moves up to now, or None when it is there already."""
    assert row.due_at is not None
    target = _target_level(row.due_at, severity, now)
    return target if target < row.escalation_level else None


def _claim_escalation(row: Case | Referral, target: int) -> bool:
    """Move `row` up to `target` unless another run did meanwhile: a conditional update on the
    level, the deadline and the state it was computed from."""
    return bool(
        type(row)
        .objects.filter(pk=row.pk, escalation_level=row.escalation_level, due_at=row.due_at, state=row.state)
        .update(escalation_level=target)
    )


def escalate_overdue(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Escalate cases and referrals whose deadline has passed: to the district when missed, to
    the city `escalate_after` hours later. Each step is a conditional update (the level and the
    deadline it was computed from must be unchanged), so a second run — or two at once —
    escalates nothing more; each escalation is recorded as a case event and notified once."""
    now = now or timezone.now()
    counts = {"cases": 0, "referrals": 0}
    overdue_cases = (
        Case.objects.filter(
            state__in=OPEN_CASE_STATES, due_at__lte=now, escalation_level__gt=EscalationLevel.CITY
        )
        .select_related("child", "district")
        .order_by("pk")
    )
    for case in overdue_cases.iterator(chunk_size=500):
        target = _escalation_due(case, case.severity, now)
        if target is None:
            continue
        with transaction.atomic():
            if not _claim_escalation(case, target):
                continue
            assert case.due_at is not None
            level = EscalationLevel(target)
            stage = CaseState(case.state).label
            note = (
                f"「{stage}」阶段逾期（期限 {timezone.localtime(case.due_at):%Y-%m-%d %H:%M}），{level.label}"
            )
            _event(case, action="escalate", actor=None, from_state=case.state, to_state=case.state, note=note)
            _notify_escalation(
                case, target, note, f"case:{case.pk}:escalate:{target}:{case.due_at.isoformat()}"
            )
            counts["cases"] += 1
    overdue_refs = (
        Referral.objects.filter(
            state__in=OPEN_REFERRAL_STATES, due_at__lte=now, escalation_level__gt=EscalationLevel.CITY
        )
        .select_related("case", "case__child", "case__district")
        .order_by("pk")
    )
    for ref in overdue_refs.iterator(chunk_size=500):
        target = _escalation_due(ref, ref.case.severity, now)
        if target is None:
            continue
        with transaction.atomic():
            if not _claim_escalation(ref, target):
                continue
            assert ref.due_at is not None
            level = EscalationLevel(target)
            label = ref.get_department_display()
            state = ReferralState(ref.state).label
            due = timezone.localtime(ref.due_at)
            note = f"{label}转办「{state}」逾期（期限 {due:%Y-%m-%d %H:%M}），{level.label}"
            _event(
                ref.case,
                action="escalate",
                actor=None,
                referral=ref,
                note=note,
                from_state=ref.state,
                to_state=ref.state,
            )
            extra = (
                liaisons_for(ref.department, ref.case.region) if target == EscalationLevel.DISTRICT else []
            )
            _notify_escalation(
                ref.case,
                target,
                note,
                f"referral:{ref.pk}:escalate:{target}:{ref.due_at.isoformat()}",
                extra=extra,
            )
            counts["referrals"] += 1
    return counts


def _notify_escalation(case: Case, level: int, note: str, key: str, *, extra: Sequence[User] = ()) -> None:
    people = district_staff(case.district_id) if level == EscalationLevel.DISTRICT else city_staff()
    notify(
        [*people, *extra],
        kind=NotificationKind.CASE_DEADLINE,
        title=f"风险事件逾期：{case.child.name}（{case.get_category_display()}）",
        body=note,
        link=_case_link(case),
        dedupe_key=key,
    )


__all__ = [
    "case_transition",
    "deadline",
    "escalate_overdue",
    "liaisons_for",
    "referral_transition",
    "report_add_entry",
    "report_create",
]
