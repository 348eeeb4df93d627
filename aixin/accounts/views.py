from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from aixin.accounts import lockout, selectors, services, signin, totp
from aixin.accounts.access import ANY_ROLE, access, get_user_for_user, public, request_user
from aixin.accounts.forms import (
    LoginForm,
    NewPasswordForm,
    OtpForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from aixin.accounts.models import Role, User
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import DomainError

PAGE_SIZE = 50


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        step = totp.second_factor_step(user)
        if step is None:
            return signin.complete_login(
                self.request,
                user,
                backend=getattr(user, "backend", None),
                next_url=self.get_redirect_url(),
                otp_verified=False,
            )
        # Half signed in: nothing behind @access opens until the code passes.
        signin.start_pending(self.request, user, next_url=self.get_redirect_url())
        return redirect("accounts:otp_verify" if step == "verify" else "accounts:otp_enrol")

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        locked = any(e.code == "locked" for e in form.non_field_errors().as_data())
        audit_log(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            request=self.request,
            summary=(_("登录被拒绝（已锁定）：%(u)s") if locked else _("登录失败：%(u)s"))
            % {"u": form.data.get("username", "")[:50]},
        )
        return super().form_invalid(form)


login_view = public(LoginView.as_view())


def _start_over(request: HttpRequest, message: str, *, status: int = 200) -> HttpResponse:
    """The second-factor pages without a pending log-in (expired, locked, or opened directly)."""
    signin.clear_pending(request)
    return render(request, "accounts/otp_start_over.html", {"message": message}, status=status)


@public
@never_cache
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Second half of the log-in: the code from the user's authenticator."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    pending = signin.pending_user(request)
    if pending is None:
        return _start_over(request, _("登录已超时或尚未输入密码，请重新登录。"))
    user, data = pending
    device = totp.confirmed_device(user)
    if device is None:
        return redirect("accounts:otp_enrol")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = lockout.client_ip(request)
        refused = lockout.refusal(username=user.get_username(), ip=ip)
        if refused:
            lockout.record_refused(username=user.get_username(), ip=ip, stage="totp")
            return _start_over(request, refused)
        if totp.device_use(device=device, code=form.cleaned_data["code"]):
            return signin.complete_login(
                request, user, backend=data.get("backend"), next_url=data.get("next", ""), otp_verified=True
            )
        audit_log(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            request=request,
            object_type="user",
            object_id=user.pk,
            summary=_("动态验证码错误：%(u)s") % {"u": user.get_username()},
        )
        locked = lockout.record_failure(username=user.get_username(), ip=ip, stage="totp", request=request)
        if locked:
            return _start_over(request, locked)
        form.add_error("code", _("动态验证码不正确或已使用过，请输入验证器应用中当前显示的 6 位数字"))
    return render(request, "accounts/otp_verify.html", {"form": form, "pending_user": user})


def _enrol(
    request: HttpRequest, user: User, *, done: Callable[[], HttpResponse], template_extra: dict[str, object]
) -> HttpResponse:
    device = totp.pending_device(user)
    secret = totp.secret_of(device)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if totp.device_confirm(user=user, code=form.cleaned_data["code"], request=request):
            return done()
        ip = lockout.client_ip(request)
        audit_log(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            request=request,
            object_type="user",
            object_id=user.pk,
            summary=_("绑定动态验证码时验证码错误：%(u)s") % {"u": user.get_username()},
        )
        if not request.user.is_authenticated:
            # Only the half-signed-in enrolment counts toward the lockout; a signed-in user
            # setting up an authenticator is not guessing anything.
            locked = lockout.record_failure(
                username=user.get_username(), ip=ip, stage="totp", request=request
            )
            if locked:
                return _start_over(request, locked)
        form.add_error("code", _("验证码不正确，请确认密钥输入无误、手机时间准确，再输入当前显示的 6 位数字"))
    context = {
        "form": form,
        "secret_grouped": totp.grouped(secret),
        "otpauth_uri": totp.provisioning_uri(user, secret),
        "issuer": totp.ISSUER,
        "account": user.get_username(),
        **template_extra,
    }
    return render(request, "accounts/otp_enrol.html", context)


@public
@never_cache
def otp_enrol(request: HttpRequest) -> HttpResponse:
    """First log-in of a role that needs a second factor: set up an authenticator, then log in."""
    if request.user.is_authenticated:
        return redirect("accounts:otp_setup")
    pending = signin.pending_user(request)
    if pending is None:
        return _start_over(request, _("登录已超时或尚未输入密码，请重新登录。"))
    user, data = pending
    if totp.confirmed_device(user) is not None:
        return redirect("accounts:otp_verify")
    ip = lockout.client_ip(request)
    refused = lockout.refusal(username=user.get_username(), ip=ip)
    if refused:
        return _start_over(request, refused)

    def done() -> HttpResponse:
        return signin.complete_login(
            request, user, backend=data.get("backend"), next_url=data.get("next", ""), otp_verified=True
        )

    return _enrol(request, user, done=done, template_extra={"required": True})


@access(*ANY_ROLE)
@never_cache
def otp_setup(request: HttpRequest) -> HttpResponse:
    """For a signed-in user (a loving mother who wants one): set up an authenticator."""
    user = request_user(request)
    if totp.confirmed_device(user) is not None:
        return render(request, "accounts/otp_status.html", {"required": totp.required_for(user)})

    def done() -> HttpResponse:
        request.session[totp.OTP_VERIFIED_KEY] = True
        messages.success(request, _("动态验证码已绑定，以后登录时需要输入验证器中的 6 位数字"))
        return redirect("accounts:home")

    return _enrol(request, user, done=done, template_extra={"required": False})


@access(*ANY_ROLE)
@never_cache
def password_change_view(request: HttpRequest) -> HttpResponse:
    """Change one's own password; every page leads here while the password is a temporary one."""
    user = request_user(request)
    form = NewPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        signin.password_change(request=request, user=user, new_password=form.cleaned_data["new_password1"])
        messages.success(request, _("密码已修改"))
        return redirect("accounts:home")
    return render(
        request, "accounts/password_change.html", {"form": form, "forced": user.must_change_password}
    )


@access(*ANY_ROLE)
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import logout

    audit_log(actor=request.user, action=AuditAction.LOGOUT, request=request, summary="退出登录")
    logout(request)
    return redirect("accounts:login")


@access(*ANY_ROLE)
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own home page."""
    role = request_user(request).role
    if role == Role.VOLUNTEER:
        return redirect("care:my_children")
    if role == Role.DEPARTMENT_LIAISON:
        return redirect("cases:liaison_inbox")
    if role == Role.TASKFORCE_MEMBER:
        return redirect("taskforces:mine")
    if role == Role.SECURITY_ADMIN:
        return redirect("accounts:user_list")
    if role == Role.AUDIT_ADMIN:
        return redirect("audit:event_list")
    if role == Role.SYSTEM_ADMIN:
        return redirect("accounts:system_status")
    if role == Role.EVALUATOR:
        return redirect("evaluation:overview")
    return redirect("dashboard:overview")


# The security administrator (安全管理员): accounts, roles, locks, second factors. Nobody else
# uses these pages, the city admin included (三权分立).


@access(Role.SECURITY_ADMIN)
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    form = UserFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    users = selectors.user_list(user=request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/user_list.html",
        {
            "form": form,
            "page_obj": page,
            "accounts": page.object_list,
            "querystring_without_page": query.urlencode(),
        },
    )


@access(Role.SECURITY_ADMIN)
@never_cache
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = services.user_create(
                actor=request_user(request),
                username=data["username"],
                role=data["role"],
                region_code=data["region"],
                display_name=data["display_name"],
                department=data["department"],
                request=request,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            # The temporary password is in this response only: never in messages (kept in the
            # session), never cached.
            response = render(request, "accounts/user_created.html", {"account": user, "password": password})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "accounts/user_form.html", {"form": form, "creating": True})


@access(Role.SECURITY_ADMIN)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_user_for_user(request.user, pk)
    initial = {
        "role": account.role,
        "region": account.region.code,
        "department": account.department,
        "display_name": account.display_name,
        "is_active": account.is_active,
    }
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.user_update(
                actor=request_user(request),
                user_id=account.pk,
                role=data["role"],
                region_code=data["region"],
                department=data["department"],
                display_name=data["display_name"],
                is_active=data["is_active"],
                request=request,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已保存用户 %(u)s 的修改") % {"u": account.get_username()})
            return redirect("accounts:user_list")
    return render(
        request,
        "accounts/user_form.html",
        {
            "form": form,
            "creating": False,
            "account": account,
            "locked": services.is_locked(account),
            "totp_enrolled": totp.confirmed_device(account) is not None,
        },
    )


@access(Role.SECURITY_ADMIN)
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_user_for_user(request.user, pk)
    ended = services.user_unlock(actor=request_user(request), user_id=account.pk, request=request)
    if ended:
        messages.success(request, _("已解除 %(u)s 的登录锁定") % {"u": account.get_username()})
    else:
        messages.info(request, _("%(u)s 当前未被锁定；已清零登录失败次数") % {"u": account.get_username()})
    return redirect("accounts:user_edit", pk=account.pk)


@access(Role.SECURITY_ADMIN)
@require_POST
def user_reset_totp(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_user_for_user(request.user, pk)
    if services.user_reset_totp(actor=request_user(request), user_id=account.pk, request=request):
        messages.success(
            request,
            _("已重置 %(u)s 的动态验证码：下次登录时需重新绑定验证器") % {"u": account.get_username()},
        )
    else:
        messages.info(request, _("%(u)s 尚未绑定动态验证码，无需重置") % {"u": account.get_username()})
    return redirect("accounts:user_edit", pk=account.pk)


# The system administrator (系统管理员): the state of the installation, no personal data.


@access(Role.SYSTEM_ADMIN)
@require_GET
def system_status(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/system_status.html", {"status": selectors.system_status()})


__all__ = [
    "home",
    "login_view",
    "logout_view",
    "method_decorator",
    "otp_enrol",
    "otp_setup",
    "otp_verify",
    "password_change_view",
    "system_status",
    "user_create",
    "user_edit",
    "user_list",
    "user_reset_totp",
    "user_unlock",
]
