"""Pairing pages: propose a mother for a child, the pairing page (staff and the mother's own
mobile view), the mother's answer, guardian consent, end, cancel, and the 结对台账."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aixin.accounts.access import (
    ADMINS,
    EVERYONE,
    STAFF,
    access,
    get_child_for_user,
    get_pairing_for_user,
    get_visible,
    may_manage,
    pairings_visible_to,
    request_user,
)
from aixin.accounts.models import Role
from aixin.audit.exports import export_begin
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import DomainError
from aixin.lib.excel import workbook_bytes
from aixin.lib.idnumber import age_on
from aixin.lib.uploads import content_type_for, extension_of
from aixin.lib.xlsx_stream import streamed_workbook_bytes
from aixin.pairing import services
from aixin.pairing.exports import (
    STATUS_HEADERS,
    STATUS_TITLE,
    STATUS_WIDTHS,
    pairing_status_rows,
)
from aixin.pairing.forms import (
    DECLINE_REASONS,
    CancelForm,
    ConsentForm,
    EndForm,
    ProposeForm,
    RespondForm,
    WithdrawConsentForm,
)
from aixin.pairing.models import OPEN_STATUSES, ConsentScope, GuardianConsent, PairingStatus
from aixin.pairing.selectors import (
    LEDGER_HEADERS,
    candidates_for_child,
    child_categories,
    child_needs,
    children_needing_pairing,
    ledger_rows,
    pairing_list,
    pairing_timeline,
    pending_proposals_for,
    region_for_filter,
)
from aixin.regions.models import RegionLevel
from aixin.registry.models import CareTier
from aixin.volunteers.selectors import region_choices_for

PAGE_SIZE = 50


def _querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _audit_view(request: HttpRequest, pairing: Any, summary: str) -> None:
    audit_log(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="pairing",
        object_id=pairing.pk,
        region=pairing.village,
        summary=summary,
        request=request,
    )


@access(*ADMINS)
def propose_view(request: HttpRequest, child_pk: int) -> HttpResponse:
    child = get_child_for_user(request.user, child_pk)
    if request.method == "POST":
        form = ProposeForm(request.POST)
        if form.is_valid():
            try:
                pairing = services.pairing_propose(
                    actor=request.user,
                    child_id=child.pk,
                    volunteer_id=form.cleaned_data["volunteer"],
                    request=request,
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, _("已向爱心妈妈%(v)s发出结对邀请，等待她确认") % {"v": pairing.volunteer.name}
                )
                return redirect("pairing:pairing_detail", pk=pairing.pk)
        else:
            messages.error(request, _("请选择一位爱心妈妈"))
        return redirect("pairing:propose", child_pk=child.pk)
    audit_log(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="child",
        object_id=child.pk,
        region=child.region,
        summary=_("为儿童%(c)s查看可结对的爱心妈妈") % {"c": child.name},
        request=request,
    )
    open_pairing = child.pairings.filter(status__in=OPEN_STATUSES).select_related("volunteer").first()
    return render(
        request,
        "pairing/propose.html",
        {
            "child": child,
            "age": age_on(child.birth_date, timezone.localdate()),
            "needs": child_needs(child),
            "categories": child_categories(child),
            "is_group": child.care_tier == CareTier.GROUP,
            "open_pairing": open_pairing,
            "candidates": [] if open_pairing else candidates_for_child(child, user=request.user),
        },
    )


@access(*EVERYONE)
def pairing_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    pairing = get_pairing_for_user(request.user, pk)
    child = pairing.child
    if request_user(request).role == Role.VOLUNTEER:
        _audit_view(request, pairing, _("爱心妈妈查看结对邀请：儿童%(c)s") % {"c": child.name})
        return render(
            request,
            "pairing/pairing_mother.html",
            {
                "pairing": pairing,
                "child": child,
                # Once declined, cancelled or ended, the child's details are no longer hers to see.
                "is_open": pairing.status in OPEN_STATUSES,
                "age": age_on(child.birth_date, timezone.localdate()),
                "needs": child_needs(child),
                "decline_reasons": DECLINE_REASONS,
                "others": pending_proposals_for(request.user).exclude(pk=pairing.pk),
            },
        )
    _audit_view(
        request,
        pairing,
        _("查看结对：爱心妈妈%(v)s — 儿童%(c)s") % {"v": pairing.volunteer.name, "c": child.name},
    )
    return _render_staff_detail(request, pairing)


def _render_staff_detail(
    request: HttpRequest,
    pairing: Any,
    *,
    consent_form: ConsentForm | None = None,
    end_form: EndForm | None = None,
    withdraw_form: WithdrawConsentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    child = pairing.child
    guardians = list(child.guardians.all())
    return render(
        request,
        "pairing/pairing_detail.html",
        {
            "pairing": pairing,
            "child": child,
            "age": age_on(child.birth_date, timezone.localdate()),
            "needs": child_needs(child),
            "timeline": pairing_timeline(pairing),
            "consents": pairing.consents.all(),
            "may_manage": may_manage(request.user),
            "consent_form": consent_form
            or ConsentForm(guardians=guardians, initial={"consented_on": timezone.localdate()}),
            "end_form": end_form or EndForm(initial={"end_date": timezone.localdate()}),
            "cancel_form": CancelForm(),
            "withdraw_form": withdraw_form or WithdrawConsentForm(),
        },
        status=status,
    )


@access(Role.VOLUNTEER)
@require_POST
def respond_view(request: HttpRequest, pk: int) -> HttpResponse:
    pairing = get_pairing_for_user(request.user, pk)
    form = RespondForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择接受或婉拒"))
        return redirect("pairing:pairing_detail", pk=pairing.pk)
    accept = form.cleaned_data["accept"]
    try:
        services.pairing_respond(
            actor=request.user,
            pairing_id=pairing.pk,
            accept=accept,
            reason="" if accept else form.decline_reason(),
            request=request,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if accept:
            messages.success(
                request,
                _("谢谢您！已接受与%(c)s结对，妇联将征得监护人同意后通知您") % {"c": pairing.child.name},
            )
        else:
            messages.success(request, _("已婉拒与%(c)s结对") % {"c": pairing.child.name})
    return redirect("pairing:pairing_detail", pk=pairing.pk)


@access(*ADMINS)
def consent_view(request: HttpRequest, pk: int) -> HttpResponse:
    pairing = get_pairing_for_user(request.user, pk)
    if request.method != "POST":
        return redirect("pairing:pairing_detail", pk=pairing.pk)
    form = ConsentForm(request.POST, request.FILES, guardians=pairing.child.guardians.all())
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.pairing_record_consent(
                actor=request.user,
                pairing_id=pairing.pk,
                guardian_id=data["guardian"] or None,
                guardian_name=data["guardian_name"],
                relation=data["relation"],
                method=data["method"],
                consented_on=data["consented_on"],
                evidence=data["evidence"],
                evidence_file=data.get("evidence_file"),
                scope=data["scope"] or [ConsentScope.BASIC],
                request=request,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已登记监护人同意，结对已生效"))
            return redirect("pairing:pairing_detail", pk=pairing.pk)
    pairing.refresh_from_db()
    return _render_staff_detail(request, pairing, consent_form=form, status=400)


@access(*STAFF)
def consent_evidence_view(request: HttpRequest, pk: int) -> FileResponse:
    """The guardian-consent evidence file, served only to staff whose scope holds the pairing
    (never from a public media URL); each view is audited."""
    consent = get_visible(
        GuardianConsent.objects.filter(pairing__in=pairings_visible_to(request.user)).select_related(
            "pairing__child", "pairing__village"
        ),
        pk,
    )
    if not consent.evidence_file:
        raise Http404(_("该同意记录没有附件"))
    try:
        handle = consent.evidence_file.open("rb")
    except OSError as exc:
        raise Http404(_("附件文件不存在")) from exc
    pairing = consent.pairing
    audit_log(
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="consent_evidence",
        object_id=consent.pk,
        region=pairing.village,
        summary=_("查看监护人同意附件：儿童%(c)s，监护人%(g)s")
        % {"c": pairing.child.name, "g": consent.guardian_name},
        details={"pairing_id": pairing.pk},
        request=request,
    )
    content_type = content_type_for(consent.evidence_file.name)
    response = FileResponse(handle, content_type=content_type or "application/octet-stream")
    ext = extension_of(consent.evidence_file.name) or "bin"
    disposition = "inline" if content_type else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="consent-{consent.pk}.{ext}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@access(*ADMINS)
@require_POST
def end_view(request: HttpRequest, pk: int) -> HttpResponse:
    pairing = get_pairing_for_user(request.user, pk)
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.pairing_end(
                actor=request.user,
                pairing_id=pairing.pk,
                reason=form.cleaned_data["reason"],
                end_date=form.cleaned_data.get("end_date"),
                request=request,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已解除结对"))
            return redirect("pairing:pairing_detail", pk=pairing.pk)
    pairing.refresh_from_db()
    return _render_staff_detail(request, pairing, end_form=form, status=400)


@access(*ADMINS)
@require_POST
def consent_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """监护人撤回同意 (R-12.5): ends the pairing at once; the reason is required."""
    pairing = get_pairing_for_user(request.user, pk)
    form = WithdrawConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_withdraw(
                actor=request.user, pairing_id=pairing.pk, reason=form.cleaned_data["reason"], request=request
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已登记监护人撤回同意，结对已解除"))
            return redirect("pairing:pairing_detail", pk=pairing.pk)
    pairing.refresh_from_db()
    return _render_staff_detail(request, pairing, withdraw_form=form, status=400)


@access(*ADMINS)
@require_POST
def cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    pairing = get_pairing_for_user(request.user, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写撤销结对的原因"))
        return redirect("pairing:pairing_detail", pk=pairing.pk)
    try:
        services.pairing_cancel(
            actor=request.user, pairing_id=pairing.pk, reason=form.cleaned_data["reason"], request=request
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已撤销结对提议"))
    return redirect("pairing:pairing_detail", pk=pairing.pk)


def _ledger_filters(request: HttpRequest) -> dict[str, Any]:
    return {
        "region": region_for_filter(request.user, request.GET.get("region")),
        "status": request.GET.get("status", ""),
        "tier": request.GET.get("tier", ""),
        "q": request.GET.get("q", ""),
    }


@access(*STAFF)
def ledger_view(request: HttpRequest) -> HttpResponse:
    filters = _ledger_filters(request)
    if request.GET.get("region") and filters["region"] is None:
        qs = pairing_list(request.user).none()
    else:
        qs = pairing_list(request.user, **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for p in page.object_list:
        p.child_age = age_on(p.child.birth_date, today)
    return render(
        request,
        "pairing/ledger.html",
        {
            "page_obj": page,
            "filters": {k: (v.code if k == "region" and v else v) for k, v in filters.items()},
            "regions": region_choices_for(request.user, levels=(RegionLevel.DISTRICT, RegionLevel.TOWN)),
            "statuses": PairingStatus.choices,
            "tiers": CareTier.choices,
            "querystring": request.GET.urlencode(),
            "querystring_without_page": _querystring_without_page(request),
            "unpaired_count": children_needing_pairing(request.user).count(),
            "may_share_back": may_manage(request.user),
        },
    )


@access(*STAFF)
def ledger_export_view(request: HttpRequest) -> HttpResponse:
    filters = _ledger_filters(request)
    back = reverse("pairing:ledger") + (f"?{request.GET.urlencode()}" if request.GET else "")
    export = export_begin(request, kind="pairing_ledger", back_url=back)
    if isinstance(export, HttpResponse):
        return export  # the archive-password form
    if request.GET.get("region") and filters["region"] is None:
        qs = pairing_list(request.user).none()
    else:
        qs = pairing_list(request.user, **filters)
    qs = qs.select_related("volunteer").prefetch_related("consents")
    rows = list(ledger_rows(qs, today=export.at.date()))
    content = workbook_bytes(
        title=_("结对台账"), headers=LEDGER_HEADERS, rows=rows, watermark=export.watermark
    )
    return export.download(
        content,
        rows=len(rows),
        filename="结对台账",
        ascii_name="pairings",
        object_type="pairing",
        summary=_("导出结对台账%(n)s条") % {"n": len(rows)},
        filters={k: request.GET.get(k, "") for k in ("region", "status", "tier", "q")},
    )


@access(*ADMINS)
def status_export_view(request: HttpRequest) -> HttpResponse:
    """结对状态（共享民政） (R-4.6): every child in the register in the administrator's scope
    with the full ID number, for civil affairs to match on; the export is audited with its
    row count."""
    user = request_user(request)
    export = export_begin(request, kind="pairing_status", back_url=reverse("pairing:ledger"))
    if isinstance(export, HttpResponse):
        return export  # the archive-password form
    content, count = streamed_workbook_bytes(
        title=STATUS_TITLE,
        headers=STATUS_HEADERS,
        rows=pairing_status_rows(user),
        watermark=export.watermark,
        widths=STATUS_WIDTHS,
        text_columns=(STATUS_HEADERS.index("身份证号"),),
    )
    return export.download(
        content,
        rows=count,
        filename="结对状态_共享民政",
        ascii_name="pairing-status",
        object_type="pairing_status",
        summary=_("导出结对状态（共享民政）%(n)s条，含完整身份证号") % {"n": count},
        details={"full_id_numbers": True},
    )


@access(*STAFF)
def unpaired_view(request: HttpRequest) -> HttpResponse:
    """Children who still need a loving mother (no proposal, consent or active pairing)."""
    qs = children_needing_pairing(request.user)
    region = region_for_filter(request.user, request.GET.get("region"))
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    qs = qs.order_by(
        "-is_scattered_orphan",
        "-is_de_facto_unsupported",
        "care_tier",
        "district_id",
        "town_id",
        "region_id",
        "name_pinyin",
        "pk",
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for c in page.object_list:
        c.age = age_on(c.birth_date, today)
        c.categories = child_categories(c)
    return render(
        request,
        "pairing/unpaired.html",
        {
            "page_obj": page,
            "regions": region_choices_for(request.user, levels=(RegionLevel.DISTRICT, RegionLevel.TOWN)),
            "region_code": region.code if region else "",
            "may_manage": may_manage(request.user),
            "querystring_without_page": _querystring_without_page(request),
        },
    )
