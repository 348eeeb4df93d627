"""Alert pages: the open alerts of the user's scope, filtered by kind, and the resolve/dismiss
forms (staff roles; out-of-scope alerts answer 404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aixin.accounts.access import STAFF, access, alerts_visible_to, get_visible
from aixin.alerts import services
from aixin.alerts.forms import CloseAlertForm
from aixin.alerts.models import AlertKind, AlertStatus
from aixin.alerts.selectors import alert_list, open_alerts_by_kind, region_for_filter
from aixin.lib.errors import DomainError
from aixin.regions.models import RegionLevel
from aixin.volunteers.selectors import region_choices_for

PAGE_SIZE = 50
STATUS_ALL = "all"


def _querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@access(*STAFF)
@require_GET
def alert_list_view(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in AlertKind.values else ""
    status = request.GET.get("status", AlertStatus.OPEN)
    status = status if status in (*AlertStatus.values, STATUS_ALL) else AlertStatus.OPEN
    code = request.GET.get("region", "").strip()
    region = region_for_filter(request.user, code)
    qs = alert_list(request.user, kind=kind, status="" if status == STATUS_ALL else status, region=region)
    if code and region is None:
        qs = qs.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/alert_list.html",
        {
            "page_obj": page,
            "kinds": AlertKind.choices,
            "statuses": [*AlertStatus.choices, (STATUS_ALL, _("全部"))],
            "filters": {"kind": kind, "status": status, "region": region.code if region else ""},
            "regions": region_choices_for(request.user, levels=(RegionLevel.DISTRICT, RegionLevel.TOWN)),
            "counts": open_alerts_by_kind(request.user, region=region),
            "here": request.get_full_path(),
            "querystring_without_page": _querystring_without_page(request),
        },
    )


def _back(request: HttpRequest, target: str) -> HttpResponse:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("alerts:alert_list"))


def _close_view(request: HttpRequest, pk: int, close: Callable[..., Any], done: str) -> HttpResponse:
    alert = get_visible(alerts_visible_to(request.user), pk)
    form = CloseAlertForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("text", []):
            messages.error(request, str(error))
        return _back(request, request.POST.get("next", ""))
    try:
        close(actor=request.user, alert_id=alert.pk, text=form.cleaned_data["text"], request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done % {"c": alert.child.name, "k": alert.get_kind_display()})
    return _back(request, form.cleaned_data.get("next", ""))


def _resolve(*, actor: Any, alert_id: int, text: str, request: HttpRequest) -> Any:
    return services.resolve(actor=actor, alert_id=alert_id, resolution=text, request=request)


def _dismiss(*, actor: Any, alert_id: int, text: str, request: HttpRequest) -> Any:
    return services.dismiss(actor=actor, alert_id=alert_id, reason=text, request=request)


@access(*STAFF)
@require_POST
def alert_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _close_view(request, pk, _resolve, _("已处理儿童%(c)s的预警：%(k)s"))


@access(*STAFF)
@require_POST
def alert_dismiss_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _close_view(request, pk, _dismiss, _("已忽略儿童%(c)s的预警：%(k)s"))
