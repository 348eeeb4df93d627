"""`aixin restore FILE [--check] [--json]`: restore an encrypted backup into this database,
which must be freshly migrated and empty (docs/OPERATIONS.md, "Backup and restore")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aixin.lib.errors import DomainError
from aixin.ops import services


class Command(BaseCommand):
    help = "从加密备份恢复到一个刚迁移好的空数据库（--check 只校验备份文件）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="备份文件")
        parser.add_argument("--check", action="store_true", help="只解密并校验备份文件，不写入数据库")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            if options["check"]:
                summary = services.backup_check(path=path)
            else:
                summary = services.backup_restore(path=path)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_json(), ensure_ascii=False))
            return
        for label, rows in summary.tables.items():
            self.stdout.write(f"  {label}: {rows}")
        done = "备份文件校验通过" if summary.checked_only else "恢复完成"
        self.stdout.write(
            self.style.SUCCESS(
                f"{done}：备份时间 {summary.created_at}（来源 {summary.source_database}），"
                f"{len(summary.tables)} 张表，{summary.rows} 行，上传文件 {summary.files} 个"
            )
        )
