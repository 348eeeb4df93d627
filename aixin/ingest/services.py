"""Department data integration (SPEC §4, R-4.1–4.5): file imports, pushed batches, duplicate
suspects.

A batch is written in ONE transaction with its counts, rejections and triggered alerts: a crash,
a kill -9 or a failed row-independent check leaves the registry exactly as it was, and running
the import again completes it. The batch row itself is committed first (status queued →
running) so that the page can show it; its progress is kept in the task queue's key-value
store (Huey storage: SQLite file or Redis), outside the batch transaction, so that it is
visible while the batch runs and after a server restart.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from aixin.accounts.access import duplicate_suspects_visible_to, get_visible, may_manage
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.ingest.columns import COLUMNS_BY_KEY, SOURCE_LABELS, SOURCES
from aixin.ingest.engine import Engine, RowResult, store_rejections
from aixin.ingest.models import (
    BatchKind,
    BatchStatus,
    DepartmentCredential,
    DuplicateSuspect,
    ImportBatch,
    SuspectStatus,
)
from aixin.ingest.reading import MAX_FILE_BYTES, FileRejected, Table, open_table
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.regions.models import Region

logger = logging.getLogger("aixin.ingest")

STALE_AFTER_SECONDS = 120
# Rows done are stored for the progress bar at most this often (and when every row is done), not
# after every chunk: a 500,000-row import made 500 writes to the task queue's store.
PROGRESS_EVERY_SECONDS = 0.5
UPLOAD_DIR_NAME = "imports"


class _DryRun(Exception):
    """Raised at the end of a dry run to roll the batch transaction back."""


# ---------------------------------------------------------------------------------------------
# Progress (outside the batch transaction)


def _progress_key(batch_id: int) -> str:
    # The database name keeps installations (and parallel test databases) sharing one Redis apart.
    from django.db import connection

    return f"aixin:import-progress:{connection.settings_dict['NAME']}:{batch_id}"


def _huey() -> Any:
    from huey.contrib.djhuey import HUEY

    return HUEY


def _put_progress(batch_id: int, done: int, total: int) -> None:
    try:
        _huey().put(_progress_key(batch_id), {"done": done, "total": total, "at": time.time()})
    except Exception:  # progress is a convenience: never fail an import because of it
        logger.exception("could not store import progress for batch %s", batch_id)


def _progress_writer(batch_id: int, total: int) -> Callable[[int], None]:
    """Rows done → `_put_progress`, at most once every PROGRESS_EVERY_SECONDS, and always when
    every row is done."""
    last = _clock()

    def put(done: int) -> None:
        nonlocal last
        now = _clock()
        if now - last >= PROGRESS_EVERY_SECONDS or done >= total:
            last = now
            _put_progress(batch_id, done, total)

    return put


def _clock() -> float:
    return time.monotonic()


def _get_progress(batch_id: int) -> dict[str, Any] | None:
    try:
        value = _huey().get(_progress_key(batch_id), peek=True)
    except Exception:
        logger.exception("could not read import progress for batch %s", batch_id)
        return None
    return value if isinstance(value, dict) else None


def batch_progress(batch: ImportBatch) -> dict[str, Any]:
    """{"status", "status_label", "done", "total", "percent", "stale"} for the progress bar."""
    total = batch.total_rows
    done, stale = total if batch.status == BatchStatus.DONE else 0, False
    if batch.status == BatchStatus.RUNNING:
        found = _get_progress(batch.pk)  # one read of the store per poll
        done = int((found or {}).get("done", 0))
        stale = _is_stale(batch, found)
    return {
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "done": min(done, total),
        "total": total,
        "percent": int(100 * done / total) if total else (100 if batch.status == BatchStatus.DONE else 0),
        "stale": stale,
    }


def _is_stale(batch: ImportBatch, found: dict[str, Any] | None = None) -> bool:
    """No progress reported for STALE_AFTER_SECONDS (`found`: the progress already read)."""
    found = found if found is not None else _get_progress(batch.pk)
    last = (
        float(found["at"]) if found and "at" in found else (batch.started_at or batch.created_at).timestamp()
    )
    return time.time() - last > STALE_AFTER_SECONDS


# ---------------------------------------------------------------------------------------------
# File imports


def _require_importer(actor: Any) -> None:
    if actor is None:  # the command line (operator on the server): city-wide
        return
    if not getattr(actor, "is_authenticated", False) or not may_manage(actor):
        raise NotAllowed("只有区县及以上妇联工作人员可以导入部门数据")


def _check_source(source: str) -> None:
    if source not in SOURCES:
        labels = "、".join(f"{k}（{v}）" for k, v in SOURCE_LABELS.items())
        raise InvalidInput(f"未知的数据来源“{source}”，可选：{labels}", field="source")


def upload_dir() -> Path:
    path = Path(settings.DATA_DIR) / UPLOAD_DIR_NAME
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store_upload(upload: Any, file_name: str) -> tuple[Path, str]:
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // 1024 // 1024
        raise FileRejected(f"文件过大（{size / 1024 / 1024:.1f}MB），单个文件不能超过{limit}MB，请拆分后上传")
    suffix = Path(file_name).suffix.lower()[:10] if file_name else ""
    target = upload_dir() / f"{uuid.uuid4().hex}{suffix}"
    digest = hashlib.sha256()
    written = 0
    with open(target, "wb") as out:
        for part in upload.chunks():
            written += len(part)
            if written > MAX_FILE_BYTES:
                out.close()
                target.unlink(missing_ok=True)
                raise FileRejected(
                    f"文件过大，单个文件不能超过{MAX_FILE_BYTES // 1024 // 1024}MB，请拆分后上传"
                )
            digest.update(part)
            out.write(part)
    return target, digest.hexdigest()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for part in iter(lambda: f.read(1 << 20), b""):
            digest.update(part)
    return digest.hexdigest()


def start_file_import(
    *,
    actor: Any,
    source: str,
    upload: Any,
    file_name: str = "",
    dry_run: bool = False,
    run_now: bool = False,
    request: HttpRequest | None = None,
) -> ImportBatch:
    """Check a department file whole, register a queued batch and start it (see module doc).

    `upload` is an uploaded file (stored under DATA_DIR/imports) or a Path (read in place: the
    command line). Whole-file problems raise FileRejected and write nothing."""
    _require_importer(actor)
    _check_source(source)
    stored: Path | None = None
    if isinstance(upload, (str, Path)):
        path = Path(upload)
        if path.is_dir():
            raise FileRejected(f"这是一个文件夹，不是数据文件：{path}")
        if not path.is_file():
            raise FileRejected(f"找不到文件：{path}")
        file_name = file_name or path.name
        sha = _sha256_of(path) if path.stat().st_size <= MAX_FILE_BYTES else ""
    else:
        file_name = file_name or getattr(upload, "name", "") or "upload"
        stored, sha = _store_upload(upload, file_name)
        path = stored
    try:
        table = open_table(path, filename=file_name)
    except Exception:
        if stored is not None:
            stored.unlink(missing_ok=True)
        raise
    _mark_interrupted(sha)
    scope = (
        actor.region
        if actor is not None
        else Region.objects.filter(parent__isnull=True).order_by("pk").first()
    )
    if scope is None:
        raise InvalidInput("尚未导入行政区划，请先运行 aixin load-regions")
    batch = ImportBatch.objects.create(
        source=source,
        kind=BatchKind.FILE,
        dry_run=dry_run,
        created_by=actor,
        scope=scope,
        file_name=file_name[:200],
        stored_path=str(path),
        file_sha256=sha,
        headers=list(table.headers),
        sheets=list(table.sheets),
        total_rows=table.total_rows,
    )
    audit_log(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="import_batch",
        object_id=batch.pk,
        region=scope,
        summary=f"上传{SOURCE_LABELS[source]}数据文件（{table.total_rows}行"
        f"{f'，{len(table.sheets)}个工作表' if table.sheets else ''}）{'，试导入' if dry_run else ''}",
        request=request,
    )
    if run_now:
        # The file was just checked and counted: no second pass over it before the import.
        return run_batch(batch.pk, table=table)
    from aixin.ingest.tasks import run_import

    transaction.on_commit(lambda: run_import(batch.pk))
    return batch


def _mark_interrupted(sha: str) -> None:
    """Earlier batches of the same file that died while running (kill -9, power cut) are marked
    interrupted: they wrote nothing, and this new batch does the work."""
    if not sha:
        return
    for batch in ImportBatch.objects.filter(file_sha256=sha, status=BatchStatus.RUNNING):
        if _is_stale(batch):
            _interrupt(batch.pk)


def _interrupt(batch_id: int) -> None:
    ImportBatch.objects.filter(pk=batch_id, status=BatchStatus.RUNNING).update(
        status=BatchStatus.INTERRUPTED, error="导入进程中断，本批次未写入任何数据", finished_at=timezone.now()
    )


def run_batch(
    batch_id: int, *, today: datetime.date | None = None, table: Table | None = None
) -> ImportBatch:
    """Run a queued file batch to the end (the task and the command line). Idempotent: a batch
    already done is returned as it is. `table`: the batch's file as start_file_import opened it
    (the command line), saving a second pass over a large file."""
    batch = ImportBatch.objects.select_related("scope", "created_by").get(pk=batch_id)
    if batch.status in (BatchStatus.DONE, BatchStatus.FAILED):
        return batch
    day = today or timezone.localdate()
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, started_at=timezone.now(), error=""
    )
    batch.status = BatchStatus.RUNNING
    _put_progress(batch.pk, 0, batch.total_rows)
    try:
        if table is None:
            table = open_table(batch.stored_path, filename=batch.file_name)
        engine = Engine(
            batch,
            keys=table.keys,
            headers=table.headers,
            today=day,
            progress=_progress_writer(batch.pk, batch.total_rows),
        )
        _run_atomic(batch, engine, table.rows(), today=day)
    except Exception as exc:
        if isinstance(exc, InvalidInput):
            message = exc.message
        elif isinstance(exc, IntegrityError):
            # Another batch wrote the same child at the same moment (unique ID number).
            message = "与同时进行的另一批导入写入了同一名儿童"
        else:
            message = f"导入出错：{type(exc).__name__}"
        logger.exception("import batch %s failed", batch.pk)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED,
            error=f"{message}。本批次未写入任何数据，可修正后重新导入",
            finished_at=timezone.now(),
        )
        batch.refresh_from_db()
        return batch
    batch.refresh_from_db()
    return batch


def _run_atomic(batch: ImportBatch, engine: Engine, rows: Any, *, today: datetime.date) -> None:
    from aixin.ingest.triggers import after_batch

    try:
        with transaction.atomic():
            engine.run(rows, total=batch.total_rows)
            alerts = {} if batch.dry_run else after_batch(batch, today=today)
            _finish(batch, engine, alerts)
            if batch.dry_run:
                raise _DryRun
    except _DryRun:
        # Nothing was kept; record what would have happened, the rejected rows and (described
        # on the batch: their children are gone) the duplicate suspects.
        with transaction.atomic():
            _finish(batch, engine, {})
            store_rejections(batch, engine.rejections)


def _finish(batch: ImportBatch, engine: Engine, alerts: dict[str, int]) -> None:
    c = engine.counts
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.DONE,
        created_count=c.created,
        updated_count=c.updated,
        unchanged_count=c.unchanged,
        rejected_count=c.rejected,
        suspect_count=c.suspects,
        dry_run_suspects=engine.dry_run_suspects,
        finished_at=timezone.now(),
        results=_results_json(engine.results) if engine.keep_results else [],
    )
    label = SOURCE_LABELS[batch.source]
    audit_log(
        actor=batch.created_by,
        action=AuditAction.CREATE,
        object_type="import_batch",
        object_id=batch.pk,
        region=batch.scope,
        summary=(
            f"{'试' if batch.dry_run else ''}导入{label}数据：新增{c.created}，更新{c.updated}，"
            f"未变化{c.unchanged}，拒绝{c.rejected}，疑似重复{c.suspects}"
        ),
        details={"alerts": alerts},
    )


def _results_json(results: list[RowResult]) -> list[dict[str, Any]]:
    return [
        {"index": r.row_number - 1, "status": r.status, "child_id": r.child_id, "errors": r.errors}
        for r in sorted(results, key=lambda r: r.row_number)
    ]


def requeue_stale_batches() -> list[int]:
    """Batches whose worker died (server restart): start them again. They wrote nothing, so a
    fresh run is the whole recovery. Command-line batches of a file that is gone are marked
    interrupted."""
    from aixin.ingest.tasks import run_import

    again: list[int] = []
    for batch in ImportBatch.objects.filter(status=BatchStatus.RUNNING, kind=BatchKind.FILE):
        if not _is_stale(batch):
            continue
        if batch.stored_path and os.path.isfile(batch.stored_path):
            ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.QUEUED)
            run_import(batch.pk)
            again.append(batch.pk)
        else:
            _interrupt(batch.pk)
    return again


# ---------------------------------------------------------------------------------------------
# Pushed batches

MAX_PUSH_RECORDS = 5000


def _push_cells(record: dict[str, Any], keys: list[str]) -> list[object]:
    """The cells of a pushed record in the order of `keys`, as a file row would carry them:
    true/false as 是/否, a list as words joined by 、 (the rejected-rows workbook writes these
    cells back, and the file importer reads them the same way)."""
    cells: list[object] = []
    for key in keys:
        value = record.get(key)
        if value is None:
            cells.append("")
        elif isinstance(value, bool):
            cells.append("是" if value else "否")
        elif isinstance(value, list):
            cells.append("、".join(str(v) for v in value))
        else:
            cells.append(value)
    return cells


def _push_problem(number: int, record: Any) -> tuple[str, str] | None:
    """(field key, reason) when record `number` (1-based) cannot be read at all, else None."""
    if not isinstance(record, dict):
        return "", f"第{number}条记录不是JSON对象：每条记录应为以字段键为键的对象"
    unknown = [str(k) for k in record if k not in COLUMNS_BY_KEY]
    if unknown:
        return unknown[0], f"未知字段：{'、'.join(unknown)}（可用的字段见 /api/v1/docs）"
    return None


def ingest_records(*, credential: DepartmentCredential, external_id: str, records: list[Any]) -> ImportBatch:
    """Validate and merge a department system's batch exactly as a file (see module doc).
    Idempotent by (source, external_id): a batch received before is returned as it was.

    Record N (1-based: the 行号 of the batch page and of the rejected-rows workbook, `row` in
    the API's results) is row N of the batch. The batch's header is the Chinese column labels
    (columns.py), as in the template: the batch page names the columns in error by them and the
    rejected-rows workbook can be fixed and uploaded as a file."""
    external_id = (external_id or "").strip()
    if not external_id or len(external_id) > 100:
        raise InvalidInput("批次号batch_id不能为空，且不超过100个字符", field="batch_id")
    if not records or len(records) > MAX_PUSH_RECORDS:
        raise InvalidInput(f"每批记录数应为1至{MAX_PUSH_RECORDS}条", field="records")
    earlier = ImportBatch.objects.filter(source=credential.source, external_id=external_id).first()
    if earlier is not None:
        if earlier.status == BatchStatus.RUNNING:
            raise Conflict("该批次正在处理中，请稍后查询结果")
        return earlier
    keys = [c for c in COLUMNS_BY_KEY if any(c in r for r in records if isinstance(r, dict))]
    labels = [COLUMNS_BY_KEY[k].label for k in keys]
    try:
        with transaction.atomic():  # a savepoint: the look-up below works inside a transaction too
            batch = ImportBatch.objects.create(
                source=credential.source,
                kind=BatchKind.PUSH,
                status=BatchStatus.RUNNING,
                credential=credential,
                scope=credential.region,
                external_id=external_id,
                headers=labels,
                total_rows=len(records),
                started_at=timezone.now(),
            )
    except IntegrityError:
        # The same batch id pushed at the same moment: the first push answers.
        found = ImportBatch.objects.get(source=credential.source, external_id=external_id)
        if found.status == BatchStatus.RUNNING:
            raise Conflict("该批次正在处理中，请稍后查询结果") from None
        return found
    batch = ImportBatch.objects.select_related("scope").get(pk=batch.pk)
    day = timezone.localdate()
    engine = Engine(batch, keys=keys, headers=labels, today=day, keep_results=True)
    rows: list[tuple[int, list[object]]] = []
    for number, record in enumerate(records, start=1):
        problem = _push_problem(number, record)
        if problem is not None:
            field, reason = problem
            # The record's known fields are kept for the rejected-rows workbook.
            cells = _push_cells(record, keys) if isinstance(record, dict) else []
            engine._reject(number, cells, "", reason)
            engine.results[-1].errors[0]["field"] = field
            continue
        rows.append((number, _push_cells(record, keys)))
    try:
        _run_atomic(batch, engine, rows, today=day)
    except Exception:
        logger.exception("push batch %s failed", batch.pk)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED,
            error="处理出错，本批次未写入任何数据，请重新推送",
            finished_at=timezone.now(),
        )
        raise
    batch.refresh_from_db()
    return batch


def push_answer(batch: ImportBatch) -> dict[str, Any]:
    """The push API's answer for a batch: its counts (duplicate suspects included, as a file
    import reports them) and one result per record, each with `index` (0-based position in
    `records`) and `row` (1-based: 行号 on the batch page and in the rejected-rows workbook)."""
    results = [
        {**r, "row": int(r["index"]) + 1, "errors": r.get("errors") or []} for r in batch.results or []
    ]
    return {
        "batch": batch.pk,
        "batch_id": batch.external_id,
        "status": batch.status,
        "counts": {**batch.counts, "suspects": batch.suspect_count},
        "results": results,
    }


# ---------------------------------------------------------------------------------------------
# Duplicate suspects


@transaction.atomic
def decide_suspect(
    *, actor: Any, suspect_id: Any, decision: str, note: str, request: HttpRequest | None = None
) -> DuplicateSuspect:
    """A person decides whether two records are one child. "same" closes the newer record."""
    from aixin.registry.models import ClosedAs
    from aixin.registry.services import child_close

    _require_importer(actor)
    if decision not in (SuspectStatus.SAME, SuspectStatus.DIFFERENT):
        raise InvalidInput("请选择“同一儿童”或“不同儿童”", field="decision")
    suspect: DuplicateSuspect = get_visible(
        duplicate_suspects_visible_to(actor).select_for_update().select_related("child", "other"), suspect_id
    )
    if suspect.status != SuspectStatus.OPEN:
        raise Conflict("该疑似重复记录已处理")
    note = (note or "").strip()[:300]
    if decision == SuspectStatus.SAME:
        other = suspect.other
        reason = f"与{other.name}（{other.id_number_masked}）为同一儿童（重复记录）"
        if note:
            reason = f"{reason}：{note}"
        child_close(
            actor=actor,
            child_id=suspect.child_id,
            reason=reason[:300],
            closed_as=ClosedAs.DUPLICATE,
            request=request,
        )
    suspect.status = decision
    suspect.note = note
    suspect.decided_by = actor
    suspect.decided_at = timezone.now()
    suspect.save(update_fields=["status", "note", "decided_by", "decided_at"])
    audit_log(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="duplicate_suspect",
        object_id=suspect.pk,
        region=suspect.child.region,
        summary=f"疑似重复核实为{suspect.get_status_display()}：{suspect.child.name}",
        request=request,
    )
    return suspect
