"""`aixin access-report --year 2026 [--output FILE.xlsx|FILE.zip]`: the yearly access report for
the compliance audit (R-12.5, aixin.audit.access_report).

Without --output it prints the per-user figures. With FILE.xlsx it writes the workbook (mode
0600: it names staff); with FILE.zip an AES-256 archive whose password comes from the
AIXIN_EXPORT_PASSWORD environment variable or is asked for. Every file written is audited."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from aixin.audit.access_report import access_report, access_report_workbook
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib import exports as packaging


class Command(BaseCommand):
    help = "年度访问报告：每位用户查看儿童档案、导出、查看完整号码的次数，每名儿童被多少人查看"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, default=timezone.localdate().year, help="年度，如 2026")
        parser.add_argument("--output", help="输出文件：.xlsx，或 .zip（加密压缩包）")

    def handle(self, *args: Any, **opts: Any) -> None:
        year: int = opts["year"]
        if not 2000 <= year <= timezone.localdate().year:
            raise CommandError(f"年度“{year}”无效，应为 2000 至今年之间的年份")
        report = access_report(year=year)
        output = opts.get("output")
        if not output:
            self._print(report)
            return
        path = Path(output)
        content = access_report_workbook(
            report, watermark=f"{year}年度访问报告 · 命令行导出 {timezone.localtime():%Y-%m-%d %H:%M}"
        )
        if path.suffix.lower() == ".zip":
            content = packaging.encrypted_zip(
                name=f"access-report-{year}.xlsx", content=content, password=self._password()
            )
        elif path.suffix.lower() != ".xlsx":
            raise CommandError(f"输出文件“{path}”应以 .xlsx 或 .zip 结尾")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        audit_log(
            actor=None,
            action=AuditAction.EXPORT,
            object_type="access_report",
            object_id=year,
            summary=f"命令行导出{year}年度访问报告：{len(report.users)}名用户，{len(report.children)}名儿童",
            details={
                "kind": "access_report",
                "rows": len(report.users) + len(report.children),
                "file": str(path),
                "encrypted": path.suffix.lower() == ".zip",
            },
        )
        self.stdout.write(
            f"已写入 {path}：{len(report.users)} 名用户，{len(report.children)} 名儿童的档案被查看"
        )

    def _password(self) -> str:
        password = os.environ.get("AIXIN_EXPORT_PASSWORD") or getpass.getpass("解压密码（至少 8 位）：")
        if (
            len(password) < packaging.MIN_PASSWORD_LENGTH
            or not set(password) <= packaging.PASSWORD_CHARACTERS
        ):
            raise CommandError("解压密码至少 8 位，只能包含英文字母、数字和符号")
        return password

    def _print(self, report: Any) -> None:
        self.stdout.write(f"{report.year}年度访问报告：{len(report.users)} 名用户")
        for u in report.users:
            self.stdout.write(
                f"{u.username}\t{u.role}\t{u.region}\t查看档案 {u.file_views}\t儿童 {u.children}\t"
                f"导出 {u.exports}\t查看完整号码 {u.reveals}"
            )
        self.stdout.write(f"{len(report.children)} 名儿童的档案被查看")
