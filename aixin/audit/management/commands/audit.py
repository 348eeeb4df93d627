"""`aixin audit verify [--json]` checks the audit log's hash chain and exits non-zero at the first
altered, inserted or deleted entry; `aixin audit seal` seals what is pending; `aixin audit
archive --before DATE` copies sealed events older than the retention period (≥ 6 months) to an
archive file with their seals — the events stay in the database."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from aixin.audit import chain
from aixin.audit.models import AuditArchive, AuditEvent


class Command(BaseCommand):
    help = "审计日志：校验哈希链（verify）、封存（seal）、归档（archive）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="校验审计日志哈希链")
        verify.add_argument("--json", action="store_true")
        sub.add_parser("seal", help="封存尚未封存的审计事件")
        archive = sub.add_parser("archive", help="将超过保存期的审计事件归档到文件（数据库中保留）")
        archive.add_argument("--before", required=True, help="归档此日期之前的事件，如 2026-01-01")
        archive.add_argument("--output", help="归档文件路径（默认 DATA_DIR/audit-archive/）")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "seal":
            self.stdout.write(f"已封存 {chain.seal_pending()} 条审计事件")
        elif opts["action"] == "verify":
            self._verify(opts["json"])
        else:
            self._archive(opts["before"], opts.get("output"))

    def _verify(self, as_json: bool) -> None:
        verdict = chain.verify()
        if as_json:
            self.stdout.write(json.dumps(verdict.as_dict(), ensure_ascii=False))
        elif verdict.ok:
            self.stdout.write(f"审计日志完整：{verdict.sealed} 条已封存，哈希链校验通过")
        if not verdict.ok:
            raise CommandError("审计日志校验未通过：" + "；".join(verdict.problems))

    def _archive(self, before_text: str, output: str | None) -> None:
        try:
            before = datetime.date.fromisoformat(before_text)
        except ValueError as exc:
            raise CommandError(f"日期“{before_text}”格式不对，应为 2026-01-01") from exc
        days = settings.AIXIN_AUDIT_RETENTION_DAYS
        latest = timezone.localdate() - datetime.timedelta(days=days)
        if before > latest:
            raise CommandError(f"审计日志至少保存 {days} 天：只能归档 {latest.isoformat()} 之前的事件")
        chain.seal_pending()
        start = AuditArchive.objects.order_by("-last_seq").values_list("last_seq", flat=True).first() or 0
        cutoff = timezone.make_aware(datetime.datetime.combine(before, datetime.time.min))
        events = (
            AuditEvent.objects.filter(seal__seq__gt=start, created_at__lt=cutoff)
            .order_by("seal__seq")
            .values("seal__seq", "seal__prev_hash", "seal__hash", *chain.FIELDS)
        )
        folder = Path(settings.DATA_DIR) / "audit-archive"
        path = Path(output) if output else folder / f"audit-{before.isoformat()}-from-{start + 1}.jsonl.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        first = last = n = 0
        digest = hashlib.sha256()
        tmp = path.with_suffix(path.suffix + ".part")
        with gzip.open(tmp, "wt", encoding="utf-8") as f:
            for row in events.iterator(chunk_size=5000):
                line = json.dumps(row, ensure_ascii=False, default=str, sort_keys=True) + "\n"
                f.write(line)
                digest.update(line.encode())
                first = first or row["seal__seq"]
                last, n = row["seal__seq"], n + 1
        if n == 0:
            tmp.unlink()
            self.stdout.write("没有需要归档的审计事件")
            return
        tmp.rename(path)
        AuditArchive.objects.create(
            first_seq=first,
            last_seq=last,
            events=n,
            before=before,
            file_name=str(path),
            sha256=digest.hexdigest(),
        )
        self.stdout.write(f"已归档 {n} 条审计事件（第 {first}–{last} 条）到 {path}；数据库中的记录保留")
