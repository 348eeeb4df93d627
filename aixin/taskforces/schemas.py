"""API schemas of task forces (工作专班): one input and one output shape per operation.

A member's phone is only ever given masked (`phone_masked`); the clear phone has no field here.
"""

from __future__ import annotations

import datetime

from ninja import Schema


class TaskForceFilterIn(Schema):
    # "" or "all": every status; "active" (工作中) or "stood_down" (已撤销).
    status: str = ""
    # A region code (district, town or village) within the caller's scope, as on the web pages.
    region: str = ""
    limit: int = 50
    offset: int = 0


class TaskForceListItemOut(Schema):
    id: int
    child_id: int
    child_name: str
    district: str
    town: str
    village: str
    status: str
    status_label: str
    member_count: int
    # Whether the required member groups (AIXIN_TASKFORCE_REQUIRED_ROLES) are all present;
    # `missing` says what is lacking, in Chinese. A stood-down task force is never complete.
    complete: bool
    missing: list[str]
    # CarePlan.last_activity_at: goals edited, an action added or closed, a progress note.
    plan_updated_at: datetime.datetime | None
    open_actions: int
    overdue_actions: int


class TaskForcePageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[TaskForceListItemOut]


class ChildRefOut(Schema):
    id: int
    name: str


class MemberOut(Schema):
    id: int
    role: str
    role_label: str
    name: str
    organisation: str
    phone_masked: str
    has_login: bool


class NoteOut(Schema):
    id: int
    action_id: int
    author_label: str
    text: str
    created_at: datetime.datetime


class ActionOwnerOut(Schema):
    id: int
    name: str
    role: str
    role_label: str


class ActionOut(Schema):
    id: int
    title: str
    owner: ActionOwnerOut
    due_on: datetime.date
    status: str
    status_label: str
    overdue: bool
    done_on: datetime.date | None
    drop_reason: str
    # Whether the caller may mark this open action done (its owner, or an admin in scope).
    can_complete: bool
    notes: list[NoteOut]


class PlanOut(Schema):
    goals: str
    version: int
    updated_at: datetime.datetime


class TaskForceDetailOut(Schema):
    id: int
    child: ChildRefOut
    status: str
    status_label: str
    stood_down_reason: str
    stood_down_at: datetime.datetime | None
    complete: bool
    missing: list[str]
    members: list[MemberOut]
    plan: PlanOut
    actions: list[ActionOut]


class NoteIn(Schema):
    # Checked by the service (empty, too long) so that the error is in Chinese and names the field.
    text: str = ""
