"""The system administrator's pages for the push API's department credentials (technical
integration work: 三权分立, issue 6 §2 — no longer the city administrator's): list, create
(the secret is shown once, in that response only) and revoke (after a confirmation page)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aixin.accounts.access import access, department_credentials_visible_to, get_visible, request_user
from aixin.accounts.models import Role
from aixin.ingest import credentials, signing
from aixin.ingest.models import SOURCE_CHOICES, DepartmentCredential
from aixin.lib.errors import DomainError
from aixin.regions.models import Region, RegionLevel

if TYPE_CHECKING:
    RegionChoiceField = forms.ModelChoiceField[Region]
else:  # ModelChoiceField is not subscriptable at run time
    RegionChoiceField = forms.ModelChoiceField


class ScopeChoiceField(RegionChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return credentials.scope_label(obj)


class CredentialForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=100,
        help_text=gettext_lazy("便于辨认的名称，例如“万州区教委学籍系统”"),
    )
    source = forms.ChoiceField(label=gettext_lazy("部门"), choices=SOURCE_CHOICES)
    region = ScopeChoiceField(
        label=gettext_lazy("数据范围"),
        queryset=Region.objects.none(),
        empty_label=None,
        help_text=gettext_lazy("全市，或一个区县：区县部门的凭据只能推送本区县的儿童，范围外的记录会被拒绝"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(ScopeChoiceField, self.fields["region"]).queryset = (
            Region.objects.current()
            .filter(level__in=(RegionLevel.CITY, RegionLevel.DISTRICT))
            .order_by("level", "sort_order", "code")
        )


def _absolute(request: HttpRequest, name: str) -> str:
    return request.build_absolute_uri(reverse(name))


def _endpoint(request: HttpRequest, source: str) -> str:
    try:
        return request.build_absolute_uri(reverse("api:ingest_push", kwargs={"source": source}))
    except NoReverseMatch:  # the push API is not mounted
        return request.build_absolute_uri(f"/api/v1/ingest/{source}")


@access(Role.SYSTEM_ADMIN)
def credential_list(request: HttpRequest) -> HttpResponse:
    rows = department_credentials_visible_to(request_user(request)).select_related(
        "region", "created_by", "revoked_by"
    )
    return render(request, "ingest/credentials_list.html", {"credentials": rows})


@access(Role.SYSTEM_ADMIN)
def credential_create(request: HttpRequest) -> HttpResponse:
    form = CredentialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            credential, secret = credentials.credential_create(
                actor=request_user(request),
                name=data["name"],
                source=data["source"],
                region=data["region"],
                request=request,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            # Shown once in this response only: never put into messages (kept in the session),
            # never cached.
            response = render(
                request,
                "ingest/credentials_created.html",
                {
                    "credential": credential,
                    "scope_label": credentials.scope_label(credential.region),
                    "secret": secret,
                    "endpoint": _endpoint(request, credential.source),
                    "headers": (signing.HEADER_KEY, signing.HEADER_TIMESTAMP, signing.HEADER_SIGNATURE),
                    "max_skew": signing.MAX_SKEW_SECONDS,
                    # The field documentation, to hand on with the key (public pages).
                    "docs_url": _absolute(request, "api:openapi-view"),
                    "openapi_url": _absolute(request, "api:openapi-json"),
                },
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "ingest/credentials_form.html", {"form": form})


@access(Role.SYSTEM_ADMIN)
def credential_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    credential: DepartmentCredential = get_visible(
        department_credentials_visible_to(request_user(request)).select_related("region"), pk
    )
    if request.method == "POST":
        try:
            credentials.credential_revoke(
                actor=request_user(request), credential_id=credential.pk, request=request
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("已吊销凭据“%(name)s”（%(key)s），该部门系统的推送将被拒绝")
                % {"name": credential.name, "key": credential.key_id},
            )
        return redirect("ingest_credentials:credential_list")
    return render(
        request,
        "ingest/credentials_revoke.html",
        {"credential": credential, "scope_label": credentials.scope_label(credential.region)},
    )
