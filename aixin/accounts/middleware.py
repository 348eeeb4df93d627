"""Deny by default: a page that does not declare its access is refused, not open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from aixin.accounts.access import declared_access


class AccessDeclaredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        spec = declared_access(view_func)
        if spec is None:
            return HttpResponseForbidden("该页面未声明访问范围，已拒绝访问。".encode())
        if spec.public or spec.delegated:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not spec.admits(request.user):
            from django.shortcuts import render

            return render(request, "403.html", status=403)
        return None
