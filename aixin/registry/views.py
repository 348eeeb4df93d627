"""Pages of the children registry (儿童台账). Thin: parse, call one service or selector, render."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aixin.accounts.access import (
    ADMINS,
    STAFF,
    access,
    get_child_for_user,
    match_exclusions_visible_to,
    may_manage,
    may_reveal_full_identifiers,
    request_user,
)
from aixin.alerts.selectors import open_alerts_of_child
from aixin.audit.exports import export_begin
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.ingest.columns import COLUMNS
from aixin.ingest.selectors import child_history
from aixin.lib.errors import DomainError
from aixin.lib.excel import workbook_bytes
from aixin.lib.idnumber import age_on
from aixin.matching.models import ExclusionReason
from aixin.matching.review import suggest_mothers
from aixin.pairing.services import seeks_loving_mother
from aixin.registry import derive, file_reason, rules, selectors, services
from aixin.registry.forms import (
    ChildCreateForm,
    ChildEditForm,
    ChildFilterForm,
    CloseForm,
    ConditionForm,
    GuardianForm,
    ReopenForm,
    TierOverrideForm,
)
from aixin.registry.models import Child, ChildStatus, ParentCondition

PAGE_SIZE = 50


def _show_error(form: forms.Form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _filter_form(request: HttpRequest) -> ChildFilterForm:
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = ChildStatus.ACTIVE  # the working list; "全部状态" sends status=""
    return ChildFilterForm(data, user=request.user)


def _propose_url(child_pk: int) -> str | None:
    try:
        return reverse("pairing:propose", args=[child_pk])
    except NoReverseMatch:  # the pairing pages are not mounted (yet)
        return None


def _contact_badge(days: int | None) -> tuple[str, str] | None:
    if days is None:
        return None
    if days >= 30:
        return ("overdue", _("%(d)s天未联系") % {"d": days})
    if days >= 14:
        return ("due", _("%(d)s天未联系") % {"d": days})
    return None


@access(*STAFF)
def child_list(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    filters = form.filters()
    today = timezone.localdate()
    qs = selectors.child_list(user=request.user, filters=filters, today=today)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    admin = may_manage(request.user)
    rows = []
    for child in page.object_list:
        days = selectors.inactivity_days(child, today=today)
        rows.append(
            {
                "child": child,
                "age": age_on(child.birth_date, today),
                "categories": selectors.categories_of(child),
                "contact_badge": _contact_badge(days),
                "propose_url": (
                    _propose_url(child.pk)
                    if admin and not child.open_pairing_status and seeks_loving_mother(child, today)
                    else None
                ),
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/child_list.html",
        {
            "form": form,
            "page_obj": page,
            "rows": rows,
            "querystring_without_page": query.urlencode(),
            "export_query": query.urlencode(),
            "may_manage": admin,
        },
    )


@access(*STAFF)
def child_export(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = _filter_form(request)
    filters = form.filters()
    back = reverse("registry:child_list") + (f"?{request.GET.urlencode()}" if request.GET else "")
    export = export_begin(request, kind="children", back_url=back)
    if isinstance(export, HttpResponse):
        return export  # the archive-password form
    today = timezone.localdate()
    qs = selectors.child_list(user=user, filters=filters, today=today)
    headers = [
        _("序号"),
        _("姓名"),
        _("性别"),
        _("出生日期"),
        _("年龄"),
        _("身份证号"),
        _("区县"),
        _("乡镇（街道）"),
        _("村（社区）"),
        _("类别"),
        _("困难"),
        _("风险"),
        _("关爱类型"),
        _("结对爱心妈妈"),
        _("最近联系"),
        _("就读学校"),
        _("年级"),
        _("状态"),
    ]
    rows = []
    for n, child in enumerate(qs.iterator(chunk_size=500), start=1):
        rows.append(
            [
                n,
                child.name,
                child.get_sex_display(),
                child.birth_date.isoformat(),
                age_on(child.birth_date, today),
                child.id_number_masked,
                child.district.name,
                child.town.name,
                child.region.name,
                "、".join(selectors.categories_of(child)),
                "、".join(selectors.difficulties_of(child)),
                "、".join(selectors.risks_of(child)),
                child.get_care_tier_display(),
                child.mother_name or _("未结对"),
                child.last_contact_on.isoformat() if child.last_contact_on else "",
                child.school,
                child.grade,
                child.get_status_display(),
            ]
        )
    content = workbook_bytes(title=_("儿童台账"), headers=headers, rows=rows, watermark=export.watermark)
    return export.download(
        content,
        rows=len(rows),
        filename="儿童台账",
        ascii_name="children",
        object_type="child",
        summary=_("导出儿童台账 %(n)s 条") % {"n": len(rows)},
        filters=filters.as_query(),
    )


def _condition_rows(conditions: list[ParentCondition], today: datetime.date) -> list[dict[str, Any]]:
    out = []
    for row in conditions:
        cond = rules.Condition(
            parent=row.parent,
            kind=row.kind,
            started_on=row.started_on,
            term_months=row.term_months,
            disability_grade=row.disability_grade,
            disability_category=row.disability_category,
            ended_on=row.ended_on,
        )
        out.append(
            {
                "row": row,
                "counts": rules.condition_holds(cond, today),
                "note": rules.condition_note(cond, today),
            }
        )
    return out


def _checklist(pairing: Any, today: datetime.date) -> list[Any]:
    if pairing is None:
        return []
    try:
        from aixin.care.selectors import checklist_for_pairing

        return list(checklist_for_pairing(pairing, today=today))
    except (ImportError, AttributeError):  # the care app is not ready: show nothing
        return []


@access(*STAFF)
def child_detail(request: HttpRequest, pk: int) -> HttpResponse:
    child = get_child_for_user(request.user, pk)
    reason = ""
    if not selectors.owns_child(request.user, child):
        # Not this user's case: the full file shows only after a reason is given.
        reason = file_reason.reason_for(request, child.pk)
        if not reason:
            return _file_reason_page(request, child)
    today = timezone.localdate()
    related = selectors.child_file(user=request.user, child=child)
    conditions = derive.conditions_of(child)
    related["changes"] = child_history(request.user, child, related["changes"])
    labels = _field_labels()
    for change in related["changes"]:
        change.field_label = labels.get(change.field, change.field)
    propose_url = (
        _propose_url(child.pk)
        if may_manage(request.user)
        and not any(p.status in ("proposed", "awaiting_consent", "active") for p in related["pairings"])
        and seeks_loving_mother(child, today)
        else None
    )
    audit_log(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="child",
        object_id=child.pk,
        region=child.region,
        summary=_("查看儿童档案：%(name)s") % {"name": child.name},
        details={"reason": reason} if reason else None,
        request=request,
    )
    return render(
        request,
        "registry/child_detail.html",
        {
            "child": child,
            "age": age_on(child.birth_date, today),
            "categories": selectors.categories_of(child),
            "difficulties": selectors.difficulties_of(child),
            "risks": selectors.risks_of(child),
            "other_reasons": [
                services.OTHER_DIFFICULTY_REASONS.get(r, r) for r in child.other_difficulty_reasons
            ],
            "category_explanations": rules.explain_categories(
                conditions,
                birth_date=child.birth_date,
                rural=child.household_type == "rural",
                full_time_student=child.full_time_student,
                today=today,
            ),
            "tier_reasons": rules.tier_reasons(derive.tier_inputs(child)),
            "condition_rows": _condition_rows(related["conditions"], today),
            "checklist": _checklist(related["active_pairing"], today),
            "may_manage": may_manage(request.user),
            "may_reveal": may_reveal_full_identifiers(request.user),
            "propose_url": propose_url,
            # The "suggest mothers" panel (issue 4): admins, a child who needs a mother now.
            "suggestions": suggest_mothers(child, today=today) if propose_url else None,
            "exclusions": (
                match_exclusions_visible_to(request.user).filter(child=child).select_related("volunteer")
                if propose_url
                else []
            ),
            "exclusion_reasons": ExclusionReason.choices,
            # Open alerts (e.g. the hand-over at 18) where staff decide on pairing and closing.
            "open_alerts": list(open_alerts_of_child(request.user, child)),
            "here": request.get_full_path(),
            **related,
        },
    )


def _file_reason_page(request: HttpRequest, child: Child) -> HttpResponse:
    return file_reason.reason_page(request, child, back_url=reverse("registry:child_detail", args=[child.pk]))


def _field_labels() -> dict[str, str]:
    labels = {f.name: str(f.verbose_name) for f in Child._meta.concrete_fields}
    labels.update(
        {
            "region": _("现居住村(社区)"),
            "id_number_masked": _("身份证号"),
            "guardian": _("监护人"),
            "parent_condition": _("父母情形"),
            "tier_override": _("人工调整关爱类型"),
            "name_pinyin": _("拼音"),
            "created": _("建档"),
        }
    )
    # Department data names some values by their column (e.g. 监护人电话).
    for column in COLUMNS:
        labels.setdefault(column.key, column.label)
    return labels


@access(*ADMINS)
@require_POST
def child_reveal_id(request: HttpRequest, pk: int) -> HttpResponse:
    number = services.child_reveal_id_number(actor=request.user, child_id=pk, request=request)
    response = render(request, "registry/_revealed_id.html", {"number": number})
    response["Cache-Control"] = "no-store"
    return response


@access(*ADMINS)
def child_create(request: HttpRequest) -> HttpResponse:
    form = ChildCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            child = services.child_create(
                actor=request.user,
                data=form.child_data(),
                guardians=form.guardians(),
                conditions=form.conditions(),
                request=request,
            )
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, _("已建档：%(name)s") % {"name": child.name})
            return redirect("registry:child_detail", pk=child.pk)
    return render(request, "registry/child_form.html", {"form": form, "creating": True})


def _edit_initial(child: Child) -> dict[str, Any]:
    initial: dict[str, Any] = {name: getattr(child, name) for name in services.PLAIN_FIELDS}
    initial.update(name=child.name, village=child.region_id, version=child.version)
    return initial


@access(*ADMINS)
def child_edit(request: HttpRequest, pk: int) -> HttpResponse:
    child = get_child_for_user(request.user, pk)
    if request.method == "POST":
        form = ChildEditForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.child_update(
                    actor=request.user,
                    child_id=child.pk,
                    version=form.cleaned_data["version"],
                    data=form.child_data(),
                    request=request,
                )
            except DomainError as exc:
                _show_error(form, exc)
            else:
                messages.success(request, _("档案已保存"))
                return redirect("registry:child_detail", pk=child.pk)
    else:
        form = ChildEditForm(initial=_edit_initial(child), user=request.user)
    return render(request, "registry/child_form.html", {"form": form, "child": child, "creating": False})


def _simple_form_page(
    request: HttpRequest,
    pk: int,
    *,
    form_class: type[forms.Form],
    title: str,
    submit: str,
    act: Any,
    success: str,
    initial: dict[str, Any] | None = None,
    danger: bool = False,
) -> HttpResponse:
    child = get_child_for_user(request.user, pk)
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            act(child, form)
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, success)
            return redirect("registry:child_detail", pk=child.pk)
    return render(
        request,
        "registry/simple_form.html",
        {
            "form": form,
            "child": child,
            "title": title,
            "submit": submit,
            "danger": danger,
        },
    )


@access(*ADMINS)
def child_tier_override(request: HttpRequest, pk: int) -> HttpResponse:
    def act(child: Child, form: TierOverrideForm) -> None:
        services.child_override_tier(
            actor=request.user,
            child_id=child.pk,
            tier=form.cleaned_data["tier"],
            reason=form.cleaned_data["reason"],
            request=request,
        )

    child = get_child_for_user(request.user, pk)
    return _simple_form_page(
        request,
        pk,
        form_class=TierOverrideForm,
        title=_("调整关爱类型"),
        submit=_("保存调整"),
        act=act,
        success=_("关爱类型已更新"),
        initial={"tier": child.tier_override},
    )


@access(*ADMINS)
def child_close(request: HttpRequest, pk: int) -> HttpResponse:
    def act(child: Child, form: CloseForm) -> None:
        services.child_close(
            actor=request.user,
            child_id=child.pk,
            reason=form.cleaned_data["reason"],
            closed_as=form.cleaned_data["closed_as"],
            request=request,
        )

    return _simple_form_page(
        request,
        pk,
        form_class=CloseForm,
        title=_("退出台账"),
        submit=_("确认退出"),
        act=act,
        success=_("该儿童已退出台账，档案保留"),
        danger=True,
    )


@access(*ADMINS)
def child_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    def act(child: Child, form: ReopenForm) -> None:
        services.child_reopen(
            actor=request.user, child_id=child.pk, reason=form.cleaned_data["reason"], request=request
        )

    return _simple_form_page(
        request,
        pk,
        form_class=ReopenForm,
        title=_("恢复在册"),
        submit=_("确认恢复"),
        act=act,
        success=_("该儿童已恢复在册"),
    )


@access(*ADMINS)
def guardian_create(request: HttpRequest, pk: int) -> HttpResponse:
    def act(child: Child, form: GuardianForm) -> None:
        services.guardian_add(
            actor=request.user, child_id=child.pk, data=form.guardian_data(), request=request
        )

    return _simple_form_page(
        request,
        pk,
        form_class=GuardianForm,
        title=_("新增监护人"),
        submit=_("保存"),
        act=act,
        success=_("监护人已添加"),
    )


@access(*ADMINS)
def condition_create(request: HttpRequest, pk: int) -> HttpResponse:
    def act(child: Child, form: ConditionForm) -> None:
        services.condition_add(
            actor=request.user, child_id=child.pk, data=form.condition_data(), request=request
        )

    return _simple_form_page(
        request,
        pk,
        form_class=ConditionForm,
        title=_("新增父母情形"),
        submit=_("保存"),
        act=act,
        success=_("父母情形已记录，类别和关爱类型已重新认定"),
    )


@access(*ADMINS)
@require_POST
def condition_end(request: HttpRequest, pk: int, condition_pk: int) -> HttpResponse:
    child = get_child_for_user(request.user, pk)
    raw = request.POST.get("ended_on") or ""
    try:
        ended_on = datetime.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        messages.error(request, _("结束日期“%(d)s”不是有效日期") % {"d": raw})
        return redirect("registry:child_detail", pk=child.pk)
    if not child.parent_conditions.filter(pk=condition_pk).exists():
        messages.error(request, _("该父母情形不属于这名儿童"))
        return redirect("registry:child_detail", pk=child.pk)
    try:
        services.condition_end(
            actor=request.user, condition_id=condition_pk, ended_on=ended_on, request=request
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("父母情形已结束，类别和关爱类型已重新认定"))
    return redirect("registry:child_detail", pk=child.pk)
