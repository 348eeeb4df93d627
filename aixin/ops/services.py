"""Encrypted logical backups and restores of the whole database (issue 6, item 9; 等保 2.0
数据备份恢复).

A backup is database-agnostic: every backed-up table (aixin.ops.catalogue) streamed in
dependency order as JSON lines inside a compressed, AES-256-GCM sealed file
(aixin.ops.sealed), so a SQLite backup restores into PostgreSQL and the other way round.

Stream, one JSON document per line:
    {"format": "aixin-backup", "version": 1, "created_at", "source_database", "migrations",
     "tables": [{"model", "table", "columns"}, ...]}           the header
    {"table": "registry.child"}                                  then, per table,
    [value, value, ...]                                          one line per row, by primary key
    {"end": "registry.child", "rows": n, "sha256": h, "highest_id": i}
    {"file": name, "field": "care.carerecord.photo", "size": n}   then, per uploaded file,
    "base64…"                                                    its bytes, 48 KiB a line
    {"file_end": name, "sha256": h}
    {"end_of_backup": true, "tables": {label: {"rows": n, "sha256": h}}, "files": n,
     "missing_files": [names a row points at but the storage does not hold]}
Row counts and digests follow each table (the stream is written once, never held in memory);
the restore checks every one before it commits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import FileField
from django.utils import timezone

from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import Conflict, InvalidInput
from aixin.ops import catalogue
from aixin.ops.catalogue import Table
from aixin.ops.sealed import CHUNK_BYTES, BackupUnreadable, SealedReader, SealedWriter

FORMAT = "aixin-backup"
FORMAT_VERSION = 1
ROWS_PER_READ = 2000
ROWS_PER_INSERT = 1000
FILE_PIECE = 48 * 1024
SUFFIX = ".aixbak"


@dataclass(frozen=True)
class BackupKey:
    key: bytes
    derived: bool  # from SECRET_KEY: fine for the demo, never for production


@dataclass
class BackupSummary:
    path: Path
    created_at: str
    tables: dict[str, int] = field(default_factory=dict)  # label → rows
    files: int = 0
    missing_files: list[str] = field(default_factory=list)
    size: int = 0
    derived_key: bool = False

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "created_at": self.created_at,
            "tables": self.tables,
            "rows": self.rows,
            "files": self.files,
            "missing_files": self.missing_files,
            "bytes": self.size,
            "derived_key": self.derived_key,
        }


def backup_key() -> BackupKey:
    """AIXIN_BACKUP_KEY (url-safe base64 of 32 bytes), else the key in AIXIN_BACKUP_KEY_FILE,
    else one derived from SECRET_KEY under a label of its own."""
    raw = settings.AIXIN_BACKUP_KEY
    source = "AIXIN_BACKUP_KEY"
    if not raw and settings.AIXIN_BACKUP_KEY_FILE:
        source = "AIXIN_BACKUP_KEY_FILE"
        try:
            raw = Path(settings.AIXIN_BACKUP_KEY_FILE).read_text(encoding="ascii").strip()
        except OSError as exc:
            raise InvalidInput(
                f"读不到备份密钥文件 {settings.AIXIN_BACKUP_KEY_FILE}：{exc.strerror}"
            ) from exc
    if not raw:
        derived = HKDF(algorithm=SHA256(), length=32, salt=b"aixin", info=b"backup-encryption").derive(
            settings.SECRET_KEY.encode()
        )
        return BackupKey(key=derived, derived=True)
    try:
        key = base64.urlsafe_b64decode(raw)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise InvalidInput(f"{source} 必须是 32 字节密钥的 url-safe base64 编码（44 个字符）")
    return BackupKey(key=key, derived=False)


def default_backup_path() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    directory = (
        Path(settings.AIXIN_BACKUP_DIR) if settings.AIXIN_BACKUP_DIR else settings.DATA_DIR / "backups"
    )
    return directory / f"aixin-{stamp}{SUFFIX}"


def _line(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


# --- backup -------------------------------------------------------------------------------


def backup_create(
    *, output: Path | None = None, actor: Any = None, chunk_bytes: int = CHUNK_BYTES
) -> BackupSummary:
    """Write an encrypted backup of the whole database to `output` (default: a time-stamped
    file in AIXIN_BACKUP_DIR). The file appears only when complete: it is written under a
    temporary name in the same directory and renamed at the end."""
    key = backup_key()
    _check_fully_migrated()
    if not connection.in_atomic_block:
        # Seal the audit log first, so a restored copy carries every event in its hash chain.
        from aixin.audit.chain import seal_pending

        seal_pending()
    target = Path(output) if output else default_backup_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temp = Path(temp_name)  # created 0600: the file is encrypted, but no one else needs it
    try:
        with os.fdopen(fd, "wb") as raw:
            writer = SealedWriter(raw, key=key.key, chunk_bytes=chunk_bytes)
            summary = _dump(writer.write)
            writer.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp, target)
        _fsync_directory(target.parent)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    summary.path = target
    summary.size = target.stat().st_size
    summary.derived_key = key.derived
    audit_log(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="backup",
        object_id=target.name,
        summary=f"整库加密备份：{len(summary.tables)} 张表，{summary.rows} 行",
    )
    return summary


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _dump(write: Callable[[bytes], None]) -> BackupSummary:
    with _snapshot():
        backed_up = catalogue.tables()
        summary = BackupSummary(path=Path(), created_at=timezone.localtime().isoformat(timespec="seconds"))
        write(
            _line(
                {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "created_at": summary.created_at,
                    "source_database": connection.vendor,
                    "migrations": catalogue.migration_state(_apps_of(backed_up)),
                    "tables": [
                        {"model": t.label, "table": t.db_table, "columns": t.columns} for t in backed_up
                    ],
                }
            )
        )
        digests: dict[str, dict[str, Any]] = {}
        for table in backed_up:
            write(_line({"table": table.label}))
            rows, digest = _dump_table(table, write)
            write(
                _line(
                    {
                        "end": table.label,
                        "rows": rows,
                        "sha256": digest,
                        "highest_id": catalogue.highest_id(table),
                    }
                )
            )
            summary.tables[table.label] = rows
            digests[table.label] = {"rows": rows, "sha256": digest}
        _dump_files(backed_up, write, summary)
        write(
            _line(
                {
                    "end_of_backup": True,
                    "tables": digests,
                    "files": summary.files,
                    "missing_files": summary.missing_files,
                }
            )
        )
    return summary


def _dump_files(backed_up: list[Table], write: Callable[[bytes], None], summary: BackupSummary) -> None:
    seen: set[str] = set()
    for table, file_field in catalogue.file_fields(backed_up):
        names = (
            table.model._base_manager.exclude(**{file_field.attname: ""})
            .exclude(**{f"{file_field.attname}__isnull": True})
            .order_by(table.pk.attname)
            .values_list(file_field.attname, flat=True)
            .iterator(chunk_size=ROWS_PER_READ)
        )
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            try:
                handle = file_field.storage.open(name, "rb")
            except (FileNotFoundError, OSError):
                summary.missing_files.append(name)
                continue
            label = f"{table.label}.{file_field.name}"
            with handle:
                write(_line({"file": name, "field": label, "size": file_field.storage.size(name)}))
                digest = hashlib.sha256()
                while piece := handle.read(FILE_PIECE):
                    digest.update(piece)
                    write(_line(base64.b64encode(piece).decode()))
            write(_line({"file_end": name, "sha256": digest.hexdigest()}))
            summary.files += 1


def _dump_table(table: Table, write: Callable[[bytes], None]) -> tuple[int, str]:
    encode = catalogue.encoders(table)
    digest = hashlib.sha256()
    rows = 0
    pending: list[bytes] = []
    values = (
        table.model._base_manager.order_by(table.pk.attname)
        .values_list(*table.columns)
        .iterator(chunk_size=ROWS_PER_READ)
    )
    for row in values:
        line = _line([e(v) for e, v in zip(encode, row, strict=True)])
        digest.update(line)
        pending.append(line)
        rows += 1
        if len(pending) >= ROWS_PER_READ:
            write(b"".join(pending))
            pending.clear()
    write(b"".join(pending))
    return rows, digest.hexdigest()


def _apps_of(tables: list[Table]) -> list[str]:
    return sorted({t.model._meta.app_label for t in tables})


@contextmanager
def _snapshot() -> Iterator[None]:
    """Read every table as of one moment, without stopping the site from writing."""
    if connection.in_atomic_block:  # the caller's transaction already reads one state
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    if connection.vendor == "sqlite":
        # Django's atomic() would BEGIN IMMEDIATE and hold the write lock for the whole backup;
        # a deferred read transaction in WAL mode is a snapshot that lets writers go on.
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
        return
    yield


# --- restore ------------------------------------------------------------------------------


@dataclass
class RestoreSummary:
    path: Path
    created_at: str
    source_database: str
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    checked_only: bool = False

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "created_at": self.created_at,
            "source_database": self.source_database,
            "tables": self.tables,
            "rows": self.rows,
            "files": self.files,
            "checked_only": self.checked_only,
        }


Sink = Callable[[str, list[list[Any]]], None]
FileSink = Callable[[str, str, IO[bytes]], None]  # field label, name, content


def backup_check(*, path: Path) -> RestoreSummary:
    """Decrypt and check a backup (every chunk, every table's rows and SHA-256) without
    writing anything: for restore drills and for checking last night's file."""
    with _open(path) as (header, lines):
        summary = _summary(path, header)
        summary.checked_only = True
        _replay(lines, header, summary, sink=None, file_sink=None)
    return summary


def backup_restore(*, path: Path, actor: Any = None) -> RestoreSummary:
    """Restore `path` into this database, which must be migrated to the backup's migration
    state and hold none of our data yet. One transaction: a damaged file, a wrong key or a
    failing row leaves the database as it was."""
    with _open(path) as (header, lines):
        _check_migrations(header["migrations"])
        _check_fully_migrated()
        _check_empty()
        current = {t.label: t for t in catalogue.tables()}
        _check_tables(header, current)
        summary = _summary(path, header)
        inserters: dict[str, Callable[[list[list[Any]]], None]] = {}

        def sink(label: str, rows: list[list[Any]]) -> None:
            if label not in inserters:
                inserters[label] = _inserter(current[label])
            inserters[label](rows)

        stored: list[tuple[Storage, str]] = []

        def file_sink(label: str, name: str, content: IO[bytes]) -> None:
            model_label, _, field_name = label.rpartition(".")
            table = current.get(model_label)
            file_field = table.model._meta.get_field(field_name) if table else None
            if not isinstance(file_field, FileField):
                raise BackupUnreadable(f"备份中的文件 {name} 属于未知字段 {label}")
            _store_file(file_field.storage, name, content, stored)

        try:
            with transaction.atomic():
                _clear_seeded(current)
                highest = _replay(lines, header, summary, sink=sink, file_sink=file_sink)
                for label, top in highest.items():
                    catalogue.set_highest_id(current[label], top)
                connection.check_constraints(table_names=[current[label].db_table for label in highest])
                audit_log(
                    actor=actor,
                    action=AuditAction.CREATE,
                    object_type="backup_restore",
                    object_id=path.name,
                    summary=f"从备份恢复（备份时间 {summary.created_at}）："
                    f"{len(summary.tables)} 张表，{summary.rows} 行",
                )
        except DatabaseError as exc:
            _unstore(stored)
            raise Conflict(f"恢复失败，数据库未做任何改动：{exc}") from exc
        except BaseException:
            _unstore(stored)
            raise
    return summary


def _store_file(storage: Storage, name: str, content: IO[bytes], stored: list[tuple[Storage, str]]) -> None:
    """Put a restored upload back under its own name (the rows name it)."""
    if storage.exists(name):
        with storage.open(name, "rb") as present:
            same = _sha256(present) == _sha256(content)
        content.seek(0)
        if same:
            return
        raise Conflict(f"上传文件目录中已有同名而内容不同的文件 {name}：请恢复到一个空的数据目录")
    saved = storage.save(name, File(content, name=name))
    stored.append((storage, saved))
    if saved != name:
        raise Conflict(f"上传文件 {name} 无法按原名保存（存成了 {saved}）")


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while piece := handle.read(FILE_PIECE):
        digest.update(piece)
    return digest.hexdigest()


def _unstore(stored: list[tuple[Storage, str]]) -> None:
    for storage, name in stored:
        with suppress(OSError):
            storage.delete(name)


@contextmanager
def _open(path: Path) -> Iterator[tuple[dict[str, Any], Iterator[bytes]]]:
    key = backup_key()
    try:
        raw = open(path, "rb")  # noqa: SIM115 (closed below, after the generator is done)
    except OSError as exc:
        raise InvalidInput(f"打不开备份文件 {path}：{exc.strerror}") from exc
    with raw:
        lines = SealedReader(raw, key=key.key).lines()
        header = _document(next(lines, None))
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise BackupUnreadable("备份文件内容不是爱心平台的备份")
        if header.get("version") != FORMAT_VERSION:
            raise BackupUnreadable(f"备份内容版本 {header.get('version')} 不受支持，请用生成它的程序版本恢复")
        yield header, lines


def _summary(path: Path, header: dict[str, Any]) -> RestoreSummary:
    return RestoreSummary(
        path=path, created_at=header["created_at"], source_database=header["source_database"]
    )


def _document(line: bytes | None) -> Any:
    if line is None:
        raise BackupUnreadable("备份文件内容不完整")
    try:
        return json.loads(line)
    except ValueError:
        raise BackupUnreadable("备份文件内容已损坏（无法解析）") from None


def _replay(
    lines: Iterator[bytes],
    header: dict[str, Any],
    summary: RestoreSummary,
    *,
    sink: Sink | None,
    file_sink: FileSink | None,
) -> dict[str, int | None]:
    """Read every table section, hand its rows to `sink` in batches and check its row count
    and SHA-256; then every file, checked before it goes to `file_sink`; then the closing
    summary and the end of the file. Returns each table's highest id."""
    highest: dict[str, int | None] = {}
    expected = [t["model"] for t in header["tables"]]
    line = next(lines, None)
    for label in expected:
        opening = _document(line)
        if opening != {"table": label}:
            raise BackupUnreadable(f"备份文件内容已损坏：缺少表 {label}")
        digest = hashlib.sha256()
        rows = 0
        batch: list[list[Any]] = []
        for line in lines:
            if not line.startswith(b"["):
                break
            digest.update(line)
            rows += 1
            if sink is not None:
                batch.append(_document(line))
                if len(batch) >= ROWS_PER_INSERT:
                    sink(label, batch)
                    batch = []
        else:
            line = None
        if batch and sink is not None:
            sink(label, batch)
        closing = _document(line)
        if not isinstance(closing, dict) or closing.get("end") != label:
            raise BackupUnreadable(f"备份文件内容已损坏：表 {label} 没有正常结束")
        if closing.get("rows") != rows or closing.get("sha256") != digest.hexdigest():
            raise BackupUnreadable(
                f"备份文件中表 {label} 校验不通过"
                f"（应有 {closing.get('rows')} 行，读到 {rows} 行，或 SHA-256 不符）"
            )
        highest[label] = closing.get("highest_id")
        summary.tables[label] = rows
        line = next(lines, None)
    document = _document(line)
    while isinstance(document, dict) and "file" in document:
        line = _replay_file(lines, document, file_sink)
        summary.files += 1
        document = _document(line)
    trailer = document
    if not isinstance(trailer, dict) or not trailer.get("end_of_backup"):
        raise BackupUnreadable("备份文件内容已损坏：缺少结尾摘要")
    if {k: v["rows"] for k, v in trailer["tables"].items()} != summary.tables or trailer.get(
        "files"
    ) != summary.files:
        raise BackupUnreadable("备份文件内容已损坏：结尾摘要与各表行数或文件数不符")
    if next(lines, None) is not None:  # also makes the reader check the final chunk
        raise BackupUnreadable("备份文件内容已损坏：结尾摘要之后还有数据")
    return highest


def _replay_file(lines: Iterator[bytes], opening: dict[str, Any], file_sink: FileSink | None) -> bytes | None:
    """One file's pieces, gathered (in memory up to a few MB, then on disk) and checked;
    returns the line after it."""
    name = opening["file"]
    digest = hashlib.sha256()
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as content:
        line: bytes | None = None
        for line in lines:
            if not line.startswith(b'"'):
                break
            piece = base64.b64decode(_document(line))
            digest.update(piece)
            size += len(piece)
            if file_sink is not None:
                content.write(piece)
        else:
            line = None
        closing = _document(line)
        if closing != {"file_end": name, "sha256": digest.hexdigest()} or size != opening.get("size"):
            raise BackupUnreadable(f"备份文件中的上传文件 {name} 校验不通过")
        if file_sink is not None:
            content.seek(0)
            file_sink(opening.get("field", ""), name, content)
    return next(lines, None)


def _check_migrations(backup_state: dict[str, list[str]]) -> None:
    here = catalogue.migration_state(sorted(set(backup_state) | set(_apps_of(catalogue.tables()))))
    for app in sorted(set(backup_state) | set(here)):
        theirs, ours = backup_state.get(app, []), here.get(app, [])
        if set(theirs) != set(ours):
            missing_here = sorted(set(theirs) - set(ours))
            missing_there = sorted(set(ours) - set(theirs))
            raise Conflict(
                f"数据库结构与备份不一致：应用 {app} 的迁移在备份中为 {_latest(theirs)}，"
                f"在本数据库为 {_latest(ours)}"
                + (f"（本数据库缺少 {'、'.join(missing_here)}）" if missing_here else "")
                + (f"（备份中没有 {'、'.join(missing_there)}）" if missing_there else "")
                + "。请用与备份同一版本的程序执行 aixin migrate 后再恢复。"
            )


def _check_fully_migrated() -> None:
    """The tables must be what this version's models describe, or reading or writing them fails
    half-way with a database error instead of a message."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        pending = "、".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:3]) + (
            "等" if len(plan) > 3 else ""
        )
        raise Conflict(f"数据库还有 {len(plan)} 个迁移未执行（{pending}）：请先执行 aixin migrate")


def _latest(names: list[str]) -> str:
    return max(names) if names else "（无）"


def _check_empty() -> None:
    occupied = []
    for table in catalogue.tables():
        if table.label in catalogue.SEEDED_BY_MIGRATIONS:
            continue
        rows = table.model._base_manager.count()
        if rows:
            occupied.append(f"{table.db_table} {rows} 行")
    if occupied:
        shown = "、".join(occupied[:5]) + ("等" if len(occupied) > 5 else "")
        raise Conflict(
            f"目标数据库不是空的（{shown}）。恢复只写入刚执行过 aixin migrate、还没有任何业务数据的"
            "新数据库，不会覆盖或合并现有数据：请新建一个空数据库再恢复。"
        )


def _check_tables(header: dict[str, Any], current: dict[str, Table]) -> None:
    for entry in header["tables"]:
        table = current.get(entry["model"])
        if table is None:
            raise Conflict(f"本程序版本没有备份中的表 {entry['model']}，请用与备份同一版本的程序恢复")
        if entry["columns"] != table.columns:
            raise Conflict(f"表 {entry['model']} 的字段与备份不一致，请用与备份同一版本的程序恢复")
    missing = set(current) - {entry["model"] for entry in header["tables"]}
    if missing:
        raise Conflict(f"备份中没有表 {'、'.join(sorted(missing))}，请用与备份同一版本的程序恢复")


def _clear_seeded(current: dict[str, Table]) -> None:
    """Drop the configuration `migrate` seeded; the backup carries the instance's own."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for label in catalogue.SEEDED_BY_MIGRATIONS:
            if label in current:
                cursor.execute(f"DELETE FROM {quote(current[label].db_table)}")  # noqa: S608 (catalogue names)


def _inserter(table: Table) -> Callable[[list[list[Any]]], None]:
    """Insert rows with their own ids, many rows per statement (one round trip per batch)."""
    quote = connection.ops.quote_name
    decode = catalogue.decoders(table)
    columns = ", ".join(quote(f.column) for f in table.fields)
    one_row = "(" + ", ".join(["%s"] * len(table.fields)) + ")"
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(ROWS_PER_INSERT, limit // len(table.fields)))
    head = f"INSERT INTO {quote(table.db_table)} ({columns}) VALUES "  # noqa: S608 (catalogue names)

    def insert(rows: list[list[Any]]) -> None:
        try:
            params = [d(v) for row in rows for d, v in zip(decode, row, strict=True)]
        except (ValidationError, ValueError, TypeError, LookupError) as exc:
            raise BackupUnreadable(f"备份中表 {table.label} 的数据无法写入本数据库：{exc}") from exc
        width = len(table.fields)
        with connection.cursor() as cursor:
            for start in range(0, len(rows), per_statement):
                n = min(per_statement, len(rows) - start)
                cursor.execute(head + ", ".join([one_row] * n), params[start * width : (start + n) * width])

    return insert
