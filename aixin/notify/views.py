"""通知中心 and 通知设置: every role's own notifications and channel choices. Thin: parse, call a
service or selector, render. Another user's notification answers 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aixin.accounts.access import EVERYONE, access, request_user
from aixin.lib.errors import DomainError
from aixin.notify import selectors, services


@access(*EVERYONE)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    unread_only = request.GET.get("unread") == "1"
    qs = selectors.notification_list(user, unread_only=unread_only)
    page = Paginator(qs, settings.AIXIN_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/inbox.html",
        {
            "page_obj": page,
            "unread_only": unread_only,
            "unread_count": selectors.unread_count(user),
            "querystring_without_page": "unread=1" if unread_only else "",
        },
    )


@access(*EVERYONE)
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark read; with `open=1`, go on to the notification's page; from htmx, the updated item."""
    notification = services.notification_mark_read(user=request_user(request), notification_id=pk)
    if (
        request.POST.get("open") == "1"
        and notification.link
        and url_has_allowed_host_and_scheme(notification.link, allowed_hosts={request.get_host()})
    ):
        return redirect(notification.link)
    if getattr(request, "htmx", False):
        return render(request, "notify/_item.html", {"n": notification})
    return redirect("notify:inbox")


@access(*EVERYONE)
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    n = services.notifications_mark_all_read(user=request_user(request))
    if n:
        messages.success(request, _("已将%(n)s条通知标为已读") % {"n": n})
    return redirect("notify:inbox")


@access(*EVERYONE)
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if request.method == "POST":
        chosen = []
        for value in request.POST.getlist("on"):
            kind, _sep, channel = value.partition(":")
            chosen.append((kind, channel))
        try:
            services.preferences_update(user=user, enabled=chosen)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("通知设置已保存"))
            return redirect("notify:preferences")
    return render(
        request,
        "notify/preferences.html",
        {
            "rows": selectors.preferences_for(user),
            "channels": selectors.choosable_channels(),
            "phone_user": user.is_volunteer,
        },
    )
