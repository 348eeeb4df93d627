"""Task-force services: who gets one, what makes it complete, the plan and its actions, notes,
the overdue reminder and the step down to one-to-one."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, transaction
from django.test import override_settings

from aixin.audit.models import AuditEvent
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from aixin.notify.models import Notification, NotificationKind
from aixin.registry import derive
from aixin.registry.models import ChildChange
from aixin.registry.services import child_override_tier
from aixin.taskforces import selectors, services
from aixin.taskforces.models import ActionNote, ActionStatus, CarePlan, TaskForce, TaskForceStatus
from tests import factories
from tests.taskforces.helpers import (
    TODAY,
    add_member,
    complete_taskforce,
    member_login,
    risky_child,
    taskforce_for,
)

D = datetime.date


# ---------------------------------------------------------------------------------------------
# Creation


def test_a_many_to_one_child_gets_a_task_force_with_an_empty_plan(tree, users):
    child = risky_child(tree.village_a1)

    taskforce = services.taskforce_create(actor=users["district_admin"], child_id=child.pk)

    assert taskforce.status == TaskForceStatus.ACTIVE
    assert (taskforce.district_id, taskforce.town_id, taskforce.village_id) == (
        tree.district_a.pk,
        tree.town_a1.pk,
        tree.village_a1.pk,
    )
    assert CarePlan.objects.get(taskforce=taskforce).goals == ""
    assert AuditEvent.objects.filter(object_type="taskforce", object_id=str(taskforce.pk)).count() == 1


def test_a_one_to_one_child_gets_no_task_force(tree, users):
    child = factories.make_child(tree.village_a1, difficulty_life=True)

    with pytest.raises(InvalidInput, match="只有重点关爱（多对一）儿童建立工作专班"):
        services.taskforce_create(actor=users["district_admin"], child_id=child.pk)

    assert TaskForce.objects.count() == 0


def test_a_town_supervisor_cannot_set_up_a_task_force(tree, users):
    child = risky_child(tree.village_a1)

    with pytest.raises(NotAllowed):
        services.taskforce_create(actor=users["town_supervisor"], child_id=child.pk)

    assert TaskForce.objects.count() == 0


def test_a_child_has_only_one_task_force(tree, users):
    child = risky_child(tree.village_a1)
    taskforce_for(child, users["district_admin"])

    with pytest.raises(Conflict, match="已有工作专班"):
        services.taskforce_create(actor=users["district_admin"], child_id=child.pk)

    assert TaskForce.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# Completeness


def test_a_new_task_force_lacks_the_mother_a_teacher_or_social_worker_and_the_police(tree, users):
    child = risky_child(tree.village_a1)
    taskforce_for(child, users["district_admin"])

    assert selectors.missing_roles(child) == ["缺少爱心妈妈", "缺少教师或社会工作者", "缺少民警"]


def test_the_paired_loving_mother_a_social_worker_and_the_police_make_it_complete(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1)
    taskforce = taskforce_for(child, admin)
    factories.make_active_pairing(child, factories.make_volunteer(tree.village_a1))
    add_member(taskforce, admin, "social_worker")
    assert selectors.missing_roles(child) == ["缺少民警"]

    add_member(taskforce, admin, "police")

    assert selectors.missing_roles(child) == []


def test_a_member_who_left_no_longer_counts(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1)
    taskforce = complete_taskforce(child, admin)
    police = taskforce.members.get(role="police")

    services.member_remove(actor=admin, member_id=police.pk)

    assert selectors.missing_roles(child) == ["缺少民警"]


@override_settings(AIXIN_TASKFORCE_REQUIRED_ROLES=(("doctor",), ("judge", "prosecutor")))
def test_the_required_roles_follow_the_setting(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1)
    taskforce = taskforce_for(child, admin)
    add_member(taskforce, admin, "prosecutor")

    assert selectors.missing_roles(child) == ["缺少医生"]


def test_the_missing_list_names_what_each_many_to_one_child_lacks_in_the_region(tree, users):
    admin = users["district_admin"]
    risky_child(tree.village_a1, name="无专班")
    partial = risky_child(tree.village_a2, name="缺民警")
    complete = risky_child(tree.village_a1, name="已完整")
    risky_child(tree.village_b1, name="外区县")
    factories.make_child(tree.village_a1, name="一对一", difficulty_life=True)
    taskforce = taskforce_for(partial, admin)
    factories.make_active_pairing(partial, factories.make_volunteer(tree.village_a2))
    add_member(taskforce, admin, "teacher")
    complete_taskforce(complete, admin)

    rows = selectors.children_missing_taskforce(user=admin, region=tree.district_a)

    assert {r.child.name: r.text for r in rows} == {"无专班": "未建立工作专班", "缺民警": "缺少民警"}
    town_rows = selectors.children_missing_taskforce(user=admin, region=tree.town_a2)
    assert [r.child.name for r in town_rows] == ["缺民警"]


def test_coverage_counts_task_forces_complete_ones_and_up_to_date_plans(tree, users):
    admin = users["district_admin"]
    risky_child(tree.village_a1, name="无专班")
    partial = taskforce_for(risky_child(tree.village_a1, name="不完整"), admin)
    services.plan_update(actor=admin, taskforce_id=partial.pk, goals="每周家访", version=1)
    stale = complete_taskforce(risky_child(tree.village_a1, name="过期"), admin)
    services.plan_update(actor=admin, taskforce_id=stale.pk, goals="每月心理辅导", version=1)
    CarePlan.objects.filter(taskforce=stale).update(
        last_activity_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )
    fresh = complete_taskforce(risky_child(tree.village_a1, name="完整"), admin)
    services.plan_update(actor=admin, taskforce_id=fresh.pk, goals="每周家访", version=1)
    risky_child(tree.village_b1, name="外区县")

    coverage = selectors.taskforce_coverage(user=admin, region=tree.district_a)

    assert (coverage.total, coverage.with_taskforce, coverage.complete, coverage.plan_up_to_date) == (
        4,
        3,
        2,
        2,
    )
    assert coverage.complete_percent == 50.0
    city = selectors.taskforce_coverage(user=users["city_admin"], region=tree.city)
    assert city.total == 5


def test_an_overdue_action_makes_the_plan_out_of_date(tree, users):
    admin = users["district_admin"]
    taskforce = complete_taskforce(risky_child(tree.village_a1), admin)
    services.plan_update(actor=admin, taskforce_id=taskforce.pk, goals="每周家访", version=1)
    teacher = taskforce.members.get(role="teacher")
    services.action_add(
        actor=admin,
        taskforce_id=taskforce.pk,
        title="学业辅导",
        owner_id=teacher.pk,
        due_on=TODAY,
        today=TODAY,
    )
    assert selectors.taskforce_coverage(user=admin, region=tree.district_a, today=TODAY).plan_up_to_date == 1

    later = TODAY + datetime.timedelta(days=1)

    assert selectors.taskforce_coverage(user=admin, region=tree.district_a, today=later).plan_up_to_date == 0


# ---------------------------------------------------------------------------------------------
# Members, plan, actions, notes


def test_a_members_phone_is_stored_encrypted_and_shown_masked(tree, users):
    taskforce = taskforce_for(risky_child(tree.village_a1), users["district_admin"])

    member = add_member(taskforce, users["district_admin"], "police", "李警官", phone="13912345678")

    assert member.phone_masked == "139****5678"
    assert "13912345678" not in member.phone_encrypted
    assert services.reveal_member_phone(member) == "13912345678"


def test_a_member_log_in_is_a_taskforce_member_account_at_the_childs_district(tree, users):
    admin = users["district_admin"]
    taskforce = taskforce_for(risky_child(tree.village_a1), admin)
    member = add_member(taskforce, admin, "police", "李警官")

    username, password = services.member_create_login(actor=admin, member_id=member.pk)

    member.refresh_from_db()
    assert member.user.username == username and member.user.check_password(password)
    assert member.user.role == "taskforce_member" and member.user.region == tree.district_a
    assert member.user.must_change_password
    with pytest.raises(Conflict, match="已有登录账号"):
        services.member_create_login(actor=admin, member_id=member.pk)


def test_one_member_account_can_sit_on_a_second_task_force(tree, users):
    admin = users["district_admin"]
    first = taskforce_for(risky_child(tree.village_a1, name="甲"), admin)
    user = member_login(add_member(first, admin, "police", "李警官"), admin)
    second = taskforce_for(risky_child(tree.village_a2, name="乙"), admin)

    seat = add_member(second, admin, "police", "李警官", username=user.username)

    assert seat.user == user
    with pytest.raises(Conflict, match="已在"):
        add_member(second, admin, "police", "李警官", username=user.username)


def test_a_stale_plan_edit_is_refused_and_changes_nothing(tree, users):
    admin = users["district_admin"]
    taskforce = taskforce_for(risky_child(tree.village_a1), admin)
    services.plan_update(actor=admin, taskforce_id=taskforce.pk, goals="第一版", version=1)

    with pytest.raises(StaleEdit, match="帮扶方案已被他人修改"):
        services.plan_update(actor=admin, taskforce_id=taskforce.pk, goals="基于旧版的修改", version=1)

    plan = CarePlan.objects.get(taskforce=taskforce)
    assert (plan.goals, plan.version) == ("第一版", 2)


def test_an_action_is_owned_by_a_current_member_and_due_in_the_future(tree, users):
    admin = users["district_admin"]
    taskforce = taskforce_for(risky_child(tree.village_a1), admin)
    teacher = add_member(taskforce, admin, "teacher")
    other = add_member(taskforce_for(risky_child(tree.village_a2), admin), admin, "teacher")

    with pytest.raises(InvalidInput, match="现有成员"):
        services.action_add(
            actor=admin, taskforce_id=taskforce.pk, title="家访", owner_id=other.pk, due_on=TODAY
        )
    with pytest.raises(InvalidInput, match="早于今天"):
        services.action_add(
            actor=admin,
            taskforce_id=taskforce.pk,
            title="家访",
            owner_id=teacher.pk,
            due_on=TODAY - datetime.timedelta(days=1),
        )

    assert not taskforce.plan.actions.exists()


def test_the_owner_marks_the_action_done_and_another_member_cannot(tree, users):
    admin = users["district_admin"]
    taskforce = taskforce_for(risky_child(tree.village_a1), admin)
    teacher = add_member(taskforce, admin, "teacher")
    owner = member_login(teacher, admin)
    bystander = member_login(add_member(taskforce, admin, "police"), admin)
    action = services.action_add(
        actor=admin, taskforce_id=taskforce.pk, title="学业辅导", owner_id=teacher.pk, due_on=TODAY
    )

    with pytest.raises(NotAllowed):
        services.action_complete(actor=bystander, action_id=action.pk)
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN

    services.action_complete(actor=owner, action_id=action.pk, today=TODAY)

    action.refresh_from_db()
    assert (action.status, action.done_on, action.closed_by) == (ActionStatus.DONE, TODAY, owner)


def test_a_member_who_owns_open_actions_cannot_leave(tree, users):
    admin = users["district_admin"]
    taskforce = taskforce_for(risky_child(tree.village_a1), admin)
    teacher = add_member(taskforce, admin, "teacher", "孙老师")
    services.action_add(
        actor=admin, taskforce_id=taskforce.pk, title="学业辅导", owner_id=teacher.pk, due_on=TODAY
    )

    with pytest.raises(Conflict, match="孙老师仍负责1项进行中的措施"):
        services.member_remove(actor=admin, member_id=teacher.pk)

    teacher.refresh_from_db()
    assert teacher.removed_at is None


def test_members_and_the_loving_mother_add_progress_notes_signed_with_their_role(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1)
    taskforce = complete_taskforce(child, admin)
    teacher = taskforce.members.get(role="teacher")
    user = member_login(teacher, admin)
    mother = child.pairings.get().volunteer.user
    action = services.action_add(
        actor=admin, taskforce_id=taskforce.pk, title="学业辅导", owner_id=teacher.pk, due_on=TODAY
    )

    services.note_add(actor=user, action_id=action.pk, text="已辅导数学两次")
    services.note_add(actor=mother, action_id=action.pk, text="孩子说作业能跟上了")

    notes = list(action.notes.order_by("id"))
    assert [(n.author_label, n.text) for n in notes] == [
        ("孙老师（教师）", "已辅导数学两次"),
        ("钱妈妈（爱心妈妈）", "孩子说作业能跟上了"),
    ]


def test_progress_notes_cannot_be_changed_or_deleted(tree, users):
    admin = users["district_admin"]
    taskforce = taskforce_for(risky_child(tree.village_a1), admin)
    teacher = add_member(taskforce, admin, "teacher")
    action = services.action_add(
        actor=admin, taskforce_id=taskforce.pk, title="学业辅导", owner_id=teacher.pk, due_on=TODAY
    )
    note = services.note_add(actor=admin, action_id=action.pk, text="已联系学校")

    with pytest.raises(DatabaseError), transaction.atomic():
        ActionNote.objects.filter(pk=note.pk).update(text_sealed=ActionNote.text.seal("改写"))
    with pytest.raises(DatabaseError), transaction.atomic():
        ActionNote.objects.filter(pk=note.pk).delete()

    assert ActionNote.objects.get(pk=note.pk).text == "已联系学校"


# ---------------------------------------------------------------------------------------------
# The overdue reminder


def test_an_overdue_action_is_reminded_to_its_owner_and_the_district_once(tree, users):
    admin = users["district_admin"]
    taskforce = taskforce_for(risky_child(tree.village_a1, name="赵小虎"), admin)
    police = add_member(taskforce, admin, "police", "李警官")
    officer = member_login(police, admin)
    services.action_add(
        actor=admin,
        taskforce_id=taskforce.pk,
        title="入户核查",
        owner_id=police.pk,
        due_on=D(2026, 3, 2),
        today=D(2026, 3, 1),
    )
    day = D(2026, 3, 5)

    assert services.overdue_action_reminders(today=day) == 2
    assert services.overdue_action_reminders(today=day) == 0
    assert services.overdue_action_reminders(today=day + datetime.timedelta(days=1)) == 0

    kinds = Notification.objects.filter(kind=NotificationKind.TASKFORCE_ACTION)
    assert sorted(n.recipient.username for n in kinds) == sorted([officer.username, admin.username])
    reminder = kinds.get(recipient=officer)
    assert reminder.title == "赵小虎的帮扶措施已逾期3天"
    assert reminder.link.startswith(f"/taskforces/{taskforce.pk}/")
    assert not Notification.objects.filter(recipient=users["district_b_admin"]).exists()


def test_actions_of_a_stood_down_task_force_are_not_reminded(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1, difficulty_life=True)
    taskforce = taskforce_for(child, admin)
    teacher = add_member(taskforce, admin, "teacher")
    services.action_add(
        actor=admin,
        taskforce_id=taskforce.pk,
        title="家访",
        owner_id=teacher.pk,
        due_on=D(2026, 3, 2),
        today=D(2026, 3, 1),
    )
    _clear_risk_flags(child, admin)
    services.taskforce_step_down(actor=admin, taskforce_id=taskforce.pk, reason="风险已消除")

    assert services.overdue_action_reminders(today=D(2026, 3, 5)) == 0


# ---------------------------------------------------------------------------------------------
# Step down to one-to-one


def _clear_risk_flags(child, admin, *, keep_many_to_one=True):
    """Staff keep the child at many-to-one by an override, then the risk flag is cleared (as a
    registry edit would: re-derive, keep the override)."""
    if keep_many_to_one:
        child_override_tier(actor=admin, child_id=child.pk, tier="many_to_one", reason="风险复核前保持多对一")
    child.refresh_from_db()
    child.risk_harm_others = False
    derive.apply_rules(child, derive.conditions_of(child))
    child.save()


def test_step_down_is_refused_while_a_risk_flag_is_set(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1)
    taskforce = taskforce_for(child, admin)

    with pytest.raises(Conflict, match="仍有风险标记（侵害他人风险），不能转为一对一"):
        services.taskforce_step_down(actor=admin, taskforce_id=taskforce.pk, reason="表现良好")

    taskforce.refresh_from_db()
    child.refresh_from_db()
    assert taskforce.status == TaskForceStatus.ACTIVE
    assert child.care_tier == "many_to_one"
    assert not ChildChange.objects.filter(child=child, field="tier_override").exists()


def test_step_down_needs_a_reason(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1)
    taskforce = taskforce_for(child, admin)
    _clear_risk_flags(child, admin)

    with pytest.raises(InvalidInput, match="理由"):
        services.taskforce_step_down(actor=admin, taskforce_id=taskforce.pk, reason="  ")

    taskforce.refresh_from_db()
    assert taskforce.status == TaskForceStatus.ACTIVE


def test_step_down_with_cleared_flags_records_one_to_one_with_the_reason(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1)  # no difficulty: the rules alone would give group care
    taskforce = taskforce_for(child, admin)
    _clear_risk_flags(child, admin)

    services.taskforce_step_down(actor=admin, taskforce_id=taskforce.pk, reason="心理评估正常")

    taskforce.refresh_from_db()
    child.refresh_from_db()
    assert (taskforce.status, taskforce.stood_down_reason, taskforce.stood_down_by) == (
        TaskForceStatus.STOOD_DOWN,
        "心理评估正常",
        admin,
    )
    assert (child.care_tier, child.tier_override) == ("one_to_one", "one_to_one")
    change = ChildChange.objects.filter(child=child, field="tier_override").first()
    assert change.new_value == "困难关爱（一对一）" and "心理评估正常" in change.reason
    assert AuditEvent.objects.filter(
        object_type="taskforce",
        object_id=str(taskforce.pk),
        action="transition",
        summary__contains="心理评估正常",
    ).exists()


def test_step_down_lifts_the_override_when_the_rules_already_give_one_to_one(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1, difficulty_mental=True)
    taskforce = taskforce_for(child, admin)
    _clear_risk_flags(child, admin)

    services.taskforce_step_down(actor=admin, taskforce_id=taskforce.pk, reason="风险已消除")

    child.refresh_from_db()
    assert (child.care_tier, child.tier_override, child.derived_tier) == ("one_to_one", "", "one_to_one")


def test_a_stood_down_task_force_comes_back_when_the_child_is_many_to_one_again(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1, difficulty_mental=True)
    taskforce = taskforce_for(child, admin)
    teacher = add_member(taskforce, admin, "teacher")
    _clear_risk_flags(child, admin)
    services.taskforce_step_down(actor=admin, taskforce_id=taskforce.pk, reason="风险已消除")
    child.refresh_from_db()
    child.risk_being_harmed = True
    derive.apply_rules(child, [])
    child.save()

    again = services.taskforce_create(actor=admin, child_id=child.pk)

    assert again.pk == taskforce.pk and again.status == TaskForceStatus.ACTIVE
    assert list(again.members.filter(removed_at__isnull=True)) == [teacher]
