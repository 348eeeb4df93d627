"""Pairings (结对, R-6.1) and guardian consent.

Invariants held by the database: one open pairing (proposed, awaiting consent or active) per
child — so at most one active loving mother — and, through Volunteer.load, capacity.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aixin.registry.models import CareTier


class PairingStatus(models.TextChoices):
    PROPOSED = "proposed", _("待爱心妈妈确认")
    AWAITING_CONSENT = "awaiting_consent", _("待监护人同意")
    ACTIVE = "active", _("结对中")
    DECLINED = "declined", _("爱心妈妈已婉拒")
    CANCELLED = "cancelled", _("已撤销")
    ENDED = "ended", _("已解除")


OPEN_STATUSES = (PairingStatus.PROPOSED, PairingStatus.AWAITING_CONSENT, PairingStatus.ACTIVE)


class Pairing(models.Model):
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="pairings")
    volunteer = models.ForeignKey("volunteers.Volunteer", on_delete=models.PROTECT, related_name="pairings")
    tier = models.CharField(_("关爱类型"), max_length=20, choices=CareTier.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=PairingStatus.choices, default=PairingStatus.PROPOSED
    )
    # Denormalised from the child, for scope filters and dashboard counts.
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_at = models.DateTimeField(_("提议时间"), auto_now_add=True)
    responded_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    decline_reason = models.CharField(_("婉拒原因"), max_length=300, blank=True)
    start_date = models.DateField(_("结对日期"), null=True, blank=True)
    end_date = models.DateField(_("解除日期"), null=True, blank=True)
    end_reason = models.CharField(_("解除原因"), max_length=300, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("结对")
        verbose_name_plural = _("结对")
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(status__in=["proposed", "awaiting_consent", "active"]),
                name="pairing_one_open_per_child",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(start_date__isnull=False), name="pairing_active_has_start"
            ),
        ]
        indexes = [
            models.Index(fields=["district", "status"]),
            models.Index(fields=["town", "status"]),
            models.Index(fields=["volunteer", "status"]),
            # Civil-affairs systems poll GET /pairings?changed_since= (R-4.6), city-wide or per district.
            models.Index(fields=["updated_at"], name="pairing_changed"),
            models.Index(fields=["district", "updated_at"], name="pairing_district_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} — {self.child}"


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("书面签字")
    IN_PERSON = "in_person", _("当面口头")
    PHONE = "phone", _("电话")
    WECHAT = "wechat", _("微信")


class ConsentScope(models.TextChoices):
    """What the guardian agreed to (R-12.5); a consent holds one or more of these."""

    BASIC = "basic", _("结对关爱")
    PHOTOS = "photos", _("含照片")
    SHARING = "sharing", _("含部门数据共享")


def default_consent_scope() -> list[str]:
    return [ConsentScope.BASIC.value]


class GuardianConsent(models.Model):
    """征得监护人同意: who, how, when and on what evidence, before a pairing becomes active.

    `version` numbers the consents given for a child, increasing (1, 2, …): a consent recorded
    after a withdrawal — on the new pairing that restoring access needs — is the next version.
    Withdrawal (R-12.5) is recorded here and ends the pairing, so the mother's access ends.
    """

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="consents")
    guardian = models.ForeignKey(
        "registry.Guardian", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    guardian_name = models.CharField(_("监护人"), max_length=50)
    relation = models.CharField(_("与儿童关系"), max_length=20, blank=True)
    method = models.CharField(_("同意方式"), max_length=20, choices=ConsentMethod.choices)
    consented_on = models.DateField(_("同意日期"))
    evidence = models.CharField(_("证明材料"), max_length=300, blank=True)
    evidence_file = models.FileField(_("附件"), upload_to="consent/%Y/%m/", blank=True)
    consent_text_version = models.CharField(max_length=20, default="2024-v1")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(_("版本"), default=1)
    scope = models.JSONField(_("同意范围"), default=default_consent_scope)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdraw_reason = models.CharField(_("撤回原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-consented_on", "-id"]
        verbose_name = _("监护人同意")
        verbose_name_plural = _("监护人同意")
        constraints = [
            models.UniqueConstraint(fields=["pairing", "version"], name="consent_version_once_per_pairing"),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdraw_reason=""),
                name="consent_withdrawal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian_name} {self.get_method_display()} {self.consented_on}"

    @property
    def scope_labels(self) -> list[str]:
        labels = dict(ConsentScope.choices)
        return [str(labels.get(s, s)) for s in self.scope or []]
