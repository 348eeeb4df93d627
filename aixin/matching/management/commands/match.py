"""`aixin match (--district CODE | --all [--workers N]) [--dry-run] [--json]`: propose loving
mothers for the children who need one, district by district, with the exact solver (issue 4)."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.db.models import Count

from aixin.matching.pool import Job, Result, district_job, setup_worker
from aixin.regions.models import Region, RegionLevel
from aixin.registry.models import Child


class Command(BaseCommand):
    help = "智能匹配：为需要结对的儿童提出爱心妈妈人选（按区县精确求解）"

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--district", help="区县代码，如 500242")
        which.add_argument("--all", action="store_true", help="全市各区县")
        parser.add_argument("--reach", default="district", choices=["village", "town", "district"])
        parser.add_argument("--dry-run", action="store_true", help="只计算并报告，不保存建议")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出报告")
        parser.add_argument(
            "--workers", type=int, default=1, help="全市匹配时并行计算的进程数（默认 1；两核机器可用 2）"
        )

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
        if opts["workers"] < 1:
            raise CommandError("--workers 至少为 1")
        jobs = [(code, opts["reach"], opts["dry_run"]) for code in codes]
        if opts["all"] and opts["workers"] > 1:
            results = _in_pool(jobs, opts["workers"])
        else:
            results = (district_job(job) for job in jobs)
        reports = []
        failed: list[dict[str, str]] = []
        for code, report, error in results:
            if error is not None:
                if not opts["all"]:
                    raise CommandError(error)
                # One district's refusal (e.g. a run already computing there) stops only it.
                failed.append({"district": code, "error": error})
                self.stderr.write(f"{code}：{error}")
                continue
            assert report is not None
            reports.append(report)
            if not opts["json"]:
                self.stdout.write(
                    f"{code}：儿童 {report['children']}，匹配 {report['matched']}，"
                    f"须优先保障 {report['must_cover_matched']}/{report['must_cover_total']}，"
                    f"未匹配 {report['children'] - report['matched']}"
                    f"（贪心法匹配 {report['greedy']['matched']}），"
                    f"用时 {report['seconds']['total']} 秒"
                )
                for warning in report.get("warnings", []):
                    self.stdout.write(f"  注意：{warning}")
        reports.sort(key=lambda r: r["district"])
        if opts["json"]:
            out = reports[0] if not opts["all"] else {**_totals(reports), "failed": failed}
            self.stdout.write(json.dumps(out, ensure_ascii=False))
        if failed:
            raise CommandError(f"{len(failed)} 个区县未能完成匹配，见上")


def _in_pool(jobs: list[Job], workers: int) -> Iterator[Result]:
    """The districts in `workers` processes, the largest first (the largest bounds the time);
    each process has its own database connection and writes its districts' runs itself."""
    sizes = dict(
        Child.objects.filter(district__code__in=[code for code, _r, _d in jobs])
        .values_list("district__code")
        .annotate(n=Count("pk"))
    )
    jobs = sorted(jobs, key=lambda job: -sizes.get(job[0], 0))
    connections.close_all()  # not inherited by the workers
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=setup_worker) as pool:
        futures = [pool.submit(district_job, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


def _totals(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole city: the districts' reports, and their counts and timings added up."""
    counts = ("children", "matched", "must_cover_total", "must_cover_matched", "candidate_pairs", "cost")
    total: dict[str, Any] = {key: sum(r[key] for r in reports) for key in counts}
    total["greedy_matched"] = sum(r["greedy"]["matched"] for r in reports)
    total["greedy_must_cover_matched"] = sum(r["greedy"]["must_cover_matched"] for r in reports)
    total["greedy_cost"] = sum(r["greedy"]["cost"] for r in reports)
    reasons: dict[str, int] = {}
    for r in reports:
        for reason, n in r["unmatched_by_reason"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    total["unmatched_by_reason"] = reasons
    phases = ("load", "candidates", "solve", "proposals", "store", "total")
    total["seconds"] = {p: round(sum(r["seconds"].get(p, 0.0) for r in reports), 3) for p in phases}
    return {"districts": reports, "total": total}
