from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from aixin.accounts import lockout
from aixin.accounts.models import Department, Role


class LoginForm(AuthenticationForm):
    """Username and password, refused before the password is even checked while the name or the
    address is locked (aixin.accounts.lockout)."""

    error_messages = {
        "invalid_login": _("用户名或密码不正确，请重新输入。"),
        "inactive": _("该账户已停用，请联系管理员。"),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        ip = lockout.client_ip(self.request)
        refused = lockout.refusal(username=username, ip=ip)
        if refused:
            lockout.record_refused(username=username, ip=ip)
            raise ValidationError(refused, code="locked")
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            locked = lockout.record_failure(username=username, ip=ip, request=self.request)
            if locked:
                raise ValidationError(locked, code="locked")
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class OtpForm(forms.Form):
    code = forms.CharField(
        label=_("动态验证码"),
        max_length=7,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].replace(" ", "").strip()
        if not (len(code) == 6 and code.isdigit()):
            raise ValidationError(_("请输入验证器应用中显示的 6 位数字"), code="format")
        return code


class NewPasswordForm(PasswordChangeForm):
    """The old password, then a new one twice; the password policy applies, and the new one must
    differ from the old."""

    error_messages = {
        "password_mismatch": _("两次输入的新密码不一致"),
        "password_incorrect": _("原密码不正确，请重新输入"),
        "password_unchanged": _("新密码不能与原密码相同"),
    }

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = _("原密码")
        self.fields["new_password1"].label = _("新密码")
        self.fields["new_password2"].label = _("再次输入新密码")
        self.fields["new_password2"].help_text = ""

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or self.cleaned_data
        new = cleaned.get("new_password1")
        if new and not self.has_error("new_password2") and self.user.check_password(new):
            self.add_error("new_password1", ValidationError(self.error_messages["password_unchanged"]))
        return cleaned


# The security administrator's account pages (安全管理员).


def _role_choices() -> list[tuple[str, str]]:
    return [(str(r.value), str(r.label)) for r in Role]


def _department_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((str(d.value), str(d.label)) for d in Department)]


class UserFilterForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), required=False)
    region = forms.CharField(label=_("区划代码"), required=False, max_length=20)
    active = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), ("1", _("启用")), ("0", _("停用"))]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("全部")), *_role_choices()]  # type: ignore[attr-defined]


class UserForm(forms.Form):
    """Role, region (by code), department (liaisons only), name; the service checks the rest."""

    role = forms.ChoiceField(label=_("角色"))
    region = forms.CharField(
        label=_("所属区划代码"),
        max_length=20,
        help_text=_("例如 500000（全市）、500101（万州区）；角色须设在相应层级"),
    )
    department = forms.ChoiceField(label=_("所属部门"), required=False, help_text=_("仅部门联络员填写"))
    display_name = forms.CharField(label=_("姓名"), max_length=50, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices()  # type: ignore[attr-defined]
        self.fields["department"].choices = _department_choices()  # type: ignore[attr-defined]


class UserCreateForm(UserForm):
    username = forms.CharField(label=_("用户名"), max_length=150)
    field_order = ["username", "display_name", "role", "region", "department"]


class UserEditForm(UserForm):
    is_active = forms.BooleanField(label=_("启用"), required=False, help_text=_("停用后该用户立即被退出登录"))
