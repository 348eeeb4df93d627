"""`aixin demo-logins`: the demo accounts, one per role, as a table for the terminal."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.urls import NoReverseMatch, reverse

from aixin.accounts import totp
from aixin.accounts.models import Role
from aixin.demo.ledger import ledger_path
from aixin.demo.seed import DEMO_PASSWORD, demo_users


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def home_path(role: str) -> str:
    name = {
        Role.VOLUNTEER: "care:my_children",
        Role.DEPARTMENT_LIAISON: "cases:liaison_inbox",
        Role.TASKFORCE_MEMBER: "taskforces:mine",
        Role.SYSTEM_ADMIN: "accounts:system_status",
        Role.SECURITY_ADMIN: "accounts:user_list",
        Role.AUDIT_ADMIN: "audit:event_list",
        Role.EVALUATOR: "evaluation:overview",
    }.get(Role(role), "dashboard:overview")
    try:
        return reverse(name)
    except NoReverseMatch:
        return "/"


class Command(BaseCommand):
    help = "列出演示账号（每个角色一个）、密码、所属区划和首页地址"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **opts: Any) -> None:
        users = demo_users()
        if not users:
            self.stdout.write("尚未生成演示账号：请先运行 aixin seed-demo")
            return
        base = f"http://{opts['host']}:{opts['port']}"
        header = ("角色", "用户名", "密码", "所属区划", "首页")
        rows: list[tuple[str, str, str, str, str]] = [
            (
                str(Role(u.role).label),
                u.username,
                DEMO_PASSWORD,
                u.region.full_name() or u.region.name,
                base + home_path(u.role),
            )
            for u in users
        ]
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        self.stdout.write("演示账号（仅用于演示环境）：")
        self.stdout.write(line)
        for i, row in enumerate([header, *rows]):
            self.stdout.write("| " + " | ".join(_pad(c, w) for c, w in zip(row, widths, strict=True)) + " |")
            if i == 0:
                self.stdout.write(line)
        self.stdout.write(line)
        self._second_factor(users)
        if ledger_path().is_file():
            self.stdout.write(f"示例民政台账（可在“数据导入”页上传试用）：{ledger_path()}")

    def _second_factor(self, users: list[Any]) -> None:
        """The authenticator keys of the demo's staff log-ins (fixed by seed-demo, see
        aixin.demo.seed.demo_totp_secret) and the codes they show now."""
        devices = [(u, totp.confirmed_device(u)) for u in users]
        staff = [(u, totp.secret_of(d)) for u, d in devices if d is not None]
        if not staff:
            return
        if not settings.AIXIN_TOTP_ENFORCED:
            self.stdout.write("动态验证码已关闭（AIXIN_TOTP_ENFORCED=0），登录只需用户名和密码。")
            return
        self.stdout.write(
            "工作人员登录第二步需要动态验证码：把下面的密钥手动添加到手机验证器应用"
            "（基于时间，30 秒，6 位），或输入“当前验证码”（30 秒内有效，再次运行本命令可刷新）："
        )
        width = max(_width(u.username) for u, _secret in staff)
        for u, secret in staff:
            code = totp.current_code(secret)
            self.stdout.write(f"  {_pad(u.username, width)}  密钥 {totp.grouped(secret)}  当前验证码 {code}")
