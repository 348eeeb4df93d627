from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from aixin.accounts.access import EVERYONE, access, public, request_user
from aixin.accounts.forms import LoginForm
from aixin.accounts.models import Role
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        audit_log(actor=self.request.user, action=AuditAction.LOGIN, request=self.request, summary="登录成功")
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        audit_log(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            request=self.request,
            summary=f"登录失败：{form.data.get('username', '')[:50]}",
        )
        return super().form_invalid(form)


login_view = public(LoginView.as_view())


@access(*EVERYONE)
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import logout

    audit_log(actor=request.user, action=AuditAction.LOGOUT, request=request, summary="退出登录")
    logout(request)
    return redirect("accounts:login")


@access(*EVERYONE)
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own home page."""
    if request_user(request).role == Role.VOLUNTEER:
        return redirect("care:my_children")
    return redirect("dashboard:overview")


__all__ = ["home", "login_view", "logout_view", "method_decorator"]
