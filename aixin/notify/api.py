"""GET /api/v1/notifications (the caller's own, `?unread=1`, paginated with limit/offset) and
POST /api/v1/notifications/{id}/read. Another user's notification answers 404."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja.errors import HttpError

from aixin.accounts.access import EVERYONE, ScopedRouter, access, request_user
from aixin.notify import selectors, services
from aixin.notify.models import Notification
from aixin.notify.schemas import NotificationOut, NotificationPage

router = ScopedRouter(tags=["notifications"])
MAX_LIMIT = 200
# Beyond any real page; a larger offset would overflow the database's integer (a 500).
MAX_OFFSET = 1_000_000_000


def _out(n: Notification) -> NotificationOut:
    return NotificationOut(
        id=n.pk,
        kind=n.kind,
        kind_label=str(n.get_kind_display()),
        title=n.title,
        body=n.body,
        link=n.link,
        created_at=n.created_at,
        read_at=n.read_at,
    )


@router.get("", response=NotificationPage, url_name="notifications_list")
@access(*EVERYONE)
def notifications_list(
    request: HttpRequest, unread: bool = False, limit: int = 50, offset: int = 0
) -> NotificationPage:
    user = request_user(request)
    qs = selectors.notification_list(user, unread_only=unread)
    limit = max(1, min(limit, MAX_LIMIT))
    offset = min(max(0, offset), MAX_OFFSET)
    return NotificationPage(
        count=qs.count(),
        unread=selectors.unread_count(user),
        limit=limit,
        offset=offset,
        items=[_out(n) for n in qs[offset : offset + limit]],
    )


@router.post("/{notification_id}/read", response=NotificationOut, url_name="notifications_read")
@access(*EVERYONE)
def notifications_read(request: HttpRequest, notification_id: int) -> NotificationOut:
    try:
        notification = services.notification_mark_read(
            user=request_user(request), notification_id=notification_id
        )
    except Http404 as exc:
        raise HttpError(404, "通知不存在") from exc
    return _out(notification)
