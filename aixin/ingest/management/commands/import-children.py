"""`aixin import-children FILE --source SOURCE [--dry-run] [--json] [--user NAME]`: import a
department's ledger (.xlsx, .xls, .csv) into the registry, in one transaction."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from aixin.accounts.models import User
from aixin.ingest import services
from aixin.ingest.columns import SOURCES
from aixin.ingest.models import BatchStatus
from aixin.lib.errors import DomainError

SHOWN_REJECTIONS = 20


class Command(BaseCommand):
    help = "导入部门儿童数据文件（.xlsx、.xls、.csv）"
    # Django's system checks (which import every URL module) cost ~1.5 s a run; a data command
    # gains nothing from them (`manage.py check` and the server still run them).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="数据文件")
        parser.add_argument("--source", required=True, choices=SOURCES, help="数据来源部门")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出统计")
        parser.add_argument(
            "--user", default="", help="以该用户的身份和管辖范围导入（不填则为全市范围的系统导入）"
        )

    def _refuse(self, message: str, options: dict[str, Any]) -> CommandError:
        """A file or call refused before any batch: with --json, one object on stdout still."""
        if options["json"]:
            counts = dict.fromkeys(("created", "updated", "unchanged", "rejected", "suspects"), 0)
            answer = {"batch": None, "status": "refused", "dry_run": options["dry_run"], **counts}
            self.stdout.write(json.dumps({**answer, "error": message}, ensure_ascii=False))
        return CommandError(message)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["user"]:
            actor = User.objects.select_related("region").filter(username=options["user"]).first()
            if actor is None:
                raise self._refuse(_("用户“%(u)s”不存在") % {"u": options["user"]}, options)
        try:
            batch = services.start_file_import(
                actor=actor,
                source=options["source"],
                upload=options["file"],
                dry_run=options["dry_run"],
                run_now=True,
            )
        except DomainError as exc:
            raise self._refuse(exc.message, options) from exc
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "batch": batch.pk,
                        "status": batch.status,
                        "dry_run": batch.dry_run,
                        "total": batch.total_rows,
                        **batch.counts,
                        "suspects": batch.suspect_count,
                        "error": batch.error,
                    },
                    ensure_ascii=False,
                )
            )
        if batch.status != BatchStatus.DONE:
            raise CommandError(batch.error or _("导入未完成"))
        if options["json"]:
            return
        message = _(
            "%(dry)s导入完成（批次 %(id)d）：共 %(total)d 行，新增 %(created)d，更新 %(updated)d，"
            "未变化 %(unchanged)d，拒绝 %(rejected)d，疑似重复 %(suspects)d"
        ) % {
            "dry": _("试") if batch.dry_run else "",
            "id": batch.pk,
            "total": batch.total_rows,
            "suspects": batch.suspect_count,
            **batch.counts,
        }
        self.stdout.write(self.style.SUCCESS(message))
        for r in batch.rejections.all()[:SHOWN_REJECTIONS]:
            self.stdout.write(f"  {r}")
        if batch.rejected_count > SHOWN_REJECTIONS:
            self.stdout.write(
                _("  ……其余 %(n)d 行见导入页面的“未导入的行”Excel")
                % {"n": batch.rejected_count - SHOWN_REJECTIONS}
            )
