"""Building new children from department rows: parse, check, derive, encrypt — the CPU-heavy
half of an import, free of database access so that it can run in worker processes.

A `Builder` is plain data (it pickles): the engine uses one in-process for small batches and,
for large ones, sends chunks of rows to a pool of worker processes that build while the engine
writes (see Engine and `BuildPool`). The result for each row is either a rejection or the rows
to insert (child, parent conditions, guardian) as `bulk.new` namespaces.
"""

from __future__ import annotations

import datetime
import os
import pickle
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from django.utils import timezone
from mypy_extensions import mypyc_attr

from aixin.ingest import merge, worker
from aixin.ingest.columns import STATUS_WORDS, Source
from aixin.ingest.normalise import ChildRow, RegionResolver, RowRejected, parse_row
from aixin.lib import bulk
from aixin.lib.crypto import encrypt, mask_phone, pinned_keyring
from aixin.lib.idnumber import mask as mask_id
from aixin.lib.pinyin import search_key
from aixin.registry import derive, rules
from aixin.registry.models import Child, ChildChange, Guardian, GuardianshipType, ParentCondition

CIVIL_AFFAIRS = Source.CIVIL_AFFAIRS
OUT_OF_SCOPE = "该村（社区）不在你的管辖范围内，本行未导入"
NO_RESIDENCE = "缺少居住地：请填写村(社区)代码或区县、乡镇、村名称"
# Build in worker processes from this many rows on (below it, starting them costs more).
PARALLEL_FROM_ROWS = int(os.environ.get("AIXIN_IMPORT_PARALLEL_FROM", "20000"))
IN_FLIGHT = 3  # chunks handed to the pool ahead of the engine
# The tables of a new child, in the order of `BuiltChunk.text` (and of their COPYs).
COPY_MODELS = (Child, Guardian, ParentCondition, ChildChange)
STATUS_LABELS = {
    "moved_away": "迁出",
    "dead": "死亡",
    "parents_returned": "父母返乡",
    "not_eligible": "不再符合条件",
}
assert set(STATUS_LABELS) == {v for v in STATUS_WORDS.values() if v}
# A row for the builder: row number, cells, row hash, ID number (normalised and checked by the
# engine) and the ID number's blind index.
NewRow = tuple[int, Sequence[object], str, str, str]


# What ledgers write in 备注 to say there is nothing to say.
NOTE_PLACEHOLDERS = frozenset(
    {"无", "暂无", "没有", "无备注", "空", "/", "-", "—", "--", "0", "NULL", "null"}
)


def note_of(values: dict[str, Any]) -> str:
    """The 备注 of a parsed row, "" for a placeholder (无, /, 暂无…)."""
    said = str(values.get("notes") or "").strip()
    return "" if said in NOTE_PLACEHOLDERS else said


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


# Plain classes in a compiled module (aixin.native): a builder and what it builds are pickled
# to and from the build workers.
@mypyc_attr(native_class=False)
@dataclass(frozen=True)
class Village:
    pk: int
    path: str
    town_id: int
    district_id: int


@mypyc_attr(native_class=False)
@dataclass
class Built:
    """One row that was rejected, or (built without ids) the rows to insert for one child as
    `bulk.new` namespaces, which the engine inserts and numbers."""

    row_number: int
    column: str = ""
    reason: str = ""  # set when rejected
    child: Any = None
    conds: list[Any] | None = None
    guardian: Any = None
    changes: list[Any] | None = None


@mypyc_attr(native_class=False)
@dataclass
class BuiltChunk:
    """What `Builder.build` made of a chunk of rows.

    Built with ids (PostgreSQL), the new children and their rows come as COPY text, one
    string per table of COPY_MODELS, and `created` lists (row number, child id); `rows` then
    holds only the rejections. Built without ids, `rows` also holds the rows to insert."""

    rows: list[Built]
    created: list[tuple[int, int]]
    text: tuple[str, ...] = ()


@mypyc_attr(native_class=False)
@dataclass
class Builder:
    source: str
    source_label: str
    keys: list[str | None]
    headers: list[str]
    today: datetime.date
    resolver: RegionResolver
    villages: dict[int, Village]
    scope_path: str
    actor_id: int | None
    batch_id: int | None = None
    reason: str = ""  # of the history rows: "民政数据导入"
    # JSON columns as rendered, by what they hold: the same few values come back row after row.
    _rendered: dict[tuple[str, tuple[str, ...]], bulk.RawJson] = field(default_factory=dict, repr=False)

    def header_of(self, *keys: str) -> str:
        for key in keys:
            if key in self.keys:
                return self.headers[self.keys.index(key)]
        return ""

    def region_header(self) -> str:
        return self.header_of("region_code", "village", "town", "district") or "村(社区)"

    def in_scope(self, village_id: int) -> bool:
        village = self.villages.get(village_id)
        return village is not None and village.path.startswith(self.scope_path)

    def build(self, rows: Sequence[NewRow], ids: Sequence[int] | None = None) -> BuiltChunk:
        """Build new children from (row number, cells, row hash, ID number as the engine
        normalised and checked it, its blind index). With `ids` (one reserved primary key per
        row, PostgreSQL) they come back as COPY text; without, as namespaces that the engine
        inserts."""
        now = timezone.now()
        out: list[Built] = []
        created: list[tuple[int, int]] = []
        tables: list[list[str]] = [[] for _ in COPY_MODELS]
        children, guardians, conditions, history = tables
        child_line, guardian_line, condition_line, change_line = (
            bulk.copy_formatter(model, with_pk=model is Child) for model in COPY_MODELS
        )
        with pinned_keyring():
            for n, (row_number, cells, digest, number, index) in enumerate(rows):
                try:
                    parsed = self.parse(row_number, cells, number)
                except RowRejected as exc:
                    out.append(Built(row_number, exc.column, exc.reason))
                    continue
                village_id = parsed.values.get("village_id")
                if not isinstance(village_id, int):
                    out.append(Built(row_number, self.region_header(), NO_RESIDENCE))
                    continue
                if not self.in_scope(village_id):
                    out.append(Built(row_number, self.region_header(), OUT_OF_SCOPE))
                    continue
                child, conds, problem = self.new_child(parsed, now, index=index)
                # A row hash is hex: the JSON needs no escaping.
                child.source_hashes = bulk.RawJson(f'{{"{self.source}":"{digest}"}}')
                if problem:
                    column = self.header_of("categories", "is_left_behind", "is_de_facto_unsupported")
                    out.append(Built(row_number, column, problem))
                    continue
                child_id = ids[n] if ids is not None else None
                guardian = self.guardian_for(parsed.values, child_id, now)
                # The child's creation is its stamp (Child.created_batch), not a history row.
                status = parsed.values.get("child_status")
                changes = (
                    [self.change(child_id, "child_status", "", status_label(str(status)), now)]
                    if status
                    else []
                )
                if child_id is None:
                    built = Built(row_number, child=child, conds=conds, guardian=guardian)
                    built.changes = changes
                    out.append(built)
                    continue
                child.id = child.pk = child_id
                created.append((row_number, child_id))
                children.append(child_line(child.__dict__))
                if guardian is not None:
                    guardians.append(guardian_line(guardian.__dict__))
                for cond in conds:
                    cond.child_id = child_id
                    conditions.append(condition_line(cond.__dict__))
                history.extend([change_line(c.__dict__) for c in changes])
        text = tuple("".join(t) for t in tables) if ids is not None else ()
        return BuiltChunk(out, created, text)

    def parse(self, row_number: int, cells: Sequence[object], id_number: str) -> ChildRow:
        """One row of this file (its ID number already checked by the engine)."""
        return parse_row(
            row_number, cells, self.keys, self.headers, self.resolver, today=self.today, id_number=id_number
        )

    def rendered(self, kind: str, items: tuple[str, ...]) -> bulk.RawJson:
        """A JSON column of a new child, rendered once per value: "sources" (Child.field_sources:
        each of `items` from this source) or "list" (a list of `items`)."""
        text = self._rendered.get((kind, items))
        if text is None:
            value = dict.fromkeys(items, self.source) if kind == "sources" else list(items)
            text = self._rendered[(kind, items)] = bulk.raw_json(value)
        return text

    def change(self, child_pk: int | None, name: str, old: str, new: str, now: datetime.datetime) -> Any:
        """A history row (ChildChange) of this batch."""
        return bulk.new(
            ChildChange,
            child_id=child_pk,
            field=name,
            old_value=derive.history_value(name, old),
            new_value=derive.history_value(name, new),
            source=self.source,
            reason=self.reason,
            batch_id=self.batch_id,
            changed_by_id=self.actor_id,
            created_at=now,
            updated_at=now,
        )

    def conditions_for(self, values: dict[str, Any], now: datetime.datetime) -> list[Any]:
        evidence = f"{self.source_label}台账"
        # Civil affairs certifies 事实无人抚养 (渝民发〔2021〕5号) after checking the six-month
        # thresholds; its ledger states the parents' situations without their dates.
        certified = self.certifies(values)
        conds: list[Any] = []
        for parent, key in merge.PARENT_KEYS.items():
            for kind in values.get(key) or []:
                cond = bulk.new(
                    ParentCondition,
                    parent=parent,
                    kind=kind,
                    evidence=evidence,
                    created_at=now,
                    updated_at=now,
                )
                if certified:
                    self.certify(cond)
                conds.append(cond)
        if (
            values.get("is_left_behind")
            and "father_situation" not in values
            and "mother_situation" not in values
        ):
            # A ledger of left-behind children without the parents' columns: both parents are
            # away for work (the common case the ledger's category states).
            for parent in ("father", "mother"):
                conds.append(
                    bulk.new(
                        ParentCondition,
                        parent=parent,
                        kind="working_away",
                        evidence=f"{evidence}：农村留守儿童",
                        created_at=now,
                        updated_at=now,
                    )
                )
        return conds

    def certifies(self, values: dict[str, Any]) -> bool:
        return bool(values.get("is_de_facto_unsupported")) and self.source == CIVIL_AFFAIRS

    def certify(self, cond: Any) -> None:
        if cond.kind in rules.TERM_THRESHOLD and cond.term_months is None:
            cond.term_months = rules.SIX_MONTHS
            cond.evidence += "；民政认定事实无人抚养儿童，期限按认定标准记为6个月"
        elif cond.kind == rules.LOST and cond.started_on is None:
            cond.started_on = _months_before(self.today, rules.SIX_MONTHS)
            cond.evidence += "；民政认定事实无人抚养儿童，失联起始日期按认定标准记为6个月前"

    def new_child(
        self, parsed: ChildRow, now: datetime.datetime, *, index: str
    ) -> tuple[Any, list[Any], str]:
        values = parsed.values
        number = parsed.id_number
        child = bulk.new(
            Child,
            created_by_id=self.actor_id,
            created_batch_id=self.batch_id,
            source=self.source,
            created_at=now,
            updated_at=now,
        )
        child.name = str(values["name"])
        child.name_pinyin = search_key(child.name)
        child.id_number_encrypted = encrypt(number, context=derive.ID_CONTEXT)
        child.id_number_index = index
        child.id_number_masked = mask_id(number)
        child.birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        child.sex = "M" if int(number[16]) % 2 else "F"
        sources = ["name"]
        for name in merge.PLAIN_FIELDS:
            if name in values:
                if name == "address":  # a bulk row has the column, not the model's property
                    derive.set_address(child, str(values[name]))
                else:
                    setattr(child, name, values[name])
                sources.append(name)
        if child.other_difficulty_reasons:
            child.is_other_difficulty = True
        village = self.villages[int(values["village_id"])]  # type: ignore[call-overload]
        child.region_id = village.pk
        child.town_id = village.town_id
        child.district_id = village.district_id
        sources.append("region")
        for key in ("father_situation", "mother_situation"):
            if key in values:
                sources.append(key)
        if any(k in values for k in ("guardian_name", "guardian_phone", "guardian_relation")):
            sources.append("guardian")
        derive.set_notes(child, note_of(values))
        child.field_sources = self.rendered("sources", tuple(sources))
        conds = self.conditions_for(values, now)
        rule_conds = [
            rules.Condition(parent=c.parent, kind=c.kind, started_on=c.started_on, term_months=c.term_months)
            for c in conds
        ]
        derive.apply_rules(child, rule_conds, today=self.today)
        child.other_difficulty_reasons = self.rendered("list", tuple(child.other_difficulty_reasons))
        return child, conds, category_problem(child, values, rule_conds, today=self.today)

    def guardian_for(self, values: dict[str, Any], child_id: int | None, now: datetime.datetime) -> Any:
        name = str(values.get("guardian_name", "")).strip()
        if not name:
            return None
        phone = str(values.get("guardian_phone", ""))
        return bulk.new(
            Guardian,
            child_id=child_id,
            name=name[:50],
            relation=str(values.get("guardian_relation", "")).strip()[:20] or "监护人",
            phone_encrypted=encrypt(phone, context=derive.PHONE_CONTEXT),
            phone_index=derive.phone_index(phone) if phone else "",
            phone_masked=mask_phone(phone) if phone else "",
            guardianship_type=GuardianshipType.OTHER
            if values.get("guardian_relation")
            else GuardianshipType.PARENT,
            is_primary=True,
            created_at=now,
            updated_at=now,
        )


def category_problem(
    child: Any, values: dict[str, Any], conds: list[rules.Condition], *, today: datetime.date
) -> str:
    """Why a row's stated category is refused: the row marks the child 事实无人抚养 or 农村留守
    but the rules, applied to `child` as the row leaves it (`derive.apply_rules` already run),
    do not give it ("" when they do). The registry derives these categories; a ledger's word
    does not override them. One check for new children (Builder.new_child) and for rows merged
    into known ones (Engine._merge), with the same reasons."""
    if values.get("is_de_facto_unsupported") and not child.is_de_facto_unsupported:
        return (
            "标为事实无人抚养儿童，但父母情形不满足认定条件：请在“父亲情况”“母亲情况”中填写"
            "（如服刑在押、重残、重病、失联、死亡），认定以父母情形为准"
        )
    if values.get("is_left_behind") and not child.is_left_behind:
        lines = rules.explain_categories(
            conds,
            birth_date=child.birth_date,
            rural=child.household_type == "rural",
            full_time_student=child.full_time_student,
            today=today,
        )
        return f"标为农村留守儿童，但按规则不符合：{lines[0].split('。', 1)[-1]}"
    return ""


def _months_before(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, min(day.day, 28)) - datetime.timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# The worker pool


def worker_count(total_rows: int) -> int:
    """How many build processes a batch of `total_rows` gets (0: build in-process)."""
    configured = os.environ.get("AIXIN_IMPORT_WORKERS")
    workers = int(configured) if configured else min(2, max(0, (os.cpu_count() or 1) - 1) or 1)
    return workers if total_rows >= PARALLEL_FROM_ROWS and workers > 0 else 0


@mypyc_attr(native_class=False)  # plain: tests replace its methods
class BuildPool:
    """Chunks go in in order and come out in the same order, built by worker processes
    (spawned, so that they share no database connection with the engine)."""

    def __init__(self, builder: Builder, workers: int) -> None:
        self.executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=worker.init,
            initargs=(pickle.dumps(builder),),
        )
        self.pending: deque[tuple[Future[BuiltChunk], Any]] = deque()
        # Processes start on demand: a first task starts one now. It takes most of a second
        # (a Python with Django), in which the engine builds in-process (see `started`).
        self.warm_up = self.executor.submit(worker.ready)

    def started(self) -> bool:
        """Whether a worker runs: until then, and with nothing queued (chunks come out in
        order), the caller builds its chunks itself instead of waiting."""
        return self.warm_up.done()

    def idle(self) -> bool:
        return not self.pending

    def submit(self, rows: list[NewRow], ids: Sequence[int] | None, tag: Any) -> list[tuple[BuiltChunk, Any]]:
        """Queue a chunk; returns the chunks that are ready, oldest first."""
        self.pending.append((self.executor.submit(worker.build, rows, ids), tag))
        ready = []
        while len(self.pending) > IN_FLIGHT or (self.pending and self.pending[0][0].done()):
            future, done_tag = self.pending.popleft()
            ready.append((future.result(), done_tag))
        return ready

    def drain(self) -> list[tuple[BuiltChunk, Any]]:
        ready = []
        while self.pending:
            future, tag = self.pending.popleft()
            ready.append((future.result(), tag))
        return ready

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
