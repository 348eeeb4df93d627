"""Notifications (one service for all modules): a notification is a message to one user, shown in
the in-app notification centre; each other channel (SMS, WeChat, the demo console) that is
enabled for the user and kind gets a Delivery row that records whether it went out.

Idempotency lives in the database: one notification per recipient and dedupe key, one delivery
per notification and channel. A job that runs twice writes nothing the second time; a delivery
that succeeded is never sent again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aixin.lib import crypto


class NotificationKind(models.TextChoices):
    # To loving mothers
    WEEKLY_SUMMARY = "weekly_summary", _("本周关爱提醒")
    CARE_OVERDUE = "care_overdue", _("关爱事项逾期提醒")
    # To staff
    UNPAIRED_MUST_COVER = "unpaired_must_cover", _("重点儿童未结对")
    STAFF_OVERDUE = "staff_overdue", _("6+1 关爱逾期")
    NO_CONTACT = "no_contact", _("结对儿童长期未联系")
    DISTRICT_DIGEST = "district_digest", _("区县每周工作提示")
    # From other modules (cases, …)
    CASE_DEADLINE = "case_deadline", _("案件办理期限")
    TASKFORCE_ACTION = "taskforce_action", _("专班帮扶措施逾期")
    CASE_MANDATORY = "case_mandatory", _("强制报告")
    CASE_REFERRAL = "case_referral", _("风险事件流转")
    GENERAL = "general", _("系统通知")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类型"), max_length=30, choices=NotificationKind.choices)
    title = models.CharField(_("标题"), max_length=100)
    # Sealed at rest: a body may quote what a risk report or a case note says. Read and written
    # through `body`.
    body_encrypted = models.TextField(_("内容"), blank=True)
    body = crypto.encrypted_text("body_encrypted", crypto.context_of("notify.Notification", "body_encrypted"))
    # A relative URL inside the site ("/care/3/"), never an absolute one.
    link = models.CharField(_("链接"), max_length=300, blank=True)
    # kind + subject + period, e.g. "care_overdue:pairing12:2026-W11": the same key is never
    # delivered twice to the same person.
    dedupe_key = models.CharField(max_length=200)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notify_one_per_recipient_and_key"
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notify_recipient_unread")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("未发送")


class Delivery(models.Model):
    """One notification through one channel. `attempts` counts sends begun; a failed delivery
    is retried by the next run until AIXIN_NOTIFY_MAX_ATTEMPTS."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=30)
    status = models.CharField(
        _("状态"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    # When a worker claimed it for sending; a claim older than a few minutes is a dead worker's.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("通知发送")
        verbose_name_plural = _("通知发送")
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="notify_one_delivery_per_channel"
            )
        ]
        indexes = [
            # The sender's queue: only the unfinished rows are indexed.
            models.Index(
                fields=["id"],
                condition=Q(status__in=["pending", "sending", "failed"]),
                name="notify_delivery_unfinished",
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}/{self.channel}: {self.status}"


class NotificationPreference(models.Model):
    """A user's choice for one kind and channel; without a row the default applies
    (settings.AIXIN_NOTIFY_DEFAULT_ON). The in-app notification centre is always on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("类型"), max_length=30, choices=NotificationKind.choices)
    channel = models.CharField(_("渠道"), max_length=30)
    enabled = models.BooleanField(_("接收"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"], name="notify_one_preference_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}: {self.enabled}"


class WeChatAccount(models.Model):
    """The WeChat openid a user bound (by the official account's OAuth, not built yet); without
    one, WeChat template messages to the user are skipped."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wechat")
    openid = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("微信绑定")
        verbose_name_plural = _("微信绑定")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.openid[:4]}…"
