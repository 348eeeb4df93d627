"""Routine-care pages: the loving mother's phone pages (my children, checklist, record) and the
staff's record list and detail. Thin: parse, call a service or selector, render."""

from __future__ import annotations

import datetime
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
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
    STAFF,
    access,
    care_records_visible_to,
    children_visible_to,
    get_care_record_for_user,
    get_pairing_for_user,
    pairings_visible_to,
    regions_visible_to,
)
from aixin.accounts.models import Role, User
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.care import selectors
from aixin.care.forms import CareRecordForm, CommentForm, RecordFilterForm
from aixin.care.models import CareKind, CareService
from aixin.care.services import (
    FESTIVAL_RULE_CODE,
    care_record_acknowledge,
    care_record_comment,
    care_record_create,
)
from aixin.lib.errors import DomainError
from aixin.lib.uploads import content_type_for, extension_of
from aixin.pairing.models import OPEN_STATUSES, PairingStatus
from aixin.registry.models import Child

NEED_FIELDS = ("difficulty_life", "difficulty_study", "difficulty_physical", "difficulty_mental")
INACTIVE_SHOWN = 50


def _user(request: HttpRequest) -> User:
    """The signed-in user (@access admits no anonymous request)."""
    return cast(User, request.user)


def _age(birth: datetime.date, today: datetime.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _needs(child: Child) -> list[str]:
    return [
        str(getattr(Child._meta.get_field(name), "verbose_name", name))
        for name in NEED_FIELDS
        if getattr(child, name)
    ]


def _inactivity_badge(days: int) -> tuple[str, str] | None:
    """The real number of days without contact, coloured by the thresholds it has passed."""
    long_days, short_days = max(settings.AIXIN_INACTIVITY_DAYS), min(settings.AIXIN_INACTIVITY_DAYS)
    if days >= long_days:
        return "overdue", _("%(n)s天未联系") % {"n": days}
    if days >= short_days:
        return "due", _("%(n)s天未联系") % {"n": days}
    return None


# ---------------------------------------------------------------------------------------------
# The loving mother's pages


@access(Role.VOLUNTEER)
def my_children(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    pairings = list(
        pairings_visible_to(_user(request))
        .filter(status=PairingStatus.ACTIVE)
        .select_related("child", "village")
        .order_by("child__name_pinyin", "pk")
    )
    checklists = selectors.checklists_for_pairings(pairings, today=today)
    rows = []
    for p in pairings:
        days = selectors.days_without_contact(p.child, p, today=today)
        rows.append(
            {
                "pairing": p,
                "child": p.child,
                "age": _age(p.child.birth_date, today),
                "counts": selectors.count_statuses(checklists[p.pk]),
                "badge": _inactivity_badge(days),
            }
        )
    proposals: list[Any] = []
    try:
        from aixin.pairing.selectors import pending_proposals_for

        proposals = list(pending_proposals_for(_user(request)))
    except (ImportError, AttributeError):
        proposals = []
    return render(request, "care/my_children.html", {"rows": rows, "proposals": proposals, "today": today})


def _child_facts(child: Child, today: datetime.date) -> dict[str, Any]:
    from aixin.registry.derive import reveal_guardian_phone

    guardian = child.guardians.order_by("-is_primary", "id").first()
    phone = ""
    if guardian is not None and guardian.phone_encrypted:
        phone = reveal_guardian_phone(guardian)
    return {
        "age": _age(child.birth_date, today),
        "guardian": guardian,
        "guardian_phone": phone,
        "needs": _needs(child),
    }


def _open_pairing_for(request: HttpRequest, pairing_pk: int) -> Any:
    """The pairing, as the user may see it; a loving mother only while it is open — once it
    ended (or the guardian withdrew consent) the child is no longer hers to see."""
    pairing = get_pairing_for_user(_user(request), pairing_pk)
    if _user(request).role == Role.VOLUNTEER and pairing.status not in OPEN_STATUSES:
        raise Http404("结对已结束")
    return pairing


@access(Role.VOLUNTEER, *ADMINS)
def checklist(request: HttpRequest, pairing_pk: int) -> HttpResponse:
    today = timezone.localdate()
    pairing = _open_pairing_for(request, pairing_pk)
    child = pairing.child
    items = selectors.checklist_for_pairing(pairing, today=today)
    audit_log(
        actor=_user(request),
        action=AuditAction.VIEW,
        object_type="child",
        object_id=child.pk,
        region=pairing.village,
        summary=f"查看关爱清单：{child.name}",
        request=request,
    )
    recent = care_records_visible_to(_user(request)).filter(pairing=pairing).order_by("-date", "-id")[:5]
    return render(
        request,
        "care/checklist.html",
        {
            "pairing": pairing,
            "child": child,
            "items": items,
            "recent": recent,
            "counts": selectors.count_statuses(items),
            "active": pairing.status == PairingStatus.ACTIVE,
            "saved": request.GET.get("saved") == "1",
            **_child_facts(child, today),
        },
    )


def _initial_kind(rules: list[Any], code: str | None) -> str:
    for rule in rules:
        if rule.code == code and rule.default_kinds:
            return str(rule.default_kinds[0])
    return CareKind.PHONE


@access(Role.VOLUNTEER, *ADMINS)
def record_create(request: HttpRequest, pairing_pk: int) -> HttpResponse:
    today = timezone.localdate()
    pairing = _open_pairing_for(request, pairing_pk)
    if pairing.status != PairingStatus.ACTIVE:
        messages.error(request, _("该结对当前不在结对中，不能记录关爱"))
        return redirect("care:checklist", pairing_pk=pairing.pk)
    rules = selectors.rules_for_tier(pairing.tier)
    festivals = selectors.festival_names()
    if request.method == "POST":
        form = CareRecordForm(request.POST, request.FILES, rules=rules, festivals=festivals)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record = care_record_create(
                    actor=_user(request),
                    pairing_id=pairing.pk,
                    date=data["date"],
                    kind=data["kind"],
                    rule_codes=data["rules"],
                    services=data["services"],
                    festival=data["festival"],
                    notes=data["notes"],
                    photo=data["photo"] or None,
                    request=request,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                names = "、".join(r.short_name for r in selectors.rules_of_mask(record.rules_mask, rules))
                messages.success(request, _("已保存关爱记录：%(rules)s 已完成") % {"rules": names})
                return redirect(reverse("care:checklist", args=[pairing.pk]) + "?saved=1")
    else:
        code = request.GET.get("rule")
        checked = [code] if code and any(r.code == code for r in rules) else []
        form = CareRecordForm(
            initial={"date": today, "kind": _initial_kind(rules, code), "rules": checked},
            rules=rules,
            festivals=festivals,
        )
    return render(
        request,
        "care/record_form.html",
        {
            "form": form,
            "pairing": pairing,
            "child": pairing.child,
            "today": today,
            "festival_rule": FESTIVAL_RULE_CODE,
            "max_date": today.isoformat(),
        },
    )


# ---------------------------------------------------------------------------------------------
# Staff pages


def _filter_regions(user: Any) -> list[tuple[str, str]]:
    level = user.region.level
    top = max(3, level + 1)
    qs = regions_visible_to(user).filter(level__gte=max(level, 2), level__lte=top).order_by("path")
    return [(r.code, ("　" * (r.level - 2)) + r.name) for r in qs.only("code", "name", "level")]


@access(*STAFF)
def record_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rules = selectors.active_rules()
    form = RecordFilterForm(request.GET or None, rules=rules, regions=_filter_regions(_user(request)))
    records = care_records_visible_to(_user(request))
    if form.is_valid():
        data = form.cleaned_data
        region = (
            regions_visible_to(_user(request)).filter(code=data["region"]).first() if data["region"] else None
        )
        rule = next((r for r in rules if r.code == data["rule"]), None)
        records = selectors.care_records_matching(
            records,
            region=region,
            date_from=data["date_from"],
            date_to=data["date_to"],
            volunteer_name=data["volunteer"].strip(),
            rule=rule,
        )
    records = records.select_related("child", "volunteer", "village", "acknowledged_by").order_by(
        "-date", "-id"
    )
    page = Paginator(records, settings.AIXIN_PAGE_SIZE).get_page(request.GET.get("page"))
    for record in page.object_list:
        record.rule_names = [r.short_name for r in selectors.rules_of_mask(record.rules_mask, rules)]
    children = children_visible_to(_user(request))
    short_days, long_days = min(settings.AIXIN_INACTIVITY_DAYS), max(settings.AIXIN_INACTIVITY_DAYS)
    long_qs = selectors.inactive_children(children, days=long_days, today=today).select_related("region")
    short_qs = (
        selectors.inactive_children(children, days=short_days, today=today)
        .filter(last_contact_on__gte=today - datetime.timedelta(days=long_days))
        .select_related("region")
    )
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "care/record_list.html",
        {
            "form": form,
            "page_obj": page,
            "records": page.object_list,
            "querystring_without_page": urlencode(query),
            "inactive_long": list(long_qs[:INACTIVE_SHOWN]),
            "inactive_long_count": long_qs.count(),
            "inactive_short": list(short_qs[:INACTIVE_SHOWN]),
            "inactive_short_count": short_qs.count(),
            "short_days": short_days,
            "long_days": long_days,
            "today": today,
        },
    )


@access(*STAFF, Role.VOLUNTEER)
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_care_record_for_user(_user(request), pk)
    rules = selectors.active_rules()
    audit_log(
        actor=_user(request),
        action=AuditAction.VIEW,
        object_type="care_record",
        object_id=record.pk,
        region=record.village,
        summary=f"查看关爱记录：{record.child.name} {record.date.isoformat()}",
        request=request,
    )
    service_labels = dict(CareService.choices)
    return render(
        request,
        "care/record_detail.html",
        {
            "record": record,
            "child": record.child,
            "rule_names": [r.name for r in selectors.rules_of_mask(record.rules_mask, rules)],
            "services": [service_labels.get(s, s) for s in record.services],
            "comments": record.comments.select_related("author"),
            "may_comment": _user(request).role in STAFF,
            "form": CommentForm(),
        },
    )


@access(*STAFF, Role.VOLUNTEER)
def record_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A care record's photo, for the mother who took it and staff in scope (404 otherwise):
    served through this view, never from a public media URL; each view is audited."""
    record = get_care_record_for_user(_user(request), pk)
    if not record.photo:
        raise Http404(_("该关爱记录没有照片"))
    try:
        handle = record.photo.open("rb")
    except OSError as exc:
        raise Http404(_("照片文件不存在")) from exc
    audit_log(
        actor=_user(request),
        action=AuditAction.VIEW,
        object_type="care_photo",
        object_id=record.pk,
        region=record.village,
        summary=f"查看关爱照片：{record.child.name} {record.date.isoformat()}",
        request=request,
    )
    content_type = content_type_for(record.photo.name)
    response = FileResponse(handle, content_type=content_type or "application/octet-stream")
    ext = extension_of(record.photo.name) or "bin"
    disposition = "inline" if content_type else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="care-{record.pk}.{ext}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@access(*STAFF)
@require_POST
def record_comment(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_care_record_for_user(_user(request), pk)
    form = CommentForm(request.POST)
    text = form.data.get("text", "").strip()
    acknowledge = "acknowledge" in request.POST
    if not text and not acknowledge:
        messages.error(request, _("点评内容不能为空"))
        return redirect("care:record_detail", pk=record.pk)
    try:
        if text:
            care_record_comment(actor=_user(request), record_id=record.pk, text=text, request=request)
            messages.success(request, _("点评已发布"))
        if acknowledge:
            care_record_acknowledge(actor=_user(request), record_id=record.pk, request=request)
            messages.success(request, _("已标记为已阅"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("care:record_detail", pk=record.pk)


__all__ = [
    "checklist",
    "my_children",
    "record_comment",
    "record_create",
    "record_detail",
    "record_list",
    "record_photo",
]
