"""The import engine: department rows → the registry, chunk by chunk, inside the caller's
transaction (one batch = one transaction, see services.run_batch).

Per chunk: the ID numbers are normalised and blind-indexed; rows whose source already sent the
very same cells (Child.source_hashes) are counted unchanged without being parsed; the rest
are parsed (normalise.parse_row), checked against the batch's scope and either created in bulk
(COPY on PostgreSQL) or merged field by field into the existing child (merge.MASTER priorities),
with every change written to ChildChange with its source and batch (a new child carries its
batch as Child.created_batch instead of a history row).

A row whose child is no longer in the register (closed, handed over, archived) is not merged
silently: the row of a record closed as a duplicate goes to the record it was found to be
(DuplicateSuspect decided 同一儿童) when that one is in the batch's scope; any other is rejected
with when and why the child left, unless the row itself states that closing (迁出 for a child
closed as moved away). See `Engine._ended`.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from aixin.ingest import merge
from aixin.ingest.build import (
    COPY_MODELS,
    OUT_OF_SCOPE,
    Builder,
    BuildPool,
    Built,
    BuiltChunk,
    NewRow,
    Village,
    category_problem,
    note_of,
    status_label,
    worker_count,
)
from aixin.ingest.columns import SOURCE_LABELS, import_reason
from aixin.ingest.models import (
    DuplicateSuspect,
    ImportBatch,
    ImportRejection,
    SuspectStatus,
)
from aixin.ingest.normalise import ChildRow, RegionResolver, RowRejected, normalise_id
from aixin.ingest.reading import SHEET_STRIDE, place, where
from aixin.lib import bulk
from aixin.lib.crypto import pinned_keyring
from aixin.regions.models import Region, RegionLevel
from aixin.registry import derive, rules
from aixin.registry.models import Child, ChildChange, ChildStatus, ClosedAs, Guardian, ParentCondition
from aixin.registry.services import snapshot

CHUNK = 1000
ANALYZE_FROM_ROWS = 20_000  # rows created or updated by a batch
ID_BLOCK = 10_000  # child ids fetched from the sequence at once
DRY_RUN_SUSPECTS_KEPT = 200  # duplicate suspects of a dry run described on its batch

# How a record left the register, by its status.
LEFT_AS: dict[str, str] = {
    ChildStatus.CLOSED: "退出台账",
    ChildStatus.HANDED_OVER: "移交成长爱护人",
    ChildStatus.ARCHIVED: "归档",
}
KEPT_RECORD_HOPS = 5  # a duplicate of a duplicate of … : records followed at most
KEPT_ELSEWHERE = (
    "该儿童的档案已作为重复记录退出台账，保留的档案在其他地区的台账中，本批次不能修改，请联系市妇联核实"
)


class _Refused(Exception):
    """A row the merge refuses; the message is the reason shown to the user."""


@dataclass
class Rejection:
    row_number: int
    column: str
    reason: str
    cells: list[str]


@dataclass
class RowResult:
    row_number: int
    status: str  # created | updated | unchanged | rejected
    child_id: int | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    suspects: int = 0


class _Merge(NamedTuple):
    """A row to merge into a known child."""

    parsed: ChildRow
    cells: Sequence[object]
    child_pk: int  # the child merged into
    digest: str  # the row's hash
    holder: int  # the child whose ID number the row has: its source hash is the row's
    note: str = ""  # the reason of the history rows, when not the batch's own
    ended_ok: bool = False  # the row may be merged into a child no longer in the register


@dataclass(frozen=True)
class _Record:
    """A known child no longer in the register, as `Engine._ended` weighs a row for it."""

    pk: int
    status: str
    closed_as: str  # registry.models.ClosedAs
    closed_reason: str
    closed_at: datetime.datetime | None
    region_id: int
    id_number_index: str
    name: str
    id_number_masked: str

    @property
    def active(self) -> bool:
        return self.status == ChildStatus.ACTIVE

    @property
    def duplicate(self) -> bool:
        """Closed as a duplicate of another record (by the 同一儿童 decision or by hand)."""
        return self.status == ChildStatus.CLOSED and self.closed_as == ClosedAs.DUPLICATE


def left_register_reason(
    status: str,
    closed_at: datetime.datetime | None,
    closed_reason: str,
    closed_as: str,
    *,
    duplicate_of: bool = False,
    stated: str = "",
) -> str:
    """Why a row for a child no longer in the register is not imported, for the uploader:
    when and why the child left, and that a person must restore the record first — or, when
    the row states another closing (死亡 for a child closed as moved away), that the two differ
    and a person must check which is so."""
    when = f"于{timezone.localdate(closed_at).isoformat()}" if closed_at else ""
    left = LEFT_AS.get(status, "退出台账")
    why = f"（{closed_reason}）" if closed_reason else ""
    who = "该儿童的档案已作为重复记录并入另一份档案，该档案" if duplicate_of else "该儿童"
    if stated and status == ChildStatus.CLOSED and closed_as and stated != closed_as:
        kind = ClosedAs(closed_as).label if closed_as in ClosedAs.values else closed_as
        return (
            f"本行的儿童状态为“{status_label(stated)}”，但{who}已{when}以“{kind}”{left}{why}，两者不同，本行未导入；"
            "请核实后由工作人员在儿童档案中恢复在册，再按实际情况重新退出台账"
        )
    if closed_as == ClosedAs.MOVED_AWAY:
        then = "如儿童已回到本地，请先在儿童档案中恢复后再导入"
    else:
        then = "如该儿童应重新纳入台账，请先由工作人员在儿童档案中恢复后再导入"
    return f"{who}已{when}{left}{why}，本行未导入；{then}"


def kept_records(closed: Iterable[int]) -> dict[int, int]:
    """Record closed as a duplicate → the record a person found it to be (the one kept: the
    `other` of a DuplicateSuspect decided 同一儿童, which closed its `child`). The latest
    decision counts."""
    return dict(
        DuplicateSuspect.objects.filter(child_id__in=list(closed), status=SuspectStatus.SAME)
        .order_by("decided_at", "pk")
        .values_list("child_id", "other_id")
    )


def _records(pks: Iterable[int]) -> dict[int, _Record]:
    fields = (
        "pk",
        "status",
        "closed_as",
        "closed_reason",
        "closed_at",
        "region_id",
        "id_number_index",
        "name",
        "id_number_masked",
    )
    return {row[0]: _Record(*row) for row in Child.objects.filter(pk__in=list(pks)).values_list(*fields)}


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def row_hash(source: str, keys: Sequence[str | None], cells: Sequence[object]) -> str:
    """The hash of what a row says (recognised columns only, by key): equal rows → equal hash,
    whatever the column order or the unrecognised columns."""
    return row_hasher(source, tuple(keys))(cells)


@functools.cache
def row_hasher(source: str, keys: tuple[str | None, ...]) -> Callable[[Sequence[object]], str]:
    """`row_hash` for one file's columns: the column positions worked out once. The hash is
    of the source and the stripped text of each recognised cell, in the order of their keys,
    joined by \x1f; a row of text cells (CSV) skips `_cell_text`."""
    order = tuple(i for _k, i in sorted((k, i) for i, k in enumerate(keys) if k is not None))
    if not order:
        return lambda cells: _sha1(source)
    width = max(order) + 1
    pick = operator.itemgetter(*order) if len(order) > 1 else lambda cells: (cells[order[0]],)

    def digest(cells: Sequence[object]) -> str:
        if len(cells) >= width:
            try:
                joined = "\x1f".join([cell.strip() for cell in pick(cells)])
            except (AttributeError, TypeError):  # a number, a date or a blank (workbooks)
                pass
            else:
                return _sha1(f"{source}\x1f{joined}")
        n = len(cells)
        parts = [source, *(_cell_text(cells[i]).strip() if i < n else "" for i in order)]
        return _sha1("\x1f".join(parts))

    return digest


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def store_rejections(batch: ImportBatch, rejections: Sequence[Rejection]) -> None:
    sheets = batch.sheets or ()
    made = []
    for r in rejections:
        sheet, row = place(r.row_number, sheets)
        made.append(
            ImportRejection(
                batch=batch,
                sheet=sheet[:100],
                sheet_index=r.row_number // SHEET_STRIDE if sheet else 0,
                row_number=row,
                column=r.column[:100],
                reason=r.reason[:500],
                cells=r.cells,
            )
        )
    ImportRejection.objects.bulk_create(made, batch_size=1000)


class Engine:
    def __init__(
        self,
        batch: ImportBatch,
        *,
        keys: Sequence[str | None],
        headers: Sequence[str],
        today: datetime.date,
        resolver: RegionResolver | None = None,
        progress: Callable[[int], None] | None = None,
        keep_results: bool = False,
    ) -> None:
        self.batch = batch
        self.source = batch.source
        self.source_label = SOURCE_LABELS[batch.source]
        self.keys = list(keys)
        self.headers = list(headers)
        self.today = today
        self.actor = batch.created_by
        self.actor_id = batch.created_by_id
        self.scope_path = batch.scope.path
        self.resolver = resolver or RegionResolver.from_db(day=today)
        self.resolver.prefer_within(batch.scope.level, batch.scope.code)
        self.progress = progress
        self.keep_results = keep_results
        self.results: list[RowResult] = []
        self.rejections: list[Rejection] = []
        self.counts = Counts()
        self.done = 0
        self.seen: dict[str, int] = {}  # id index → first row number in this batch
        self.sheets: tuple[str, ...] = tuple(batch.sheets or ())  # a workbook's sheets (reading.place)
        self.id_col = self.keys.index("id_number") if "id_number" in self.keys else -1
        self.id_header = self.headers[self.id_col] if 0 <= self.id_col < len(self.headers) else "身份证号"
        # Kept record (of a duplicate) → the row of this batch merged into it.
        self.redirected: dict[int, int] = {}
        # A dry run's duplicate suspects, described (its children are rolled back).
        self.dry_run_suspects: list[dict[str, Any]] = []
        self.row_hash = row_hasher(self.source, tuple(self.keys))
        self.villages = {
            pk: Village(pk, path, town_id, district_id)
            for pk, path, town_id, district_id in Region.objects.filter(
                level=RegionLevel.VILLAGE
            ).values_list("pk", "path", "town_id", "district_id")
        }
        self.reason = import_reason(batch.source)
        self.builder = Builder(
            source=self.source,
            source_label=self.source_label,
            keys=self.keys,
            headers=self.headers,
            today=today,
            resolver=self.resolver,
            villages=self.villages,
            scope_path=self.scope_path,
            actor_id=self.actor_id,
            batch_id=batch.pk,
            reason=self.reason,
        )
        self.pool: BuildPool | None = None
        # PostgreSQL: new children are numbered from the sequence before they are built, and
        # built straight into COPY text (in the build workers when there are any).
        self.copy = connection.vendor == "postgresql"
        self.copy_statements = (
            tuple(bulk.copy_sql(model, with_pk=model is Child) for model in COPY_MODELS) if self.copy else ()
        )
        self.ids: list[int] = []  # reserved, not yet used
        self.total = 0
        self.writer: bulk.CopyWriter | None = None  # the COPYs, while the next rows are read

    # -----------------------------------------------------------------------------------------

    def run(self, rows: Iterable[tuple[int, Sequence[object]]], *, total: int = 0) -> Counts:
        self.total = total
        workers = worker_count(total)
        self.pool = BuildPool(self.builder, workers) if workers else None
        if self.copy:
            with connection.cursor() as cursor:
                # Check the foreign keys of each COPY as it ends, while the workers build the
                # next chunks, instead of all at once at COMMIT (tens of seconds for a big file).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                # The batch's queries run once each: compiling them costs more than it saves.
                cursor.execute("SET LOCAL jit = off")
            self.writer = bulk.CopyWriter()
        try:
            with pinned_keyring():  # for the blind index of every row's ID number
                chunk: list[tuple[int, Sequence[object]]] = []
                for item in rows:
                    chunk.append(item)
                    if len(chunk) >= CHUNK:
                        self._chunk(chunk)
                        chunk = []
                if chunk:
                    self._chunk(chunk)
                if self.pool is not None:
                    for built, tag in self.pool.drain():
                        self._create(built, tag)
        finally:
            try:
                if self.pool is not None:
                    self.pool.close()
            finally:
                if self.writer is not None:
                    # Every COPY done (or the first one's error raised) before anything else runs.
                    writer, self.writer = self.writer, None
                    writer.close()
        self._refresh_statistics()
        self._find_suspects()
        self._flush_rejections()
        return self.counts

    def _reject(self, row_number: int, cells: Sequence[object], column: str, reason: str) -> None:
        self.counts.rejected += 1
        self.rejections.append(Rejection(row_number, column, reason, [_cell_text(c) for c in cells]))
        if self.keep_results:
            key = next((k for k, h in zip(self.keys, self.headers, strict=False) if h == column and k), "")
            self.results.append(RowResult(row_number, "rejected", errors=[{"field": key, "reason": reason}]))

    def _result(self, row_number: int, status: str, child_id: int | None) -> None:
        if self.keep_results:
            self.results.append(RowResult(row_number, status, child_id))

    def _flush_rejections(self) -> None:
        if self.batch.dry_run or not self.rejections:
            return
        store_rejections(self.batch, self.rejections)
        self.rejections = []

    def _in_scope(self, path: str) -> bool:
        return path.startswith(self.scope_path)

    def _region_in_scope(self, region_id: int) -> bool:
        village = self.villages.get(region_id)
        return village is not None and self._in_scope(village.path)

    # -----------------------------------------------------------------------------------------

    def _chunk(self, chunk: list[tuple[int, Sequence[object]]]) -> None:
        id_header = self.id_header
        keyed: list[tuple[int, Sequence[object], str, str]] = []  # row, cells, id, index
        for row_number, cells in chunk:
            raw_id = cells[self.id_col] if 0 <= self.id_col < len(cells) else ""
            try:
                number = normalise_id(raw_id, self.today)
            except ValueError as exc:
                self._reject(row_number, cells, id_header, str(exc))
                continue
            index = derive.id_number_index(number)
            first = self.seen.get(index)
            if first is not None:
                self._reject(
                    row_number,
                    cells,
                    id_header,
                    f"与{where(first, self.sheets)}的身份证号相同（同一批次中重复），本行未导入",
                )
                continue
            self.seen[index] = row_number
            keyed.append((row_number, cells, number, index))

        existing: dict[str, tuple[int, int, str]] = {}
        hashes: dict[int, str | None] = {}
        for pk, idx, region_id, status, last_hash in self._known([k[3] for k in keyed]):
            existing[idx] = (pk, region_id, status)
            hashes[pk] = last_hash

        to_create: list[NewRow] = []
        to_update: list[_Merge] = []
        ended: list[_Merge] = []  # rows for children no longer in the register
        for row_number, cells, number, index in keyed:
            found = existing.get(index)
            digest = self.row_hash(cells)
            if found is None:
                to_create.append((row_number, cells, digest, number, index))  # built by the builder
                continue
            child_pk, region_id, status = found
            if not self._region_in_scope(region_id):
                self._reject(
                    row_number,
                    cells,
                    id_header,
                    "该身份证号的儿童已在其他地区的台账中，本批次不能修改，请联系市妇联核实",
                )
                continue
            active = status == ChildStatus.ACTIVE
            if active and hashes.get(child_pk) == digest:
                self.counts.unchanged += 1
                self._result(row_number, "unchanged", child_pk)
                continue
            try:
                parsed = self.builder.parse(row_number, cells, number)
            except RowRejected as exc:
                self._reject(row_number, cells, exc.column, exc.reason)
                continue
            village_id = parsed.values.get("village_id")
            if isinstance(village_id, int) and not self.builder.in_scope(village_id):
                self._reject(row_number, cells, self.builder.region_header(), OUT_OF_SCOPE)
                continue
            (to_update if active else ended).append(_Merge(parsed, cells, child_pk, digest, child_pk))
        if ended:
            to_update += self._ended(ended, hashes)

        if to_update:
            self._update(to_update)
        # Rows not sent to the builder are done now; the new ones once they are written.
        self._advance(len(chunk) - len(to_create))
        ids = self._reserve(len(to_create)) if self.copy else None
        tag = (len(to_create), {row[0]: row[1] for row in to_create})
        if self.pool is None or (self.pool.idle() and not self.pool.started()):
            self._create(self.builder.build(to_create, ids), tag)
        else:
            for built, done_tag in self.pool.submit(to_create, ids, tag):
                self._create(built, done_tag)
        self._flush_rejections()

    def _ended(self, rows: list[_Merge], hashes: dict[int, str | None]) -> list[_Merge]:
        """Of rows for children no longer in the register, those to merge (the others are
        rejected or, unchanged, counted). A row for a record closed as a duplicate goes to the
        record kept (followed through duplicates of duplicates) when it is in the batch's scope,
        active and not also given by another row of the batch; a row for a record that left the
        register otherwise (or whose kept record did) is rejected with when and why, unless it
        states that very closing (its 儿童状态 迁出 for a child closed as moved away), which is
        taken as before. A few queries per chunk that has such rows, none otherwise."""
        records = _records(r.child_pk for r in rows)
        kept: dict[int, int] = {}
        ask = [pk for pk, record in records.items() if record.duplicate]
        for _hop in range(KEPT_RECORD_HOPS):
            if not ask:
                break
            found = kept_records(ask)
            kept.update(found)
            new = set(found.values()) - set(records)
            records.update(_records(new))
            ask = [pk for pk in new if pk in records and records[pk].duplicate]

        merges: list[_Merge] = []
        for row in rows:
            row_number, cells = row.parsed.row_number, row.cells
            record = target = records[row.child_pk]
            for _hop in range(KEPT_RECORD_HOPS):
                if not (target.duplicate and target.pk in kept):
                    break
                target = records[kept[target.pk]]
            if target.duplicate:
                when = f"于{timezone.localdate(record.closed_at).isoformat()}" if record.closed_at else ""
                self._reject(
                    row_number,
                    cells,
                    self.id_header,
                    f"该儿童的档案已{when}作为重复记录退出台账（{record.closed_reason}），但没有记录保留的是"
                    "哪一份档案，本行未导入；请在保留的儿童档案中核对后手工更新",
                )
                continue
            if target is not record and not self._region_in_scope(target.region_id):
                self._reject(row_number, cells, self.id_header, KEPT_ELSEWHERE)
                continue
            stated = str(row.parsed.values.get("child_status") or "")
            ended_ok = not target.active
            if ended_ok and not (
                target.status == ChildStatus.CLOSED and stated and stated == target.closed_as
            ):
                reason = left_register_reason(
                    target.status,
                    target.closed_at,
                    target.closed_reason,
                    target.closed_as,
                    duplicate_of=target is not record,
                    stated=stated,
                )
                self._reject(row_number, cells, self.id_header, reason)
                continue
            note = ""
            if target is not record:
                first = self.seen.get(target.id_number_index) or self.redirected.get(target.pk)
                if first is not None:
                    self._reject(
                        row_number,
                        cells,
                        self.id_header,
                        f"该儿童的档案已作为重复记录并入{target.name}（{target.id_number_masked}）的档案，"
                        f"本批次{where(first, self.sheets)}也是该儿童，以该行为准，本行未导入",
                    )
                    continue
                self.redirected[target.pk] = row_number
                note = f"{self.reason}（本行身份证号{record.id_number_masked}的档案已作为重复记录并入本档案）"
            if hashes.get(record.pk) == row.digest:
                self.counts.unchanged += 1
                self._result(row_number, "unchanged", target.pk)
                continue
            merges.append(row._replace(child_pk=target.pk, note=note[:300], ended_ok=ended_ok))
        return merges

    def _reserve(self, n: int) -> list[int]:
        """`n` child ids from the sequence, fetched in blocks of up to ID_BLOCK for the rows
        still to come (a gap is left by rejected rows, as by any rolled-back insert)."""
        while len(self.ids) < n:
            ahead = max(n - len(self.ids), min(ID_BLOCK, self.total - self.done))
            self.ids.extend(bulk.reserve_ids(Child, ahead))
        taken, self.ids = self.ids[:n], self.ids[n:]
        return taken

    def _known(self, indexes: list[str]) -> list[tuple[Any, ...]]:
        """(child id, ID-number index, region id, status, hash of this source's last row) of the
        children with these ID numbers: one query per chunk (it runs a thousand times in a
        large file, so without the ORM's per-value work)."""
        if not indexes:
            return []
        child = connection.ops.quote_name(Child._meta.db_table)
        params: list[Any] = []
        if connection.vendor == "postgresql":
            # The indexes as one array literal (they are hex): a list parameter would be
            # quoted value by value on the client, a thousand times per chunk.
            last_hash, where = "c.source_hashes ->> %s", "c.id_number_index = ANY(%s::text[])"
            params += [self.source, "{" + ",".join(indexes) + "}"]
        else:
            last_hash = "json_extract(c.source_hashes, %s)"
            where = f"c.id_number_index IN ({', '.join(['%s'] * len(indexes))})"
            params += [f'$."{self.source}"', *indexes]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.id, c.id_number_index, c.region_id, c.status, {last_hash} "  # noqa: S608
                f"FROM {child} c WHERE {where}",
                params,
            )
            return list(cursor.fetchall())

    def _advance(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None and rows:
            self.progress(self.done)

    # -----------------------------------------------------------------------------------------
    # Creating

    def _create(self, built: BuiltChunk, tag: tuple[int, dict[int, Sequence[object]]]) -> None:
        size, cells = tag
        made: list[Built] = []
        for item in built.rows:
            if item.reason:
                self._reject(item.row_number, cells[item.row_number], item.column, item.reason)
            else:
                made.append(item)
        if built.text:
            assert self.writer is not None
            self.writer.put(
                [
                    (sql, text.encode())
                    for sql, text in zip(self.copy_statements, built.text, strict=True)
                    if text
                ]
            )
            created = built.created
        else:
            created = self._insert(made)
        self.counts.created += len(created)
        if self.keep_results:
            for row_number, child_id in created:
                self._result(row_number, "created", child_id)
        self._advance(size)

    def _insert(self, made: list[Built]) -> list[tuple[int, int]]:
        """Insert rows built without ids (SQLite); returns (row number, child id) of each."""
        if not made:
            return []
        bulk.insert(Child, [m.child for m in made])
        rows: list[list[Any]] = [[] for _ in COPY_MODELS[1:]]
        guardians, conditions, changes = rows
        for m in made:
            for row in (m.guardian, *(m.conds or ()), *(m.changes or ())):
                if row is not None:
                    row.child_id = m.child.pk
            if m.guardian is not None:
                guardians.append(m.guardian)
            conditions.extend(m.conds or ())
            changes.extend(m.changes or ())
        for model, model_rows in zip(COPY_MODELS[1:], rows, strict=True):
            bulk.insert(model, model_rows)
        return [(m.row_number, m.child.pk) for m in made]

    def _refresh_statistics(self) -> None:
        """After a large batch, let the planner see what it wrote (in this transaction; ANALYZE
        samples the transaction's own rows): the suspect and alert queries that follow join
        the batch's children, and with the statistics of a registry a tenth of the size they
        would loop over half a million rows one by one."""
        if not self.copy or self.counts.created + self.counts.updated < ANALYZE_FROM_ROWS:
            return
        quote = connection.ops.quote_name
        # Both, whatever the batch wrote: with a history table never analysed (a registry
        # filled by first imports alone), the triggers' look-ups into it planned as if it were
        # empty ran 50 s instead of 2 (a 100,000-row file after a 500,000-row one).
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {quote(Child._meta.db_table)}, {quote(ChildChange._meta.db_table)}")

    def _find_suspects(self) -> None:
        """Duplicate suspects of the children this batch created: same name in pinyin, birth
        date and village as an earlier record (in the registry or earlier in this batch) with a
        different ID number. One set-based query after the rows are written."""
        if not self.counts.created:
            return
        quote = connection.ops.quote_name
        suspect, child = (quote(m._meta.db_table) for m in (DuplicateSuspect, Child))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {suspect} "  # noqa: S608
                "(batch_id, child_id, other_id, district_id, status, note, created_at) "
                "SELECT %s, n.id, o.id, n.district_id, %s, '', %s "
                f"FROM {child} n JOIN {child} o ON o.dedupe_key = n.dedupe_key AND o.id < n.id "
                "WHERE n.created_batch_id = %s AND n.dedupe_key <> '' "
                "ON CONFLICT DO NOTHING",
                [
                    self.batch.pk,
                    SuspectStatus.OPEN,
                    connection.ops.adapt_datetimefield_value(timezone.now()),
                    self.batch.pk,
                ],
            )
            self.counts.suspects += max(cursor.rowcount, 0)
        if self.batch.dry_run and self.counts.suspects:
            self.dry_run_suspects = self._describe_suspects()

    def _describe_suspects(self) -> list[dict[str, Any]]:
        """The first DRY_RUN_SUSPECTS_KEPT suspects of the batch as the batch page lists them,
        for a dry run: its children (and so its suspects) are rolled back, and the page would
        otherwise count suspects it cannot show. Each: the row of the file, name, masked ID
        number and birth date, and the same of the other record — a child of the registry
        (`child_id`) or another row of the file (`row`)."""
        found = (
            DuplicateSuspect.objects.filter(batch=self.batch)
            .order_by("pk")
            .values_list(
                *("child__id_number_index", "child__name", "child__id_number_masked", "child__birth_date"),
                *("other_id", "other__id_number_index", "other__name", "other__id_number_masked"),
                *("other__birth_date", "other__created_batch_id"),
            )[:DRY_RUN_SUSPECTS_KEPT]
        )
        described = []
        for index, name, masked, birth, other_id, *other in found:
            other_index, other_name, other_masked, other_birth, made_by = other
            in_file = made_by == self.batch.pk
            row = self.seen.get(index)
            other_row = self.seen.get(other_index) if in_file else None
            described.append(
                {
                    "row": row,
                    "where": "" if row is None else where(row, self.sheets),
                    "name": name,
                    "id_number": masked,
                    "birth_date": birth.isoformat(),
                    "other": {
                        "child_id": None if in_file else other_id,
                        "row": other_row,
                        "where": "" if other_row is None else where(other_row, self.sheets),
                        "name": other_name,
                        "id_number": other_masked,
                        "birth_date": other_birth.isoformat(),
                    },
                }
            )
        return described

    # -----------------------------------------------------------------------------------------
    # Updating

    def _update(self, rows: list[_Merge]) -> None:
        now = timezone.now()
        pks = [r.child_pk for r in rows]
        children = {
            c.pk: c
            for c in Child.objects.select_for_update(of=("self",))
            .select_related("region__town")
            .prefetch_related("guardians", "parent_conditions")
            .filter(pk__in=pks)
        }
        village_ids = {int(r.parsed.values["village_id"]) for r in rows if "village_id" in r.parsed.values}  # type: ignore[call-overload]
        regions = {r.pk: r for r in Region.objects.select_related("town").filter(pk__in=village_ids)}
        changes: list[ChildChange] = []
        merged: list[tuple[int, str]] = []  # (child id, row hash) of the rows taken in
        for parsed, cells, child_pk, digest, holder, note, ended_ok in rows:
            child = children[child_pk]
            if child.status != ChildStatus.ACTIVE and not ended_ok:
                # Closed by a person while the batch waited for the lock.
                reason = left_register_reason(
                    child.status, child.closed_at, child.closed_reason, child.closed_as
                )
                self._reject(parsed.row_number, cells, self.id_header, reason)
                continue
            mark = len(changes)
            try:
                with transaction.atomic():
                    changed = self._merge(child, parsed.values, regions, changes, now)
            except _Refused as exc:
                del changes[mark:]
                header = self.builder.header_of("categories", "is_left_behind", "is_de_facto_unsupported")
                self._reject(parsed.row_number, cells, header, str(exc))
                continue
            if note:
                for change in changes[mark:]:
                    change.reason = note
            merged.append((holder, digest))
            if changed:
                self.counts.updated += 1
                self._result(parsed.row_number, "updated", child_pk)
            else:
                self.counts.unchanged += 1
                self._result(parsed.row_number, "unchanged", child_pk)
        bulk.insert(ChildChange, changes)
        self._remember_hashes(merged)

    def _remember_hashes(self, merged: list[tuple[int, str]]) -> None:
        """Record this source's row hash on each child a row was merged into (after the merge
        saved it): the same row next time is known unchanged."""
        if not merged:
            return
        child = connection.ops.quote_name(Child._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                ids, digests = zip(*merged, strict=True)
                cursor.execute(
                    f"UPDATE {child} c "  # noqa: S608
                    "SET source_hashes = c.source_hashes || jsonb_build_object(%s::text, v.h) "
                    "FROM unnest(%s::bigint[], %s::text[]) AS v(id, h) WHERE c.id = v.id",
                    [self.source, list(ids), list(digests)],
                )
            else:
                cursor.executemany(
                    f"UPDATE {child} SET source_hashes = json_set(source_hashes, %s, %s) WHERE id = %s",  # noqa: S608
                    [(f'$."{self.source}"', digest, pk) for pk, digest in merged],
                )

    def _merge(
        self,
        child: Child,
        values: dict[str, Any],
        regions: dict[int, Region],
        changes: list[ChildChange],
        now: datetime.datetime,
    ) -> bool:
        """Merge one row into a locked child. True: changed and saved; False: nothing to change.
        Raises _Refused (inside the caller's savepoint, which undoes the row's writes)."""
        source = self.source
        sources = dict(child.field_sources or {})
        before = snapshot(child)
        extra: list[tuple[str, str, str]] = []  # field, old, new (guardian, parents, status)

        if "name" in values and merge.may_write("name", source, sources) and child.name != values["name"]:
            derive.set_name(child, str(values["name"]))
            sources["name"] = source
        for name, value in merge.wanted_fields(values, source, sources).items():
            if getattr(child, name) != value:
                setattr(child, name, value)
                sources[name] = source
        if child.other_difficulty_reasons and not child.is_other_difficulty:
            child.is_other_difficulty = True
        village_id = values.get("village_id")
        if (
            isinstance(village_id, int)
            and village_id != child.region_id
            and merge.may_write("region", source, sources)
        ):
            derive.set_region(child, regions[village_id])
            sources["region"] = source

        if merge.may_write("guardian", source, sources):
            note = self._merge_guardian(child, values, now)
            if note:
                extra.append(("guardian", note[0], note[1]))
                sources["guardian"] = source

        conditions = list(child.parent_conditions.all())
        status = str(values.get("child_status") or "")
        situations = {parent: values.get(key) for parent, key in merge.PARENT_KEYS.items()}
        if status == "parents_returned":
            for parent in ("father", "mother"):
                if situations[parent] is None:
                    situations[parent] = [
                        c.kind
                        for c in conditions
                        if c.parent == parent and c.ended_on is None and c.kind != "working_away"
                    ]
        for parent, desired in situations.items():
            key = merge.PARENT_KEYS[parent]
            if desired is None or not merge.may_write(key, source, sources):
                continue
            open_now = [c for c in conditions if c.parent == parent and c.ended_on is None]
            have = {c.kind for c in open_now}
            want = set(desired)
            if have == want:
                continue
            for c in open_now:
                if c.kind not in want:
                    c.ended_on = self.today
                    c.save(update_fields=["ended_on", "updated_at"])
            for kind in sorted(want - have):
                cond = ParentCondition(
                    child=child, parent=parent, kind=kind, evidence=f"{self.source_label}台账"
                )
                if self.builder.certifies(values):
                    self.builder.certify(cond)
                cond.save()
                conditions.append(cond)
            label = "父亲" if parent == "father" else "母亲"
            old = "、".join(rules.KIND_LABELS.get(k, k) for k in sorted(have)) or "无"
            new = "、".join(rules.KIND_LABELS.get(k, k) for k in sorted(want)) or "无（在家）"
            extra.append(("parent_condition", f"{label}：{old}", f"{label}：{new}"))
            sources[key] = source

        self._merge_notes(child, values)

        rule_conds = [
            rules.Condition(
                parent=c.parent,
                kind=c.kind,
                started_on=c.started_on,
                term_months=c.term_months,
                disability_grade=c.disability_grade,
                disability_category=c.disability_category,
                ended_on=c.ended_on,
            )
            for c in conditions
        ]
        derive.apply_rules(child, rule_conds, today=self.today)
        # The categories the row states, checked as for a new child: the row is refused (its
        # writes undone by the caller's savepoint) and the child keeps what it had.
        problem = category_problem(child, values, rule_conds, today=self.today)
        if problem:
            raise _Refused(problem)
        after = snapshot(child)
        if status:
            extra.append(("child_status", "", status_label(status)))
        if before == after and not extra:
            return False

        child.field_sources = sources
        child.updated_at = now
        child.version = F("version") + 1
        child.save()
        for name in before:
            if before[name] != after[name]:
                changes.append(self.builder.change(child.pk, name, before[name], after[name], now))
        for name, old, new in extra:
            changes.append(self.builder.change(child.pk, name, old, new, now))
        return True

    def _merge_notes(self, child: Child, values: dict[str, Any]) -> None:
        """A department's 备注 about a known child (a new court case, a hospital stay) is added
        to the child's notes as a dated line with its source, unless a line already says just
        that (the same record sent again). Staff's own notes are kept: no source overwrites
        them. Placeholders (无, /) are not notes."""
        said = note_of(values)
        if not said:
            return
        notes = child.notes
        lines = [line.strip() for line in notes.splitlines()]
        if any(line == said or line.endswith(f"：{said}") for line in lines):
            return
        line = f"{self.today.isoformat()} {self.source_label}：{said}"
        child.notes = f"{notes}\n{line}" if notes else line

    def _merge_guardian(
        self, child: Child, values: dict[str, Any], now: datetime.datetime
    ) -> tuple[str, str] | None:
        name = str(values.get("guardian_name", "")).strip()
        relation = str(values.get("guardian_relation", "")).strip()
        phone = str(values.get("guardian_phone", "")).strip()
        if not (name or relation or phone):
            return None
        guardians = list(child.guardians.all())
        primary = next((g for g in guardians if g.is_primary), None)

        def text(g: Guardian | None) -> str:
            return f"{g.name}（{g.relation}，{g.phone_masked}）" if g else ""

        old = text(primary)
        if primary is None or (name and name != primary.name):
            if not name:
                return None
            row = self.builder.guardian_for(values, child.pk, now)
            assert row is not None
            fresh = Guardian(**{k: v for k, v in vars(row).items() if k not in ("pk", "id")})
            fresh.save()
            Guardian.objects.filter(child=child, is_primary=True).exclude(pk=fresh.pk).update(
                is_primary=False
            )
            return old, text(fresh)
        dirty = False
        if relation and relation != primary.relation:
            primary.relation = relation[:20]
            dirty = True
        if phone and derive.phone_index(phone) != primary.phone_index:
            derive.set_guardian_phone(primary, phone)
            dirty = True
        if not dirty:
            return None
        primary.save()
        return old, text(primary)


__all__ = ["CHUNK", "ChildStatus", "Counts", "Engine", "Rejection", "RowResult", "row_hash"]
