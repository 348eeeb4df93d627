"""`aixin create-user USERNAME --role ROLE --region CODE`: create a user placed at a region.

A department liaison also names the department (`--department public_security`); no other role
takes one.

The password comes from stdin (`--password-stdin`), is generated and shown once (`--generate`),
or is asked twice interactively. Django's password validators apply.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from aixin.accounts import services
from aixin.accounts.models import Department, Role
from aixin.lib.errors import DomainError


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
        department = (options.get("department") or "").strip()
        role = options["role"]
        if department and role in Role.values and role != Role.DEPARTMENT_LIAISON:
            raise CommandError(
                _("只有部门联络员有所属部门，角色「%(role)s」不要加 --department")
                % {"role": Role(role).label}
            )
        if not department and role == Role.DEPARTMENT_LIAISON:
            choices = "、".join(f"{d.value}（{d.label}）" for d in Department)
            raise CommandError(
                _("部门联络员必须用 --department 指定所属部门，可选：%(choices)s") % {"choices": choices}
            )
        try:
            user, password = services.user_create(
                actor=None,
                username=options["username"],
                role=role,
                region_code=options["region"],
                display_name=options["name"],
                department=department,
                password=None if options["generate"] else self._password(options),
                via=_("命令行"),
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        label = services.role_label(user.role, user.department)
        self.stdout.write(
            self.style.SUCCESS(
                _("已创建用户 %(username)s：%(role)s，%(region)s")
                % {"username": user.username, "role": label, "region": user.region.name}
            )
        )
        if options["generate"]:
            self.stdout.write(_("初始密码（只显示这一次，请妥善转交）：") + password)

    def _password(self, options: dict[str, Any]) -> str:
        if options["password_stdin"]:
            return sys.stdin.readline().rstrip("\r\n")
        password = getpass.getpass(_("密码："))
        again = getpass.getpass(_("再次输入密码："))
        if password != again:
            raise CommandError(_("两次输入的密码不一致，未创建用户"))
        return password
