from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from aixin.accounts.access import STAFF, access, request_user
from aixin.regions import selectors


@access(*STAFF)
def region_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    region = selectors.region_get_for_user(user, request.GET.get("code"))
    rows = selectors.region_rows_for_user(user, region)
    return render(
        request,
        "regions/region_list.html",
        {
            "region": region,
            "rows": rows,
            "breadcrumb": selectors.region_ancestors_for_user(user, region),
            "total_children": sum(r.children for r in rows),
            "total_mothers": sum(r.mothers for r in rows),
        },
    )
