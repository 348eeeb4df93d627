"""Response headers that Django's SecurityMiddleware does not set (R-12.4, issue 6).

Content-Security-Policy: everything from our own origin only, no inline script or style, no
eval. Templates therefore hold no `<script>` without `src`, no `on...=` handler and no `style=`
attribute: behaviour lives in aixin/static/*.js (wired up by data-* attributes), data for the
scripts in `json_script` elements (type application/json, never executed), looks in .css files.
htmx is told not to inject its indicator styles (the htmx-config meta tag in base.html), and
ECharts draws on a canvas, its tooltips included (app.js sets `renderMode: "richText"`).
`img-src` admits `data:` and `blob:` for the previews and the charts' "save as image".

Permissions-Policy switches off the browser features no page uses. Cross-Origin-Opener-Policy
comes from Django's SecurityMiddleware (SECURE_CROSS_ORIGIN_OPENER_POLICY, "same-origin").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    )
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


class SecurityHeadersMiddleware:
    """Adds the policy headers to every response (pages, API, downloads, errors, static files)
    unless a view has set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RejectNulBytesMiddleware:
    """A NUL byte in a query string or form value is refused with 400 before any view runs:
    PostgreSQL cannot store or compare it (a 500 otherwise, found by the SQL-injection probe),
    and no legitimate input contains one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul_in_form(request)):
            return HttpResponseBadRequest("请求中含有不允许的控制字符（NUL），已拒绝。".encode())
        return self.get_response(request)


def _has_nul(params: Any) -> bool:
    return any("\x00" in key or any("\x00" in v for v in params.getlist(key)) for key in params)


def _has_nul_in_form(request: HttpRequest) -> bool:
    # Only plain forms: a multipart body must be parsed by the view's own upload handlers (size
    # limits), and JSON bodies by the API's schemas.
    if not request.META.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return False
    return _has_nul(request.POST)
