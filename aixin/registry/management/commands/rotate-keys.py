"""`aixin rotate-keys [--batch 500] [--dry-run] [--max-batches N] [--json]`: re-encrypt every
encrypted column under the current field key (the first key of AIXIN_FIELD_KEY_FILE or
AIXIN_FIELD_KEYS), in short batches while the system keeps serving. See docs/SECURITY.md."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from aixin.lib import crypto
from aixin.registry.keyrotation import ColumnRotation, field_keys_rotate


class Command(BaseCommand):
    help = "字段加密密钥轮换：把所有加密字段改用当前密钥重新加密（分批进行，不停机）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="每批行数（每批一个短事务，默认 500）")
        parser.add_argument("--dry-run", action="store_true", help="只统计各密钥下待轮换的数量，不写入")
        parser.add_argument(
            "--max-batches", type=int, default=None, help="最多处理多少批后停止（再次运行会接着处理）"
        )
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["batch"] < 1:
            raise CommandError("--batch 至少为 1")
        if opts["max_batches"] is not None and opts["max_batches"] < 1:
            raise CommandError("--max-batches 至少为 1")
        quiet = opts["json"]

        def progress(column: ColumnRotation) -> None:
            if quiet:
                return
            if opts["dry_run"]:
                keys = "，".join(f"{k} {n}" for k, n in sorted(column.by_key.items())) or "无"
                self.stdout.write(f"{column.label}：待轮换 {column.pending_before}（{keys}）")
            else:
                done = f"{column.rotated}/{column.pending_before}"
                self.stdout.write(f"{column.label}：第 {column.batches} 批，已重新加密 {done}")

        try:
            report = field_keys_rotate(
                batch_size=opts["batch"],
                dry_run=opts["dry_run"],
                max_batches=opts["max_batches"],
                progress=progress,
            )
        except crypto.KeyringError as exc:
            raise CommandError(f"密钥配置有误：{exc}") from exc
        failed = sum(len(c.failed) for c in report.columns)
        if quiet:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self._summary(report.current, report.dry_run, report.columns)
            if report.interrupted:
                self.stdout.write(f"已按 --max-batches 停止，尚余 {report.remaining} 项：再次运行即可继续")
            elif not report.dry_run and report.remaining:
                self.stdout.write(
                    f"尚余 {report.remaining} 项未轮换（正被编辑而跳过，或无法解密）：请稍后再次运行"
                )
            elif report.complete:
                self.stdout.write(
                    f"完成：共重新加密 {report.rotated} 项，用时 {report.seconds} 秒；"
                    "所有数据已使用当前密钥，旧密钥可在不再需要恢复旧备份后移除"
                )
        if failed:
            raise CommandError(
                f"{failed} 项无法解密（数据被改动或所用密钥不在密钥环中），已跳过；见上方各字段的 failed 主键"
            )

    def _summary(self, current: str, dry_run: bool, columns: list[ColumnRotation]) -> None:
        self.stdout.write(f"当前密钥：{current}{'（试运行，未写入）' if dry_run else ''}")
        for c in columns:
            if not c.installed:
                self.stdout.write(f"  {c.label}：未安装，跳过")
            elif c.failed:
                shown = ", ".join(str(pk) for pk in c.failed[:20])
                failed = f"无法解密 {len(c.failed)}（主键 {shown}）：{c.error}"
                self.stdout.write(f"  {c.label}：剩余 {c.remaining}，{failed}")
            else:
                retired = (
                    "（这些数据密钥已停用，此后写入的内容用新的数据密钥封存）"
                    if c.rotated and c.model == "ops.DataKey"
                    else ""
                )
                self.stdout.write(f"  {c.label}：重新加密 {c.rotated}，剩余 {c.remaining}{retired}")
