"""The steps of signing in, kept in the session: the half-signed-in state between the password and
the second factor, the completed log-in, the idle clock, and the forced password change."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from aixin.accounts import lockout
from aixin.accounts.models import Role, User
from aixin.accounts.totp import OTP_VERIFIED_KEY, PENDING_KEY
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log

LAST_ACTIVITY_KEY = "aixin_last_activity"
# The idle clock is written at most this often (a session save per request would be a write per
# request).
ACTIVITY_RESOLUTION_SECONDS = 60


def idle_limit_seconds(user: Any) -> int:
    """Staff are signed out after AIXIN_IDLE_TIMEOUT_MINUTES without a request (30 by default);
    loving mothers, on their own phones, after AIXIN_VOLUNTEER_IDLE_TIMEOUT_MINUTES (12 hours)."""
    if getattr(user, "role", None) == Role.VOLUNTEER:
        return int(settings.AIXIN_VOLUNTEER_IDLE_TIMEOUT_MINUTES) * 60
    return int(settings.AIXIN_IDLE_TIMEOUT_MINUTES) * 60


def safe_next(request: HttpRequest, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def start_pending(request: HttpRequest, user: User, *, next_url: str) -> None:
    """Password accepted, second factor to come: remember who, not log in."""
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[0]),
        "hash": user.get_session_auth_hash(),
        "at": int(time.time()),
        "next": next_url,
    }


def pending_user(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    """The user waiting for their second factor, while the wait is short enough and their
    password unchanged."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if time.time() - int(data.get("at", 0)) > settings.AIXIN_TOTP_PENDING_SECONDS:
        clear_pending(request)
        return None
    user_id = data.get("user_id")
    if not isinstance(user_id, int):
        clear_pending(request)
        return None
    user = User.objects.select_related("region").filter(pk=user_id, is_active=True).first()
    if user is None or user.get_session_auth_hash() != data.get("hash"):
        clear_pending(request)
        return None
    return user, data


def clear_pending(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def complete_login(
    request: HttpRequest, user: User, *, backend: str | None, next_url: str, otp_verified: bool
) -> HttpResponse:
    """Log the user in (after the second factor, where there is one) and send them on: to the
    change-password page first when they still have a password someone else chose."""
    clear_pending(request)
    auth_login(request, user, backend=backend)
    if otp_verified:
        request.session[OTP_VERIFIED_KEY] = True
    touch(request, force=True)
    stage = "totp" if otp_verified else "password"
    lockout.record_success(username=user.get_username(), ip=lockout.client_ip(request), stage=stage)
    audit_log(
        actor=user,
        action=AuditAction.LOGIN,
        request=request,
        summary=_("登录成功（动态验证码）") if otp_verified else _("登录成功"),
    )
    if user.must_change_password:
        return redirect("accounts:password_change")
    return redirect(safe_next(request, next_url))


def touch(request: HttpRequest, *, force: bool = False) -> None:
    """Restart the idle clock. The session lives at least as long as the idle limit (plus an
    hour, so that the "signed out after inactivity" message can still be shown)."""
    now = int(time.time())
    last = request.session.get(LAST_ACTIVITY_KEY)
    if force or not isinstance(last, int) or now - last >= ACTIVITY_RESOLUTION_SECONDS:
        request.session[LAST_ACTIVITY_KEY] = now
        lifetime = idle_limit_seconds(request.user) + 3600
        if lifetime > settings.SESSION_COOKIE_AGE:
            request.session.set_expiry(lifetime)


def idle_seconds(request: HttpRequest) -> int | None:
    last = request.session.get(LAST_ACTIVITY_KEY)
    return int(time.time()) - last if isinstance(last, int) else None


@transaction.atomic
def password_change(*, request: HttpRequest, user: User, new_password: str) -> None:
    """Set the user's own new password (already validated), clear the forced change, keep this
    session signed in; audited."""
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password", "updated_at"])
    update_session_auth_hash(request, user)
    audit_log(
        actor=user,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=user.pk,
        summary=_("%(name)s 修改了登录密码") % {"name": user.get_username()},
        request=request,
    )
