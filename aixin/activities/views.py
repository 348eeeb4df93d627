"""Group activities: the list in the user's scope (R-8.1)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aixin.accounts.access import STAFF, access
from aixin.activities.models import ActivityKind
from aixin.activities.selectors import activity_list

PAGE_SIZE = 50


@access(*STAFF)
@require_GET
def activity_list_view(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in ActivityKind.values else ""
    year_text = request.GET.get("year", "").strip()
    year = int(year_text) if year_text.isdigit() and len(year_text) == 4 else None
    activities = activity_list(user=request.user, kind=kind, year=year)
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "activities/activity_list.html",
        {
            "page_obj": page,
            "activities": page.object_list,
            "kinds": ActivityKind.choices,
            "kind": kind,
            "year": year or "",
            "querystring_without_page": query.urlencode(),
        },
    )
