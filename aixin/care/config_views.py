"""The "6+1" settings page of the city administrator (R-7.1, SPEC §1 "configure program rules"):
the rules, the school calendar and the festivals. Thin: parse a form, call one service in
aixin.care.config_services, render the page again with the message beside the form that failed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aixin.accounts.access import access
from aixin.accounts.models import Role, User
from aixin.care import config_services as services
from aixin.care.config_forms import FestivalForm, RuleForm, TermForm
from aixin.care.models import CareRule, Festival, SchoolTerm
from aixin.lib.errors import DomainError


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _rule_form(rule: CareRule, data: Any = None) -> RuleForm:
    initial = {
        "name": rule.name,
        "short_name": rule.short_name,
        "cadence": rule.cadence,
        "applies_to": list(rule.applies_to or []),
        "sort_order": rule.sort_order,
        "active": rule.active,
    }
    return RuleForm(data, initial=initial, auto_id=f"id_rule{rule.pk}_%s")


def _term_form(term: SchoolTerm | None = None, data: Any = None) -> TermForm:
    if term is None:
        return TermForm(data, auto_id="id_term_new_%s")
    initial = {"name": term.name, "start": term.start, "end": term.end}
    return TermForm(data, initial=initial, auto_id=f"id_term{term.pk}_%s")


def _festival_form(festival: Festival | None = None, data: Any = None) -> FestivalForm:
    if festival is None:
        return FestivalForm(data, auto_id="id_festival_new_%s")
    initial = {"name": festival.name, "date": festival.date}
    return FestivalForm(data, initial=initial, auto_id=f"id_festival{festival.pk}_%s")


def _page(
    request: HttpRequest,
    *,
    bound: dict[str, forms.Form] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The whole settings page; `bound` replaces the form under its key (e.g. "rule-3", "term-new")
    with the submitted one and opens it, `errors` puts a message on a row (e.g. a refused delete)."""
    bound = bound or {}
    errors = errors or {}

    def row(key: str, obj: Any, default: forms.Form) -> dict[str, Any]:
        return {
            "key": key,
            "obj": obj,
            "form": bound.get(key) or default,
            "open": key in bound,
            "error": errors.get(key, ""),
        }

    rules = [row(f"rule-{r.pk}", r, _rule_form(r)) for r in CareRule.objects.order_by("sort_order", "id")]
    terms = []
    for t in SchoolTerm.objects.order_by("start"):
        item = row(f"term-{t.pk}", t, _term_form(t))
        item["records"] = services.term_rule_records_in(t.start, t.end)
        terms.append(item)
    festivals = [
        (year, [row(f"festival-{f.pk}", f, _festival_form(f)) for f in items])
        for year, items in itertools.groupby(
            Festival.objects.order_by("date", "name"), key=lambda f: f.date.year
        )
    ]
    context = {
        "rules": rules,
        "terms": terms,
        "festival_years": festivals,
        "term_new": bound.get("term-new") or _term_form(),
        "term_new_open": "term-new" in bound,
        "festival_new": bound.get("festival-new") or _festival_form(),
        "festival_new_open": "festival-new" in bound,
        "term_rules": [r for r in rules if r["obj"].cadence == "term"],
    }
    return render(request, "care/config.html", context, status=status)


def _submit(
    request: HttpRequest,
    *,
    key: str,
    form: forms.Form,
    call: Callable[[dict[str, Any]], Any],
    success: str,
    anchor: str,
) -> HttpResponse:
    """Validate the form, call the service, and either go back to the page with a message or
    show the page again with the error beside the form."""
    if not form.is_valid():
        return _page(request, bound={key: form}, status=400)
    try:
        call(form.cleaned_data)
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _page(request, bound={key: form}, status=exc.status)
    messages.success(request, success)
    return redirect(reverse("care:config") + f"#{anchor}")


@access(Role.CITY_ADMIN)
def config(request: HttpRequest) -> HttpResponse:
    return _page(request)


@access(Role.CITY_ADMIN)
@require_POST
def config_rule(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(CareRule, pk=pk)
    form = _rule_form(rule, request.POST)
    return _submit(
        request,
        key=f"rule-{rule.pk}",
        form=form,
        call=lambda d: services.care_rule_update(
            actor=_user(request),
            rule_id=rule.pk,
            name=d["name"],
            short_name=d["short_name"],
            cadence=d["cadence"],
            active=d["active"],
            applies_to=d["applies_to"],
            sort_order=d["sort_order"],
            request=request,
        ),
        success=_("已保存“6+1”条目：%(name)s") % {"name": form.data.get("name", rule.name)},
        anchor=f"rule-{rule.pk}",
    )


@access(Role.CITY_ADMIN)
@require_POST
def config_term_create(request: HttpRequest) -> HttpResponse:
    form = _term_form(None, request.POST)
    return _submit(
        request,
        key="term-new",
        form=form,
        call=lambda d: services.school_term_create(
            actor=_user(request), name=d["name"], start=d["start"], end=d["end"], request=request
        ),
        success=_("已新增学期：%(name)s") % {"name": form.data.get("name", "")},
        anchor="terms",
    )


@access(Role.CITY_ADMIN)
@require_POST
def config_term(request: HttpRequest, pk: int) -> HttpResponse:
    term = get_object_or_404(SchoolTerm, pk=pk)
    form = _term_form(term, request.POST)
    return _submit(
        request,
        key=f"term-{term.pk}",
        form=form,
        call=lambda d: services.school_term_update(
            actor=_user(request),
            term_id=term.pk,
            name=d["name"],
            start=d["start"],
            end=d["end"],
            request=request,
        ),
        success=_("已保存学期：%(name)s") % {"name": form.data.get("name", term.name)},
        anchor="terms",
    )


@access(Role.CITY_ADMIN)
@require_POST
def config_term_delete(request: HttpRequest, pk: int) -> HttpResponse:
    term = get_object_or_404(SchoolTerm, pk=pk)
    try:
        services.school_term_delete(actor=_user(request), term_id=term.pk, request=request)
    except DomainError as exc:
        return _page(request, errors={f"term-{term.pk}": exc.message}, status=exc.status)
    messages.success(request, _("已删除学期：%(name)s") % {"name": term.name})
    return redirect(reverse("care:config") + "#terms")


@access(Role.CITY_ADMIN)
@require_POST
def config_festival_create(request: HttpRequest) -> HttpResponse:
    form = _festival_form(None, request.POST)
    return _submit(
        request,
        key="festival-new",
        form=form,
        call=lambda d: services.festival_create(
            actor=_user(request), name=d["name"], date=d["date"], request=request
        ),
        success=_("已新增节日：%(name)s") % {"name": form.data.get("name", "")},
        anchor="festivals",
    )


@access(Role.CITY_ADMIN)
@require_POST
def config_festival(request: HttpRequest, pk: int) -> HttpResponse:
    festival = get_object_or_404(Festival, pk=pk)
    form = _festival_form(festival, request.POST)
    return _submit(
        request,
        key=f"festival-{festival.pk}",
        form=form,
        call=lambda d: services.festival_update(
            actor=_user(request), festival_id=festival.pk, name=d["name"], date=d["date"], request=request
        ),
        success=_("已保存节日：%(name)s") % {"name": form.data.get("name", festival.name)},
        anchor="festivals",
    )


@access(Role.CITY_ADMIN)
@require_POST
def config_festival_delete(request: HttpRequest, pk: int) -> HttpResponse:
    festival = get_object_or_404(Festival, pk=pk)
    try:
        services.festival_delete(actor=_user(request), festival_id=festival.pk, request=request)
    except DomainError as exc:
        return _page(request, errors={f"festival-{festival.pk}": exc.message}, status=exc.status)
    messages.success(
        request,
        _("已删除节日：%(name)s %(date)s") % {"name": festival.name, "date": f"{festival.date:%Y-%m-%d}"},
    )
    return redirect(reverse("care:config") + "#festivals")


__all__ = [
    "config",
    "config_festival",
    "config_festival_create",
    "config_festival_delete",
    "config_rule",
    "config_term",
    "config_term_create",
    "config_term_delete",
]
