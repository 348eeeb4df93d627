"""Alerts that ask staff to act on a child (R-4.5): raised by department data and daily scans,
shown on the staff home page and the dashboard, closed by a person or by the event they ask for."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    UNPAIRED = "unpaired", _("需结对未结对")
    HANDOVER = "handover", _("即将年满18周岁，需移交")
    RISK_REVIEW = "risk_review", _("风险复核")
    CLOSE_PROPOSAL = "close_proposal", _("建议退出台账")
    RETIERED = "retiered", _("关爱类型变化")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已处理")
    DISMISSED = "dismissed", _("已忽略")


class Alert(models.Model):
    kind = models.CharField(_("类型"), max_length=30, choices=AlertKind.choices)
    status = models.CharField(_("状态"), max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="alerts")
    # Stamped from the child for scope filters (as on every scoped record). The town and the
    # district are copies derived from the region, whose key the database checks (as on
    # Child): an import opens up to one alert per child, and each key check costs a look-up.
    # The district's own index is the composite one below.
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    district = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    message = models.CharField(_("内容"), max_length=300)
    batch = models.ForeignKey(
        "ingest.ImportBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(_("期限"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # No index: nothing looks alerts up by who resolved them, and an import opens thousands.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    resolution = models.CharField(_("处理说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        constraints = [
            # One open alert of a kind per child: raising it again is a no-op.
            models.UniqueConstraint(
                fields=["child", "kind"], condition=models.Q(status="open"), name="alerts_one_open_per_kind"
            )
        ]
        indexes = [models.Index(fields=["district", "status", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.message}"
