"""The matching pages (智能匹配): start a run on a district, read its report, review its
proposals (accept, reject, swap), and confirm the accepted ones into pairing proposals.
Admins only: district admins see their district's runs, city admins all."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aixin.accounts.access import (
    ADMINS,
    access,
    get_child_for_user,
    get_visible,
    match_proposals_visible_to,
    match_runs_visible_to,
    regions_visible_to,
    request_user,
)
from aixin.lib.errors import DomainError
from aixin.matching import exclusions, review
from aixin.matching.forms import DecisionForm, ExclusionForm, StartRunForm
from aixin.matching.models import ExclusionReason, MatchRun, RunStatus
from aixin.regions.models import RegionLevel

RUNS_PER_PAGE = 30
PROPOSALS_PER_PAGE = 100


def _districts(user: Any) -> list[tuple[str, str]]:
    qs = regions_visible_to(user).filter(level=RegionLevel.DISTRICT).order_by("code")
    return [(r.code, r.name) for r in qs]


def _runs(user: Any) -> Any:
    return match_runs_visible_to(user).select_related("district", "created_by")


@access(*ADMINS)
def run_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    districts = _districts(user)
    form = StartRunForm(request.POST or None, districts=districts)
    if request.method == "POST" and form.is_valid():
        from aixin.matching.services import run_start
        from aixin.matching.tasks import run_compute_task

        try:
            run = run_start(
                actor=user, district_code=form.cleaned_data["district"], reach=form.cleaned_data["reach"]
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            transaction.on_commit(lambda: run_compute_task(run.pk))
            messages.success(request, _("匹配已开始，正在后台计算"))
            return redirect("matching:run_detail", pk=run.pk)
    page = Paginator(_runs(user), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page_obj": page,
        "runs": page.object_list,
        "any_running": any(r.status == RunStatus.RUNNING for r in page.object_list),
        "querystring_without_page": "",
    }
    if request.headers.get("HX-Request") and request.method == "GET":
        response = render(request, "matching/_run_table.html", context)
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "matching/run_list.html", context)


def _run_for(request: HttpRequest, pk: int) -> MatchRun:
    run: MatchRun = get_visible(_runs(request.user), pk)
    return run


@access(*ADMINS)
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    return render(request, "matching/run_detail.html", _detail_context(request, run, request.GET.get("page")))


def _detail_context(
    request: HttpRequest, run: MatchRun, page_number: str | None, feedback: tuple[str, str] | None = None
) -> dict[str, Any]:
    context: dict[str, Any] = {"run": run, "report": run.report or {}, "feedback": feedback}
    if run.status == RunStatus.DONE:
        proposals = (
            match_proposals_visible_to(request.user)
            .filter(run=run)
            .select_related("child", "child__region", "volunteer")
            .order_by("-must_cover", "id")
        )
        page = Paginator(proposals, PROPOSALS_PER_PAGE).get_page(page_number)
        counts = dict(
            proposals.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
        )
        context.update(
            page_obj=page,
            proposals=page.object_list,
            counts=counts,
            accepted=counts.get("accepted", 0),
            reviewable=review.run_is_reviewable(run),
            exclusion_reasons=ExclusionReason.choices,
            querystring_without_page="",
            pending_with_mother=proposals.filter(Q(status="proposed") & Q(volunteer__isnull=False)).count(),
        )
    return context


@access(*ADMINS)
@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    response = render(request, "matching/_run_progress.html", {"run": run})
    if run.status != RunStatus.RUNNING and request.headers.get("HX-Request"):
        # The run finished while the page was polling: reload it to show the proposals.
        response["HX-Refresh"] = "true"
    response["Cache-Control"] = "no-store"
    return response


def _back(run_pk: int, page: str | None) -> HttpResponse:
    response = redirect("matching:run_detail", pk=run_pk)
    if page and page.isdigit():
        response["Location"] += f"?page={page}"
    return response


@access(*ADMINS)
@require_POST
def proposal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """One decision on one proposal. From htmx (the review page with scripts), the answer is
    the page again, of which htmx takes the proposals' section, so a worker going down a
    hundred proposals keeps her place; without scripts, a redirect to the page."""
    user = request_user(request)
    proposal = get_visible(match_proposals_visible_to(user).select_related("child"), pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        feedback = ("error", " ".join(str(e) for errors in form.errors.values() for e in errors))
    else:
        decision = form.cleaned_data["decision"]
        try:
            review.proposal_decide(
                actor=user,
                proposal_id=proposal.pk,
                decision=decision,
                volunteer_id=form.cleaned_data.get("volunteer"),
                reason=form.cleaned_data.get("reason") or "",
                note=form.cleaned_data.get("note") or "",
                request=request,
            )
        except DomainError as exc:
            feedback = ("error", exc.message)
        else:
            done = {
                "accept": _("已采纳"),
                "reject": _("已否决"),
                "swap": _("已换人并采纳"),
                "exclude": _("已否决，并设置该爱心妈妈不宜结对，今后匹配不再推荐"),
            }[decision]
            feedback = ("success", _("%(c)s：%(d)s") % {"c": proposal.child.name, "d": done})
    page = request.POST.get("page")
    if request.headers.get("HX-Request"):
        run = _run_for(request, proposal.run_id)
        return render(request, "matching/run_detail.html", _detail_context(request, run, page, feedback))
    if feedback[0] == "success":
        messages.success(request, feedback[1])
    else:
        messages.error(request, feedback[1])
    return _back(proposal.run_id, page)


@access(*ADMINS)
@require_POST
def run_accept_all(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    run = _run_for(request, pk)
    try:
        result = review.run_accept_all(actor=user, run_id=run.pk, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        text = _("已采纳 %(n)s 条建议") % {"n": result["accepted"]}
        if result["left"]:
            text += _("；%(n)s 条因爱心妈妈名额已满或已不在服务中，仍待审核") % {"n": result["left"]}
        messages.success(request, text)
    return redirect("matching:run_detail", pk=run.pk)


@access(*ADMINS)
@require_POST
def run_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    run = _run_for(request, pk)
    try:
        result = review.run_confirm(actor=user, run_id=run.pk, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已发起结对 %(n)s 条：请通知爱心妈妈在手机上确认，再登记监护人同意。")
            % {"n": result["confirmed"]},
        )
        for name, reason in result["skipped"]:
            messages.warning(request, _("未发起：%(c)s（%(r)s）") % {"c": name, "r": reason})
    return redirect("matching:run_detail", pk=run.pk)


@access(*ADMINS)
@require_POST
def exclusion_add(request: HttpRequest, child_pk: int) -> HttpResponse:
    """From the child's file: this mother must not be proposed for this child."""
    user = request_user(request)
    child = get_child_for_user(user, child_pk)
    form = ExclusionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("registry:child_detail", pk=child.pk)
    try:
        exclusion = exclusions.exclusion_add(
            actor=user,
            child_id=child.pk,
            volunteer_id=form.cleaned_data["volunteer"],
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            request=request,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已设置%(m)s与%(c)s不宜结对，今后匹配不再推荐")
            % {"m": exclusion.volunteer.name, "c": child.name},
        )
    return redirect("registry:child_detail", pk=child.pk)


@access(*ADMINS)
@require_POST
def exclusion_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    try:
        child_pk = exclusions.exclusion_remove(actor=user, exclusion_id=pk, request=request)
    except DomainError as exc:  # pragma: no cover - admins only, scope answers 404 first
        messages.error(request, exc.message)
        return redirect("matching:run_list")
    messages.success(request, _("已撤销不宜结对的设置"))
    return redirect("registry:child_detail", pk=child_pk)
