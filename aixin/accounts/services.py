"""Writes on user accounts: creating one, changing its role/region/department/active state,
lifting a log-in lock, resetting the second factor. Used by the security administrator's pages
(安全管理员) and by `aixin create-user` / `aixin unlock-user`; every change is audited."""

from __future__ import annotations

import secrets
import string

from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aixin.accounts import lockout, totp
from aixin.accounts.models import ROLE_REGION_LEVEL, Department, Role, User
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import InvalidInput, NotAllowed
from aixin.regions.models import Region, RegionLevel

_SYMBOLS = "-_.!@#%+="


def generate_password(length: int = 16) -> str:
    """A random password with upper and lower case letters, digits and a symbol."""
    alphabet = string.ascii_letters + string.digits + _SYMBOLS
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
            and any(c in _SYMBOLS for c in password)
        ):
            return password


# A temporary password people read out over the phone: no look-alike characters.
TEMP_CHARS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def temporary_login(
    *, name: str, prefix: str, fallback: str, number: int, role: str, region_id: int
) -> tuple[User, str]:
    """An account made for a person by staff (a loving mother's or a task-force member's phone
    log-in): a free username from the pinyin of `name` and `number`, a 10-character temporary
    password returned once, to be changed at the first log-in."""
    from aixin.lib.pinyin import sort_key

    base = "".join(ch for ch in sort_key(name) if ch.isalnum())[:20] or fallback
    username = f"{prefix}{base}{number}"
    n = 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{prefix}{base}{number}_{n}"
    password = "".join(secrets.choice(TEMP_CHARS) for _i in range(10))
    user = User.objects.create_user(
        username=username,
        password=password,
        role=role,
        region_id=region_id,
        display_name=name,
        must_change_password=True,  # the first log-in sets their own password
    )
    return user, password


def role_label(role: str, department: str) -> str:
    label = str(Role(role).label)
    return f"{label}（{Department(department).label}）" if department else label


def _role(role: str) -> str:
    if role not in Role.values:
        raise InvalidInput(
            _("角色「%(role)s」不存在，可选：%(choices)s")
            % {"role": role, "choices": "、".join(f"{r.value}（{r.label}）" for r in Role)},
            field="role",
        )
    return role


def _region(code: str) -> Region:
    """A current region by its code; an abolished one names its successor."""
    region = Region.objects.filter(code=code).select_related("successor").first()
    if region is None:
        raise InvalidInput(
            _("区划代码 %(code)s 不存在：请先用 aixin load-regions 导入区划") % {"code": code}, field="region"
        )
    if region.valid_to is not None:
        hint = (
            _("，请改用 %(code)s %(name)s") % {"code": region.successor.code, "name": region.successor.name}
            if region.successor
            else ""
        )
        raise InvalidInput(
            _("区划 %(code)s %(name)s 已于 %(day)s 撤销%(hint)s")
            % {"code": region.code, "name": region.name, "day": region.valid_to, "hint": hint},
            field="region",
        )
    return region


def _check_role_region(role: str, region: Region) -> None:
    need = ROLE_REGION_LEVEL[Role(role)] or RegionLevel.VILLAGE
    if region.level == need:
        return
    raise InvalidInput(
        _("角色「%(role)s」必须设在%(need)s一级，而 %(code)s %(name)s 是%(level)s")
        % {
            "role": Role(role).label,
            "need": RegionLevel(need).label,
            "code": region.code,
            "name": region.name,
            "level": RegionLevel(region.level).label,
        },
        field="region",
    )


def _department(role: str, department: str) -> str:
    """The liaison's department (required for a liaison, refused for anyone else)."""
    choices = "、".join(f"{d.value}（{d.label}）" for d in Department)
    if role != Role.DEPARTMENT_LIAISON:
        if department:
            raise InvalidInput(
                _("只有部门联络员有所属部门，角色「%(role)s」不要填所属部门") % {"role": Role(role).label},
                field="department",
            )
        return ""
    if not department:
        raise InvalidInput(
            _("部门联络员必须指定所属部门，可选：%(choices)s") % {"choices": choices}, field="department"
        )
    if department not in Department.values:
        raise InvalidInput(
            _("部门「%(department)s」不存在，可选：%(choices)s")
            % {"department": department, "choices": choices},
            field="department",
        )
    return department


def password_problem(error: ValidationError) -> str:
    """Django's validator messages, said in Chinese even where its catalogue is incomplete."""
    params = error.params or {}
    if error.code == "password_too_short":
        return _("密码太短，至少需要 %(n)d 个字符") % {"n": params.get("min_length", 10)}
    if error.code == "password_too_similar":
        return _("密码与用户名或姓名太相似")
    if error.code == "password_too_common":
        return _("密码太常见，容易被猜到")
    if error.code == "password_entirely_numeric":
        return _("密码不能全是数字")
    return " ".join(error.messages)


def _actor_name(actor: User | None, fallback: str) -> str:
    return actor.get_username() if actor is not None else fallback


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    role: str,
    region_code: str,
    display_name: str = "",
    department: str = "",
    password: str | None = None,
    via: str = "",
    request: HttpRequest | None = None,
) -> tuple[User, str]:
    """Create a user placed at a region. Without `password` one is generated: the user must
    replace it at the first log-in. Returns the user and the password (to be shown once)."""
    username = username.strip()
    _role(role)
    if not username:
        raise InvalidInput(_("用户名不能为空"), field="username")
    if User.objects.filter(username=username).exists():
        raise InvalidInput(
            _("用户名 %(username)s 已存在，请换一个") % {"username": username}, field="username"
        )
    region = _region(region_code.strip())
    _check_role_region(role, region)
    department = _department(role, department.strip())
    generated = password is None
    user = User(
        username=username,
        role=role,
        region=region,
        display_name=display_name.strip(),
        department=department,
        # A password someone else chose passes through other hands: replaced at first log-in.
        must_change_password=generated,
    )
    password = generate_password() if password is None else password
    if not password:
        raise InvalidInput(_("密码不能为空，未创建用户"), field="password")
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        why = "；".join(password_problem(e) for e in exc.error_list)
        raise InvalidInput(_("密码不符合要求，未创建用户：%(why)s") % {"why": why}, field="password") from exc
    user.set_password(password)
    user.save()
    audit_log(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="user",
        object_id=user.pk,
        region=region,
        summary=_("%(by)s 创建用户 %(username)s（%(role)s，%(region)s）")
        % {
            "by": via or _actor_name(actor, ""),
            "username": username,
            "role": role_label(role, department),
            "region": region.name,
        },
        request=request,
    )
    return user, password


def end_sessions(user: User) -> int:
    """Delete the user's open sessions (database sessions); answers how many. The backend also
    refuses an inactive user on every request, so this is belt and braces."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def user_update(
    *,
    actor: User,
    user_id: int,
    role: str,
    region_code: str,
    department: str = "",
    display_name: str | None = None,
    is_active: bool,
    request: HttpRequest | None = None,
) -> User:
    """Change an account's role, region, department, name or active state. Nobody changes their
    own role (or deactivates themselves); deactivating signs the user out everywhere."""
    user = User.objects.select_for_update().select_related("region").get(pk=user_id)
    _role(role)
    if user.pk == actor.pk and (role != user.role or not is_active):
        raise NotAllowed(_("不能修改自己的角色"), field="role")
    region = _region(region_code.strip())
    _check_role_region(role, region)
    department = _department(role, department.strip())
    before = {
        "role": user.role,
        "region": user.region.code,
        "department": user.department,
        "display_name": user.display_name,
        "is_active": user.is_active,
    }
    user.role, user.region, user.department, user.is_active = role, region, department, is_active
    if display_name is not None:
        user.display_name = display_name.strip()
    after = {
        "role": user.role,
        "region": region.code,
        "department": user.department,
        "display_name": user.display_name,
        "is_active": user.is_active,
    }
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changed:
        return user
    user.save()
    if before["is_active"] and not is_active:
        transaction.on_commit(lambda: end_sessions(user))
    audit_log(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=user.pk,
        region=region,
        summary=_("%(by)s 修改了用户 %(username)s：%(fields)s")
        % {"by": actor.get_username(), "username": user.get_username(), "fields": "、".join(changed)},
        details={"changed": changed},
        request=request,
    )
    return user


@transaction.atomic
def user_unlock(
    *, actor: User | None, user_id: int, ip: str = "", via: str = "", request: HttpRequest | None = None
) -> int:
    """End the log-in lock of a user (and of an address); the failures so far no longer count.
    Answers how many locks were ended."""
    user = User.objects.select_related("region").get(pk=user_id)
    by = via or _actor_name(actor, "")
    ended = lockout.unlock(username=user.get_username(), ip=ip.strip(), by=by)
    audit_log(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=user.pk,
        region=user.region,
        summary=_("%(by)s 解除 %(username)s 的登录锁定%(ip)s")
        % {"by": by, "username": user.get_username(), "ip": f"（及网络地址 {ip}）" if ip else ""},
        request=request,
    )
    return ended


@transaction.atomic
def user_reset_totp(
    *, actor: User | None, user_id: int, via: str = "", request: HttpRequest | None = None
) -> bool:
    """Remove the user's authenticator (a lost phone): they enrol again at their next log-in.
    Answers whether there was one."""
    user = User.objects.get(pk=user_id)
    return totp.device_reset(
        user=user, actor_name=via or _actor_name(actor, ""), actor=actor, request=request
    )


def is_locked(user: User) -> bool:
    return lockout.refusal(username=user.get_username(), ip=None) is not None


__all__ = [
    "end_sessions",
    "generate_password",
    "is_locked",
    "password_problem",
    "role_label",
    "user_create",
    "user_reset_totp",
    "user_unlock",
    "user_update",
]
