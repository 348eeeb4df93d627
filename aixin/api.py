"""The JSON API under /api/v1/ (django-ninja). Each app contributes a ScopedRouter; every
operation declares its access and reads through the scoping selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from ninja import NinjaAPI

from aixin.accounts.access import AccessSpec, declare_access
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
    from aixin.cases.api import router as cases_router
    from aixin.dashboard.api import router as stats_router
    from aixin.ingest.api import router as ingest_router
    from aixin.notify.api import router as notify_router
    from aixin.pairing.api import router as pairing_router
    from aixin.regions.api import router as regions_router
    from aixin.registry.api import router as registry_router
    from aixin.taskforces.api import router as taskforces_router
    from aixin.volunteers.api import router as volunteers_router

    api.add_router("/regions", regions_router)
    api.add_router("/children", registry_router)
    api.add_router("/volunteers", volunteers_router)
    api.add_router("/pairings", pairing_router)
    api.add_router("/", care_router)
    api.add_router("/stats", stats_router)
    api.add_router("/ingest", ingest_router)
    api.add_router("/notifications", notify_router)
    api.add_router("/incidents", cases_router)
    api.add_router("/taskforces", taskforces_router)


_register()


# URL callbacks of the API that carry no records: the OpenAPI schema and ninja's root (a 404).
_OPEN_CALLBACKS = {"openapi-json", "api-root"}


def scoped_api_urls(ninja_api: NinjaAPI) -> Any:
    """The URL patterns of a ninja API, each marked for AccessDeclaredMiddleware: operations are
    checked one by one by ScopedRouter; the schema and the root carry no data and are public."""
    patterns, app_name, namespace = ninja_api.urls
    for pattern in patterns:
        assert isinstance(pattern, URLPattern), "a ninja API lists its operations as flat URL patterns"
        name = getattr(pattern, "name", "") or ""
        if name in _OPEN_CALLBACKS:
            declare_access(pattern.callback, AccessSpec(roles=frozenset(), public=True))
        else:
            declare_access(pattern.callback, AccessSpec(roles=frozenset(), delegated=True))
    return patterns, app_name, namespace


def api_urls() -> Any:
    return scoped_api_urls(api)
