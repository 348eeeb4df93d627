"""`aixin create-user USERNAME --role ROLE --region CODE`: create a user placed at a region.

A department liaison also names the department (`--department public_security`); no other role
takes one.

The password comes from stdin (`--password-stdin`), is generated and shown once (`--generate`),
or is asked twice interactively. Django's password validators apply.
"""

from __future__ import annotations

import getpass
import secrets
import string
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from aixin.accounts.models import ROLE_REGION_LEVEL, Department, Role, User
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
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


def _role_region_error(role: str, region: Region) -> str | None:
    need = ROLE_REGION_LEVEL[Role(role)] or RegionLevel.VILLAGE
    if region.level == need:
        return None
    return _("角色「%(role)s」必须设在%(need)s一级，而 %(code)s %(name)s 是%(level)s") % {
        "role": Role(role).label,
        "need": RegionLevel(need).label,
        "code": region.code,
        "name": region.name,
        "level": RegionLevel(region.level).label,
    }


def _department(role: str, department: str) -> str:
    """The liaison's department (required for a liaison, refused for anyone else)."""
    choices = "、".join(f"{d.value}（{d.label}）" for d in Department)
    if role != Role.DEPARTMENT_LIAISON:
        if department:
            raise CommandError(
                _("只有部门联络员有所属部门，角色「%(role)s」不要加 --department")
                % {"role": Role(role).label}
            )
        return ""
    if not department:
        raise CommandError(
            _("部门联络员必须用 --department 指定所属部门，可选：%(choices)s") % {"choices": choices}
        )
    if department not in Department.values:
        raise CommandError(
            _("部门「%(department)s」不存在，可选：%(choices)s")
            % {"department": department, "choices": choices}
        )
    return department


def _role_label(role: str, department: str) -> str:
    label = str(Role(role).label)
    return f"{label}（{Department(department).label}）" if department else label


def _password_problem(error: ValidationError) -> str:
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


class Command(BaseCommand):
    help = "创建用户：aixin create-user 用户名 --role 角色 --region 区划代码"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        roles = "、".join(f"{r.value}（{r.label}）" for r in Role)
        parser.add_argument("--role", required=True, help="角色：" + roles)
        parser.add_argument("--region", required=True, help="所属区划代码，例如 500101")
        parser.add_argument("--name", default="", help="姓名")
        departments = "、".join(f"{d.value}（{d.label}）" for d in Department)
        parser.add_argument("--department", default="", help="部门联络员的所属部门：" + departments)
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（一行）")
        source.add_argument("--generate", action="store_true", help="生成随机强密码并显示一次")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        role: str = options["role"]
        if role not in Role.values:
            raise CommandError(
                _("角色「%(role)s」不存在，可选：%(choices)s")
                % {
                    "role": role,
                    "choices": "、".join(f"{r.value}（{r.label}）" for r in Role),
                }
            )
        if not username:
            raise CommandError(_("用户名不能为空"))
        if User.objects.filter(username=username).exists():
            raise CommandError(_("用户名 %(username)s 已存在，请换一个") % {"username": username})
        region = Region.objects.filter(code=options["region"]).select_related("successor").first()
        if region is None:
            raise CommandError(
                _("区划代码 %(code)s 不存在：请先用 aixin load-regions 导入区划")
                % {
                    "code": options["region"],
                }
            )
        if region.valid_to is not None:
            hint = (
                _("，请改用 %(code)s %(name)s")
                % {
                    "code": region.successor.code,
                    "name": region.successor.name,
                }
                if region.successor
                else ""
            )
            raise CommandError(
                _("区划 %(code)s %(name)s 已于 %(day)s 撤销%(hint)s")
                % {
                    "code": region.code,
                    "name": region.name,
                    "day": region.valid_to,
                    "hint": hint,
                }
            )
        problem = _role_region_error(role, region)
        if problem:
            raise CommandError(problem)
        department = _department(role, (options.get("department") or "").strip())

        user = User(
            username=username,
            role=role,
            region=region,
            display_name=options["name"].strip(),
            department=department,
            # A generated password passes through other hands: the user replaces it at first log-in.
            must_change_password=bool(options["generate"]),
        )
        password = self._password(options, user)
        with transaction.atomic():
            user.set_password(password)
            user.save()
            audit_log(
                actor=None,
                action=AuditAction.CREATE,
                object_type="user",
                object_id=user.pk,
                region=region,
                summary=_("命令行创建用户 %(username)s（%(role)s，%(region)s）")
                % {
                    "username": username,
                    "role": _role_label(role, department),
                    "region": region.name,
                },
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("已创建用户 %(username)s：%(role)s，%(region)s")
                % {
                    "username": username,
                    "role": _role_label(role, department),
                    "region": region.name,
                }
            )
        )
        if options["generate"]:
            self.stdout.write(_("初始密码（只显示这一次，请妥善转交）：") + password)

    def _password(self, options: dict[str, Any], user: User) -> str:
        if options["generate"]:
            password = generate_password()
        elif options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass(_("密码："))
            again = getpass.getpass(_("再次输入密码："))
            if password != again:
                raise CommandError(_("两次输入的密码不一致，未创建用户"))
        if not password:
            raise CommandError(_("密码不能为空，未创建用户"))
        try:
            validate_password(password, user=user)
        except ValidationError as exc:
            why = "；".join(_password_problem(e) for e in exc.error_list)
            raise CommandError(_("密码不符合要求，未创建用户：%(why)s") % {"why": why}) from exc
        return password
