"""Reads for notifications: a user's own list and unread count, and their preferences.

Every read starts from `notifications_visible_to(user)` (aixin.accounts.access): a user sees
only the notifications addressed to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from aixin.accounts.access import notifications_visible_to
from aixin.accounts.models import Role
from aixin.notify.channels import INAPP, configured_channels, default_on
from aixin.notify.models import NotificationKind, NotificationPreference

K = NotificationKind

# Which kinds a role receives, in the order of the 通知设置 page.
MOTHER_KINDS = (K.WEEKLY_SUMMARY, K.CARE_OVERDUE)
STAFF_KINDS = (K.UNPAIRED_MUST_COVER, K.STAFF_OVERDUE, K.NO_CONTACT)
COMMON_KINDS = (K.CASE_DEADLINE, K.CASE_MANDATORY, K.CASE_REFERRAL, K.GENERAL)


def kinds_for(user: Any) -> list[str]:
    """The kinds a user can receive, hence may switch on or off on 通知设置."""
    role = getattr(user, "role", None)
    if role == Role.VOLUNTEER:
        kinds: list[str] = list(MOTHER_KINDS)
    elif role == Role.TASKFORCE_MEMBER:
        kinds = [K.TASKFORCE_ACTION]
    elif role == Role.DEPARTMENT_LIAISON:
        kinds = []
    else:
        kinds = list(STAFF_KINDS)
        if role == Role.DISTRICT_ADMIN:
            kinds += [K.DISTRICT_DIGEST, K.TASKFORCE_ACTION]
    return [*kinds, *COMMON_KINDS]


def unread_count(user: Any) -> int:
    return int(notifications_visible_to(user).filter(read_at__isnull=True).count())


def notification_list(user: Any, *, unread_only: bool = False) -> QuerySet[Any]:
    """The user's notifications, unread first, newest first within each."""
    qs = notifications_visible_to(user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    ordered: QuerySet[Any] = qs.annotate(unread=unread).order_by("-unread", "-created_at", "-id")
    return ordered


@dataclass(frozen=True)
class ChannelChoice:
    channel: str
    label: str
    enabled: bool


@dataclass(frozen=True)
class KindPreferences:
    kind: str
    label: str
    channels: list[ChannelChoice]


def choosable_channels() -> dict[str, str]:
    """The configured channels a user may switch on or off (all but the always-on in-app one)."""
    return {name: str(c.label) for name, c in configured_channels().items() if name != INAPP}


def preferences_for(user: Any) -> list[KindPreferences]:
    """Per kind the user receives, each choosable channel and whether it is on (their choice,
    or the default)."""
    channels = choosable_channels()
    chosen = {
        (kind, channel): enabled
        for kind, channel, enabled in NotificationPreference.objects.filter(user_id=user.pk).values_list(
            "kind", "channel", "enabled"
        )
    }
    return [
        KindPreferences(
            kind=kind,
            label=str(NotificationKind(kind).label),
            channels=[
                ChannelChoice(channel, label, chosen.get((kind, channel), default_on(channel, kind)))
                for channel, label in channels.items()
            ],
        )
        for kind in kinds_for(user)
    ]
