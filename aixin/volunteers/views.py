"""Loving-mother pages: list, register, electronic file, edit, life-cycle transitions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aixin.accounts.access import ADMINS, STAFF, access, get_volunteer_for_user, may_manage
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import DomainError
from aixin.pairing.selectors import volunteer_open_pairings
from aixin.regions.models import RegionLevel
from aixin.volunteers import services
from aixin.volunteers.forms import TransitionForm, VolunteerForm
from aixin.volunteers.models import BackgroundCheck, SourceGroup, Specialty, VolunteerStatus
from aixin.volunteers.selectors import VolunteerFilters, region_choices_for, volunteer_list

PAGE_SIZE = 50


def _querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _show_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@access(*STAFF)
def volunteer_list_view(request: HttpRequest) -> HttpResponse:
    filters = VolunteerFilters.from_query(request.GET)
    qs = volunteer_list(request.user, filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    specialty_labels = dict(Specialty.choices)
    for v in page.object_list:
        v.specialty_labels = [specialty_labels.get(s, s) for s in v.specialties]
    return render(
        request,
        "volunteers/volunteer_list.html",
        {
            "page_obj": page,
            "filters": filters,
            "regions": region_choices_for(request.user, levels=(RegionLevel.DISTRICT, RegionLevel.TOWN)),
            "statuses": VolunteerStatus.choices,
            "source_groups": SourceGroup.choices,
            "specialties": Specialty.choices,
            "querystring_without_page": _querystring_without_page(request),
            "may_manage": may_manage(request.user),
        },
    )


@access(*ADMINS)
def volunteer_create_view(request: HttpRequest) -> HttpResponse:
    form = VolunteerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            volunteer = services.volunteer_create(actor=request.user, data=form.cleaned_data, request=request)
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, _("已登记爱心妈妈%(name)s") % {"name": volunteer.name})
            return redirect("volunteers:volunteer_detail", pk=volunteer.pk)
    return render(request, "volunteers/volunteer_form.html", {"form": form, "volunteer": None})


@access(*STAFF)
def volunteer_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = get_volunteer_for_user(request.user, pk)
    audit_log(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="volunteer",
        object_id=volunteer.pk,
        region=volunteer.home_region,
        summary=_("查看爱心妈妈%(name)s的电子档案") % {"name": volunteer.name},
        request=request,
    )
    specialty_labels = dict(Specialty.choices)
    allowed = [
        (s, VolunteerStatus(s).label, services.TRANSITION_VERBS[s])
        for s in services.allowed_transitions(volunteer)
    ]
    return render(
        request,
        "volunteers/volunteer_detail.html",
        {
            "volunteer": volunteer,
            "specialty_labels": [specialty_labels.get(s, s) for s in volunteer.specialties],
            "history": volunteer.status_changes.select_related("changed_by").all(),
            "pairings": volunteer_open_pairings(volunteer, user=request.user),
            "allowed": allowed,
            "needs_check": volunteer.status == VolunteerStatus.SCREENING,
            "background_checks": [c for c in BackgroundCheck.choices if c[0]],
            "may_manage": may_manage(request.user),
        },
    )


@access(*ADMINS)
def volunteer_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = get_volunteer_for_user(request.user, pk)
    initial = {
        "name": volunteer.name,
        "source_group": volunteer.source_group,
        "work_unit": volunteer.work_unit,
        "home_region": volunteer.home_region_id,
        "work_region": volunteer.work_region_id,
        "specialties": volunteer.specialties,
        "capacity": volunteer.capacity,
        "trained": volunteer.trained,
        "preferred_age_min": volunteer.preferred_age_min,
        "preferred_age_max": volunteer.preferred_age_max,
        "preferred_child_sex": volunteer.preferred_child_sex,
        "notes": volunteer.notes,
        "version": volunteer.version,
    }
    form = VolunteerForm(request.POST or None, initial=initial, user=request.user, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.volunteer_update(
                actor=request.user,
                volunteer_id=volunteer.pk,
                version=form.cleaned_data.get("version") or 0,
                data=form.cleaned_data,
                request=request,
            )
        except DomainError as exc:
            _show_error(form, exc)
        else:
            messages.success(request, _("已保存爱心妈妈%(name)s的档案") % {"name": volunteer.name})
            return redirect("volunteers:volunteer_detail", pk=volunteer.pk)
    return render(request, "volunteers/volunteer_form.html", {"form": form, "volunteer": volunteer})


@access(*ADMINS)
@require_POST
def volunteer_transition_view(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = get_volunteer_for_user(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("状态变更信息有误：%(e)s")
            % {"e": "；".join(str(e) for errs in form.errors.values() for e in errs)},
        )
        return redirect("volunteers:volunteer_detail", pk=volunteer.pk)
    data = form.cleaned_data
    try:
        services.volunteer_transition(
            actor=request.user,
            volunteer_id=volunteer.pk,
            to_status=data["to_status"],
            note=data["note"],
            background_check=data.get("background_check") or None,
            checked_on=data.get("checked_on"),
            request=request,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已将爱心妈妈%(name)s的状态变更为“%(s)s”")
            % {"name": volunteer.name, "s": VolunteerStatus(data["to_status"]).label},
        )
    return redirect("volunteers:volunteer_detail", pk=volunteer.pk)


@access(*ADMINS)
@require_POST
def volunteer_login_create_view(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = get_volunteer_for_user(request.user, pk)
    try:
        username, password = services.volunteer_create_login(
            actor=request.user, volunteer_id=volunteer.pk, request=request
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("volunteers:volunteer_detail", pk=volunteer.pk)
    # Shown once in this response only: never put into messages (stored in the session).
    response = render(
        request,
        "volunteers/login_created.html",
        {
            "volunteer": volunteer,
            "username": username,
            "password": password,
        },
    )
    response["Cache-Control"] = "no-store"
    return response
