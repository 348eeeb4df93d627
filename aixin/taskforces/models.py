"""Task forces (工作专班, R-6.4): "一人一档一策一专班" for every many-to-one child — one file (the
child's registry record), one plan (帮扶方案), one task force.

A task force is stamped with the child's district, town and village so that staff scoping filters
it with the same indexed columns as children and pairings. Members sit on it by role; a member
may have a log-in of role `taskforce_member`, which then sees only the children whose task force
they sit on. Progress notes are append-only (database triggers, migration 0002).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aixin.lib.crypto import context_of
from aixin.ops.datakeys import sealed_text


class MemberRole(models.TextChoices):
    TEACHER = "teacher", _("教师")
    DOCTOR = "doctor", _("医生")
    POLICE = "police", _("民警")
    JUDGE = "judge", _("法官")
    PROSECUTOR = "prosecutor", _("检察官")
    FAMILY_EDUCATION = "family_education", _("家庭教育指导专家")
    COMPANY = "company", _("爱心企业")
    SOCIAL_WORKER = "social_worker", _("社会工作者")
    LOVING_MOTHER = "loving_mother", _("爱心妈妈")


class TaskForceStatus(models.TextChoices):
    ACTIVE = "active", _("工作中")
    STOOD_DOWN = "stood_down", _("已撤销（转为一对一）")


class TaskForce(models.Model):
    child = models.OneToOneField(
        "registry.Child", on_delete=models.PROTECT, related_name="taskforce", verbose_name=_("儿童")
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=TaskForceStatus.choices, default=TaskForceStatus.ACTIVE
    )
    # Denormalised from the child, for scope filters and dashboard counts.
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    stood_down_reason = models.CharField(_("撤销理由"), max_length=300, blank=True)
    stood_down_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    stood_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("建立时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["district_id", "town_id", "village_id", "id"]
        verbose_name = _("工作专班")
        verbose_name_plural = _("工作专班")
        indexes = [
            models.Index(fields=["district", "status"]),
            models.Index(fields=["town", "status"]),
            models.Index(fields=["village", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.child}的工作专班"

    @property
    def is_active(self) -> bool:
        return self.status == TaskForceStatus.ACTIVE


class TaskForceMember(models.Model):
    taskforce = models.ForeignKey(TaskForce, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(_("专班角色"), max_length=30, choices=MemberRole.choices)
    name = models.CharField(_("姓名"), max_length=50)
    organisation = models.CharField(_("工作单位"), max_length=100, blank=True)
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    # A log-in of role taskforce_member; one person may sit on several task forces with one account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="taskforce_seats",
        verbose_name=_("登录账号"),
    )
    # Members leave (removed_at) rather than being deleted: actions and notes keep their owner.
    removed_at = models.DateTimeField(_("退出时间"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("加入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["role", "id"]
        verbose_name = _("专班成员")
        verbose_name_plural = _("专班成员")
        constraints = [
            models.UniqueConstraint(
                fields=["taskforce", "user"],
                condition=Q(removed_at__isnull=True, user__isnull=False),
                name="taskforce_one_seat_per_account",
            )
        ]
        indexes = [
            models.Index(
                fields=["user"], condition=Q(removed_at__isnull=True), name="taskforce_member_seats"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"

    @property
    def is_current(self) -> bool:
        return self.removed_at is None


class CarePlan(models.Model):
    """帮扶方案: one per task force; its goals are edited with a version check, its actions below."""

    taskforce = models.OneToOneField(TaskForce, on_delete=models.PROTECT, related_name="plan")
    goals = models.TextField(_("帮扶目标与措施概要"), blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The last time anyone worked on the plan (goals edited, an action added or closed, a
    # progress note): "up to date" on the dashboard is measured from here.
    last_activity_at = models.DateTimeField(_("最近更新"), db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("帮扶方案")
        verbose_name_plural = _("帮扶方案")

    def __str__(self) -> str:
        return f"{self.taskforce}的帮扶方案"


class ActionStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    DONE = "done", _("已完成")
    DROPPED = "dropped", _("已撤销")


class PlanAction(models.Model):
    plan = models.ForeignKey(CarePlan, on_delete=models.PROTECT, related_name="actions")
    title = models.CharField(_("措施"), max_length=200)
    owner = models.ForeignKey(
        TaskForceMember, on_delete=models.PROTECT, related_name="actions", verbose_name=_("负责人")
    )
    due_on = models.DateField(_("完成期限"))
    status = models.CharField(
        _("状态"), max_length=20, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    done_on = models.DateField(_("完成日期"), null=True, blank=True)
    drop_reason = models.CharField(_("撤销理由"), max_length=300, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["status", "due_on", "id"]
        verbose_name = _("帮扶措施")
        verbose_name_plural = _("帮扶措施")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | Q(done_on__isnull=False), name="taskforce_action_done_has_date"
            )
        ]
        indexes = [
            # The daily overdue scan reads only the open actions, by due date.
            models.Index(fields=["due_on"], condition=Q(status="open"), name="taskforce_action_open_due"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: datetime.date) -> bool:
        return self.status == ActionStatus.OPEN and self.due_on < today


class ActionNote(models.Model):
    """A progress note on an action. Append-only: the database refuses updates and deletes."""

    action = models.ForeignKey(PlanAction, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # As shown at the time of writing (name and role), so the note reads the same later.
    author_label = models.CharField(max_length=100)
    # Sealed at rest (aixin.ops.datakeys); read and written through `text`.
    text_sealed = models.TextField(_("进展情况"), blank=True)
    text = sealed_text("text_sealed", context_of("taskforces.ActionNote", "text_sealed"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("进展记录")
        verbose_name_plural = _("进展记录")

    def __str__(self) -> str:
        return str(self.text)[:30]
