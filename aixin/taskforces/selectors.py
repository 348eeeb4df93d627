"""Reads for task forces: which many-to-one children lack a (complete) task force, the coverage
numbers for the dashboard, a task force's file, a member's task forces, overdue actions.

Completeness is computed in SQL, one `EXISTS` per required role group (settings
AIXIN_TASKFORCE_REQUIRED_ROLES), so a district's list and the city's counts cost one query each.
Every read for a request starts from the access selectors (children_visible_to,
taskforces_visible_to) with the requesting user.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from aixin.accounts.access import children_visible_to, may_manage, taskforces_visible_to
from aixin.pairing.models import Pairing, PairingStatus
from aixin.regions.models import Region, RegionLevel
from aixin.registry.models import CareTier, Child, ChildStatus
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

# How children are narrowed to a region of each level (the city needs no filter).
_CHILD_FIELDS: dict[int, str] = {
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.TOWN: "town_id",
    RegionLevel.VILLAGE: "region_id",
}
NO_TASKFORCE = "未建立工作专班"


# ---------------------------------------------------------------------------------------------
# Completeness


def required_groups() -> list[tuple[str, ...]]:
    """The role groups a complete task force needs (settings.AIXIN_TASKFORCE_REQUIRED_ROLES)."""
    groups = [tuple(g) for g in settings.AIXIN_TASKFORCE_REQUIRED_ROLES]
    unknown = {role for g in groups for role in g} - set(MemberRole.values)
    if unknown or not all(groups):
        raise ImproperlyConfigured(
            f"AIXIN_TASKFORCE_REQUIRED_ROLES: unknown or empty roles {sorted(unknown)}; "
            f"known roles are {', '.join(MemberRole.values)}"
        )
    return groups


def group_label(group: Sequence[str]) -> str:
    return "或".join(str(MemberRole(role).label) for role in group)


def _has_taskforce() -> Exists:
    return Exists(TaskForce.objects.filter(child=OuterRef("pk"), status=TaskForceStatus.ACTIVE))


def _group_present(group: Sequence[str]) -> Q:
    """A filter on Child: its active task force has a current member of one of `group`'s roles
    (the loving mother also counts from the child's active pairing)."""
    members = TaskForceMember.objects.filter(
        taskforce__child=OuterRef("pk"),
        taskforce__status=TaskForceStatus.ACTIVE,
        removed_at__isnull=True,
        role__in=list(group),
    )
    present = Q(Exists(members))
    if MemberRole.LOVING_MOTHER in group:
        present |= Q(Exists(Pairing.objects.filter(child=OuterRef("pk"), status=PairingStatus.ACTIVE)))
    return present


def _complete_q() -> Q:
    q = Q(_has_taskforce())
    for group in required_groups():
        q &= _group_present(group)
    return q


def _plan_up_to_date_q(today: datetime.date) -> Q:
    """A filter on Child: its active task force's plan has goals, was worked on within
    AIXIN_TASKFORCE_PLAN_FRESH_DAYS and has no open action past its due date."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.AIXIN_TASKFORCE_PLAN_FRESH_DAYS)
    fresh = CarePlan.objects.filter(
        taskforce__child=OuterRef("pk"),
        taskforce__status=TaskForceStatus.ACTIVE,
        last_activity_at__gte=cutoff,
    ).exclude(goals="")
    overdue = PlanAction.objects.filter(
        plan__taskforce__child=OuterRef("pk"),
        plan__taskforce__status=TaskForceStatus.ACTIVE,
        status=ActionStatus.OPEN,
        due_on__lt=today,
    )
    return Q(Exists(fresh)) & ~Q(Exists(overdue))


def _boolean(q: Q) -> ExpressionWrapper[Any]:
    return ExpressionWrapper(q, output_field=BooleanField())


def _narrow(qs: QuerySet[Any], region: Region | None) -> QuerySet[Any]:
    if region is None:
        return qs
    column = _CHILD_FIELDS.get(region.level)
    return qs if column is None else qs.filter(**{column: region.pk})


def many_to_one_children(*, user: Any, region: Region | None = None) -> QuerySet[Any]:
    """Active many-to-one children the user may see, in `region` (any level; None: all)."""
    qs = children_visible_to(user).filter(status=ChildStatus.ACTIVE, care_tier=CareTier.MANY_TO_ONE)
    return _narrow(qs, region)


@dataclass
class MissingRow:
    child: Child
    taskforce_id: int | None
    missing: list[str]

    @property
    def text(self) -> str:
        return "；".join(self.missing)


def _annotate(children: QuerySet[Any]) -> tuple[QuerySet[Any], list[tuple[str, ...]]]:
    groups = required_groups()
    annotations: dict[str, Any] = {"tf_active": _has_taskforce()}
    for i, group in enumerate(groups):
        annotations[f"tf_group_{i}"] = _boolean(_group_present(group))
    return children.annotate(**annotations), groups


def _missing_of(child: Any, groups: list[tuple[str, ...]]) -> list[str]:
    if not child.tf_active:
        return [NO_TASKFORCE]
    return [f"缺少{group_label(g)}" for i, g in enumerate(groups) if not getattr(child, f"tf_group_{i}")]


def children_missing_taskforce(*, user: Any, region: Region | None = None) -> list[MissingRow]:
    """Active many-to-one children without an active task force or with an incomplete one, and
    what each lacks in Chinese ("未建立工作专班", "缺少民警", "缺少教师或社会工作者")."""
    annotated, groups = _annotate(many_to_one_children(user=user, region=region))
    incomplete = ~Q(tf_active=True)
    for i in range(len(groups)):
        incomplete |= ~Q(**{f"tf_group_{i}": True})
    rows = annotated.filter(incomplete).select_related("region", "town", "district")
    active_ids = dict(
        TaskForce.objects.filter(child__in=[c.pk for c in rows], status=TaskForceStatus.ACTIVE).values_list(
            "child_id", "pk"
        )
    )
    return [
        MissingRow(child=c, taskforce_id=active_ids.get(c.pk), missing=_missing_of(c, groups)) for c in rows
    ]


def missing_roles(child: Any) -> list[str]:
    """What the child's task force lacks (empty when complete); the child is already in scope."""
    annotated, groups = _annotate(Child.objects.filter(pk=child.pk))
    row = annotated.get()
    return _missing_of(row, groups)


def missing_roles_by_child(child_ids: Sequence[int]) -> dict[int, list[str]]:
    """`missing_roles` of several children at once (one query), by child id."""
    if not child_ids:
        return {}
    annotated, groups = _annotate(Child.objects.filter(pk__in=child_ids))
    return {child.pk: _missing_of(child, groups) for child in annotated}


@dataclass(frozen=True)
class ListFacts:
    """What a list of task forces shows beside each row, by task-force id."""

    member_counts: dict[int, int]
    plan_updated: dict[int, datetime.datetime]
    missing: dict[int, list[str]]  # by child id, active task forces only


def list_facts(taskforces: Sequence[TaskForce]) -> ListFacts:
    """Current member count, plan activity and missing roles of a page of task forces: three
    queries for the page, not three a row."""
    ids = [t.pk for t in taskforces]
    members = (
        TaskForceMember.objects.filter(taskforce_id__in=ids, removed_at__isnull=True)
        .values("taskforce_id")
        .annotate(n=Count("pk"))
        .values_list("taskforce_id", "n")
    )
    plans = CarePlan.objects.filter(taskforce_id__in=ids).values_list("taskforce_id", "last_activity_at")
    return ListFacts(
        member_counts=dict(members),
        plan_updated=dict(plans),
        missing=missing_roles_by_child([t.child_id for t in taskforces if t.is_active]),
    )


@dataclass(frozen=True)
class TaskforceCoverage:
    total: int
    with_taskforce: int
    complete: int
    plan_up_to_date: int

    @staticmethod
    def _percent(done: int, total: int) -> float | None:
        return round(100.0 * done / total, 1) if total else None

    @property
    def with_taskforce_percent(self) -> float | None:
        return self._percent(self.with_taskforce, self.total)

    @property
    def complete_percent(self) -> float | None:
        return self._percent(self.complete, self.total)

    @property
    def plan_up_to_date_percent(self) -> float | None:
        return self._percent(self.plan_up_to_date, self.total)


def taskforce_coverage(
    *, user: Any, region: Region | None = None, today: datetime.date | None = None
) -> TaskforceCoverage:
    """Task-force coverage of the many-to-one children in `region` that the user may see: how
    many have an active task force, a complete one, and one with an up-to-date plan. One query."""
    today = today or timezone.localdate()
    has = Q(_has_taskforce())
    numbers = many_to_one_children(user=user, region=region).aggregate(
        total=Count("pk"),
        with_taskforce=Count("pk", filter=has),
        complete=Count("pk", filter=_complete_q()),
        plan_up_to_date=Count("pk", filter=has & _plan_up_to_date_q(today)),
    )
    return TaskforceCoverage(**numbers)


# ---------------------------------------------------------------------------------------------
# One task force, a member's task forces, overdue actions


@dataclass
class TaskforceFile:
    taskforce: TaskForce
    child: Child
    members: list[TaskForceMember]
    former_members: list[TaskForceMember]
    plan: CarePlan
    actions: list[PlanAction]
    missing: list[str]
    mother: Any  # the Volunteer of the child's active pairing, or None
    guardians: list[Any] = field(default_factory=list)


def taskforce_file(taskforce: TaskForce) -> TaskforceFile:
    """Everything the task force page shows. `taskforce` comes from taskforces_visible_to."""
    child = Child.objects.select_related("region", "town", "district").get(pk=taskforce.child_id)
    all_members = list(taskforce.members.select_related("user"))
    # In the order the roles are listed (教师, 医生, 民警 … 爱心妈妈), then as they joined.
    rank = {role: i for i, role in enumerate(MemberRole.values)}
    all_members.sort(key=lambda m: (rank.get(m.role, len(rank)), m.pk))
    plan = CarePlan.objects.select_related("updated_by").get(taskforce=taskforce)
    actions = list(
        plan.actions.select_related("owner", "closed_by").prefetch_related(
            Prefetch("notes", queryset=ActionNote.objects.order_by("created_at", "id"))
        )
    )
    # What is still to do first, by due date; then what was done or dropped.
    actions.sort(key=lambda a: (a.status != ActionStatus.OPEN, a.due_on, a.pk))
    pairing = (
        Pairing.objects.filter(child=child, status=PairingStatus.ACTIVE).select_related("volunteer").first()
    )
    return TaskforceFile(
        taskforce=taskforce,
        child=child,
        members=[m for m in all_members if m.removed_at is None],
        former_members=[m for m in all_members if m.removed_at is not None],
        plan=plan,
        actions=actions,
        missing=missing_roles(child) if taskforce.is_active else [],
        mother=pairing.volunteer if pairing else None,
        guardians=list(child.guardians.all()),
    )


def action_with_notes(action_id: int) -> PlanAction:
    """One action (already checked to be in scope) with its owner and notes, for an htmx swap."""
    return (
        PlanAction.objects.select_related("owner", "closed_by", "plan__taskforce")
        .prefetch_related(Prefetch("notes", queryset=ActionNote.objects.order_by("created_at", "id")))
        .get(pk=action_id)
    )


def taskforces_of_member(user: Any, *, today: datetime.date | None = None) -> QuerySet[Any]:
    """我参与的专班: the user's task forces with their child, open and overdue action counts."""
    today = today or timezone.localdate()
    open_q = Q(plan__actions__status=ActionStatus.OPEN)
    qs: QuerySet[Any] = (
        taskforces_visible_to(user)
        .select_related("child", "village", "town")
        .annotate(
            open_actions=Count("plan__actions", filter=open_q),
            overdue_actions=Count("plan__actions", filter=open_q & Q(plan__actions__due_on__lt=today)),
        )
        .order_by("child__name_pinyin", "pk")
    )
    return qs


def overdue_actions(*, today: datetime.date) -> QuerySet[Any]:
    """Open actions of active task forces past their due date, city-wide (the daily reminder job,
    not a request: it addresses each reminder only to people who may see the task force)."""
    return PlanAction.objects.filter(
        status=ActionStatus.OPEN, due_on__lt=today, plan__taskforce__status=TaskForceStatus.ACTIVE
    ).select_related("owner", "plan__taskforce__child")


@dataclass
class ChildPanel:
    taskforce: TaskForce | None
    missing: list[str]
    may_create: bool


def child_panel(user: Any, child: Any) -> ChildPanel:
    """The "工作专班" panel on a child's file (the child is already in the user's scope)."""
    taskforce = taskforces_visible_to(user).filter(child_id=child.pk).first()
    needs = child.care_tier == CareTier.MANY_TO_ONE and child.status == ChildStatus.ACTIVE
    active = taskforce is not None and taskforce.is_active
    return ChildPanel(
        taskforce=taskforce,
        missing=missing_roles(child) if (needs or active) else [],
        may_create=bool(may_manage(user) and needs and not active),
    )
