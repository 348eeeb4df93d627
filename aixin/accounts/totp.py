"""The second factor (等保 level 3, 双因素鉴别): time-based one-time codes (TOTP, RFC 6238) from an
authenticator app.

Every staff-like role (AIXIN_TOTP_REQUIRED_ROLES: all roles but the loving mothers) must enrol;
a loving mother may enrol on the 动态验证码 page, and is then asked for a code too. All of it only
while AIXIN_TOTP_ENFORCED is on (the default; off for development and unit tests).

A code is accepted one step (30 s) either side of now, once: the step it matched is stored and a
code of that step or an earlier one is refused (no replay).

The log-in is in two halves. After the password, the session holds only the pending user
(`PENDING_KEY`); `login()` is called when the code passes, and the session is then marked
`OTP_VERIFIED_KEY` (the middleware treats a session of a required role without it as logged out).
"""

from __future__ import annotations

import datetime
import hmac
import re
import time
from typing import Any

import pyotp
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aixin.accounts.models import TotpDevice, User
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib import crypto

SECRET_CONTEXT = "user.totp"  # noqa: S105 - the encryption context, not a secret
OTP_VERIFIED_KEY = "aixin_otp_verified"
PENDING_KEY = "aixin_pending_login"
ISSUER = "渝好爱心妈妈"
DIGITS = 6
INTERVAL = 30
WINDOW = 1  # steps accepted either side of now (clock drift of the phone)

_CODE = re.compile(r"^\d{6}$")


def required_for(user: Any) -> bool:
    """Whether the user's role must use a second factor (and the deployment enforces it)."""
    return bool(settings.AIXIN_TOTP_ENFORCED) and getattr(user, "role", None) in set(
        settings.AIXIN_TOTP_REQUIRED_ROLES
    )


def confirmed_device(user: Any) -> TotpDevice | None:
    return TotpDevice.objects.filter(user_id=user.pk, confirmed_at__isnull=False).first()


def second_factor_step(user: Any) -> str | None:
    """What the user must do after the password: "verify" (has an authenticator), "enrol"
    (must get one), or None (log in now). With AIXIN_TOTP_ENFORCED off (development and the
    unit tests only) nobody is asked."""
    if not settings.AIXIN_TOTP_ENFORCED:
        return None
    if confirmed_device(user) is not None:
        return "verify"
    if required_for(user):
        return "enrol"
    return None


def secret_of(device: TotpDevice) -> str:
    return crypto.decrypt(device.secret_encrypted, context=SECRET_CONTEXT)


def grouped(secret: str) -> str:
    """The key in groups of four, as people type it into an authenticator app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=user.get_username(), issuer_name=ISSUER
    )


def current_code(secret: str, *, at: float | None = None) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).at(at if at is not None else time.time())


def matching_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step whose code this is (now, or one step either side), or None."""
    code = (code or "").replace(" ", "").strip()
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    now_step = int((at if at is not None else time.time()) // INTERVAL)
    found = None
    for step in range(now_step - WINDOW, now_step + WINDOW + 1):
        # Compare every candidate (no early exit) in constant time.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def pending_device(user: User) -> TotpDevice:
    """The user's authenticator being set up (made with a new secret the first time)."""
    device, _created = TotpDevice.objects.get_or_create(
        user=user,
        defaults={"secret_encrypted": crypto.encrypt(pyotp.random_base32(), context=SECRET_CONTEXT)},
    )
    return device


@transaction.atomic
def device_use(*, device: TotpDevice, code: str, at: float | None = None) -> bool:
    """Accept the code once: its step must be newer than the last step used on this device.
    A conditional update makes two requests with the same code succeed only once."""
    step = matching_step(secret_of(device), code, at=at)
    if step is None:
        return False
    used = TotpDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step)
    return used == 1


@transaction.atomic
def device_confirm(*, user: User, code: str, request: HttpRequest | None = None) -> bool:
    """Confirm the authenticator being set up with a code it shows; audited."""
    device = TotpDevice.objects.select_for_update().get(user=user)
    if device.confirmed_at is not None:
        return device_use(device=device, code=code)
    if not device_use(device=device, code=code):
        return False
    TotpDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
    audit_log(
        actor=user,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=user.pk,
        summary=_("%(name)s 绑定了动态验证码") % {"name": user.get_username()},
        request=request,
    )
    return True


@transaction.atomic
def device_reset(
    *, user: User, actor_name: str, actor: Any = None, request: HttpRequest | None = None
) -> bool:
    """Remove the user's authenticator (lost phone); they enrol again at the next log-in."""
    deleted, _detail = TotpDevice.objects.filter(user=user).delete()
    if deleted:
        audit_log(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="user",
            object_id=user.pk,
            summary=_("%(by)s 重置了 %(name)s 的动态验证码")
            % {"by": actor_name, "name": user.get_username()},
            request=request,
        )
    return bool(deleted)


@transaction.atomic
def device_install(*, user: User, secret: str) -> TotpDevice:
    """A confirmed authenticator with a known secret (the demo's printed keys)."""
    device, _created = TotpDevice.objects.update_or_create(
        user=user,
        defaults={
            "secret_encrypted": crypto.encrypt(secret, context=SECRET_CONTEXT),
            "confirmed_at": timezone.now(),
            "last_used_step": 0,
        },
    )
    return device


def pending_since_limit() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.AIXIN_TOTP_PENDING_SECONDS)
