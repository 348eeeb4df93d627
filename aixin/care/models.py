"""Routine care, the "6+1" (SPEC §7).

The rules are rows (CareRule), the school calendar and festivals are rows, so another plan is a
data change. A care record says which rules it fulfils through a bit mask over CareRule.bit.
Compliance is computed from care records; CareRuleProgress is a projection of them (one row per
pairing and rule, not per period) that keeps the current-period dashboard fast.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aixin.lib import crypto


class Cadence(models.TextChoices):
    WEEK = "week", _("每周")
    MONTH = "month", _("每月")
    QUARTER = "quarter", _("每季度")
    TERM = "term", _("每学期")
    YEAR = "year", _("每年")


class CareRule(models.Model):
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(_("条目"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=20)
    cadence = models.CharField(_("频次"), max_length=10, choices=Cadence.choices)
    bit = models.PositiveSmallIntegerField(
        unique=True, help_text="bit position in CareRecord.rules_mask (0–30)"
    )
    applies_to = models.JSONField(default=list, help_text="care tiers this rule applies to")
    default_kinds = models.JSONField(
        default=list, blank=True, help_text="record kinds that usually fulfil it"
    )
    sort_order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("6+1 条目")
        verbose_name_plural = _("6+1 条目")

    def __str__(self) -> str:
        return self.name

    @property
    def mask(self) -> int:
        return 1 << self.bit


class SchoolTerm(models.Model):
    name = models.CharField(_("学期"), max_length=50)
    start = models.DateField(_("开始"))
    end = models.DateField(_("结束"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        verbose_name = _("学期")
        verbose_name_plural = _("学期")

    def __str__(self) -> str:
        return self.name


class Festival(models.Model):
    name = models.CharField(_("节日"), max_length=30)
    date = models.DateField(_("日期"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节日")
        verbose_name_plural = _("节日")

    def __str__(self) -> str:
        return f"{self.name} {self.date:%Y-%m-%d}"


class CareKind(models.TextChoices):
    PHONE = "phone", _("电话")
    VIDEO = "video", _("视频")
    HOME_VISIT = "home_visit", _("家访")
    SCHOOL = "school", _("到校")
    ACTIVITY = "activity", _("活动")


class CareService(models.TextChoices):
    LIFE_CARE = "life_care", _("生活照料")
    TUTORING = "tutoring", _("学业辅导")
    COMPANIONSHIP = "companionship", _("关爱陪伴")
    HABITS = "habits", _("习惯养成")
    FAMILY_EDUCATION = "family_education", _("家教指导")
    INSPIRATION = "inspiration", _("励志教育")
    HARDSHIP_HELP = "hardship_help", _("困难帮扶")


class CareRecord(models.Model):
    pairing = models.ForeignKey("pairing.Pairing", on_delete=models.PROTECT, related_name="care_records")
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="care_records")
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", on_delete=models.PROTECT, related_name="care_records"
    )
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("日期"))
    kind = models.CharField(_("方式"), max_length=20, choices=CareKind.choices)
    rules_mask = models.IntegerField(_("完成条目"), default=0)
    services = models.JSONField(_("服务内容"), default=list, blank=True)
    festival = models.CharField(_("节日"), max_length=30, blank=True)
    # What the loving mother wrote after a visit (what the child said, how the home looked):
    # sealed at rest like the child's own notes; read and written through `notes`.
    notes_encrypted = models.TextField(blank=True)
    notes = crypto.encrypted_text("notes_encrypted", crypto.context_of("care.CareRecord", "notes_encrypted"))
    photo = models.FileField(_("照片"), upload_to="care/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("关爱记录")
        verbose_name_plural = _("关爱记录")
        indexes = [
            models.Index(fields=["pairing", "date"]),
            models.Index(fields=["district", "date"]),
            models.Index(fields=["town", "date"]),
            # Covers the period reports (date range, distinct pairings, rule bits) with index-only
            # scans: it halves compliance_for_period at city scale (docs/PERFORMANCE.md).
            models.Index(fields=["date", "pairing", "rules_mask"], name="care_record_period_cover"),
            models.Index(fields=["child", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


NOTES_CONTEXT = CareRecord.notes.context


def seal_notes(notes: str) -> str:
    """A care record's notes as stored ("" stays "")."""
    return CareRecord.notes.seal(notes)


class CareComment(models.Model):
    record = models.ForeignKey(CareRecord, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(_("点评"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:30]


class CareRuleProgress(models.Model):
    """Last date each rule was fulfilled for a pairing: a projection of CareRecord kept by the
    care service in the same transaction, rebuildable with `aixin rebuild-care-progress`."""

    pairing = models.ForeignKey("pairing.Pairing", on_delete=models.CASCADE, related_name="rule_progress")
    rule = models.ForeignKey(CareRule, on_delete=models.CASCADE, related_name="+")
    last_done_on = models.DateField()
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pairing", "rule"], name="care_progress_unique")]
        indexes = [models.Index(fields=["district", "rule", "last_done_on"])]

    def __str__(self) -> str:
        return f"{self.pairing_id}/{self.rule_id} {self.last_done_on:%Y-%m-%d}"
