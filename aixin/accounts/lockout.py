"""Log-in lockout (等保 level 3, 登录失败处理): per account name and per IP address.

Every attempt is a `LoginAttempt` row, so the count holds across gunicorn workers and restarts.
- Account: AIXIN_LOGIN_MAX_FAILURES failed passwords or second-factor codes within
  AIXIN_LOGIN_FAILURE_WINDOW_MINUTES lock the name for AIXIN_LOCKOUT_MINUTES. A successful
  log-in, and the end of a lock (or an unlock), start the count again.
- IP address: AIXIN_LOGIN_MAX_FAILURES_PER_IP failures from one address within the window
  refuse that address for AIXIN_LOCKOUT_MINUTES, whatever names it tries.
The lock is checked before the password, so a locked account is refused even with the right
one; attempts refused while locked are recorded but do not extend the lock. Names that do not
exist are counted and locked like the others: the answers never tell whether an account exists.
"""

from __future__ import annotations

import datetime
import math

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aixin.accounts.models import LockKind, LoginAttempt, LoginLock, LoginOutcome
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log


def client_ip(request: HttpRequest | None) -> str | None:
    """The address the request came from. Behind the reverse proxy (AIXIN_BEHIND_PROXY) it is the
    last address of X-Forwarded-For, the one the proxy itself saw, which a client cannot forge."""
    if request is None:
        return None
    if getattr(settings, "AIXIN_BEHIND_PROXY", False):
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            return str(forwarded[-1])
    remote: str = request.META.get("REMOTE_ADDR") or ""
    return remote or None


def normalise(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.AIXIN_LOGIN_FAILURE_WINDOW_MINUTES)


def _lock_length() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.AIXIN_LOCKOUT_MINUTES)


def _minutes_left(until: datetime.datetime, now: datetime.datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def account_message(minutes: int) -> str:
    return _("密码错误次数过多，账号已锁定，请 %(n)d 分钟后再试或联系管理员解锁") % {"n": minutes}


def ip_message(minutes: int) -> str:
    return _("该网络地址登录失败次数过多，已暂停登录，请 %(n)d 分钟后再试或联系管理员") % {"n": minutes}


def _active_lock(kind: str, key: str, now: datetime.datetime) -> datetime.datetime | None:
    until = (
        LoginLock.objects.filter(kind=kind, key=key, locked_until__gt=now)
        .aggregate(until=Max("locked_until"))
        .get("until")
    )
    return until


def refusal(*, username: str, ip: str | None, now: datetime.datetime | None = None) -> str | None:
    """The message refusing this attempt, or None when neither the name nor the address is locked."""
    now = now or timezone.now()
    name = normalise(username)
    until = _active_lock(LockKind.ACCOUNT, name, now) if name else None
    if until is not None:
        return account_message(_minutes_left(until, now))
    if ip:
        until = _active_lock(LockKind.IP, ip, now)
        if until is not None:
            return ip_message(_minutes_left(until, now))
    return None


def _count_since(kind: str, key: str, now: datetime.datetime) -> datetime.datetime:
    """Failures after this moment count: the window, the last lock's end, and for an account
    the last successful log-in."""
    since = now - _window()
    last_lock_end = (
        LoginLock.objects.filter(kind=kind, key=key, locked_until__lte=now)
        .aggregate(end=Max("locked_until"))
        .get("end")
    )
    candidates = [since, last_lock_end]
    if kind == LockKind.ACCOUNT:
        last_success = (
            LoginAttempt.objects.filter(username=key, outcome=LoginOutcome.SUCCESS)
            .aggregate(at=Max("at"))
            .get("at")
        )
        candidates.append(last_success)
    return max(c for c in candidates if c is not None)


def _failures(kind: str, key: str, now: datetime.datetime) -> int:
    since = _count_since(kind, key, now)
    qs = LoginAttempt.objects.filter(outcome=LoginOutcome.FAILURE, at__gt=since)
    qs = qs.filter(username=key) if kind == LockKind.ACCOUNT else qs.filter(ip=key)
    return qs.count()


def _record(username: str, ip: str | None, outcome: str, stage: str, now: datetime.datetime) -> None:
    LoginAttempt.objects.create(username=normalise(username), ip=ip, outcome=outcome, stage=stage, at=now)


@transaction.atomic
def record_failure(
    *, username: str, ip: str | None, stage: str = "password", request: HttpRequest | None = None
) -> str | None:
    """Count a failed password or code; lock the name or the address when this failure reaches the
    limit. Returns the lock message when it did, else None."""
    now = timezone.now()
    name = normalise(username)
    _record(name, ip, LoginOutcome.FAILURE, stage, now)
    message = None
    if name and _failures(LockKind.ACCOUNT, name, now) >= settings.AIXIN_LOGIN_MAX_FAILURES:
        LoginLock.objects.create(kind=LockKind.ACCOUNT, key=name, locked_until=now + _lock_length())
        audit_log(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            object_type="user",
            object_id=name,
            summary=_("账号 %(name)s 连续登录失败 %(n)d 次，已锁定 %(m)d 分钟")
            % {"name": name, "n": settings.AIXIN_LOGIN_MAX_FAILURES, "m": settings.AIXIN_LOCKOUT_MINUTES},
            details={"lock": "account", "username": name, "ip": ip, "stage": stage},
            request=request,
        )
        message = account_message(settings.AIXIN_LOCKOUT_MINUTES)
    if ip and _failures(LockKind.IP, ip, now) >= settings.AIXIN_LOGIN_MAX_FAILURES_PER_IP:
        LoginLock.objects.create(kind=LockKind.IP, key=ip, locked_until=now + _lock_length())
        audit_log(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            object_type="ip",
            object_id=ip,
            summary=_("网络地址 %(ip)s 登录失败 %(n)d 次，已暂停登录 %(m)d 分钟")
            % {"ip": ip, "n": settings.AIXIN_LOGIN_MAX_FAILURES_PER_IP, "m": settings.AIXIN_LOCKOUT_MINUTES},
            details={"lock": "ip", "username": name, "ip": ip, "stage": stage},
            request=request,
        )
        message = message or ip_message(settings.AIXIN_LOCKOUT_MINUTES)
    return message


def record_refused(*, username: str, ip: str | None, stage: str = "password") -> None:
    _record(username, ip, LoginOutcome.REFUSED, stage, timezone.now())


def record_success(*, username: str, ip: str | None, stage: str = "password") -> None:
    _record(username, ip, LoginOutcome.SUCCESS, stage, timezone.now())


@transaction.atomic
def unlock(*, username: str = "", ip: str = "", by: str = "") -> int:
    """End the locks on a name and/or an address now; the failures before no longer count.
    Returns how many locks were ended."""
    now = timezone.now()
    ended = 0
    for kind, key in ((LockKind.ACCOUNT, normalise(username)), (LockKind.IP, ip)):
        if not key:
            continue
        count = LoginLock.objects.filter(kind=kind, key=key, locked_until__gt=now).update(
            locked_until=now, unlocked_by=by[:150]
        )
        if count == 0:
            # Not locked yet: a lock ending now still clears the failures counted so far.
            LoginLock.objects.create(kind=kind, key=key, locked_until=now, unlocked_by=by[:150])
        ended += count
    return ended


def purge_attempts(now: datetime.datetime | None = None) -> int:
    """Delete the log-in attempts older than AIXIN_LOGIN_ATTEMPT_RETENTION_DAYS (never less than
    180: they are security logs); returns how many. Far older than any failure window, so no
    count or lock depends on them."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.AIXIN_LOGIN_ATTEMPT_RETENTION_DAYS)
    deleted, _ = LoginAttempt.objects.filter(at__lt=cutoff).delete()
    return deleted
