"""The JSON API under /api/v1/ (django-ninja). Each app contributes a ScopedRouter; every
operation declares its access and reads through the scoping selectors."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.openapi.docs import DocsBase

from aixin.accounts.access import AccessSpec, declare_access
from aixin.accounts.api_auth import StaffSessionAuth, TokenAuth
from aixin.lib.errors import DomainError


class ServerRenderedDocs(DocsBase):
    """/api/v1/docs: the push API's documentation rendered on the server, an ordinary page of
    the site that loads nothing from elsewhere. ninja's interactive Swagger/Redoc pages load
    their scripts from a CDN and need inline styles, which offline deployments and the CSP
    (aixin/lib/security_headers.py) forbid; the schema itself is at /api/v1/openapi.json."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        from aixin.ingest.api import docs_page

        return docs_page(request)


api = NinjaAPI(
    title="爱心 Aixin API",
    version="1",
    description="部门数据推送（/api/v1/ingest/{source}，签名认证）与各角色的数据接口（个人接口令牌）。"
    "字段说明：/api/v1/docs",
    urls_namespace="api",
    auth=[TokenAuth(), StaffSessionAuth()],
    docs=ServerRenderedDocs(),
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(
        request, {"detail": exc.message, "code": exc.code, "field": exc.field}, status=exc.status
    )


@api.exception_handler(AuthenticationError)
def _not_signed_in(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {
            "detail": "未登录或接口令牌无效：请在请求头 Authorization 中带上个人接口令牌（Bearer …）。"
            "部门系统请以接口凭据签名访问 /api/v1/ingest/{source}（民政部门读取结对状态："
            "/api/v1/ingest/civil_affairs/pairings），说明见 /api/v1/docs",
            "code": "unauthenticated",
            "field": "Authorization",
        },
        status=401,
    )


# What pydantic says of a parameter, in Chinese (its error types); others by their message.
_INVALID = {
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "float_parsing": "应为数字",
    "missing": "不能为空",
    "string_type": "应为文字",
    "greater_than_equal": "太小",
    "less_than_equal": "太大",
}


@api.exception_handler(ValidationError)
def _invalid_parameters(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    said = []
    fields = []
    for error in exc.errors:
        where = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")]
        name = ".".join(where) or "请求"
        fields.append(".".join(where))
        said.append(f"{name} {_INVALID.get(str(error.get('type')), str(error.get('msg', '无效')))}")
    return api.create_response(
        request,
        {
            "detail": "参数有误：" + "；".join(said),
            "code": "invalid",
            "field": next((f for f in fields if f), None),
            "errors": exc.errors,
        },
        status=422,
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


# URL callbacks of the API that carry no records: the OpenAPI schema, its documentation page
# and ninja's root (a 404).
_OPEN_CALLBACKS = {"openapi-json", "openapi-view", "api-root"}


def scoped_api_urls(ninja_api: NinjaAPI) -> Any:
    """The URL patterns of a ninja API, each marked for AccessDeclaredMiddleware: operations are
    checked one by one by ScopedRouter; the schema, the docs and the root carry no data and are
    public."""
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
