"""`aixin match (--district CODE | --all) [--dry-run] [--json]`: propose loving mothers for the
children who need one, district by district, with the exact solver (issue 4)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aixin.lib.errors import DomainError
from aixin.matching.services import run_match
from aixin.regions.models import Region, RegionLevel


class Command(BaseCommand):
    help = "智能匹配：为需要结对的儿童提出爱心妈妈人选（按区县精确求解）"

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--district", help="区县代码，如 500242")
        which.add_argument("--all", action="store_true", help="全市各区县")
        parser.add_argument("--reach", default="district", choices=["village", "town", "district"])
        parser.add_argument("--dry-run", action="store_true", help="只计算并报告，不保存建议")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出报告")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["all"]:
            codes = list(
                Region.objects.current()
                .filter(level=RegionLevel.DISTRICT)
                .order_by("code")
                .values_list("code", flat=True)
            )
        else:
            codes = [opts["district"]]
        reports = []
        for code in codes:
            try:
                result = run_match(
                    actor=None, district_code=code, reach=opts["reach"], dry_run=opts["dry_run"]
                )
            except DomainError as exc:
                raise CommandError(exc.message) from exc
            report = result if isinstance(result, dict) else {"run": result.pk, **result.report}
            reports.append(report)
            if not opts["json"]:
                self.stdout.write(
                    f"{code}：儿童 {report['children']}，匹配 {report['matched']}，"
                    f"须优先保障 {report['must_cover_matched']}/{report['must_cover_total']}，"
                    f"未匹配 {report['children'] - report['matched']}"
                    f"（贪心法匹配 {report['greedy']['matched']}），"
                    f"用时 {report['seconds']['total']} 秒"
                )
        if opts["json"]:
            self.stdout.write(json.dumps(reports[0] if len(reports) == 1 else reports, ensure_ascii=False))
