"""Task forces as the services build them, for the tests."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from aixin.accounts.models import Role
from aixin.taskforces import services
from aixin.taskforces.models import TaskForce, TaskForceMember
from aixin.taskforces.services import MemberData
from tests import factories

TODAY = timezone.localdate()


def risky_child(village: Any, name: str = "赵小虎", **fields: Any) -> Any:
    """A child whose risk flag makes the rules derive many-to-one care."""
    fields.setdefault("risk_harm_others", True)
    return factories.make_child(village, name=name, **fields)


def taskforce_for(child: Any, admin: Any) -> TaskForce:
    return services.taskforce_create(actor=admin, child_id=child.pk)


def add_member(taskforce: TaskForce, admin: Any, role: str, name: str = "", **kw: Any) -> TaskForceMember:
    return services.member_add(
        actor=admin,
        taskforce_id=taskforce.pk,
        data=MemberData(role=role, name=name or f"{role}成员", **kw),
    )


def member_login(member: TaskForceMember, admin: Any) -> Any:
    """Give a member a taskforce_member log-in, as after their first log-in (the temporary
    password already changed); returns the user."""
    services.member_create_login(actor=admin, member_id=member.pk)
    member.refresh_from_db()
    assert member.user is not None and member.user.role == Role.TASKFORCE_MEMBER
    member.user.must_change_password = False
    member.user.save(update_fields=["must_change_password"])
    return member.user


def complete_taskforce(child: Any, admin: Any) -> TaskForce:
    """A task force with the loving mother (active pairing), a teacher and a police officer."""
    factories.make_active_pairing(child, factories.make_volunteer(child.region, name="钱妈妈"))
    taskforce = taskforce_for(child, admin)
    add_member(taskforce, admin, "teacher", "孙老师", organisation="镇中心小学")
    add_member(taskforce, admin, "police", "李警官", organisation="派出所", phone="13912345678")
    return taskforce
