"""The task-force API (工作专班, R-6.4):

- GET /api/v1/taskforces — the task forces the caller sees (`?status=`, `?region=CODE`, limit/offset);
- GET /api/v1/taskforces/{id} — one task force: members (phones masked), plan, actions, notes;
- POST /api/v1/taskforces/actions/{action_id}/notes — add a progress note;
- POST /api/v1/taskforces/actions/{action_id}/complete — mark an action done.

Who enters is the same as on the task-force pages (views.py); which rows they reach is decided by
`aixin.accounts.access` (taskforces_visible_to, plan_actions_visible_to): 404 outside scope.

No `from __future__ import annotations` here: django-ninja resolves `Query[...]` at import time.
"""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query
from ninja.errors import HttpError
from ninja.responses import Status

from aixin.accounts.access import (
    ADMINS,
    TASKFORCE_VIEWERS,
    ScopedRouter,
    access,
    get_taskforce_for_user,
    get_visible,
    plan_actions_visible_to,
    regions_visible_to,
    request_user,
)
from aixin.accounts.models import Role, User
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import InvalidInput
from aixin.regions.models import RegionLevel
from aixin.registry import file_reason
from aixin.registry import selectors as registry_selectors
from aixin.taskforces import selectors, services
from aixin.taskforces.models import (
    ActionNote,
    ActionStatus,
    PlanAction,
    TaskForce,
    TaskForceMember,
    TaskForceStatus,
)
from aixin.taskforces.schemas import (
    ActionOut,
    NoteIn,
    NoteOut,
    TaskForceDetailOut,
    TaskForceFilterIn,
    TaskForcePageOut,
)

router = ScopedRouter(tags=["taskforces"])
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000  # beyond any row count; larger numbers overflow the database
NOT_FOUND = "记录不存在或不在你的管辖范围内"
# Who may mark an action done (the service then allows only its owner or an admin): as the page.
COMPLETERS = (*ADMINS, Role.TASKFORCE_MEMBER)
# A region of each level narrows task forces by the column stamped from the child.
_REGION_COLUMNS: dict[int, str] = {
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.TOWN: "town_id",
    RegionLevel.VILLAGE: "village_id",
}


def _visible_action(user: User, action_id: int) -> PlanAction:
    try:
        action: PlanAction = get_visible(plan_actions_visible_to(user), action_id)
    except Http404 as exc:
        raise HttpError(404, NOT_FOUND) from exc
    return action


def _narrowed(qs: QuerySet[Any], user: User, filters: TaskForceFilterIn) -> QuerySet[Any]:
    status = filters.status.strip()
    if status and status != "all":
        if status not in TaskForceStatus.values:
            labels = "、".join(f"{value}（{label}）" for value, label in TaskForceStatus.choices)
            raise InvalidInput(f"状态“{status}”无效，应为 {labels} 或 all", field="status")
        qs = qs.filter(status=status)
    code = filters.region.strip()
    if code:
        region = regions_visible_to(user).filter(code=code).first()
        if region is None:
            raise HttpError(404, "区划不存在或不在你的管辖范围内")
        column = _REGION_COLUMNS.get(region.level)
        if column is not None:
            qs = qs.filter(**{column: region.pk})
    return qs


def _note_out(note: ActionNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "action_id": note.action_id,
        "author_label": note.author_label,
        "text": note.text,
        "created_at": note.created_at,
    }


def _action_out(action: PlanAction, user: User, *, active: bool) -> dict[str, Any]:
    today = timezone.localdate()
    owner = action.owner
    return {
        "id": action.pk,
        "title": action.title,
        "owner": {
            "id": owner.pk,
            "name": owner.name,
            "role": owner.role,
            "role_label": str(owner.get_role_display()),
        },
        "due_on": action.due_on,
        "status": action.status,
        "status_label": str(action.get_status_display()),
        "overdue": action.is_overdue(today),
        "done_on": action.done_on,
        "drop_reason": action.drop_reason,
        "can_complete": bool(
            active and action.status == ActionStatus.OPEN and services.may_complete(user, action)
        ),
        "notes": [_note_out(n) for n in action.notes.all()],
    }


def _member_out(member: TaskForceMember) -> dict[str, Any]:
    # The masked phone only: the clear phone (phone_encrypted) is never revealed here.
    return {
        "id": member.pk,
        "role": member.role,
        "role_label": str(member.get_role_display()),
        "name": member.name,
        "organisation": member.organisation,
        "phone_masked": member.phone_masked,
        "has_login": member.user_id is not None,
    }


@router.get("", response=TaskForcePageOut, url_name="taskforces_list")
@access(*TASKFORCE_VIEWERS)
def taskforces_list(request: HttpRequest, filters: Query[TaskForceFilterIn]) -> dict[str, Any]:
    user = request_user(request)
    limit = max(1, min(int(filters.limit or settings.AIXIN_PAGE_SIZE), MAX_LIMIT))
    offset = min(max(0, int(filters.offset or 0)), MAX_OFFSET)
    qs = _narrowed(selectors.taskforces_of_member(user).select_related("district"), user, filters)
    page: list[Any] = list(qs[offset : offset + limit])  # TaskForce, annotated with action counts
    facts = selectors.list_facts(page)
    items = []
    for t in page:
        lacks = facts.missing.get(t.child_id, []) if t.is_active else []
        items.append(
            {
                "id": t.pk,
                "child_id": t.child_id,
                "child_name": t.child.name,
                "district": t.district.name,
                "town": t.town.name,
                "village": t.village.name,
                "status": t.status,
                "status_label": str(t.get_status_display()),
                "member_count": facts.member_counts.get(t.pk, 0),
                "complete": t.is_active and not lacks,
                "missing": lacks,
                "plan_updated_at": facts.plan_updated.get(t.pk),
                "open_actions": t.open_actions,
                "overdue_actions": t.overdue_actions,
            }
        )
    return {"count": qs.count(), "limit": limit, "offset": offset, "items": items}


@router.get("/{taskforce_id}", response=TaskForceDetailOut, url_name="taskforces_detail")
@access(*TASKFORCE_VIEWERS)
def taskforces_detail(request: HttpRequest, taskforce_id: int, reason: str = "") -> dict[str, Any]:
    """Staff who do not own the child's case (R-12.5, `owns_child`) pass `?reason=`, as for the
    child's file; it is audited with the view."""
    user = request_user(request)
    try:
        taskforce: TaskForce = get_taskforce_for_user(user, taskforce_id)
    except Http404 as exc:
        raise HttpError(404, NOT_FOUND) from exc
    file = selectors.taskforce_file(taskforce)
    reason = file_reason.clean_reason(reason)
    if not reason and not registry_selectors.owns_child(user, file.child):
        raise HttpError(403, "该儿童不属于你负责的个案，查看工作专班须说明原因：请在请求中加上 reason 参数")
    audit_log(
        actor=user,
        action=AuditAction.VIEW,
        object_type="child",
        object_id=file.child.pk,
        region=file.child.region,
        summary=f"通过接口查看工作专班：{file.child.name}",
        details={"reason": reason} if reason else None,
        request=request,
    )
    active = taskforce.is_active
    return {
        "id": taskforce.pk,
        "child": {"id": file.child.pk, "name": file.child.name},
        "status": taskforce.status,
        "status_label": str(taskforce.get_status_display()),
        "stood_down_reason": taskforce.stood_down_reason,
        "stood_down_at": taskforce.stood_down_at,
        "complete": active and not file.missing,
        "missing": file.missing,
        "members": [_member_out(m) for m in file.members],
        "plan": {
            "goals": file.plan.goals,
            "version": file.plan.version,
            "updated_at": file.plan.last_activity_at,
        },
        "actions": [_action_out(a, user, active=active) for a in file.actions],
    }


@router.post("/actions/{action_id}/notes", response={201: NoteOut}, url_name="taskforces_note_add")
@access(*TASKFORCE_VIEWERS)
def taskforces_note_add(request: HttpRequest, action_id: int, payload: NoteIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    action = _visible_action(user, action_id)
    note = services.note_add(actor=user, action_id=action.pk, text=payload.text, request=request)
    return Status(201, _note_out(note))


@router.post("/actions/{action_id}/complete", response=ActionOut, url_name="taskforces_action_complete")
@access(*COMPLETERS)
def taskforces_action_complete(request: HttpRequest, action_id: int) -> dict[str, Any]:
    user = request_user(request)
    action = _visible_action(user, action_id)
    services.action_complete(actor=user, action_id=action.pk, request=request)
    done = selectors.action_with_notes(action.pk)
    return _action_out(done, user, active=done.plan.taskforce.is_active)
