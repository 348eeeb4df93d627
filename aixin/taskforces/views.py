"""Task-force pages (R-6.4). Thin: parse, call one service or selector, render.

Who enters which page is declared here; which records they reach is decided by the scoping
selectors (404 outside scope)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aixin.accounts.access import (
    ADMINS,
    STAFF,
    TASKFORCE_VIEWERS,
    access,
    get_taskforce_for_user,
    get_visible,
    may_manage,
    plan_actions_visible_to,
    regions_visible_to,
    request_user,
    taskforce_members_visible_to,
)
from aixin.accounts.models import Role
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import DomainError
from aixin.lib.idnumber import age_on
from aixin.regions.models import Region
from aixin.registry import file_reason
from aixin.registry import selectors as registry_selectors
from aixin.taskforces import selectors, services
from aixin.taskforces.forms import ActionForm, MemberForm, NoteForm, PlanForm, ReasonForm
from aixin.taskforces.models import ActionStatus, PlanAction

PAGE_SIZE = 50


def _detail_url(taskforce_id: int, anchor: str = "") -> str:
    return reverse("taskforces:taskforce_detail", args=[taskforce_id]) + (f"#{anchor}" if anchor else "")


def _error(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, exc.message)


def _decorate(user: Any, actions: list[PlanAction]) -> list[PlanAction]:
    """Per action, what the template shows: overdue, and whether this user may mark it done."""
    today = timezone.localdate()
    for action in actions:
        action.overdue = action.is_overdue(today)  # type: ignore[attr-defined]
        action.can_complete = (  # type: ignore[attr-defined]
            action.status == ActionStatus.OPEN and services.may_complete(user, action)
        )
    return actions


def _region(request: HttpRequest) -> Region:
    code = request.GET.get("region", "").strip()
    if not code:
        own: Region = request_user(request).region
        return own
    region = regions_visible_to(request.user).filter(code=code).first()
    if region is None:
        raise Http404("区划不存在或不在你的管辖范围内")
    return region


@access(*STAFF)
@require_GET
def missing_list(request: HttpRequest) -> HttpResponse:
    """专班缺失/不完整: many-to-one children without a (complete) task force, in a region."""
    region = _region(request)
    user = request_user(request)
    rows = selectors.children_missing_taskforce(user=user, region=region)
    return render(
        request,
        "taskforces/missing_list.html",
        {
            "region": region,
            "page_obj": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "coverage": selectors.taskforce_coverage(user=user, region=region),
            "may_manage": may_manage(user),
        },
    )


@access(Role.TASKFORCE_MEMBER)
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我参与的专班: a member's home page."""
    return render(
        request, "taskforces/mine.html", {"taskforces": selectors.taskforces_of_member(request_user(request))}
    )


@access(*ADMINS)
@require_POST
def taskforce_create(request: HttpRequest, child_pk: int) -> HttpResponse:
    try:
        taskforce = services.taskforce_create(actor=request_user(request), child_id=child_pk, request=request)
    except DomainError as exc:
        _error(request, exc)
        return redirect("registry:child_detail", pk=child_pk)
    messages.success(request, _("已建立工作专班，请添加成员并制定帮扶方案"))
    return redirect(_detail_url(taskforce.pk))


@access(*TASKFORCE_VIEWERS)
@require_http_methods(["GET", "POST"])  # POST: the reason form below
def taskforce_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    taskforce = get_taskforce_for_user(user, pk)
    file = selectors.taskforce_file(taskforce)
    reason = ""
    if not registry_selectors.owns_child(user, file.child):
        # The page shows the child's file: as on the child file, staff who do not own
        # the case say why first (one reason covers both pages for REASON_HOURS).
        reason = file_reason.reason_for(request, file.child.pk)
        if not reason:
            return file_reason.reason_page(request, file.child, back_url=_detail_url(taskforce.pk))
    elif request.method == "POST":
        return redirect(_detail_url(taskforce.pk))
    manage = may_manage(user) and taskforce.is_active
    audit_log(
        actor=user,
        action=AuditAction.VIEW,
        object_type="child",
        object_id=file.child.pk,
        region=file.child.region,
        summary=_("查看工作专班及儿童档案：%(name)s") % {"name": file.child.name},
        details={"reason": reason} if reason else None,
        request=request,
    )
    return render(
        request,
        "taskforces/detail.html",
        {
            "f": file,
            "child": file.child,
            "age": age_on(file.child.birth_date, timezone.localdate()),
            "categories": registry_selectors.categories_of(file.child),
            "difficulties": registry_selectors.difficulties_of(file.child),
            "risks": registry_selectors.risks_of(file.child),
            "actions": _decorate(user, file.actions),
            "may_manage": manage,
            "is_staff_role": user.is_staff_role,
            "member_form": MemberForm() if manage else None,
            "action_form": ActionForm(members=file.members) if manage and file.members else None,
            "note_form": NoteForm(),
        },
    )


@access(*ADMINS)
@require_POST
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    taskforce = get_taskforce_for_user(request.user, pk)
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("请检查成员信息：") + "；".join(str(e) for errs in form.errors.values() for e in errs)
        )
        return redirect(_detail_url(taskforce.pk, "members"))
    try:
        member = services.member_add(
            actor=request_user(request), taskforce_id=taskforce.pk, data=form.member_data(), request=request
        )
        messages.success(request, _("已添加成员%(name)s") % {"name": member.name})
    except DomainError as exc:
        _error(request, exc)
    return redirect(_detail_url(taskforce.pk, "members"))


@access(*ADMINS)
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_visible(taskforce_members_visible_to(request.user), pk)
    try:
        services.member_remove(actor=request_user(request), member_id=member.pk, request=request)
        messages.success(request, _("%(name)s已退出专班") % {"name": member.name})
    except DomainError as exc:
        _error(request, exc)
    return redirect(_detail_url(member.taskforce_id, "members"))


@access(*ADMINS)
@require_POST
def member_login_create(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_visible(taskforce_members_visible_to(request.user), pk)
    try:
        username, password = services.member_create_login(
            actor=request_user(request), member_id=member.pk, request=request
        )
    except DomainError as exc:
        _error(request, exc)
        return redirect(_detail_url(member.taskforce_id, "members"))
    # Shown once in this response only: never put into messages (stored in the session).
    response = render(
        request,
        "taskforces/login_created.html",
        {"member": member, "username": username, "password": password},
    )
    response["Cache-Control"] = "no-store"
    return response


@access(*ADMINS)
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    taskforce = get_taskforce_for_user(request.user, pk)
    plan = taskforce.plan
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                services.plan_update(
                    actor=request_user(request),
                    taskforce_id=taskforce.pk,
                    goals=form.cleaned_data["goals"],
                    version=form.cleaned_data["version"],
                    request=request,
                )
                messages.success(request, _("帮扶方案已保存"))
                return redirect(_detail_url(taskforce.pk, "plan"))
            except DomainError as exc:
                form.add_error("goals" if exc.field == "goals" else None, exc.message)
    else:
        form = PlanForm(initial={"goals": plan.goals, "version": plan.version})
    return render(request, "taskforces/plan_form.html", {"taskforce": taskforce, "plan": plan, "form": form})


@access(*ADMINS)
@require_POST
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    taskforce = get_taskforce_for_user(request.user, pk)
    form = ActionForm(request.POST, members=list(taskforce.members.filter(removed_at__isnull=True)))
    if not form.is_valid():
        messages.error(
            request, _("请检查措施信息：") + "；".join(str(e) for errs in form.errors.values() for e in errs)
        )
        return redirect(_detail_url(taskforce.pk, "plan"))
    try:
        services.action_add(
            actor=request_user(request),
            taskforce_id=taskforce.pk,
            title=form.cleaned_data["title"],
            owner_id=form.cleaned_data["owner"],
            due_on=form.cleaned_data["due_on"],
            request=request,
        )
        messages.success(request, _("已新增帮扶措施"))
    except DomainError as exc:
        _error(request, exc)
    return redirect(_detail_url(taskforce.pk, "plan"))


def _action_response(request: HttpRequest, action_id: int, error: str = "") -> HttpResponse:
    """From htmx, the action's fragment (with the error, if any); otherwise back to the page."""
    action = selectors.action_with_notes(action_id)
    if getattr(request, "htmx", False):
        taskforce = action.plan.taskforce
        return render(
            request,
            "taskforces/_action.html",
            {
                "a": _decorate(request.user, [action])[0],
                "may_manage": may_manage(request.user) and taskforce.is_active,
                "tf_active": taskforce.is_active,
                "note_form": NoteForm(),
                "error": error,
            },
        )
    if error:
        messages.error(request, error)
    return redirect(_detail_url(action.plan.taskforce_id, f"action-{action.pk}"))


@access(*ADMINS, Role.TASKFORCE_MEMBER)
@require_POST
def action_complete(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible(plan_actions_visible_to(request.user), pk)
    try:
        services.action_complete(actor=request_user(request), action_id=action.pk, request=request)
    except DomainError as exc:
        return _action_response(request, action.pk, exc.message)
    return _action_response(request, action.pk)


@access(*ADMINS)
@require_POST
def action_drop(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible(plan_actions_visible_to(request.user), pk)
    try:
        services.action_drop(
            actor=request_user(request),
            action_id=action.pk,
            reason=request.POST.get("reason", ""),
            request=request,
        )
    except DomainError as exc:
        return _action_response(request, action.pk, exc.message)
    return _action_response(request, action.pk)


@access(*TASKFORCE_VIEWERS)
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_visible(plan_actions_visible_to(request.user), pk)
    try:
        services.note_add(
            actor=request_user(request),
            action_id=action.pk,
            text=request.POST.get("text", ""),
            request=request,
        )
    except DomainError as exc:
        return _action_response(request, action.pk, exc.message)
    return _action_response(request, action.pk)


@access(*ADMINS)
@require_http_methods(["GET", "POST"])
def step_down(request: HttpRequest, pk: int) -> HttpResponse:
    """转为一对一: stand the task force down, with a reason, once the risk flags are cleared."""
    taskforce = get_taskforce_for_user(request.user, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.taskforce_step_down(
                actor=request_user(request),
                taskforce_id=taskforce.pk,
                reason=form.cleaned_data["reason"],
                request=request,
            )
            messages.success(request, _("已撤销工作专班，儿童转为一对一关爱"))
            return redirect("registry:child_detail", pk=taskforce.child_id)
        except DomainError as exc:
            form.add_error("reason", exc.message)
    risks = registry_selectors.risks_of(taskforce.child)
    return render(
        request, "taskforces/step_down.html", {"taskforce": taskforce, "form": form, "risks": risks}
    )


__all__ = [
    "action_add",
    "action_complete",
    "action_drop",
    "member_add",
    "member_login_create",
    "member_remove",
    "mine",
    "missing_list",
    "note_add",
    "plan_edit",
    "step_down",
    "taskforce_create",
    "taskforce_detail",
]
