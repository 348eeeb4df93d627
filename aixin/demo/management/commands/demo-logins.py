"""`aixin demo-logins`: the demo accounts, one per role, as a table for the terminal."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.urls import NoReverseMatch, reverse

from aixin.accounts.models import Role
from aixin.demo.ledger import ledger_path
from aixin.demo.seed import DEMO_PASSWORD, demo_users


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def home_path(role: str) -> str:
    name = "care:my_children" if role == Role.VOLUNTEER else "dashboard:overview"
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
        if ledger_path().is_file():
            self.stdout.write(f"示例民政台账（可在“数据导入”页上传试用）：{ledger_path()}")
