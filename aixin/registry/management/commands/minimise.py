"""`aixin minimise [--dry-run]`: minimise the personal data of children closed, handed over or
archived longer than AIXIN_RETENTION_YEARS ago (what is kept: aixin.registry.retention). The
daily job `registry.tasks.minimise_closed_records` does the same; running either twice is safe."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aixin.registry.retention import children_minimise


class Command(BaseCommand):
    help = "个人信息最小化：对退出、移交或归档满保存期限的儿童档案删除个人信息，只保留统计所需字段"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="只统计将被最小化的档案数，不写入")

    def handle(self, *args: Any, **opts: Any) -> None:
        result = children_minimise(dry_run=opts["dry_run"])
        when = result.cutoff.strftime("%Y-%m-%d")
        if result.dry_run:
            self.stdout.write(
                f"保存期限 {result.retention_years} 年：{when} 之前结束的档案中"
                f"有 {result.count} 份待最小化（未写入）"
            )
        else:
            self.stdout.write(
                f"保存期限 {result.retention_years} 年：已最小化 {result.count} 份 {when} 之前结束的档案"
            )
