"""Writes for task forces (R-6.4): create one for a many-to-one child, members and their log-ins,
the plan (version-checked), its actions and progress notes, and the step down to one-to-one.

Managing a task force is for the federation's admins in scope (`access.may_manage`); anyone who
may see a task force (staff in scope, its members, the child's loving mother) may add progress
notes, and an action's owner may mark it done. Every write is atomic and audited.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from aixin.accounts.access import (
    children_visible_to,
    get_visible,
    may_manage,
    plan_actions_visible_to,
    region_in_scope,
    taskforces_visible_to,
)
from aixin.accounts.models import Role, User
from aixin.accounts.services import temporary_login
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib import crypto
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from aixin.registry.models import CareTier, Child, ChildStatus
from aixin.registry.selectors import risks_of
from aixin.taskforces.models import (
    ActionNote,
    ActionStatus,
    CarePlan,
    MemberRole,
    PlanAction,
    TaskForce,
    TaskForceMember,
    TaskForceStatus,
)

PHONE_CONTEXT = "taskforce.member_phone"
NOTE_MAX = 2000
TITLE_MAX = 200
REASON_MAX = 300


@dataclass
class MemberData:
    role: str
    name: str
    organisation: str = ""
    phone: str = ""
    # The log-in of a taskforce_member who already sits on another task force (optional).
    username: str = ""


# ---------------------------------------------------------------------------------------------
# Helpers


def _require_manager(actor: Any) -> None:
    if not getattr(actor, "is_authenticated", False) or not may_manage(actor):
        raise NotAllowed("只有区县及以上妇联工作人员可以管理工作专班")


def _locked_taskforce(actor: Any, taskforce_id: Any) -> TaskForce:
    """The task force, locked for the rest of the transaction; 404 outside the actor's scope."""
    qs = taskforces_visible_to(actor).select_for_update(of=("self",)).select_related("child", "village")
    taskforce: TaskForce = get_visible(qs, taskforce_id)
    return taskforce


def _require_active(taskforce: TaskForce) -> None:
    if not taskforce.is_active:
        raise Conflict(f"{taskforce.child.name}的工作专班已撤销，不能再修改")


def _audit(
    actor: Any,
    action: str,
    taskforce: TaskForce,
    summary: str,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    audit_log(
        actor=actor,
        action=action,
        object_type="taskforce",
        object_id=taskforce.pk,
        region=taskforce.village,
        summary=summary,
        details=details,
        request=request,
    )


def _touch_plan(taskforce: TaskForce) -> None:
    CarePlan.objects.filter(taskforce=taskforce).update(last_activity_at=timezone.now())


def _clean_phone(phone: str) -> str:
    phone = phone.strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
        raise InvalidInput(f"联系电话“{phone}”格式不正确，应为手机号或座机号码（只含数字）", field="phone")
    return phone


def set_member_phone(member: TaskForceMember, phone: str) -> None:
    member.phone_encrypted = crypto.encrypt(phone, context=PHONE_CONTEXT)
    member.phone_index = crypto.blind_index(phone, context=PHONE_CONTEXT)
    member.phone_masked = crypto.mask_phone(phone) if phone else ""


def reveal_member_phone(member: TaskForceMember) -> str:
    return crypto.decrypt(member.phone_encrypted, context=PHONE_CONTEXT)


def _member_account(actor: Any, username: str, taskforce: TaskForce) -> User | None:
    username = username.strip()
    if not username:
        return None
    user = User.objects.select_related("region").filter(username=username, is_active=True).first()
    if user is None or user.role != Role.TASKFORCE_MEMBER or not region_in_scope(actor, user.region):
        raise InvalidInput(
            f"找不到专班成员账号“{username}”（须为本区县已开通的专班成员账号）", field="username"
        )
    if taskforce.members.filter(user=user, removed_at__isnull=True).exists():
        raise Conflict(f"账号“{username}”已在{taskforce.child.name}的工作专班中", field="username")
    return user


# ---------------------------------------------------------------------------------------------
# Task force


@transaction.atomic
def taskforce_create(*, actor: Any, child_id: Any, request: HttpRequest | None = None) -> TaskForce:
    """Set up the task force (and its empty plan) of a many-to-one child; a child whose task force
    was stood down gets the same one back."""
    _require_manager(actor)
    child: Child = get_visible(children_visible_to(actor).select_for_update(of=("self",)), child_id)
    if child.status != ChildStatus.ACTIVE:
        raise InvalidInput(f"{child.name}不在册（{child.get_status_display()}），不能建立工作专班")
    if child.care_tier != CareTier.MANY_TO_ONE:
        raise InvalidInput(
            f"只有重点关爱（多对一）儿童建立工作专班；{child.name}现为{child.get_care_tier_display()}"
        )
    taskforce = TaskForce.objects.select_for_update().filter(child=child).first()
    now = timezone.now()
    if taskforce is not None and taskforce.is_active:
        raise Conflict(f"{child.name}已有工作专班")
    if taskforce is not None:
        taskforce.status = TaskForceStatus.ACTIVE
        taskforce.stood_down_reason = ""
        taskforce.stood_down_at = None
        taskforce.stood_down_by = None
        taskforce.version = F("version") + 1
        taskforce.save()
        taskforce.refresh_from_db()
        _touch_plan(taskforce)
        summary = f"重新启用{child.name}的工作专班"
    else:
        taskforce = TaskForce.objects.create(
            child=child,
            district_id=child.district_id,
            town_id=child.town_id,
            village_id=child.region_id,
            created_by=actor,
        )
        CarePlan.objects.create(taskforce=taskforce, updated_by=actor, last_activity_at=now)
        summary = f"建立{child.name}的工作专班"
    _audit(actor, AuditAction.CREATE, taskforce, summary, request)
    return taskforce


@transaction.atomic
def taskforce_step_down(
    *, actor: Any, taskforce_id: Any, reason: str, request: HttpRequest | None = None
) -> TaskForce:
    """Stand the task force down and move the child to one-to-one care, with a recorded reason.

    Only when all three risk flags are cleared. The tier goes through the registry's override
    mechanism (child_override_tier records the reason in the child's history): a recorded
    many-to-one override is lifted when the rules already give one-to-one, otherwise one-to-one
    is recorded as the override."""
    from aixin.registry.services import child_override_tier

    _require_manager(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写转为一对一关爱的理由（如风险已消除的依据）", field="reason")
    # Locks in the same order as taskforce_create: the child, then its task force.
    seen: TaskForce = get_visible(taskforces_visible_to(actor), taskforce_id)
    child: Child = get_visible(children_visible_to(actor).select_for_update(of=("self",)), seen.child_id)
    taskforce = _locked_taskforce(actor, seen.pk)
    _require_active(taskforce)
    flagged = risks_of(child)
    if flagged:
        raise Conflict(
            f"{child.name}仍有风险标记（{'、'.join(flagged)}），不能转为一对一；"
            "请先在儿童档案中核实并解除风险标记",
            field="reason",
        )
    tier_reason = f"风险标记已解除，撤销工作专班，转为一对一关爱：{reason}"
    if child.derived_tier == CareTier.ONE_TO_ONE:
        if child.tier_override:
            child_override_tier(actor=actor, child_id=child.pk, tier="", reason=tier_reason, request=request)
    elif child.care_tier != CareTier.ONE_TO_ONE:
        child_override_tier(
            actor=actor, child_id=child.pk, tier=CareTier.ONE_TO_ONE, reason=tier_reason, request=request
        )
    taskforce.status = TaskForceStatus.STOOD_DOWN
    taskforce.stood_down_reason = reason[:REASON_MAX]
    taskforce.stood_down_at = timezone.now()
    taskforce.stood_down_by = actor
    taskforce.version = F("version") + 1
    taskforce.save()
    taskforce.refresh_from_db()
    _audit(
        actor,
        AuditAction.TRANSITION,
        taskforce,
        f"撤销{child.name}的工作专班，转为一对一关爱：{reason}",
        request,
        {"reason": reason},
    )
    return taskforce


# ---------------------------------------------------------------------------------------------
# Members


@transaction.atomic
def member_add(
    *, actor: Any, taskforce_id: Any, data: MemberData, request: HttpRequest | None = None
) -> TaskForceMember:
    _require_manager(actor)
    taskforce = _locked_taskforce(actor, taskforce_id)
    _require_active(taskforce)
    if data.role not in MemberRole.values:
        raise InvalidInput("请选择成员在专班中的角色", field="role")
    name = data.name.strip()
    if not name:
        raise InvalidInput("请填写成员姓名", field="name")
    phone = _clean_phone(data.phone)
    user = _member_account(actor, data.username, taskforce)
    member = TaskForceMember(
        taskforce=taskforce,
        role=data.role,
        name=name[:50],
        organisation=data.organisation.strip()[:100],
        user=user,
        added_by=actor,
    )
    set_member_phone(member, phone)
    member.save()
    _audit(
        actor,
        AuditAction.UPDATE,
        taskforce,
        f"{taskforce.child.name}的工作专班新增成员：{member.get_role_display()}{member.name}",
        request,
    )
    return member


@transaction.atomic
def member_remove(*, actor: Any, member_id: Any, request: HttpRequest | None = None) -> TaskForceMember:
    """A member leaves the task force (kept in its history). Refused while they own open actions."""
    _require_manager(actor)
    member: TaskForceMember = get_visible(
        TaskForceMember.objects.filter(taskforce__in=taskforces_visible_to(actor)).select_for_update(),
        member_id,
    )
    taskforce = _locked_taskforce(actor, member.taskforce_id)
    _require_active(taskforce)
    if member.removed_at is not None:
        raise Conflict(f"{member.name}已退出该专班")
    open_count = member.actions.filter(status=ActionStatus.OPEN).count()
    if open_count:
        raise Conflict(f"{member.name}仍负责{open_count}项进行中的措施，请先完成或撤销这些措施再让其退出专班")
    member.removed_at = timezone.now()
    member.removed_by = actor
    member.save(update_fields=["removed_at", "removed_by", "updated_at"])
    _audit(
        actor,
        AuditAction.UPDATE,
        taskforce,
        f"{taskforce.child.name}的工作专班成员退出：{member.get_role_display()}{member.name}",
        request,
    )
    return member


@transaction.atomic
def member_create_login(*, actor: Any, member_id: Any, request: HttpRequest | None = None) -> tuple[str, str]:
    """A `taskforce_member` account for a member, placed at the child's district. The temporary
    password is returned once and never stored in clear."""
    _require_manager(actor)
    member: TaskForceMember = get_visible(
        TaskForceMember.objects.filter(taskforce__in=taskforces_visible_to(actor)).select_for_update(),
        member_id,
    )
    taskforce = _locked_taskforce(actor, member.taskforce_id)
    _require_active(taskforce)
    if member.removed_at is not None:
        raise Conflict(f"{member.name}已退出该专班，不能开通账号")
    if member.user_id is not None:
        raise Conflict(f"{member.name}已有登录账号")
    user, password = temporary_login(
        name=member.name,
        prefix="zb_",
        fallback="zhuanban",
        number=member.pk,
        role=Role.TASKFORCE_MEMBER,
        region_id=taskforce.district_id,
    )
    username = user.username
    TaskForceMember.objects.filter(pk=member.pk).update(user=user)
    _audit(
        actor,
        AuditAction.CREATE,
        taskforce,
        f"为{taskforce.child.name}的专班成员{member.name}开通登录账号{username}",
        request,
    )
    return username, password


# ---------------------------------------------------------------------------------------------
# Plan and actions


@transaction.atomic
def plan_update(
    *, actor: Any, taskforce_id: Any, goals: str, version: int, request: HttpRequest | None = None
) -> CarePlan:
    """Edit the plan's goals; `version` is the one the form was read at (StaleEdit if changed)."""
    _require_manager(actor)
    taskforce = _locked_taskforce(actor, taskforce_id)
    _require_active(taskforce)
    goals = (goals or "").strip()
    if not goals:
        raise InvalidInput("请填写帮扶目标与措施概要", field="goals")
    updated = CarePlan.objects.filter(taskforce=taskforce, version=version).update(
        goals=goals, version=F("version") + 1, updated_by=actor, last_activity_at=timezone.now()
    )
    if not updated:
        raise StaleEdit(f"{taskforce.child.name}的帮扶方案已被他人修改，请刷新后重新编辑")
    plan = CarePlan.objects.get(taskforce=taskforce)
    _audit(actor, AuditAction.UPDATE, taskforce, f"修改{taskforce.child.name}的帮扶方案", request)
    return plan


@transaction.atomic
def action_add(
    *,
    actor: Any,
    taskforce_id: Any,
    title: str,
    owner_id: Any,
    due_on: datetime.date | None,
    today: datetime.date | None = None,
    request: HttpRequest | None = None,
) -> PlanAction:
    _require_manager(actor)
    today = today or timezone.localdate()
    taskforce = _locked_taskforce(actor, taskforce_id)
    _require_active(taskforce)
    title = (title or "").strip()
    if not title:
        raise InvalidInput("请填写帮扶措施", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"帮扶措施不超过{TITLE_MAX}字", field="title")
    if due_on is None:
        raise InvalidInput("请填写完成期限", field="due_on")
    if due_on < today:
        raise InvalidInput(f"完成期限{due_on.isoformat()}早于今天", field="due_on")
    try:
        owner = taskforce.members.get(pk=int(owner_id), removed_at__isnull=True)
    except (TaskForceMember.DoesNotExist, TypeError, ValueError) as exc:
        raise InvalidInput("请从本专班现有成员中选择负责人", field="owner") from exc
    action = PlanAction.objects.create(
        plan=taskforce.plan, title=title, owner=owner, due_on=due_on, created_by=actor
    )
    _touch_plan(taskforce)
    _audit(
        actor,
        AuditAction.CREATE,
        taskforce,
        f"{taskforce.child.name}的帮扶方案新增措施：{title}（{owner.name}，{due_on.isoformat()}前）",
        request,
    )
    return action


def _locked_action(actor: Any, action_id: Any) -> PlanAction:
    action: PlanAction = get_visible(
        plan_actions_visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("owner", "plan__taskforce__child", "plan__taskforce__village"),
        action_id,
    )
    return action


def may_complete(actor: Any, action: PlanAction) -> bool:
    """Admins in scope, or the member who owns the action (through their log-in)."""
    return bool(may_manage(actor) or (action.owner.user_id is not None and action.owner.user_id == actor.pk))


@transaction.atomic
def action_complete(
    *, actor: Any, action_id: Any, today: datetime.date | None = None, request: HttpRequest | None = None
) -> PlanAction:
    action = _locked_action(actor, action_id)
    if not may_complete(actor, action):
        raise NotAllowed("只有该措施的负责人或区县妇联工作人员可以标记完成")
    taskforce = action.plan.taskforce
    _require_active(taskforce)
    if action.status != ActionStatus.OPEN:
        raise Conflict(f"措施“{action.title}”{action.get_status_display()}，不能再改")
    action.status = ActionStatus.DONE
    action.done_on = today or timezone.localdate()
    action.closed_by = actor
    action.save(update_fields=["status", "done_on", "closed_by", "updated_at"])
    _touch_plan(taskforce)
    _audit(
        actor,
        AuditAction.TRANSITION,
        taskforce,
        f"{taskforce.child.name}的帮扶措施已完成：{action.title}",
        request,
    )
    return action


@transaction.atomic
def action_drop(*, actor: Any, action_id: Any, reason: str, request: HttpRequest | None = None) -> PlanAction:
    _require_manager(actor)
    action = _locked_action(actor, action_id)
    taskforce = action.plan.taskforce
    _require_active(taskforce)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写撤销该措施的理由", field="reason")
    if action.status != ActionStatus.OPEN:
        raise Conflict(f"措施“{action.title}”{action.get_status_display()}，不能再改")
    action.status = ActionStatus.DROPPED
    action.drop_reason = reason[:REASON_MAX]
    action.closed_by = actor
    action.save(update_fields=["status", "drop_reason", "closed_by", "updated_at"])
    _touch_plan(taskforce)
    _audit(
        actor,
        AuditAction.TRANSITION,
        taskforce,
        f"{taskforce.child.name}的帮扶措施已撤销：{action.title}（{reason}）",
        request,
    )
    return action


def _author_label(actor: Any, taskforce: TaskForce) -> str:
    seat = taskforce.members.filter(user_id=actor.pk, removed_at__isnull=True).first()
    if seat is not None:
        return f"{seat.name}（{seat.get_role_display()}）"
    if actor.role == Role.VOLUNTEER:
        from aixin.volunteers.models import Volunteer

        name = Volunteer.objects.filter(user_id=actor.pk).values_list("name", flat=True).first()
        return f"{name or actor}（{MemberRole.LOVING_MOTHER.label}）"
    return f"{actor}（{actor.get_role_display()}）"


@transaction.atomic
def note_add(*, actor: Any, action_id: Any, text: str, request: HttpRequest | None = None) -> ActionNote:
    """Append a progress note to an action: anyone who may see the task force."""
    action = _locked_action(actor, action_id)
    taskforce = action.plan.taskforce
    _require_active(taskforce)
    text = (text or "").strip()
    if not text:
        raise InvalidInput("请填写进展情况", field="text")
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"进展情况不超过{NOTE_MAX}字", field="text")
    note = ActionNote.objects.create(
        action=action,
        author=actor,
        author_label=_author_label(actor, taskforce)[:100],
        text_sealed=ActionNote.text.seal(text),
    )
    _touch_plan(taskforce)
    _audit(
        actor,
        AuditAction.CREATE,
        taskforce,
        f"{taskforce.child.name}的帮扶措施“{action.title[:40]}”新增进展记录",
        request,
    )
    return note


# ---------------------------------------------------------------------------------------------
# The daily reminder


def overdue_action_reminders(*, today: datetime.date) -> int:
    """Notify each overdue action's owner (if they have a log-in) and the admins of the child's
    district, once per action and due date (dedupe key): running it twice sends nothing new.
    Returns how many notifications were new."""
    from aixin.notify.models import NotificationKind
    from aixin.notify.services import Draft, notifications_create
    from aixin.taskforces.selectors import overdue_actions

    actions = list(overdue_actions(today=today))
    if not actions:
        return 0
    districts = {a.plan.taskforce.district_id for a in actions}
    admins: dict[int, list[int]] = {}
    for user_id, region_id in User.objects.filter(
        role=Role.DISTRICT_ADMIN, region_id__in=districts, is_active=True
    ).values_list("pk", "region_id"):
        admins.setdefault(region_id, []).append(user_id)
    drafts: list[Draft] = []
    for action in actions:
        taskforce = action.plan.taskforce
        child = taskforce.child
        days = (today - action.due_on).days
        recipients = list(admins.get(taskforce.district_id, []))
        if action.owner.user_id is not None and action.owner.removed_at is None:
            recipients.append(action.owner.user_id)
        for recipient in dict.fromkeys(recipients):
            drafts.append(
                Draft(
                    recipient_id=recipient,
                    kind=NotificationKind.TASKFORCE_ACTION,
                    title=f"{child.name}的帮扶措施已逾期{days}天",
                    body=(
                        f"措施：{action.title}\n负责人：{action.owner.name}（{action.owner.get_role_display()}）\n"
                        f"完成期限：{action.due_on.isoformat()}"
                    ),
                    link=reverse("taskforces:taskforce_detail", args=[taskforce.pk]) + f"#action-{action.pk}",
                    dedupe_key=f"taskforce_action:{action.pk}:overdue:{action.due_on.isoformat()}",
                )
            )
    return notifications_create(drafts)
