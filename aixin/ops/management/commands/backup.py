"""`aixin backup [--output FILE] [--json]`: an encrypted backup of the whole database
(docs/OPERATIONS.md, "Backup and restore")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aixin.lib.errors import DomainError
from aixin.ops import services


class Command(BaseCommand):
    help = "加密备份整个数据库（可恢复到 SQLite 或 PostgreSQL）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", help="备份文件路径（默认写入 AIXIN_BACKUP_DIR，文件名带时间）")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if services.backup_key().derived:
                self.stderr.write(
                    "警告：未设置 AIXIN_BACKUP_KEY 或 AIXIN_BACKUP_KEY_FILE，备份密钥由 SECRET_KEY 派生。"
                    "生产环境必须设置独立的备份密钥，并与备份文件分开保管。"
                )
            summary = services.backup_create(output=Path(options["output"]) if options["output"] else None)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except OSError as exc:
            raise CommandError(f"无法写入备份文件：{exc}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_json(), ensure_ascii=False))
            return
        if summary.missing_files:
            shown = "、".join(summary.missing_files[:5]) + ("等" if len(summary.missing_files) > 5 else "")
            self.stderr.write(
                f"警告：{len(summary.missing_files)} 个上传文件在数据库中有记录但文件已不存在：{shown}"
            )
        self.stdout.write(str(summary.path))
        for label, rows in summary.tables.items():
            self.stdout.write(f"  {label}: {rows}")
        self.stdout.write(
            self.style.SUCCESS(
                f"备份完成：{len(summary.tables)} 张表，{summary.rows} 行，"
                f"上传文件 {summary.files} 个，共 {summary.size} 字节"
            )
        )
