"""Group activities (R-8.1): the list in the user's scope, recording an activity with the
children who took part, its page, and adding children afterwards."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aixin.accounts.access import ADMINS, STAFF, access, may_manage
from aixin.activities import services
from aixin.activities.forms import VENUE_SUGGESTIONS, ActivityForm, ParticipantsForm
from aixin.activities.models import ActivityKind
from aixin.activities.selectors import (
    activity_list,
    children_of_place,
    get_activity_for_user,
    participants_of,
    place_for_user,
    place_groups,
)
from aixin.lib.errors import DomainError

PAGE_SIZE = 50


def _show_error(form: Any, exc: DomainError) -> None:
    field = "children" if exc.field == "child_ids" else exc.field
    field = field if field in form.fields else None
    problems = getattr(exc, "problems", None)
    form.add_error(field, exc.message)
    for problem in problems or []:
        form.add_error(field, problem)


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
            "may_manage": may_manage(request.user),
        },
    )


@access(*ADMINS)
@require_http_methods(["GET", "POST"])
def activity_create_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    places = place_groups(user=user)
    if request.method == "POST":
        form = ActivityForm(request.POST, user=user, places=places)
        place = place_for_user(user=user, pk=request.POST.get("region"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                activity = services.activity_create(
                    actor=user,
                    name=data["name"],
                    kind=data["kind"],
                    held_on=data["held_on"],
                    venue=data["venue"],
                    region=data["region"],
                    child_ids=data["children"],
                    participant_lines=data["participant_lines"],
                    request=request,
                )
            except DomainError as exc:
                _show_error(form, exc)
            else:
                n = activity.participations.count()
                messages.success(
                    request,
                    _("已登记团体活动“%(name)s”，参加儿童 %(n)s 名") % {"name": activity.name, "n": n},
                )
                return redirect("activities:activity_detail", pk=activity.pk)
        checked = {str(pk) for pk in request.POST.getlist("children")}
        status = 400
    else:
        # A GET with the form's fields (the "show children" button without JavaScript, or the
        # htmx request when the place changes) pre-fills the form.
        initial = {k: request.GET.get(k, "") for k in ("name", "kind", "held_on", "venue", "region")}
        form = ActivityForm(initial=initial, user=user, places=places)
        place = place_for_user(user=user, pk=request.GET.get("region"))
        checked = set()
        status = 200
    context = {
        "form": form,
        "place": place,
        "children": children_of_place(user=user, place=place),
        "checked": checked,
        "venues": VENUE_SUGGESTIONS,
    }
    if getattr(request, "htmx", False) and request.method == "GET":
        return render(request, "activities/_participants.html", context)
    return render(request, "activities/activity_form.html", context, status=status)


def _render_detail(
    request: HttpRequest, activity: Any, add_form: ParticipantsForm | None, *, status: int = 200
) -> HttpResponse:
    participants = participants_of(user=request.user, activity=activity)
    manage = may_manage(request.user)
    if manage and add_form is None:
        add_form = ParticipantsForm()
    checked: set[str] = set()
    if add_form is not None and add_form.is_bound:
        checked = {str(pk) for pk in request.POST.getlist("children")}
    return render(
        request,
        "activities/activity_detail.html",
        {
            "activity": activity,
            "participants": participants.shown,
            "hidden_count": participants.hidden,
            "may_manage": manage,
            "form": add_form,
            "place": activity.region,
            "children": (
                children_of_place(user=request.user, place=activity.region, exclude_activity=activity)
                if manage
                else []
            ),
            "checked": checked,
        },
        status=status,
    )


@access(*STAFF)
@require_GET
def activity_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    activity = get_activity_for_user(request.user, pk)
    return _render_detail(request, activity, None)


@access(*ADMINS)
@require_POST
def participants_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    activity = get_activity_for_user(request.user, pk)
    form = ParticipantsForm(request.POST)
    if form.is_valid():
        try:
            result = services.participants_add(
                actor=request.user,
                activity=activity,
                child_ids=form.cleaned_data["children"],
                participant_lines=form.cleaned_data["participant_lines"],
                request=request,
            )
        except DomainError as exc:
            _show_error(form, exc)
        else:
            if result.skipped:
                text = _("已添加 %(added)s 名儿童；%(skipped)s 名已在参加名单中，未重复添加") % {
                    "added": result.added,
                    "skipped": result.skipped,
                }
            else:
                text = _("已添加 %(added)s 名儿童") % {"added": result.added}
            messages.success(request, text)
            return redirect("activities:activity_detail", pk=activity.pk)
    return _render_detail(request, activity, form, status=400)
