"""Group care (团体关爱, R-8.1): the first version records activities and who took part, which
is what the dashboard's group-care reach target needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from aixin.registry.models import Child


class ActivityKind(models.TextChoices):
    BIRTHDAY = "birthday", _("集体生日")
    SPORTS_ARTS = "sports_arts", _("文体活动")
    GROUP_COUNSELLING = "group_counselling", _("团体辅导")
    PSYCH = "psych", _("心理团辅/个辅")
    CHOIR = "choir", _("欢唱团")
    RUNNING = "running", _("欢跑团")
    CAMP = "camp", _("冬夏令营")
    COMING_OF_AGE = "coming_of_age", _("成人礼")
    READING = "reading", _("读书会")
    PROJECT = "project", _("项目服务")


class Activity(models.Model):
    name = models.CharField(_("活动名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=30, choices=ActivityKind.choices)
    held_on = models.DateField(_("日期"))
    venue = models.CharField(_("阵地"), max_length=100, blank=True)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    children: models.ManyToManyField[Child, ActivityParticipation] = models.ManyToManyField(
        "registry.Child", through="ActivityParticipation", related_name="activities"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("团体活动")
        verbose_name_plural = _("团体活动")

    def __str__(self) -> str:
        return self.name


class ActivityParticipation(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="participations")
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="participations")
    held_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["activity", "child"], name="activity_child_unique")]
        indexes = [models.Index(fields=["child", "held_on"])]

    def __str__(self) -> str:
        return f"{self.activity} — {self.child}"
