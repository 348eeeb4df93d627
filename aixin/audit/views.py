"""The audit-log browser (R-1.3): read-only, for admins, within their scope."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aixin.accounts.access import ADMINS, access
from aixin.audit.forms import AuditFilterForm
from aixin.audit.selectors import audit_event_list, audit_object_types

PAGE_SIZE = 50


@access(*ADMINS)
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, object_types=audit_object_types(user=request.user))
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = audit_event_list(user=request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page_obj": page,
            "events": page.object_list,
            "querystring_without_page": query.urlencode(),
        },
    )
