"""The JSON API under /api/v1/ (django-ninja). Each app contributes a ScopedRouter; every
operation declares its access and reads through the scoping selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from aixin.accounts.access import AccessSpec
from aixin.accounts.api_auth import StaffSessionAuth, TokenAuth
from aixin.lib.errors import DomainError

api = NinjaAPI(
    title="爱心 Aixin API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), StaffSessionAuth()],
    docs_url=None,  # the interactive docs load scripts from a CDN; deployments are offline
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(
        request, {"detail": exc.message, "code": exc.code, "field": exc.field}, status=exc.status
    )


def _register() -> None:
    from aixin.care.api import router as care_router
    from aixin.dashboard.api import router as stats_router
    from aixin.pairing.api import router as pairing_router
    from aixin.regions.api import router as regions_router
    from aixin.registry.api import router as registry_router
    from aixin.volunteers.api import router as volunteers_router

    api.add_router("/regions", regions_router)
    api.add_router("/children", registry_router)
    api.add_router("/volunteers", volunteers_router)
    api.add_router("/pairings", pairing_router)
    api.add_router("/", care_router)
    api.add_router("/stats", stats_router)


_register()


def api_urls() -> Any:
    """The API's URL patterns, each marked: operations are checked by ScopedRouter, the OpenAPI
    schema (no data in it) is public."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        name = getattr(pattern, "name", "") or ""
        spec = AccessSpec(roles=frozenset(), public=True) if name == "openapi-json" else AccessSpec(
            roles=frozenset(), delegated=True
        )
        pattern.callback.aixin_access = spec
    return patterns, app_name, namespace
