"""Risk reports and the closed-loop case workflow (R-10).

* `Report` is the original report as it was made (who, when, what, where): append-only. Nothing
  edits or deletes it — not the model (save/delete refuse), not raw SQL (database triggers,
  migration 0002). Corrections and the receiving agency's receipt number are new `ReportEntry`
  rows, append-only in the same way.
* `Case` is the workflow state of one report (one case per report), with a version for
  optimistic checks and the deadline of its current stage.
* `Referral` is the case sent to one department (流转), with its own state and deadline.
* `CaseEvent` records every transition and note (who, when, from, to, why), append-only; a note
  may carry an attachment (image or PDF).

What was reported and written (a report's description, an entry's text, an event's note) is
sealed at rest under a data key that key rotation re-wraps without touching these rows
(aixin.ops.datakeys); the attributes `description`, `text` and `note` read and write the clear text.

Each record carries the child's village, town and district, so scope filters are plain columns.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aixin.accounts.models import Department
from aixin.cases.categories import Category, Severity
from aixin.lib.crypto import context_of, encrypted_text
from aixin.ops.datakeys import sealed_text


class ImmutableRecord(PermissionError):
    """Raised when code tries to change or delete an append-only record."""


class AppendOnly(models.Model):
    """A record that is written once: updates and deletes refuse (and the database agrees)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ImmutableRecord(f"{self._meta.label} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ImmutableRecord(f"{self._meta.label} is append-only")


class EscalationLevel(models.IntegerChoices):
    """Who a missed deadline has reached, as region levels: a case starts with the town and is
    escalated to the district, then to the city."""

    CITY = 1, _("已升级至市级")
    DISTRICT = 2, _("已升级至区县")
    TOWN = 3, _("乡镇（未升级）")


class CaseState(models.TextChoices):
    REPORTED = "reported", _("已报告")
    ACCEPTED = "accepted", _("已受理")
    REFERRED = "referred", _("已转办")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已办结")
    CLOSED = "closed", _("已核实结案")


OPEN_CASE_STATES = (
    CaseState.REPORTED,
    CaseState.ACCEPTED,
    CaseState.REFERRED,
    CaseState.IN_PROGRESS,
    CaseState.RESOLVED,
)


class ReferralState(models.TextChoices):
    PENDING = "pending", _("待签收")
    ACCEPTED = "accepted", _("已签收")
    REJECTED = "rejected", _("已退回")
    ACTING = "acting", _("办理中")
    DONE = "done", _("已办结")


OPEN_REFERRAL_STATES = (ReferralState.PENDING, ReferralState.ACCEPTED, ReferralState.ACTING)


class Report(AppendOnly):
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="case_reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("报告人")
    )
    # Snapshots: the record says who reported in what capacity, whatever happens to the account.
    reporter_name = models.CharField(_("报告人"), max_length=150)
    reporter_role = models.CharField(_("报告人身份"), max_length=32)
    category = models.CharField(_("风险类别"), max_length=40, choices=Category.choices)
    mandatory = models.BooleanField(_("强制报告情形"), default=False)
    severity = models.CharField(_("紧急程度"), max_length=10, choices=Severity.choices)
    # What was seen or heard, sealed (aixin.ops.datakeys); read and written through `description`.
    description_sealed = models.TextField(_("发现的情况"), blank=True)
    description = sealed_text("description_sealed", context_of("cases.Report", "description_sealed"))
    observed_at = models.DateTimeField(_("发现时间"))
    place = models.CharField(_("发现地点"), max_length=200, blank=True)
    photo = models.FileField(_("照片"), upload_to="cases/reports/%Y/%m/", blank=True)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    # Immutable: the time of the report is the time of this row; there is no updated_at.
    created_at = models.DateTimeField(_("报告时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("风险报告")
        verbose_name_plural = _("风险报告")

    def __str__(self) -> str:
        return f"{self.get_category_display()}（{self.reporter_name} {self.created_at:%Y-%m-%d %H:%M}）"


class ReportEntryKind(models.TextChoices):
    CORRECTION = "correction", _("更正补充")
    RECEIPT = "receipt", _("接报回执")


class ReportEntry(AppendOnly):
    """An addition to a report: a correction, or the receiving agency's receipt (回执号)."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("类型"), max_length=20, choices=ReportEntryKind.choices)
    text_sealed = models.TextField(_("内容"), blank=True)  # sealed; through `text`
    text = sealed_text("text_sealed", context_of("cases.ReportEntry", "text_sealed"))
    agency = models.CharField(_("接报单位"), max_length=100, blank=True)
    receipt_number = models.CharField(_("回执号"), max_length=64, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(_("填写人"), max_length=150)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("报告补充记录")
        verbose_name_plural = _("报告补充记录")
        constraints = [
            # The receipt number is given once; a wrong one is corrected by a correction entry.
            models.UniqueConstraint(
                fields=["report"], condition=Q(kind="receipt"), name="cases_one_receipt_per_report"
            ),
            models.CheckConstraint(
                condition=~Q(kind="receipt") | Q(receipt_number__gt=""), name="cases_receipt_has_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.receipt_number or self.text[:20]}"


class Case(models.Model):
    report = models.OneToOneField(Report, on_delete=models.PROTECT, related_name="case")
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="cases")
    state = models.CharField(
        _("状态"), max_length=20, choices=CaseState.choices, default=CaseState.REPORTED, db_index=True
    )
    # Copied from the report for filters (the report itself never changes).
    category = models.CharField(_("风险类别"), max_length=40, choices=Category.choices)
    mandatory = models.BooleanField(_("强制报告情形"), default=False)
    severity = models.CharField(_("紧急程度"), max_length=10, choices=Severity.choices)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    # The deadline of the current stage (none once closed) and how far a miss has escalated.
    due_at = models.DateTimeField(_("办理期限"), null=True, blank=True, db_index=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("升级"), choices=EscalationLevel.choices, default=EscalationLevel.TOWN
    )
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("报告时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("风险事件")
        verbose_name_plural = _("风险事件")
        indexes = [
            models.Index(fields=["district", "state"], name="cases_case_district_state"),
            models.Index(fields=["child", "state"], name="cases_case_child_state"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_category_display()}（{self.get_state_display()}）"

    @property
    def number(self) -> str:
        """The case number shown to people: year and id, e.g. 2026-000123."""
        return f"{self.created_at:%Y}-{self.pk:06d}" if self.created_at and self.pk else ""

    @property
    def is_open(self) -> bool:
        return self.state != CaseState.CLOSED


class Referral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    department = models.CharField(_("部门"), max_length=30, choices=Department.choices)
    state = models.CharField(
        _("状态"), max_length=20, choices=ReferralState.choices, default=ReferralState.PENDING, db_index=True
    )
    # Why a department sent it back: sealed at rest (it may say what the department found);
    # read and written through `reason`.
    reason_encrypted = models.TextField(_("退回理由"), blank=True)
    reason = encrypted_text("reason_encrypted", context_of("cases.Referral", "reason_encrypted"))
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(_("办理期限"), null=True, blank=True, db_index=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("升级"), choices=EscalationLevel.choices, default=EscalationLevel.TOWN
    )
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("转办时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("部门流转")
        verbose_name_plural = _("部门流转")
        constraints = [
            # One open referral per case and department: referring again while one is open is
            # refused by the service and, under a race, by the database.
            models.UniqueConstraint(
                fields=["case", "department"],
                condition=Q(state__in=["pending", "accepted", "acting"]),
                name="cases_one_open_referral_per_department",
            )
        ]
        indexes = [models.Index(fields=["district", "department", "state"], name="cases_ref_dist_dept_state")]

    def __str__(self) -> str:
        return f"{self.get_department_display()}（{self.get_state_display()}）"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REFERRAL_STATES


class CaseEvent(AppendOnly):
    """One step of a case: a transition (from → to) or a note, with who, when and why."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=30)
    from_state = models.CharField(_("原状态"), max_length=20, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, blank=True)
    # None for the deadline job (the system).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(_("操作人"), max_length=150)
    actor_role = models.CharField(max_length=32, blank=True)
    note_sealed = models.TextField(_("说明"), blank=True)  # sealed; through `note`
    note = sealed_text("note_sealed", context_of("cases.CaseEvent", "note_sealed"))
    attachment = models.FileField(_("附件"), upload_to="cases/attachments/%Y/%m/", blank=True)
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"
