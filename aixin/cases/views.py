"""Case pages: the staff list, the liaison's inbox, the report form (child file and phone), the
case page with its timeline and actions, and the scoped, audited file views."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aixin.accounts.access import (
    STAFF,
    access,
    case_events_visible_to,
    case_reports_visible_to,
    children_visible_to,
    get_case_for_user,
    get_referral_for_user,
    get_visible,
    request_user,
)
from aixin.accounts.models import Department, Role
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.cases import selectors, services, workflow
from aixin.cases.categories import MANDATORY, Category, Severity
from aixin.cases.forms import CaseActionForm, ReferralActionForm, ReportEntryForm, ReportForm
from aixin.cases.models import CaseState, ReferralState
from aixin.lib.errors import DomainError
from aixin.lib.idnumber import age_on
from aixin.lib.uploads import content_type_for, extension_of

LIAISON = Role.DEPARTMENT_LIAISON
CASE_READERS = (*STAFF, LIAISON)


def _first_error(form: Any) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("输入有误，请检查后重试")


# ---------------------------------------------------------------------------------------------
# Lists


@access(*STAFF)
def case_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    state = request.GET.get("state", "open")
    severity = request.GET.get("severity", "")
    overdue = request.GET.get("overdue") == "1"
    qs = selectors.case_list(user=user, state=state, severity=severity, overdue=overdue)
    page = Paginator(qs, settings.AIXIN_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/case_list.html",
        {
            "page": page,
            "state": state,
            "severity": severity,
            "overdue": overdue,
            "states": CaseState.choices,
            "severities": Severity.choices,
            "now": timezone.now(),
        },
    )


@access(LIAISON)
def liaison_inbox(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    state = request.GET.get("state", "open")
    qs = selectors.liaison_inbox(user=user, state=state)
    page = Paginator(qs, settings.AIXIN_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/liaison_inbox.html",
        {
            "page": page,
            "state": state,
            "states": ReferralState.choices,
            "department": Department(user.department).label if user.department else "",
            "now": timezone.now(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Reporting


@access(*STAFF, Role.VOLUNTEER)
def report_create(request: HttpRequest) -> HttpResponse:
    """Report a concern about one child (from the child file or the mother's phone)."""
    user = request_user(request)
    child_pk = request.POST.get("child") or request.GET.get("child")
    child = get_visible(children_visible_to(user), child_pk) if child_pk else None
    if child is None:
        messages.error(request, _("请从儿童档案或“我的孩子”页面选择要报告的儿童"))
        return redirect("care:my_children" if user.role == Role.VOLUNTEER else "registry:child_list")
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.report_create(
                    actor=user,
                    child_id=child.pk,
                    category=data["category"],
                    severity=data["severity"],
                    description=data["description"],
                    observed_at=data["observed_at"],
                    place=data["place"],
                    photo=data["photo"] or None,
                    request=request,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                if case.mandatory:
                    messages.success(
                        request,
                        _("强制报告已提交（编号 %(number)s），已同时转公安机关并通知区县和儿童主任。")
                        % {"number": case.number},
                    )
                else:
                    messages.success(
                        request,
                        _("风险报告已提交（编号 %(number)s），区县将尽快受理。") % {"number": case.number},
                    )
                if user.role == Role.VOLUNTEER:
                    return redirect("care:my_children")
                return redirect("cases:case_detail", pk=case.pk)
    else:
        now = timezone.localtime().replace(second=0, microsecond=0)
        form = ReportForm(initial={"child": child.pk, "observed_at": now, "place": child.region.name})
    return render(
        request,
        "cases/report_form.html",
        {
            "form": form,
            "child": child,
            "age": age_on(child.birth_date, timezone.localdate()),
            "mandatory_codes": sorted(MANDATORY),
            "mandatory_choices": [(c.value, c.label) for c in Category if c in MANDATORY],
            "other_choices": [(c.value, c.label) for c in Category if c not in MANDATORY],
            "is_phone": user.role == Role.VOLUNTEER,
        },
    )


# ---------------------------------------------------------------------------------------------
# The case page and its actions


def _labelled(events: Any) -> list[Any]:
    out = list(events)
    for e in out:
        e.action_label = workflow.EVENT_LABELS.get(e.action, e.action)
        e.from_label = workflow.STATE_LABELS.get(e.from_state, e.from_state)
        e.to_label = workflow.STATE_LABELS.get(e.to_state, e.to_state)
    return out


@access(*CASE_READERS)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    case = get_case_for_user(user, pk)
    report = case.report
    referrals = list(selectors.case_referrals(user=user, case=case))
    for r in referrals:
        # Shown beside each referral; a plain attribute for the template.
        setattr(r, "actions", selectors.referral_actions(user=user, referral=r, case=case))  # noqa: B010
    audit_log(
        actor=user,
        action=AuditAction.VIEW,
        object_type="case",
        object_id=case.pk,
        region=case.region,
        summary=_("查看风险事件：%(name)s（%(number)s）") % {"name": case.child.name, "number": case.number},
        request=request,
    )
    actions = selectors.case_actions(user=user, case=case)
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "report": report,
            "child": case.child,
            "age": age_on(case.child.birth_date, timezone.localdate()),
            "entries": list(report.entries.all()),
            "receipt": next((e for e in report.entries.all() if e.kind == "receipt"), None),
            "events": _labelled(selectors.case_timeline(user=user, case=case)),
            "reporter_role": Role(report.reporter_role).label if report.reporter_role in Role.values else "",
            "referrals": referrals,
            "actions": [a for a in actions if a.code not in ("note", "refer")],
            "may_note": any(a.code == "note" for a in actions),
            "may_refer": any(a.code == "refer" for a in actions),
            "departments": [(d, Department(d).label) for d in selectors.liaison_departments_in(case.region)],
            "all_departments": Department.choices,
            "may_add_entry": user.role in CASE_READERS,
            "is_staff_view": user.role in STAFF,
            "now": timezone.now(),
        },
    )


@access(*CASE_READERS)
@require_POST
def case_transition(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    case = get_case_for_user(user, pk)
    form = CaseActionForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("cases:case_detail", pk=case.pk)
    data = form.cleaned_data
    try:
        services.case_transition(
            actor=user,
            case_id=case.pk,
            action=data["action"],
            version=data["version"],
            note=data["note"],
            departments=data["departments"],
            attachment=data["attachment"] or None,
            request=request,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已保存"))
    return redirect("cases:case_detail", pk=case.pk)


@access(LIAISON)
@require_POST
def referral_transition(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    referral = get_referral_for_user(user, pk)
    form = ReferralActionForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("cases:case_detail", pk=referral.case_id)
    data = form.cleaned_data
    try:
        services.referral_transition(
            actor=user,
            referral_id=referral.pk,
            action=data["action"],
            version=data["version"],
            note=data["note"],
            attachment=data["attachment"] or None,
            request=request,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已保存"))
    return redirect("cases:case_detail", pk=referral.case_id)


@access(*CASE_READERS)
@require_POST
def report_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a correction or the receipt number to a case's report (never an edit)."""
    user = request_user(request)
    case = get_case_for_user(user, pk)
    form = ReportEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("cases:case_detail", pk=case.pk)
    data = form.cleaned_data
    try:
        services.report_add_entry(
            actor=user,
            case_id=case.pk,
            kind=data["kind"],
            text=data["text"],
            agency=data["agency"],
            receipt_number=data["receipt_number"],
            request=request,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已添加到报告记录"))
    return redirect("cases:case_detail", pk=case.pk)


# ---------------------------------------------------------------------------------------------
# Files: served only through these views, to people who see the case; each view audited.


def _serve(request: HttpRequest, file: FieldFile, *, name: str, summary: str, case: Any) -> FileResponse:
    if not file:
        raise Http404(_("没有附件"))
    try:
        handle = file.open("rb")
    except OSError as exc:
        raise Http404(_("文件不存在")) from exc
    audit_log(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="case_file",
        object_id=case.pk,
        region=case.region,
        summary=summary,
        request=request,
    )
    content_type = content_type_for(file.name or "")
    response = FileResponse(handle, content_type=content_type or "application/octet-stream")
    ext = extension_of(file.name or "") or "bin"
    disposition = "inline" if content_type else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}.{ext}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@access(*CASE_READERS)
def report_photo(request: HttpRequest, pk: int) -> FileResponse:
    report = get_visible(case_reports_visible_to(request.user).select_related("case", "child"), pk)
    return _serve(
        request,
        report.photo,
        name=f"report-{report.pk}",
        summary=_("查看风险报告照片：%(name)s") % {"name": report.child.name},
        case=report.case,
    )


@access(*CASE_READERS)
def event_attachment(request: HttpRequest, pk: int) -> FileResponse:
    event = get_visible(case_events_visible_to(request.user).select_related("case", "case__child"), pk)
    return _serve(
        request,
        event.attachment,
        name=f"case-{event.case_id}-{event.pk}",
        summary=_("查看风险事件附件：%(name)s") % {"name": event.case.child.name},
        case=event.case,
    )
