"""Deny by default: a page that does not declare its access is refused, not open. And the
authentication policy every signed-in request passes first (等保 level 3, 身份鉴别)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from aixin.accounts import signin, totp
from aixin.accounts.access import declared_access
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log


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


class AuthenticationPolicyMiddleware:
    """For a session-authenticated user, before any view runs:

    1. a role that needs a second factor (AIXIN_TOTP_ENFORCED) without `aixin_otp_verified` in
       its session is signed out: such a session never passed the code;
    2. after too long without a request (signin.idle_limit_seconds) the user is signed out with
       "长时间未操作，已自动退出，请重新登录";
    3. while `must_change_password` is set, every page but the change-password page and log-out
       leads to the change-password page (the API answers 403).

    API token requests are authenticated later, by the API itself, and pass untouched: tokens
    are issued to a user after a full log-in.
    Place after AuthenticationMiddleware and MessageMiddleware, before AccessDeclaredMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            if totp.required_for(user) and not request.session.get(totp.OTP_VERIFIED_KEY):
                logout(request)
            else:
                idle = signin.idle_seconds(request)
                if idle is not None and idle > signin.idle_limit_seconds(user):
                    audit_log(
                        actor=user,
                        action=AuditAction.LOGOUT,
                        request=request,
                        summary=_("长时间未操作，自动退出（%(m)d 分钟）") % {"m": idle // 60},
                    )
                    logout(request)
                    messages.info(request, _("长时间未操作，已自动退出，请重新登录"))
                else:
                    signin.touch(request)
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        if not (user.is_authenticated and getattr(user, "must_change_password", False)):
            return None
        spec = declared_access(view_func)
        if spec is None or spec.public:
            return None
        from aixin.accounts import views

        if view_func in (views.password_change_view, views.logout_view):
            return None
        message = _("请先修改初始密码，再继续使用")
        if spec.delegated:
            return JsonResponse({"detail": message, "code": "password_change_required"}, status=403)
        return redirect("accounts:password_change")
