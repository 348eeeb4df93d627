"""Writes for notifications: create them once, deliver them through the channels, mark them read,
save preferences.

`notify(...)` is the one entry point for every module (case deadlines, imports, …):

    notify(users, kind=NotificationKind.CASE_DEADLINE, title="…", body="…",
           link=reverse("cases:case_detail", args=[case.pk]), dedupe_key=f"case:{case.pk}:due:{due}")

It writes each (recipient, dedupe_key) at most once — calling it again with the same key does
nothing — and queues one Delivery per channel the recipient has on. `deliver_pending()` (a task
every five minutes) sends the queued deliveries.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from aixin.accounts.access import get_visible, notifications_visible_to
from aixin.accounts.models import User
from aixin.lib.errors import InvalidInput
from aixin.notify.channels import (
    INAPP,
    Channel,
    ChannelError,
    ChannelSkipped,
    configured_channels,
    default_on,
)
from aixin.notify.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from aixin.notify.selectors import choosable_channels, kinds_for

logger = logging.getLogger("aixin.notify")

CHUNK = 1000
TITLE_MAX = 100
KEY_MAX = 200
# A claim older than this belongs to a worker that died while sending: the delivery is retried.
STALE_CLAIM = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class Draft:
    """A notification to be written: one recipient, one dedupe key."""

    recipient_id: int
    kind: str
    title: str
    body: str
    link: str
    dedupe_key: str


def _check(draft: Draft) -> None:
    if draft.kind not in NotificationKind.values:
        raise InvalidInput(f"未知的通知类型“{draft.kind}”", field="kind")
    if not draft.title.strip():
        raise InvalidInput("通知标题不能为空", field="title")
    if not draft.dedupe_key or len(draft.dedupe_key) > KEY_MAX:
        raise InvalidInput(f"通知去重键不能为空，且不超过{KEY_MAX}个字符", field="dedupe_key")
    if draft.link and (not draft.link.startswith("/") or draft.link.startswith("//")):
        raise InvalidInput(f"通知链接应为站内相对地址（以 / 开头），现为“{draft.link}”", field="link")


def _title(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…"


def enabled_channels(user_ids: Iterable[int], kind: str) -> dict[int, list[str]]:
    """Per user, the channels that send `kind`: in-app always, the others by the user's choice
    or the default. One query."""
    ids = list(user_ids)
    channels = list(choosable_channels())
    chosen = {
        (user_id, channel): enabled
        for user_id, channel, enabled in NotificationPreference.objects.filter(
            user_id__in=ids, kind=kind, channel__in=channels
        ).values_list("user_id", "channel", "enabled")
    }
    return {
        user_id: [INAPP, *(c for c in channels if chosen.get((user_id, c), default_on(c, kind)))]
        for user_id in ids
    }


def notify(
    recipients: Iterable[Any],
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    dedupe_key: str,
) -> int:
    """Notify each recipient (a User or a user id) once per `dedupe_key`; returns how many
    notifications were new. Inactive users are left out."""
    ids = [r if isinstance(r, int) else int(r.pk) for r in recipients]
    return notifications_create(
        [
            Draft(recipient_id=i, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key)
            for i in ids
        ]
    )


@transaction.atomic
def notifications_create(drafts: Iterable[Draft]) -> int:
    """Write the drafts whose (recipient, dedupe key) is new, with their deliveries; returns how
    many were new. Set-based: a few queries per thousand drafts."""
    unique: dict[tuple[int, str], Draft] = {}
    for draft in drafts:
        _check(draft)
        unique.setdefault((draft.recipient_id, draft.dedupe_key), draft)
    items = list(unique.values())
    return sum(_create_chunk(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK))


def _create_chunk(drafts: list[Draft]) -> int:
    active = set(
        User.objects.filter(pk__in={d.recipient_id for d in drafts}, is_active=True).values_list(
            "pk", flat=True
        )
    )
    drafts = [d for d in drafts if d.recipient_id in active]
    if not drafts:
        return 0
    # ignore_conflicts: a notification already written (an earlier run, a concurrent one) is
    # kept as it is; the unique constraint decides, not a check before the insert.
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=d.recipient_id,
                kind=d.kind,
                title=_title(d.title),
                body_encrypted=Notification.body.seal(d.body.strip()),
                link=d.link,
                dedupe_key=d.dedupe_key,
            )
            for d in drafts
        ],
        batch_size=500,
        ignore_conflicts=True,
    )
    wanted = {(d.recipient_id, d.dedupe_key) for d in drafts}
    # The new ones are those without deliveries: every notification gets at least the in-app one
    # in the same transaction.
    new = [
        n
        for n in Notification.objects.filter(
            recipient_id__in={d.recipient_id for d in drafts}, dedupe_key__in={d.dedupe_key for d in drafts}
        )
        .exclude(Exists(Delivery.objects.filter(notification=OuterRef("pk"))))
        .only("pk", "recipient_id", "kind", "dedupe_key")
        if (n.recipient_id, n.dedupe_key) in wanted
    ]
    by_kind: dict[str, set[int]] = defaultdict(set)
    for n in new:
        by_kind[n.kind].add(n.recipient_id)
    channels = {kind: enabled_channels(ids, kind) for kind, ids in by_kind.items()}
    now = timezone.now()
    rows = []
    for n in new:
        for channel in channels[n.kind][n.recipient_id]:
            if channel == INAPP:
                # The row in the notification centre is the message: delivered on creation.
                rows.append(
                    Delivery(notification=n, channel=channel, status=DeliveryStatus.SENT, sent_at=now)
                )
            else:
                rows.append(Delivery(notification=n, channel=channel))
    Delivery.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(new)


# ---------------------------------------------------------------------------------------------
# Delivery


def _due(now: datetime.datetime) -> Q:
    below_max = Q(attempts__lt=settings.AIXIN_NOTIFY_MAX_ATTEMPTS)
    return (
        Q(status=DeliveryStatus.PENDING)
        | (Q(status=DeliveryStatus.FAILED) & below_max)
        | (Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM) & below_max)
    )


def deliver_pending(*, limit: int = 500) -> dict[str, int]:
    """Send up to `limit` queued or failed deliveries through their channels; returns counts by
    outcome.

    Not one transaction, on purpose: a delivery is claimed by one conditional UPDATE (so two
    workers never send the same one), sent outside any transaction (an HTTP call must not hold
    locks) and then marked sent, failed (retried by the next run, up to
    AIXIN_NOTIFY_MAX_ATTEMPTS) or skipped (no address: never retried). A sent delivery is never
    sent again. A worker that dies mid-send leaves a claim that a run after STALE_CLAIM takes
    over; the message carries the same `ref`, so a gateway can drop the repeat."""
    registry = configured_channels()
    counts = {DeliveryStatus.SENT.value: 0, DeliveryStatus.FAILED.value: 0, DeliveryStatus.SKIPPED.value: 0}
    ids = list(
        Delivery.objects.filter(_due(timezone.now()), channel__in=[c for c in registry if c != INAPP])
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        now = timezone.now()
        claimed = Delivery.objects.filter(_due(now), pk=pk).update(
            status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
        )
        if not claimed:
            continue  # another worker took it
        delivery = Delivery.objects.select_related("notification", "notification__recipient").get(pk=pk)
        outcome = _send(delivery, registry[delivery.channel])
        counts[outcome] += 1
    return counts


def _send(delivery: Delivery, channel: Channel) -> str:
    status, error = DeliveryStatus.SENT, ""
    try:
        channel.send(delivery.notification, delivery.notification.recipient)
    except ChannelSkipped as exc:
        status, error = DeliveryStatus.SKIPPED, str(exc)
    except ChannelError as exc:
        status, error = DeliveryStatus.FAILED, str(exc)
    except Exception as exc:
        # A bug in one channel must not stop the other deliveries; it is recorded and retried.
        logger.exception("notification channel %s crashed on delivery %s", delivery.channel, delivery.pk)
        status, error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"
    now = timezone.now()
    changes: dict[str, Any] = {"status": status, "updated_at": now}
    if status == DeliveryStatus.SENT:
        changes["sent_at"] = now  # last_error stays: it tells that an earlier attempt failed
    else:
        changes["last_error"] = error[:500]
    Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=delivery.claimed_at
    ).update(**changes)
    return str(status)


# ---------------------------------------------------------------------------------------------
# Read state and preferences


def notification_mark_read(*, user: Any, notification_id: Any) -> Notification:
    """Mark one of the user's own notifications read (another's: 404)."""
    notification: Notification = get_visible(notifications_visible_to(user), notification_id)
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now, updated_at=now
        )
        notification.refresh_from_db(fields=["read_at", "updated_at"])
    return notification


def notifications_mark_all_read(*, user: Any) -> int:
    now = timezone.now()
    return int(
        notifications_visible_to(user).filter(read_at__isnull=True).update(read_at=now, updated_at=now)
    )


@transaction.atomic
def preferences_update(*, user: Any, enabled: Iterable[tuple[str, str]]) -> None:
    """Save the user's choices: `enabled` lists the (kind, channel) pairs to switch on; every
    other choosable pair of the user's kinds is switched off."""
    kinds = kinds_for(user)
    channels = list(choosable_channels())
    on = set(enabled)
    for kind, channel in on:
        if kind not in kinds:
            raise InvalidInput(f"没有“{kind}”这一类通知可以设置", field="kind")
        if channel not in channels:
            raise InvalidInput(f"没有“{channel}”这一通知渠道，请刷新页面后重试", field="channel")
    NotificationPreference.objects.filter(user_id=user.pk, kind__in=kinds, channel__in=channels).delete()
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(user_id=user.pk, kind=kind, channel=channel, enabled=(kind, channel) in on)
            for kind in kinds
            for channel in channels
        ]
    )
