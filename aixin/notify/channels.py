"""Channels: the ways a notification leaves the notification centre, behind one interface.

A channel has a `name` (stored on Delivery rows and preferences), a Chinese `label` and
`send(notification, user)`, which returns when the message went out and raises ChannelError when
it did not (recorded, retried by the next run) or ChannelSkipped when it cannot go to this user
at all (no phone number, no WeChat binding: recorded, never retried).

The channels in use are listed in settings.AIXIN_NOTIFY_CHANNELS as dotted paths; the in-app
channel is always there. HTTP channels POST a JSON body signed like the ingest push API:
X-Aixin-Timestamp and X-Aixin-Signature = hex HMAC-SHA256(secret, f"{timestamp}." + body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from aixin.lib.crypto import mask_phone

logger = logging.getLogger("aixin.notify")

INAPP = "inapp"
SMS_MAX_CHARS = 300
# Risk cases and task-force actions (abuse, neglect, a missing child, what a police officer or
# doctor is doing about it): their titles and bodies name the child and tell what happened. Text
# messages and WeChat pass through third parties (the carrier's gateway, the WeChat relay), so
# for these kinds the message outside says only what kind of matter needs the recipient; the
# details stay behind the log-in (PIPL Art. 28/31: minors' sensitive information, no more than
# necessary). The in-app notification keeps them.
CONFIDENTIAL_KINDS = frozenset({"case_referral", "case_mandatory", "case_deadline", "taskforce_action"})
CONFIDENTIAL_BODY = "为保护儿童隐私，详情不在消息中显示，请登录渝好爱心妈妈平台查看。"


class ChannelError(Exception):
    """The message did not go out this time (network, gateway refusal): retried later."""


class ChannelSkipped(Exception):
    """The message cannot go to this user by this channel (no address): not retried."""


@runtime_checkable
class Channel(Protocol):
    name: str
    label: Any

    def send(self, notification: Any, user: Any) -> None: ...


class InAppChannel:
    """The notification row is the message: nothing to send."""

    name = INAPP
    label = _("站内通知")

    def send(self, notification: Any, user: Any) -> None:
        return None


class ConsoleChannel:
    """For the demo and development: logs (at INFO, logger "aixin.notify") the title a text
    message would carry (as `outside_text` gives it). Other titles may name a child, so a
    deployment does not configure it."""

    name = "console"
    label = _("系统日志（演示）")

    def send(self, notification: Any, user: Any) -> None:
        logger.info(
            "notify %s to user %s (%s): %s",
            notification.kind,
            user.pk,
            user.get_role_display(),
            outside_text(notification)[0],
        )


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def post_json(url: str, payload: dict[str, Any], *, secret: str, timeout: float) -> None:
    """POST `payload` as signed JSON; any failure (refused, timeout, non-2xx) is a ChannelError."""
    if not url.startswith(("http://", "https://")):
        raise ChannelError(f"接口地址未配置或不是 http(s) 地址：{url!r}")
    body = json.dumps(payload, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Aixin-Timestamp": ts,
            "X-Aixin-Signature": sign(secret, ts, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"接口返回 HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ChannelError(f"接口无法访问：{reason}") from exc
    if not 200 <= status < 300:
        raise ChannelError(f"接口返回 HTTP {status}")


def phone_of(user: Any) -> str:
    """The user's mobile number: a loving mother's from her (encrypted) profile. Staff accounts
    carry no phone number yet."""
    from aixin.registry.derive import reveal_volunteer_phone
    from aixin.volunteers.models import Volunteer

    volunteer = Volunteer.objects.filter(user_id=user.pk).only("phone_encrypted").first()
    if volunteer is None or not volunteer.phone_encrypted:
        return ""
    return reveal_volunteer_phone(volunteer)


def outside_text(notification: Any) -> tuple[str, str]:
    """The (title, body) a channel outside the system may carry: a confidential kind's only
    as its kind ("强制报告：有一项需要您处理"), any other kind's as written."""
    if notification.kind in CONFIDENTIAL_KINDS:
        return f"{notification.get_kind_display()}：有一项需要您处理", CONFIDENTIAL_BODY
    return notification.title, notification.body


def sms_text(notification: Any) -> str:
    title, body = outside_text(notification)
    text = f"【渝好爱心妈妈】{title}"
    if body:
        text += "：" + " ".join(body.split())
    return text if len(text) <= SMS_MAX_CHARS else text[: SMS_MAX_CHARS - 1] + "…"


class SmsGatewayChannel:
    """Text messages through the SMS gateway at AIXIN_NOTIFY_SMS_URL. The body carries the
    number, the text and a reference that stays the same on a retry, so the gateway can drop a
    duplicate after a timeout. The number is never logged in full."""

    name = "sms"
    label = _("短信")

    def send(self, notification: Any, user: Any) -> None:
        phone = phone_of(user)
        if not phone:
            raise ChannelSkipped("未登记手机号")
        payload = {
            "to": phone,
            "text": sms_text(notification),
            "ref": f"aixin-notification-{notification.pk}",
        }
        try:
            post_json(
                settings.AIXIN_NOTIFY_SMS_URL,
                payload,
                secret=settings.AIXIN_NOTIFY_SMS_SECRET,
                timeout=settings.AIXIN_NOTIFY_HTTP_TIMEOUT,
            )
        except ChannelError as exc:
            logger.warning("sms to %s failed: %s", mask_phone(phone), exc)
            raise
        logger.info("sms sent to %s (notification %s)", mask_phone(phone), notification.pk)


class WeChatTemplateChannel:
    """WeChat template messages through the relay at AIXIN_NOTIFY_WECHAT_URL (which holds the
    official account's access token), to users who bound their openid."""

    name = "wechat"
    label = _("微信消息")

    def send(self, notification: Any, user: Any) -> None:
        from aixin.notify.models import WeChatAccount

        openid = WeChatAccount.objects.filter(user_id=user.pk).values_list("openid", flat=True).first()
        if not openid:
            raise ChannelSkipped("未绑定微信")
        link = settings.AIXIN_NOTIFY_SITE_URL.rstrip("/") + notification.link if notification.link else ""
        title, body = outside_text(notification)
        payload = {
            "touser": openid,
            "template_id": settings.AIXIN_NOTIFY_WECHAT_TEMPLATE,
            "url": link,
            "data": {
                "title": {"value": title},
                "body": {"value": body[:200]},
                "kind": {"value": str(notification.get_kind_display())},
            },
            "ref": f"aixin-notification-{notification.pk}",
        }
        post_json(
            settings.AIXIN_NOTIFY_WECHAT_URL,
            payload,
            secret=settings.AIXIN_NOTIFY_WECHAT_SECRET,
            timeout=settings.AIXIN_NOTIFY_HTTP_TIMEOUT,
        )


def configured_channels() -> dict[str, Channel]:
    """The channels in use, by name, in-app first. Read from settings on each call, so that a
    change of settings (or a test's override) takes effect at once."""
    found: dict[str, Channel] = {INAPP: InAppChannel()}
    for path in settings.AIXIN_NOTIFY_CHANNELS:
        channel = import_string(path)()
        if not isinstance(channel, Channel):
            raise TypeError(f"{path} is not a notification channel (name, label, send)")
        found.setdefault(channel.name, channel)
    return found


def default_on(channel: str, kind: str) -> bool:
    """Whether `channel` sends `kind` for a user who has not chosen."""
    if channel == INAPP:
        return True
    kinds = settings.AIXIN_NOTIFY_DEFAULT_ON.get(channel, [])
    return "*" in kinds or kind in kinds
