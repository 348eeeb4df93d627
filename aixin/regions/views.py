from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aixin.accounts.access import STAFF, access, request_user
from aixin.regions import selectors
from aixin.regions import widgets as picker


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


@access(*STAFF)
@require_GET
def village_options(request: HttpRequest) -> HttpResponse:
    """The `<option>` list of the village select of a VillagePickerField for `?town=CODE` (the
    villages of that town in the user's scope); no town → only the prompt; town out of scope →
    404. `name` is the village field's name: its town select posts `<name>_town`."""
    user = request_user(request)
    name = request.GET.get("name", "")
    code = request.GET.get("town") or (request.GET.get(picker.town_suffix_name(name)) if name else "") or ""
    whole_town = request.GET.get("whole_town") == "1"
    town = picker.town_for_picker(user, code.strip()) if code.strip() else None
    response = render(
        request,
        "regions/_village_options.html",
        {
            "options": picker.village_options(picker.villages_in_scope(user), town, whole_town=whole_town),
            "value": str(town.pk) if town and whole_town else "",
        },
    )
    response["HX-Trigger-After-Settle"] = picker.OPTIONS_LOADED_EVENT
    return response
