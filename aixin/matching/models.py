"""Matching runs and their proposals (issue 4). A run solves one district; its proposals wait
for a person to accept, reject or swap them before they become pairing proposals."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    RUNNING = "running", _("计算中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class MatchRun(models.Model):
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("状态"), max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    reach = models.CharField(_("范围"), max_length=20, default="district")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # children considered, matched, must-cover matched/total, unmatched by reason, costs, timings
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two runs on the same district at once are refused by the database itself.
            models.UniqueConstraint(
                fields=["district"], condition=models.Q(status="running"), name="matching_one_running_run"
            )
        ]

    def __str__(self) -> str:
        return f"匹配 #{self.pk}"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("待审核")
    ACCEPTED = "accepted", _("已采纳")
    REJECTED = "rejected", _("已否决")
    CONFIRMED = "confirmed", _("已发起结对")


class MatchProposal(models.Model):
    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="proposals")
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    must_cover = models.BooleanField(default=False)
    cost = models.BigIntegerField(null=True, blank=True)
    explanation = models.CharField(_("理由"), max_length=300, blank=True)
    unmatched_reason = models.CharField(_("未匹配原因"), max_length=300, blank=True)
    # Up to five other candidates: [{"volunteer": id, "name": ..., "cost": ..., "explanation": ...}]
    alternatives = models.JSONField(default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )

    class Meta:
        ordering = ["run", "-must_cover", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "child"], name="matching_one_proposal_per_child")
        ]

    def __str__(self) -> str:
        return f"{self.child_id} → {self.volunteer_id}"


class ExclusionReason(models.TextChoices):
    RELATIVE = "relative", _("亲属关系")
    CONFLICT = "conflict", _("利益冲突")
    OTHER = "other", _("其他不宜结对情形")


class MatchExclusion(models.Model):
    """A pair that must never be proposed (issue 4 §1): a relative, a conflict of interest, or
    another reason staff recorded. Declined pairings exclude their pair as well."""

    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    volunteer = models.ForeignKey("volunteers.Volunteer", on_delete=models.CASCADE, related_name="+")
    # Stamped from the child for scope filters.
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("原因"), max_length=20, choices=ExclusionReason.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["child", "volunteer"], name="matching_one_exclusion_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.child_id} ✕ {self.volunteer_id}"
