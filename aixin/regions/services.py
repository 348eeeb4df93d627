"""Loading the region tree from CSV (R-2.1, R-2.2).

One loader serves the built-in district list (`data/chongqing_districts.csv`) and the towns and
villages an operator loads with `aixin load-regions FILE`. It validates the whole file first and
writes nothing if any row is wrong (every error is reported with its line and column), then
creates, updates and — when a unit moved to another parent — re-stamps the denormalised
ancestors of the unit, its descendants and the open records placed in them.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aixin.regions.models import Region, RegionLevel
from aixin.regions.tree import stamp

BUILTIN_DISTRICTS = Path(__file__).resolve().parent / "data" / "chongqing_districts.csv"

REQUIRED_COLUMNS = ("code", "name", "level", "parent_code", "valid_from", "valid_to")
OPTIONAL_COLUMNS = ("kind", "successor_code", "statutory", "host_code", "latitude", "longitude")

LEVEL_WORDS = {
    "1": 1,
    "省": 1,
    "市": 1,
    "省/市": 1,
    "省市": 1,
    "2": 2,
    "区县": 2,
    "区/县": 2,
    "区": 2,
    "县": 2,
    "自治县": 2,
    "功能区": 2,
    "3": 3,
    "乡镇": 3,
    "乡镇/街道": 3,
    "乡镇街道": 3,
    "街道": 3,
    "镇": 3,
    "乡": 3,
    "街镇": 3,
    "4": 4,
    "村": 4,
    "村/社区": 4,
    "村社区": 4,
    "社区": 4,
    "村居": 4,
}
TRUE_WORDS = {"true", "1", "yes", "y", "是", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "f"}
CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,19}$")

# The columns the loader compares to decide whether an existing region changed.
_TRACKED = (
    "name",
    "level",
    "kind",
    "parent_id",
    "valid_from",
    "valid_to",
    "successor_id",
    "statutory",
    "host_id",
    "latitude",
    "longitude",
)
_STAMPED = ("path", "district_id", "town_id")


@dataclass(frozen=True)
class LoadError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.line and self.column:
            return _("第 %(line)d 行「%(column)s」列：%(message)s") % {
                "line": self.line,
                "column": self.column,
                "message": self.message,
            }
        if self.line:
            return _("第 %(line)d 行：%(message)s") % {"line": self.line, "message": self.message}
        return self.message


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[LoadError] = field(default_factory=list)
    # Regions not in the file whose path/district/town changed because an ancestor moved.
    restamped: int = 0
    # Records (children, volunteers, open pairings) re-stamped into their new district/town.
    records_restamped: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "restamped": self.restamped,
            "records_restamped": self.records_restamped,
            "errors": [str(e) for e in self.errors],
        }


@dataclass
class _Row:
    line: int
    code: str
    name: str
    level: int
    parent_code: str
    valid_from: datetime.date | None
    valid_to: datetime.date | None
    has: frozenset[str]
    kind: str = ""
    successor_code: str = ""
    statutory: bool = True
    host_code: str = ""
    latitude: float | None = None
    longitude: float | None = None


# ---------------------------------------------------------------------------------------------
# Reading


def decode_csv_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 — the encoding Excel uses on Chinese Windows."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValueError(_("文件编码无法识别：请另存为 UTF-8 或 GB18030 编码的 CSV 文件")) from exc


def read_csv_rows(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[LoadError]]:
    """The rows of a CSV text with the line number each starts on; header problems as errors."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        message = _("文件为空：第 1 行应为表头 %(cols)s") % {"cols": ",".join(REQUIRED_COLUMNS)}
        return [], [LoadError(0, "", message)]
    columns = [h.strip().lstrip("\ufeff").lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        return [], [
            LoadError(
                1,
                "",
                _("表头缺少列：%(cols)s（应包含 %(need)s）")
                % {
                    "cols": ", ".join(missing),
                    "need": ",".join(REQUIRED_COLUMNS),
                },
            )
        ]
    rows: list[tuple[int, dict[str, str]]] = []
    line = reader.line_num
    for values in reader:
        start = line + 1
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        rows.append((start, {col: (values[i] if i < len(values) else "") for i, col in enumerate(columns)}))
    return rows, []


# ---------------------------------------------------------------------------------------------
# Validation


def _parse_date(raw: str) -> datetime.date:
    raw = raw.strip().replace("/", "-").replace(".", "-")
    return datetime.date.fromisoformat(raw)


def _parse_rows(numbered: list[tuple[int, Mapping[str, Any]]], errors: list[LoadError]) -> list[_Row]:
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    for line, raw in numbered:
        cells = {k.strip().lower(): ("" if v is None else str(v)).strip() for k, v in raw.items() if k}
        has = frozenset(k for k in cells if k in OPTIONAL_COLUMNS)
        before = len(errors)

        def err(column: str, message: str, line: int = line) -> None:
            errors.append(LoadError(line, column, message))

        code = cells.get("code", "")
        if not code:
            err("code", _("代码不能为空"))
        elif not CODE_RE.match(code):
            err(
                "code",
                _("代码「%(code)s」格式不正确：只能包含数字、字母和连字符，最长 20 位") % {"code": code},
            )
        elif code in seen:
            err(
                "code",
                _("代码 %(code)s 在文件中重复（第 %(first)d 行已出现）")
                % {"code": code, "first": seen[code]},
            )
        else:
            seen[code] = line

        name = cells.get("name", "")
        if not name:
            err("name", _("名称不能为空"))
        elif len(name) > 100:
            err("name", _("名称过长：最多 100 个字"))

        level_raw = cells.get("level", "")
        level = LEVEL_WORDS.get(level_raw, 0)
        if not level:
            err(
                "level", _("层级「%(value)s」无法识别：应为 1-4 或 市、区县、乡镇、村") % {"value": level_raw}
            )

        parent_code = cells.get("parent_code", "")
        if level == RegionLevel.CITY and parent_code:
            err("parent_code", _("第 1 层（市）不能有上级代码"))
        if level and level > RegionLevel.CITY and not parent_code:
            err("parent_code", _("上级代码不能为空"))

        dates: dict[str, datetime.date | None] = {"valid_from": None, "valid_to": None}
        for column in dates:
            value = cells.get(column, "")
            if value:
                try:
                    dates[column] = _parse_date(value)
                except ValueError:
                    err(
                        column,
                        _("日期「%(value)s」格式不正确：应为 YYYY-MM-DD，例如 2025-11-06") % {"value": value},
                    )
        if dates["valid_from"] and dates["valid_to"] and dates["valid_to"] < dates["valid_from"]:
            err(
                "valid_to",
                _("失效日期 %(to)s 早于生效日期 %(from)s")
                % {
                    "to": dates["valid_to"],
                    "from": dates["valid_from"],
                },
            )

        # Functional zones have no GB/T 2260 code; everything else is statutory unless told.
        statutory = cells.get("kind", "") != "功能区"
        word = cells.get("statutory", "").lower()
        if word in TRUE_WORDS:
            statutory = True
        elif word in FALSE_WORDS:
            statutory = False
        elif word:
            err(
                "statutory",
                _("「%(value)s」无法识别：应为 true/false 或 是/否") % {"value": cells["statutory"]},
            )

        coords: dict[str, float | None] = {"latitude": None, "longitude": None}
        for column, low, high in (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0)):
            value = cells.get(column, "")
            if value:
                try:
                    number = float(value)
                except ValueError:
                    number = None
                if number is None or not low <= number <= high:
                    err(column, _("坐标「%(value)s」不正确") % {"value": value})
                else:
                    coords[column] = number

        successor_code = cells.get("successor_code", "")
        if successor_code and successor_code == code:
            err("successor_code", _("继承单位不能是自身"))
        kind = cells.get("kind", "")
        if len(kind) > 20:
            err("kind", _("类型过长：最多 20 个字"))

        if len(errors) == before:
            parsed.append(
                _Row(
                    line=line,
                    code=code,
                    name=name,
                    level=level,
                    parent_code=parent_code,
                    valid_from=dates["valid_from"],
                    valid_to=dates["valid_to"],
                    has=has,
                    kind=kind or _infer_kind(level, name),
                    successor_code=successor_code,
                    statutory=statutory,
                    host_code=cells.get("host_code", ""),
                    latitude=coords["latitude"],
                    longitude=coords["longitude"],
                )
            )
    return parsed


def _infer_kind(level: int, name: str) -> str:
    for suffix in ("自治县", "街道", "社区", "镇", "乡", "村", "区", "县"):
        if name.endswith(suffix):
            if level == RegionLevel.VILLAGE:
                return "社区" if suffix == "社区" else "村委会"
            return suffix
    return ""


def _check_references(rows: list[_Row], existing: dict[str, Region], errors: list[LoadError]) -> None:
    in_file = {r.code: r for r in rows}

    def level_of(code: str) -> int | None:
        if code in in_file:
            return in_file[code].level
        if code in existing:
            return existing[code].level
        return None

    for row in rows:
        if row.parent_code:
            parent_level = level_of(row.parent_code)
            if parent_level is None:
                errors.append(
                    LoadError(
                        row.line,
                        "parent_code",
                        _("上级代码 %(code)s 不存在：请先导入上级区划，或检查代码是否录错")
                        % {"code": row.parent_code},
                    )
                )
            elif parent_level != row.level - 1:
                errors.append(
                    LoadError(
                        row.line,
                        "level",
                        _("层级 %(level)d 与上级 %(parent)s 的层级 %(parent_level)d 不衔接：应为上级层级加 1")
                        % {"level": row.level, "parent": row.parent_code, "parent_level": parent_level},
                    )
                )
        if row.successor_code:
            succ_level = level_of(row.successor_code)
            if succ_level is None:
                errors.append(
                    LoadError(
                        row.line,
                        "successor_code",
                        _("继承单位代码 %(code)s 不存在") % {"code": row.successor_code},
                    )
                )
            elif succ_level != row.level:
                errors.append(
                    LoadError(
                        row.line,
                        "successor_code",
                        _("继承单位 %(code)s 与本单位层级不同") % {"code": row.successor_code},
                    )
                )
        if row.successor_code and not row.valid_to:
            errors.append(LoadError(row.line, "valid_to", _("填写了继承单位的区划必须填写失效日期")))
        if row.host_code:
            host_level = level_of(row.host_code)
            if host_level is None:
                errors.append(
                    LoadError(
                        row.line, "host_code", _("所在法定区县代码 %(code)s 不存在") % {"code": row.host_code}
                    )
                )
            elif host_level != row.level:
                errors.append(
                    LoadError(
                        row.line,
                        "host_code",
                        _("所在法定区县 %(code)s 与本单位层级不同") % {"code": row.host_code},
                    )
                )


# ---------------------------------------------------------------------------------------------
# Loading


def regions_load(
    *,
    rows: Iterable[Mapping[str, Any]] | None = None,
    path: str | Path | None = None,
    data: bytes | None = None,
) -> LoadResult:
    """Validate and load regions from `rows` (dicts keyed by column), a CSV file `path`, or CSV
    bytes `data`. All or nothing: if any row is invalid nothing is written and `errors` lists
    every problem. Re-loading the same data reports everything unchanged."""
    result = LoadResult()
    numbered: list[tuple[int, Mapping[str, Any]]]
    if rows is not None:
        # Line numbers as if the rows came from a CSV file with a header on line 1.
        numbered = [(i + 2, r) for i, r in enumerate(rows)]
    else:
        if data is None:
            if path is None:
                raise ValueError("regions_load needs rows, path or data")
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                result.errors.append(
                    LoadError(
                        0,
                        "",
                        _("无法读取文件 %(path)s：%(reason)s")
                        % {
                            "path": path,
                            "reason": exc.strerror or exc,
                        },
                    )
                )
                return result
        try:
            text = decode_csv_bytes(data)
        except ValueError as exc:
            result.errors.append(LoadError(0, "", str(exc)))
            return result
        read, header_errors = read_csv_rows(text)
        if header_errors:
            result.errors.extend(header_errors)
            return result
        numbered = list(read)

    parsed = _parse_rows(numbered, result.errors)
    existing = _all_regions()
    _check_references(parsed, existing, result.errors)
    if result.errors:
        result.errors.sort(
            key=lambda e: (e.line, REQUIRED_COLUMNS.index(e.column) if e.column in REQUIRED_COLUMNS else 99)
        )
        return result
    _write(parsed, existing, result)
    return result


def _all_regions() -> dict[str, Region]:
    """Every region by code, with parent/district/town linked in memory (no lazy queries)."""
    regions = list(Region.objects.all())
    by_id = {r.pk: r for r in regions}
    for region in regions:
        for name in ("parent", "district", "town", "successor", "host"):
            target_id = getattr(region, f"{name}_id")
            if target_id is not None:
                setattr(region, name, by_id[target_id])
    return {r.code: r for r in regions}


def regions_load_builtin() -> LoadResult:
    """Load the district-level units that ship with the system (R-2.4)."""
    return regions_load(path=BUILTIN_DISTRICTS)


def _snapshot(region: Region) -> tuple[Any, ...]:
    return tuple(getattr(region, f) for f in _TRACKED + _STAMPED)


@transaction.atomic
def _write(rows: list[_Row], existing: dict[str, Region], result: LoadResult) -> None:
    by_code = dict(existing)
    before = {code: _snapshot(r) for code, r in existing.items()}
    in_file: set[str] = set()
    now = timezone.now()

    for level in sorted({r.level for r in rows}):
        new: list[Region] = []
        for row in (r for r in rows if r.level == level):
            in_file.add(row.code)
            region = by_code.get(row.code)
            if region is None:
                region = Region(code=row.code)
                by_code[row.code] = region
                new.append(region)
            region.name = row.name
            region.level = row.level
            region.parent = by_code[row.parent_code] if row.parent_code else None
            region.valid_from = row.valid_from
            region.valid_to = row.valid_to
            if "kind" in row.has or region.pk is None:
                region.kind = row.kind
            if "statutory" in row.has or region.pk is None:
                region.statutory = row.statutory
            if "latitude" in row.has and row.latitude is not None:
                region.latitude = row.latitude
            if "longitude" in row.has and row.longitude is not None:
                region.longitude = row.longitude
            stamp(region)
        if new:
            Region.objects.bulk_create(new, batch_size=1000)
            if any(r.pk is None for r in new):  # backends that do not return keys
                fetched = Region.objects.in_bulk([r.code for r in new], field_name="code")
                for region in new:
                    region.pk = fetched[region.code].pk
        result.created += len(new)

    # Successors and hosts may point forward in the file, so they are set once all rows exist.
    for row in rows:
        region = by_code[row.code]
        if "successor_code" in row.has or row.code not in before:
            region.successor = by_code[row.successor_code] if row.successor_code else None
        if "host_code" in row.has or row.code not in before:
            region.host = by_code[row.host_code] if row.host_code else None

    # Descendants not in the file follow a moved ancestor: walk the tree top-down.
    children_of: dict[int | None, list[Region]] = defaultdict(list)
    for region in by_code.values():
        children_of[region.parent_id].append(region)
    moved = [r for code, r in by_code.items() if code in before and _snapshot(r)[-3:] != before[code][-3:]]
    stack = list(moved)
    while stack:
        node = stack.pop()
        for child in children_of.get(node.pk, []):
            old = (child.path, child.district_id, child.town_id)
            stamp(child)
            if (child.path, child.district_id, child.town_id) != old:
                stack.append(child)

    changed: list[Region] = []
    for code, region in by_code.items():
        if code not in before:
            continue
        if _snapshot(region) != before[code]:
            region.updated_at = now
            changed.append(region)
            if code in in_file:
                result.updated += 1
            else:
                result.restamped += 1
        elif code in in_file:
            result.unchanged += 1
    # New rows whose successor/host was set after their insert.
    for code in in_file - set(before):
        region = by_code[code]
        if region.successor_id or region.host_id:
            changed.append(region)
    if changed:
        Region.objects.bulk_update(
            changed,
            [
                "name",
                "level",
                "kind",
                "parent",
                "path",
                "district",
                "town",
                "valid_from",
                "valid_to",
                "successor",
                "statutory",
                "host",
                "latitude",
                "longitude",
                "updated_at",
            ],
            batch_size=500,
        )

    restamp_villages = [
        r
        for code, r in by_code.items()
        if code in before and r.level == RegionLevel.VILLAGE and _snapshot(r)[-2:] != before[code][-2:]
    ]
    result.records_restamped = _restamp_records(restamp_villages)


def _restamp_records(villages: list[Region]) -> int:
    """Move the denormalised district/town of the records in `villages` to their new ancestors.
    Children, loving mothers and open pairings follow their village; care records keep the
    district they were made in, so history stays reportable under the old unit (R-2.2)."""
    if not villages:
        return 0
    from aixin.pairing.models import OPEN_STATUSES, Pairing
    from aixin.registry.models import Child
    from aixin.volunteers.models import Volunteer

    groups: dict[tuple[int | None, int | None], list[int]] = defaultdict(list)
    for village in villages:
        groups[(village.district_id, village.town_id)].append(village.pk)
    count = 0
    for (district_id, town_id), ids in groups.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            count += Child.objects.filter(region_id__in=chunk).update(
                district_id=district_id, town_id=town_id
            )
            count += Volunteer.objects.filter(home_region_id__in=chunk).update(
                district_id=district_id, town_id=town_id
            )
            # updated_at moves too: civil affairs systems poll pairings by changed_since.
            count += Pairing.objects.filter(village_id__in=chunk, status__in=OPEN_STATUSES).update(
                district_id=district_id, town_id=town_id, updated_at=timezone.now()
            )
    return count
