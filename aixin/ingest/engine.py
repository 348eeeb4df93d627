"""The import engine: department rows → the registry, chunk by chunk, inside the caller's
transaction (one batch = one transaction, see services.run_batch).

Per chunk: the ID numbers are normalised and blind-indexed; rows whose source already sent the
very same cells (ChildSourceState.row_hash) are counted unchanged without being parsed; the rest
are parsed (normalise.parse_row), checked against the batch's scope and either created in bulk
(COPY on PostgreSQL) or merged field by field into the existing child (merge.MASTER priorities),
with every change written to ChildChange with its source and batch.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from aixin.ingest import bulk, merge
from aixin.ingest.columns import COLUMNS_BY_KEY, SOURCE_LABELS, STATUS_WORDS, Source
from aixin.ingest.models import ChildSourceState, DuplicateSuspect, ImportBatch, ImportRejection
from aixin.ingest.normalise import ChildRow, RegionResolver, RowRejected, normalise_id, parse_row
from aixin.lib.crypto import encrypt, mask_phone
from aixin.lib.idnumber import mask as mask_id
from aixin.lib.pinyin import search_key
from aixin.regions.models import Region, RegionLevel
from aixin.registry import derive, rules
from aixin.registry.models import (
    Child,
    ChildChange,
    ChildStatus,
    Guardian,
    GuardianshipType,
    ParentCondition,
)
from aixin.registry.services import snapshot

CHUNK = 1000
CIVIL_AFFAIRS = Source.CIVIL_AFFAIRS
STATUS_LABELS = {
    "moved_away": "迁出",
    "dead": "死亡",
    "parents_returned": "父母返乡",
    "not_eligible": "不再符合条件",
}
assert set(STATUS_LABELS) == {v for v in STATUS_WORDS.values() if v}
CATEGORY_KEYS = ("is_left_behind", "is_de_facto_unsupported")


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


@dataclass(frozen=True)
class Village:
    pk: int
    path: str
    town_id: int
    district_id: int


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def row_hash(source: str, keys: Sequence[str | None], cells: Sequence[object]) -> str:
    """The hash of what a row says (recognised columns only, by key): equal rows → equal hash,
    whatever the column order or the unrecognised columns."""
    parts = sorted(
        f"{key}={_cell_text(cells[i]).strip()}"
        for i, key in enumerate(keys)
        if key is not None and i < len(cells)
    )
    return hashlib.sha1("\x1f".join([source, *parts]).encode(), usedforsecurity=False).hexdigest()


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
        self.progress = progress
        self.keep_results = keep_results
        self.results: list[RowResult] = []
        self.rejections: list[Rejection] = []
        self.counts = Counts()
        self.done = 0
        self.seen: dict[str, int] = {}  # id index → first row number in this batch
        self.id_col = self.keys.index("id_number") if "id_number" in self.keys else -1
        self.villages = {
            pk: Village(pk, path, town_id, district_id)
            for pk, path, town_id, district_id in Region.objects.filter(
                level=RegionLevel.VILLAGE
            ).values_list("pk", "path", "town_id", "district_id")
        }
        self.reason = f"{self.source_label}数据导入"

    # -----------------------------------------------------------------------------------------

    def run(self, rows: Iterable[tuple[int, Sequence[object]]]) -> Counts:
        chunk: list[tuple[int, Sequence[object]]] = []
        for item in rows:
            chunk.append(item)
            if len(chunk) >= CHUNK:
                self._chunk(chunk)
                chunk = []
        if chunk:
            self._chunk(chunk)
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
        ImportRejection.objects.bulk_create(
            [
                ImportRejection(
                    batch=self.batch,
                    row_number=r.row_number,
                    column=r.column[:100],
                    reason=r.reason[:500],
                    cells=r.cells,
                )
                for r in self.rejections
            ],
            batch_size=1000,
        )
        self.rejections = []

    def _in_scope(self, path: str) -> bool:
        return path.startswith(self.scope_path)

    # -----------------------------------------------------------------------------------------

    def _chunk(self, chunk: list[tuple[int, Sequence[object]]]) -> None:
        id_header = self.headers[self.id_col] if self.id_col >= 0 else "身份证号"
        keyed: list[tuple[int, Sequence[object], str, str]] = []  # row, cells, id, index
        for row_number, cells in chunk:
            raw_id = cells[self.id_col] if 0 <= self.id_col < len(cells) else ""
            try:
                number = normalise_id(raw_id)
            except ValueError as exc:
                self._reject(row_number, cells, id_header, str(exc))
                continue
            index = derive.id_number_index(number)
            first = self.seen.get(index)
            if first is not None:
                self._reject(
                    row_number, cells, id_header, f"与第{first}行的身份证号相同（同一批次中重复），本行未导入"
                )
                continue
            self.seen[index] = row_number
            keyed.append((row_number, cells, number, index))

        existing = {
            idx: (pk, region_id)
            for pk, idx, region_id in Child.objects.filter(
                id_number_index__in=[k[3] for k in keyed]
            ).values_list("pk", "id_number_index", "region_id")
        }
        states = {
            child_id: (state_pk, h)
            for state_pk, child_id, h in ChildSourceState.objects.filter(
                source=self.source, child_id__in=[v[0] for v in existing.values()]
            ).values_list("pk", "child_id", "row_hash")
        }

        to_create: list[tuple[ChildRow, Sequence[object], str]] = []
        to_update: list[tuple[ChildRow, Sequence[object], int, str]] = []
        for row_number, cells, _number, index in keyed:
            found = existing.get(index)
            digest = row_hash(self.source, self.keys, cells)
            if found is not None:
                child_pk, region_id = found
                village = self.villages.get(region_id)
                if village is None or not self._in_scope(village.path):
                    self._reject(
                        row_number,
                        cells,
                        id_header,
                        "该身份证号的儿童已在其他地区的台账中，本批次不能修改，请联系市妇联核实",
                    )
                    continue
                if states.get(child_pk, (0, ""))[1] == digest:
                    self.counts.unchanged += 1
                    self._result(row_number, "unchanged", child_pk)
                    continue
            try:
                parsed = parse_row(
                    row_number, cells, self.keys, self.headers, self.resolver, today=self.today
                )
            except RowRejected as exc:
                self._reject(row_number, cells, exc.column, exc.reason)
                continue
            village_id = parsed.values.get("village_id")
            if isinstance(village_id, int):
                target = self.villages.get(village_id)
                if target is None or not self._in_scope(target.path):
                    self._reject(
                        row_number, cells, self._region_header(), "该村（社区）不在你的管辖范围内，本行未导入"
                    )
                    continue
            if found is None:
                if not isinstance(village_id, int):
                    self._reject(
                        row_number,
                        cells,
                        self._region_header(),
                        "缺少居住地：请填写村(社区)代码或区县、乡镇、村名称",
                    )
                    continue
                to_create.append((parsed, cells, digest))
            else:
                to_update.append((parsed, cells, found[0], digest))

        if to_create:
            self._create(to_create)
        if to_update:
            self._update(to_update, states)
        self._flush_rejections()
        self.done += len(chunk)
        if self.progress is not None:
            self.progress(self.done)

    def _region_header(self) -> str:
        for key in ("region_code", "village", "town", "district"):
            if key in self.keys:
                return self.headers[self.keys.index(key)]
        return "村(社区)"

    # -----------------------------------------------------------------------------------------
    # Creating

    def _conditions_for(self, values: dict[str, Any], now: datetime.datetime) -> list[Any]:
        evidence = f"{self.source_label}台账"
        # Civil affairs certifies 事实无人抚养 (渝民发〔2021〕5号) after checking the six-month
        # thresholds; its ledger states the parents' situations without their dates.
        certified = bool(values.get("is_de_facto_unsupported")) and self.source == CIVIL_AFFAIRS
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
                    self._certify(cond)
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

    def _certify(self, cond: Any) -> None:
        if cond.kind in rules.TERM_THRESHOLD and cond.term_months is None:
            cond.term_months = rules.SIX_MONTHS
            cond.evidence += "；民政认定事实无人抚养儿童，期限按认定标准记为6个月"
        elif cond.kind == rules.LOST and cond.started_on is None:
            cond.started_on = _months_before(self.today, rules.SIX_MONTHS)
            cond.evidence += "；民政认定事实无人抚养儿童，失联起始日期按认定标准记为6个月前"

    def _category_problem(self, child: Child, values: dict[str, Any], conds: list[rules.Condition]) -> str:
        """A category the row states that the rules do not give (the registry derives them)."""
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
                today=self.today,
            )
            return f"标为农村留守儿童，但按规则不符合：{lines[0].split('。', 1)[-1]}"
        return ""

    def _new_child(self, parsed: ChildRow, now: datetime.datetime) -> tuple[Any, list[Any], str]:
        values = parsed.values
        number = parsed.id_number
        child = bulk.new(
            Child, created_by_id=self.actor_id, source=self.source, created_at=now, updated_at=now
        )
        child.name = str(values["name"])
        child.name_pinyin = search_key(child.name)
        child.id_number_encrypted = encrypt(number, context=derive.ID_CONTEXT)
        child.id_number_index = derive.id_number_index(number)
        child.id_number_masked = mask_id(number)
        child.birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        child.sex = "M" if int(number[16]) % 2 else "F"
        sources: dict[str, str] = {"name": self.source}
        for name in merge.PLAIN_FIELDS:
            if name in values:
                setattr(child, name, values[name])
                sources[name] = self.source
        if child.other_difficulty_reasons:
            child.is_other_difficulty = True
        village = self.villages[int(values["village_id"])]  # type: ignore[call-overload]
        child.region_id = village.pk
        child.town_id = village.town_id
        child.district_id = village.district_id
        sources["region"] = self.source
        for key in ("father_situation", "mother_situation"):
            if key in values:
                sources[key] = self.source
        if any(k in values for k in ("guardian_name", "guardian_phone", "guardian_relation")):
            sources["guardian"] = self.source
        child.notes = str(values.get("notes", ""))
        child.field_sources = sources
        conds = self._conditions_for(values, now)
        rule_conds = [
            rules.Condition(parent=c.parent, kind=c.kind, started_on=c.started_on, term_months=c.term_months)
            for c in conds
        ]
        derive.apply_rules(child, rule_conds, today=self.today)
        return child, conds, self._category_problem(child, values, rule_conds)

    def _guardian_for(self, values: dict[str, Any], child_id: int, now: datetime.datetime) -> Any:
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

    def _create(self, rows: list[tuple[ChildRow, Sequence[object], str]]) -> None:
        now = timezone.now()
        made: list[tuple[ChildRow, Any, list[Any], str]] = []
        for parsed, cells, digest in rows:
            child, conds, problem = self._new_child(parsed, now)
            if problem:
                header = self._header_of("categories", "is_left_behind", "is_de_facto_unsupported")
                self._reject(parsed.row_number, cells, header, problem)
                continue
            made.append((parsed, child, conds, digest))
        if not made:
            return
        children = [m[1] for m in made]
        # Duplicate suspects: same pinyin, birth date and village, different ID number, against
        # the registry and within this chunk. Looked up before the insert.
        keys = {c.dedupe_key for c in children}
        earlier: dict[str, list[int]] = {}
        for pk, key in Child.objects.filter(dedupe_key__in=keys).values_list("pk", "dedupe_key"):
            earlier.setdefault(key, []).append(pk)
        bulk.insert(Child, children)

        guardians: list[Any] = []
        conditions: list[Any] = []
        changes: list[Any] = []
        states: list[Any] = []
        suspects: list[DuplicateSuspect] = []
        for parsed, child, conds, digest in made:
            guardian = self._guardian_for(parsed.values, child.pk, now)
            if guardian is not None:
                guardians.append(guardian)
            for cond in conds:
                cond.child_id = child.pk
                conditions.append(cond)
            changes.append(self._change(child.pk, "created", "", f"新建档案（{self.reason}）", now))
            status = parsed.values.get("child_status")
            if status:
                changes.append(self._status_change(child.pk, str(status), now))
            states.append(self._state(child.pk, digest, now))
            for other in earlier.get(child.dedupe_key, []):
                suspects.append(
                    DuplicateSuspect(
                        batch=self.batch,
                        child_id=child.pk,
                        other_id=other,
                        district_id=child.district_id,
                        created_at=now,
                    )
                )
            earlier.setdefault(child.dedupe_key, []).append(child.pk)
            self.counts.created += 1
            self._result(parsed.row_number, "created", child.pk)
        bulk.insert(Guardian, guardians)
        bulk.insert(ParentCondition, conditions)
        bulk.insert(ChildChange, changes)
        bulk.insert(ChildSourceState, states)
        if suspects:
            DuplicateSuspect.objects.bulk_create(suspects, ignore_conflicts=True)
            self.counts.suspects += len(suspects)

    def _header_of(self, *keys: str) -> str:
        for key in keys:
            if key in self.keys:
                return self.headers[self.keys.index(key)]
        return ""

    def _status_change(self, child_pk: int, status: str, now: datetime.datetime) -> Any:
        return self._change(child_pk, "child_status", "", STATUS_LABELS.get(status, status), now)

    def _state(self, child_pk: int, digest: str, now: datetime.datetime) -> Any:
        return bulk.new(
            ChildSourceState,
            child_id=child_pk,
            source=self.source,
            row_hash=digest,
            batch_id=self.batch.pk,
            updated_at=now,
        )

    # -----------------------------------------------------------------------------------------
    # Updating

    def _update(
        self, rows: list[tuple[ChildRow, Sequence[object], int, str]], states: dict[int, tuple[int, str]]
    ) -> None:
        now = timezone.now()
        pks = [r[2] for r in rows]
        children = {
            c.pk: c
            for c in Child.objects.select_for_update(of=("self",))
            .select_related("region__town")
            .prefetch_related("guardians", "parent_conditions")
            .filter(pk__in=pks)
        }
        village_ids = {int(r[0].values["village_id"]) for r in rows if "village_id" in r[0].values}  # type: ignore[call-overload]
        regions = {r.pk: r for r in Region.objects.select_related("town").filter(pk__in=village_ids)}
        changes: list[ChildChange] = []
        new_states: list[ChildSourceState] = []
        touched_states: list[ChildSourceState] = []
        for parsed, cells, child_pk, digest in rows:
            child = children[child_pk]
            mark = len(changes)
            try:
                with transaction.atomic():
                    changed = self._merge(child, parsed.values, regions, changes, now)
            except _Refused as exc:
                del changes[mark:]
                header = self._header_of("categories", "is_left_behind", "is_de_facto_unsupported")
                self._reject(parsed.row_number, cells, header, str(exc))
                continue
            state = states.get(child_pk)
            if state is None:
                new_states.append(self._state(child_pk, digest, now))
            else:
                touched_states.append(
                    ChildSourceState(pk=state[0], row_hash=digest, batch=self.batch, updated_at=now)
                )
            if changed:
                self.counts.updated += 1
                self._result(parsed.row_number, "updated", child_pk)
            else:
                self.counts.unchanged += 1
                self._result(parsed.row_number, "unchanged", child_pk)
        bulk.insert(ChildChange, changes)
        bulk.insert(ChildSourceState, new_states)
        if touched_states:
            ChildSourceState.objects.bulk_update(
                touched_states, ["row_hash", "batch", "updated_at"], batch_size=500
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
                conditions.append(
                    ParentCondition.objects.create(
                        child=child, parent=parent, kind=kind, evidence=f"{self.source_label}台账"
                    )
                )
            label = "父亲" if parent == "father" else "母亲"
            old = "、".join(rules.KIND_LABELS.get(k, k) for k in sorted(have)) or "无"
            new = "、".join(rules.KIND_LABELS.get(k, k) for k in sorted(want)) or "无（在家）"
            extra.append(("parent_condition", f"{label}：{old}", f"{label}：{new}"))
            sources[key] = source

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
        if values.get("is_de_facto_unsupported") and not child.is_de_facto_unsupported:
            raise _Refused(self._category_problem(child, values, rule_conds))
        after = snapshot(child)
        if status:
            extra.append(("child_status", "", STATUS_LABELS.get(status, status)))
        if before == after and not extra:
            return False

        child.field_sources = sources
        child.updated_at = now
        child.version = F("version") + 1
        child.save()
        for name in before:
            if before[name] != after[name]:
                changes.append(self._change(child.pk, name, before[name], after[name], now))
        for name, old, new in extra:
            changes.append(self._change(child.pk, name, old, new, now))
        return True

    def _change(self, child_pk: int, name: str, old: str, new: str, now: datetime.datetime) -> Any:
        return bulk.new(
            ChildChange,
            child_id=child_pk,
            field=name,
            old_value=old,
            new_value=new,
            source=self.source,
            reason=self.reason,
            batch_id=self.batch.pk,
            changed_by_id=self.actor_id,
            created_at=now,
            updated_at=now,
        )

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
            row = self._guardian_for(values, child.pk, now)
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


def _months_before(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, min(day.day, 28)) - datetime.timedelta(days=1)


def status_label(code: str) -> str:
    return STATUS_LABELS.get(code, code)


def column_label(key: str) -> str:
    col = COLUMNS_BY_KEY.get(key)
    return col.label if col else key


__all__ = ["CHUNK", "ChildStatus", "Counts", "Engine", "Rejection", "RowResult", "row_hash"]
