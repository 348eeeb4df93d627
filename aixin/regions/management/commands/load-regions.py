"""`aixin load-regions [FILE]`: load towns and villages (or any level) from a CSV file; with no
FILE, load the district-level units that ship with the system."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from aixin.regions.services import regions_load, regions_load_builtin


class Command(BaseCommand):
    help = "导入行政区划 CSV（不带文件时导入内置的重庆市区县级单位）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            nargs="?",
            help="CSV 文件，列：code,name,level,parent_code,valid_from,valid_to[,kind,successor_code]",
        )
        parser.add_argument("--json", action="store_true", help="以 JSON 输出统计")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options.get("file")
        result = regions_load(path=path) if path else regions_load_builtin()
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
        if result.errors:
            lines = [_("导入失败，未写入任何数据。共 %(n)d 处错误：") % {"n": len(result.errors)}]
            lines += [f"  {e}" for e in result.errors]
            raise CommandError("\n".join(lines))
        if not options["json"]:
            message = _("导入完成：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d") % {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            }
            if result.restamped:
                message += _("，随上级调整 %(n)d 个下级区划") % {"n": result.restamped}
            if result.records_restamped:
                message += _("，重新归属 %(n)d 条记录") % {"n": result.records_restamped}
            self.stdout.write(self.style.SUCCESS(message))
