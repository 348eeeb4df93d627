"""The audit-log browser (R-1.3): read-only — the audit administrator all of it, city and
district admins their scope's — and the hash chain's verdict for the audit administrator."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aixin.accounts.access import AUDIT_READERS, access
from aixin.accounts.models import Role
from aixin.audit.chain import verify
from aixin.audit.forms import AuditFilterForm
from aixin.audit.selectors import audit_event_list, audit_object_types

PAGE_SIZE = 50


@access(*AUDIT_READERS)
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


@access(Role.AUDIT_ADMIN)
@require_GET
def chain_status(request: HttpRequest) -> HttpResponse:
    """Whether the audit log is intact: `chain.verify()`'s verdict and the count of sealed events."""
    return render(request, "audit/chain_status.html", {"verdict": verify()})
