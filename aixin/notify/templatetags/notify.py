"""{% notify_badge %}: the header link to the 通知中心 with the unread count (one COUNT query,
only on pages that render it)."""

from __future__ import annotations

from typing import Any

from django import template

from aixin.notify.selectors import unread_count

register = template.Library()


@register.inclusion_tag("notify/_badge.html", takes_context=True)
def notify_badge(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": unread_count(user)}
