"""One ledger row → canonical child values, or a rejection that says what is wrong and where.

Departments type their ledgers by hand: full-width digits, stray spaces, dates in five formats,
ID numbers that Excel turned into floating-point numbers, region names with or without their
suffixes ("酉阳" / "酉阳县" / "酉阳土家族苗族自治县"). `parse_row` turns the cells of one data row
(aligned with the column keys of `aixin.ingest.columns`) into a `ChildRow`, or raises
`RowRejected` with the row number, the column's header as written in the file and a Chinese
reason.

Framework-free (only `RegionResolver.from_db` imports Django models, lazily) and fast: the
import engine parses tens of thousands of rows per batch.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mypy_extensions import mypyc_attr

from aixin.ingest import columns as cols
from aixin.lib import idnumber

# ---------------------------------------------------------------------------------------------
# Results


class RowRejected(Exception):
    """A data row that cannot be imported. `column` is the header text as shown in the file
    ("" when the problem concerns the whole row); `key` the column key when known."""

    def __init__(self, row_number: int, column: str, reason: str, *, key: str = "") -> None:
        where = f"第{row_number}行“{column}”" if column else f"第{row_number}行"
        super().__init__(f"{where}：{reason}")
        self.row_number = row_number
        self.column = column
        self.reason = reason
        self.key = key


@dataclass(slots=True)
class ChildRow:
    row_number: int
    id_number: str  # 18 characters, upper-case X, checksum valid
    values: dict[str, object]  # only the keys whose cells were not blank


# ---------------------------------------------------------------------------------------------
# Text

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_SPACE_RUN = re.compile(r"\s+")
# Cells that mean "nothing to say" in hand-typed ledgers.
_PLACEHOLDERS = frozenset({"/", "\\", "-", "--", "—", "——", "－"})


def _scalar_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def normalise_text(value: object) -> str:
    """Cell text as a person means it: NFKC (full-width → half-width), zero-width characters
    removed, every run of whitespace (also non-breaking and ideographic spaces) one space,
    stripped. Numbers from Excel lose a trailing ".0"; dates become ISO text."""
    s = value if type(value) is str else _scalar_text(value)
    if not s:
        return ""
    if not s.isascii():
        if not s.isprintable():
            s = s.translate(_ZERO_WIDTH)
        s = unicodedata.normalize("NFKC", s)
    if s.isprintable():
        if "  " in s:
            s = _SPACE_RUN.sub(" ", s)
        return _unneutralise(s.strip())
    return _unneutralise(_SPACE_RUN.sub(" ", s).strip())


def _unneutralise(s: str) -> str:
    """Our own workbooks put an apostrophe before text that looks like a formula
    (aixin.lib.excel.neutralise); a re-uploaded rejected-rows file brings it back."""
    if s[:1] == "'" and s[1:2] in ("=", "+", "-", "@"):
        return s[1:]
    return s


# ---------------------------------------------------------------------------------------------
# Dates

_DATE_RE = re.compile(
    r"(\d{4}) ?[-/.年] ?(\d{1,2}) ?[-/.月] ?(\d{1,2}) ?[日号]?"
    r"(?:[ T]\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?)?",
    re.ASCII,
)
_YEAR_MONTH_RE = re.compile(r"(\d{4}) ?[-/.年] ?(\d{1,2}) ?月?|(\d{4})(\d{2})", re.ASCII)
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_MIN_YEAR, _MAX_YEAR = 1900, 2100
_MAX_SERIAL = (datetime.date(_MAX_YEAR, 12, 31) - _EXCEL_EPOCH).days
# A 5-digit numeric string is taken as an Excel serial between 1927 and 2099.
_MIN_SERIAL_TEXT, _MAX_SERIAL_TEXT = 10000, (datetime.date(2099, 12, 31) - _EXCEL_EPOCH).days


def _unrecognised(text: str) -> ValueError:
    return ValueError(f"日期“{text}”无法识别，请按“2015-03-04”的格式填写")


def _from_serial(serial: int, text: str) -> datetime.date:
    """Excel's 1900 date system, including its phantom 1900-02-29 (serial 60)."""
    if serial < 1 or serial > _MAX_SERIAL:
        raise ValueError(f"日期“{text}”不合理")
    if serial == 60:
        raise ValueError(f"日期“{text}”不存在")
    if serial < 60:
        serial += 1
    return _EXCEL_EPOCH + datetime.timedelta(days=serial)


def _ymd(year: int, month: int, day: int, text: str) -> datetime.date:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(f"日期“{text}”不合理")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(f"日期“{text}”不存在") from None


def _date_from_number(number: float, text: str) -> datetime.date:
    whole = int(number)
    if 10000000 <= whole <= 99999999:  # 20150304 typed as a number
        return _ymd(whole // 10000, whole // 100 % 100, whole % 100, text)
    return _from_serial(whole, text)


def parse_date(value: object) -> datetime.date:
    """A date in any format departments use; raises ValueError with a Chinese message."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = normalise_text(value)
    if not text:
        raise ValueError("日期为空")
    if isinstance(value, bool):
        raise _unrecognised(text)
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer() and not 1 <= value < _MAX_SERIAL + 1:
            raise _unrecognised(text)
        return _date_from_number(value, text)
    m = _DATE_RE.fullmatch(text)
    if m:
        return _ymd(int(m[1]), int(m[2]), int(m[3]), text)
    digits = text[:-2] if text.endswith(".0") else text
    if digits.isdigit() and digits.isascii():
        if len(digits) == 8:
            return _ymd(int(digits[:4]), int(digits[4:6]), int(digits[6:]), text)
        if len(digits) == 5 and _MIN_SERIAL_TEXT <= int(digits) <= _MAX_SERIAL_TEXT:
            return _from_serial(int(digits), text)
    raise _unrecognised(text)


# ---------------------------------------------------------------------------------------------
# ID numbers

ID_STORED_AS_NUMBER = "身份证号被存成了数字，末几位已丢失（科学计数法），请将该列设为文本格式后重新填写"
_SCIENTIFIC = re.compile(r"\d+(?:\.\d*)?E[+-]?\d+|\d{15,}\.\d*", re.ASCII)


# The engine reads each row's ID number twice (normalise_id to find the child, then parse_row):
# remember the last few thousand valid ones.
def _parse_id(value: object, today: datetime.date) -> idnumber.IdNumberInfo:
    if isinstance(value, float):
        raise ValueError(ID_STORED_AS_NUMBER)
    from_int = isinstance(value, int) and not isinstance(value, bool)
    text = value if type(value) is str else _scalar_text(value)
    if not (len(text) == 18 and text[:17].isdigit() and text.isascii()):
        text = idnumber.normalise(normalise_text(text).lstrip("'`"))
        if not text:
            raise ValueError("身份证号为空")
        if _SCIENTIFIC.fullmatch(text):
            raise ValueError(ID_STORED_AS_NUMBER)
        if len(text) == 15 and text.isdigit():
            raise ValueError("15位旧身份证号，请填写18位身份证号")
    elif text[17] == "x":
        text = text.upper()
    try:
        return idnumber.parse(text, today=today)
    except idnumber.IdNumberError as exc:
        if len(text) == 18 and text.endswith("000") and "校验位" in str(exc):
            if from_int:
                raise ValueError(ID_STORED_AS_NUMBER) from None
            raise ValueError(
                f"{exc}（末三位为000，可能是身份证号曾被存成数字、末几位已丢失，请核对原始记录）"
            ) from None
        raise ValueError(str(exc)) from None


def normalise_id(value: object, today: datetime.date | None = None) -> str:
    """The 18-character ID number of a cell (checksum valid, upper-case X, born by `today`);
    raises ValueError with a Chinese message."""
    return _parse_id(value, today or datetime.date.today()).number


# ---------------------------------------------------------------------------------------------
# Regions

# The 55 minority groups, to reduce "酉阳土家族苗族自治县" to "酉阳".
_ETHNIC_GROUPS = (
    "土家族|苗族|回族|蒙古族|藏族|维吾尔族|彝族|壮族|布依族|朝鲜族|满族|"
    "侗族|瑶族|白族|哈尼族|哈萨克族|傣族|黎族|傈僳族|佤族|畲族|高山族|"
    "拉祜族|水族|东乡族|纳西族|景颇族|柯尔克孜族|土族|达斡尔族|仫佬族|羌族|"
    "布朗族|撒拉族|毛南族|仡佬族|锡伯族|阿昌族|普米族|塔吉克族|怒族|"
    "乌孜别克族|俄罗斯族|鄂温克族|德昂族|保安族|裕固族|京族|塔塔尔族|独龙族|"
    "鄂伦春族|赫哲族|门巴族|珞巴族|基诺族"
)
_ETHNIC_TAIL = re.compile(f"(?:{_ETHNIC_GROUPS})+$")
_LEVEL_SUFFIXES: dict[int, tuple[tuple[str, str], ...]] = {
    # (suffix as written, the kind it stands for); longest first.
    2: (("自治县", "县"), ("县", "县"), ("区", "区"), ("市", "市")),
    3: (
        ("街道办事处", "街道"),
        ("办事处", "街道"),
        ("街道", "街道"),
        ("镇", "镇"),
        ("乡", "乡"),
    ),
    4: (
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
        ("社区", "社区"),
        ("村", "村"),
    ),
}
_LEVEL_WORDS = {2: "区县", 3: "乡镇（街道）", 4: "村（社区）"}


def _name_forms(name: str, level: int) -> tuple[str, str, str]:
    """(exact, canonical, stem) of a region name: "酉阳土家族苗族自治县" → (itself, "酉阳县",
    "酉阳"); "桃花源街道办事处" → (itself, "桃花源街道", "桃花源"); "龙潭村委会" → (itself,
    "龙潭村", "龙潭")."""
    exact = normalise_text(name).replace(" ", "")
    stem, kind = exact, ""
    if level == 3 and stem.endswith("人民政府") and len(stem) > 4:  # 龙潭镇人民政府
        stem = stem[:-4]
    for suffix, suffix_kind in _LEVEL_SUFFIXES[level]:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem, kind = stem[: -len(suffix)], suffix_kind
            break
    if (level == 2 and kind == "县") or (level == 3 and kind == "乡"):
        stripped = _ETHNIC_TAIL.sub("", stem)  # 酉阳土家族苗族(自治县), 太原土家族(乡)
        stem = stripped or stem
    return exact, stem + kind, stem


# Plain classes in a compiled module (aixin.native): the resolver is pickled to the build
# workers with what it holds.
@mypyc_attr(native_class=False)
@dataclass(frozen=True, slots=True)
class VillageRef:
    """A village (or community) with its ancestors, as the resolver needs it."""

    pk: int
    code: str
    name: str
    town_code: str = ""
    town_name: str = ""
    district_code: str = ""
    district_name: str = ""

    def full_name(self) -> str:
        return f"{self.district_name}{self.town_name}{self.name}"


class RegionError(ValueError):
    """A residence that cannot be resolved; `field` is the column key to blame."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@mypyc_attr(native_class=False)
class _Index:
    """Name forms → codes for one level, matched loosest-last."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.exact: dict[str, list[str]] = {}
        self.canonical: dict[str, list[str]] = {}
        self.loose: dict[str, list[str]] = {}

    def add(self, code: str, name: str) -> None:
        exact, canonical, stem = _name_forms(name, self.level)
        self.exact.setdefault(exact, []).append(code)
        self.canonical.setdefault(canonical, []).append(code)
        for key in {exact, stem}:
            self.loose.setdefault(key, []).append(code)

    def match(self, name: str, parents: Collection[str] | None, parent_of: Mapping[str, str]) -> list[str]:
        """Codes named `name` (whose parent, by `parent_of`, is one of `parents` when given): the
        exact name first, then the same stem and kind ("龙潭镇" = "龙潭镇人民政府"), then the
        same stem ("龙潭" = "龙潭镇"). A stage that finds anything decides."""
        exact, canonical, stem = _name_forms(name, self.level)
        stages: tuple[Iterable[str], ...] = (
            self.exact.get(exact, ()),
            self.canonical.get(canonical, ()),
            (*self.loose.get(exact, ()), *self.loose.get(stem, ())),
        )
        for found in stages:
            codes = list(dict.fromkeys(c for c in found if parents is None or parent_of.get(c) in parents))
            if codes:
                return codes
        return []


@mypyc_attr(native_class=False)
class RegionResolver:
    """Residence cells → the pk of a current village, by its 12-digit code or by the names of
    district, town and village. Plain data, picklable; results are memoised per distinct
    combination of cells (ledgers repeat the same villages thousands of times)."""

    _MEMO_LIMIT = 100_000

    def __init__(self, villages: list[VillageRef], *, others: Mapping[str, tuple[int, str]] | None = None):
        """`others`: code → (level, name) of the current regions that are not villages, so that
        such a code is refused as "not a village" rather than "unknown"."""
        self.villages = list(villages)
        self.by_code = {v.code: v for v in self.villages}
        self.by_pk = {v.pk: v for v in self.villages}
        self.others: dict[str, tuple[int, str]] = {}
        for v in self.villages:
            if v.town_code:
                self.others.setdefault(v.town_code, (3, v.town_name))
            if v.district_code:
                self.others.setdefault(v.district_code, (2, v.district_name))
        self.others.update(others or {})
        for code, ref in list(self.others.items()):
            if len(code) < 12:
                self.others.setdefault(code.ljust(12, "0"), ref)
        self._districts = _Index(2)
        self._towns = _Index(3)
        self._village_names = _Index(4)
        self._town_district: dict[str, str] = {}
        self._village_town: dict[str, str] = {}
        self._village_district: dict[str, str] = {}
        self._town_names: dict[str, str] = {}
        self._district_names: dict[str, str] = {}
        for v in self.villages:
            if v.district_code and v.district_code not in self._district_names:
                self._district_names[v.district_code] = v.district_name
                self._districts.add(v.district_code, v.district_name)
            if v.town_code and v.town_code not in self._town_names:
                self._town_names[v.town_code] = v.town_name
                self._town_district[v.town_code] = v.district_code
                self._towns.add(v.town_code, v.town_name)
            self._village_town[v.code] = v.town_code
            self._village_district[v.code] = v.district_code
            self._village_names.add(v.code, v.name)
        self._memo: dict[tuple[str, str, str, str], int | RegionError] = {}
        # (level, code) of the uploader's area: a village name found in several places is the
        # one inside it when only one of them is (a district's own ledger names its villages).
        self.within: tuple[int, str] | None = None

    def prefer_within(self, level: int, code: str) -> None:
        self.within = (level, code) if level > 1 else None
        self._memo.clear()

    def _inside(self, code: str) -> bool:
        assert self.within is not None
        level, within = self.within
        ref = self.by_code[code]
        return (ref.district_code, ref.town_code, ref.code)[min(level, 4) - 2] == within

    @classmethod
    def from_db(cls, *, day: datetime.date | None = None) -> RegionResolver:
        """The regions current today (valid_to is null), or valid on `day` when given."""
        from aixin.regions.models import Region, RegionLevel

        regions = Region.objects.valid_on(day) if day is not None else Region.objects.current()
        villages = [
            VillageRef(
                pk, code, name, town_code or "", town_name or "", district_code or "", district_name or ""
            )
            for pk, code, name, town_code, town_name, district_code, district_name in regions.filter(
                level=RegionLevel.VILLAGE
            ).values_list(
                "pk", "code", "name", "town__code", "town__name", "district__code", "district__name"
            )
        ]
        others = {
            code: (level, name)
            for code, level, name in regions.exclude(level=RegionLevel.VILLAGE).values_list(
                "code", "level", "name"
            )
        }
        return cls(villages, others=others)

    def __getstate__(self) -> dict[str, Any]:
        return {"villages": self.villages, "others": self.others, "within": self.within}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["villages"], others=state["others"])  # type: ignore[misc]
        self.within = state.get("within")

    def village(self, pk: int) -> VillageRef | None:
        return self.by_pk.get(pk)

    def resolve(self, *, code: object = "", district: str = "", town: str = "", village: str = "") -> int:
        """The village pk; raises RegionError (a ValueError) with a Chinese message."""
        key = (code if type(code) is str else _scalar_text(code), district, town, village)
        found = self._memo.get(key)
        if found is None:
            try:
                found = self._resolve(key[0], district, town, village)
            except RegionError as exc:
                found = exc
            if len(self._memo) >= self._MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        if isinstance(found, RegionError):
            raise RegionError(str(found), found.field)
        return found

    def _resolve(self, code: str, district: str, town: str, village: str) -> int:
        code = normalise_text(code).replace(" ", "")
        if code:
            return self._by_code(code)
        district, town, village = (normalise_text(x) for x in (district, town, village))
        if not village:
            raise RegionError("请填写村(社区)名称或村(社区)代码", "village")
        district_codes: list[str] | None = None
        if district:
            district_codes = self._districts.match(district, None, {})
            if not district_codes:
                raise RegionError(f"未找到区县“{district}”", "district")
        town_codes: list[str] | None = None
        if town:
            town_codes = self._towns.match(town, district_codes, self._town_district)
            if not town_codes:
                where = f"（区县“{district}”）" if district else ""
                raise RegionError(f"未找到乡镇（街道）“{town}”{where}", "town")
        if town_codes is not None:
            found = self._village_names.match(village, town_codes, self._village_town)
        else:
            found = self._village_names.match(village, district_codes, self._village_district)
        if not found:
            where = "，".join(
                part
                for part in (f"乡镇“{town}”" if town else "", f"区县“{district}”" if district else "")
                if part
            )
            raise RegionError(f"未找到村（社区）“{village}”" + (f"（{where}）" if where else ""), "village")
        if len(found) > 1 and self.within is not None:
            inside = [c for c in found if self._inside(c)]
            if len(inside) == 1:
                return self.by_code[inside[0]].pk
            found = inside or found
        if len(found) > 1:
            names = "、".join(f"{self.by_code[c].full_name()}（{c}）" for c in found[:5])
            raise RegionError(
                f"村（社区）“{village}”不唯一：{names}，请填写区县、乡镇或村(社区)代码加以区分", "village"
            )
        return self.by_code[found[0]].pk

    def _by_code(self, code: str) -> int:
        if code.endswith(".0") and code[:-2].isdigit():
            code = code[:-2]
        if _SCIENTIFIC.fullmatch(code.upper()):
            raise RegionError(
                f"村(社区)代码“{code}”被存成了数字（科学计数法），末几位已丢失，请将该列设为文本格式后重新填写",
                "region_code",
            )
        if not (code.isdigit() and code.isascii()):
            raise RegionError(f"村(社区)代码“{code}”应为12位数字", "region_code")
        ref = self.by_code.get(code)
        if ref is not None:
            return ref.pk
        other = self.others.get(code)
        if other is not None:
            level, name = other
            what = _LEVEL_WORDS.get(level, "上级区划")
            raise RegionError(
                f"代码“{code}”是{what}“{name}”的代码，不是村(社区)代码，请填写12位村(社区)代码", "region_code"
            )
        raise RegionError(f"未找到村(社区)代码“{code}”，请核对是否录错或该村已撤并", "region_code")


# ---------------------------------------------------------------------------------------------
# Words (choices, booleans, lists)

_NEGATIONS = frozenset("非不未无没")
_LIST_SEPARATORS = frozenset("、,;/\\|")
_LIST_SPLIT = re.compile(r"[、,;/\\|\s]+")


class _Words:
    """An accepted-words table: exact words first, then a text that contains exactly one known
    meaning ("父亲外出务工" → working_away)."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = {normalise_text(w).upper(): v for w, v in table.items()}
        self.by_length = sorted(self.table, key=len, reverse=True)
        first: dict[str, str] = {}
        for word, value in table.items():
            first.setdefault(value, word)
        self.accepted = "、".join(first.values())

    def lookup(self, text: str) -> str | None:
        text = text.upper()
        value = self.table.get(text)
        if value is not None:
            return value
        hits = [w for w in self.by_length if self._contains(text, w)]
        hits = [w for w in hits if not any(w != other and w in other for other in hits)]
        meanings = {self.table[w] for w in hits}
        return meanings.pop() if len(meanings) == 1 else None

    @staticmethod
    def _contains(text: str, word: str) -> bool:
        start = text.find(word)
        while start >= 0:
            if start == 0 or text[start - 1] not in _NEGATIONS:
                return True
            start = text.find(word, start + 1)
        return False


_BOOL = _Words(cols.YES_NO)
_SEX = _Words(cols.SEX_WORDS)
_WORDS: dict[str, _Words] = {c.key: _Words(c.values) for c in cols.COLUMNS if c.values and c.kind != "bool"}
_WORDS["sex"] = _SEX
_SEX_LABEL = {"M": "男", "F": "女"}

# List columns whose words set a group of booleans: the list is authoritative for its group.
_GROUPS: dict[str, tuple[str, ...]] = {
    "categories": tuple(dict.fromkeys(cols.CATEGORY_WORDS.values())),
    "difficulties": tuple(dict.fromkeys(cols.DIFFICULTY_WORDS.values())),
    "risks": tuple(dict.fromkeys(cols.RISK_WORDS.values())),
}
_REGION_KEYS = ("region_code", "district", "town", "village")
_FIRST_KEYS = ("name", "id_number")


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where each recognised column is, worked out once per header."""

    where: dict[str, int]  # key → column index
    name_at: int  # -1 when the file has no such column
    id_at: int
    others: tuple[tuple[int, str, str], ...]  # (index, key, kind) of the remaining columns
    regions: tuple[tuple[int, str], ...]  # (index, key) of the residence columns


def _plan_for(keys: Sequence[str | None]) -> _Plan:
    signature = tuple(keys)
    plan = _PLANS.get(signature)
    if plan is None:
        where = {key: i for i, key in reversed(list(enumerate(signature))) if key in cols.COLUMNS_BY_KEY}
        plan = _Plan(
            where=where,
            name_at=where.get("name", -1),
            id_at=where.get("id_number", -1),
            others=tuple(
                (i, key, cols.COLUMNS_BY_KEY[key].kind)
                for key, i in sorted(where.items(), key=lambda item: item[1])
                if key not in _FIRST_KEYS and key not in _REGION_KEYS
            ),
            regions=tuple((where[key], key) for key in _REGION_KEYS if key in where),
        )
        if len(_PLANS) > 256:
            _PLANS.clear()
        _PLANS[signature] = plan
    return plan


_PLANS: dict[tuple[str | None, ...], _Plan] = {}


def _cell_text(cells: Sequence[object], i: int) -> str:
    """The normalised text of cell i, "" when blank, a placeholder or missing."""
    if i < 0 or i >= len(cells):
        return ""
    raw = cells[i]
    if raw is None or raw == "":
        return ""
    text = normalise_text(raw)
    return "" if text in _PLACEHOLDERS else text


_PHONES = re.compile(r"(?:\d[\d-]{5,}\d)")


def _phone(raw: object, text: str) -> str | None:
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    digits = text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if digits.isdigit() and digits.isascii() and 7 <= len(digits) <= 12:
        return digits
    return None


def _split_items(text: str) -> list[str]:
    """Items of a list cell; separators inside brackets ("外出务工(广东,深圳)") do not split."""
    if "(" not in text:
        return [item for item in _LIST_SPLIT.split(text) if item]
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0 and (ch in _LIST_SEPARATORS or ch.isspace()):
            items.append("".join(current))
            current = []
            continue
        current.append(ch)
    items.append("".join(current))
    return [item for item in items if item]


def _birth_matches(raw: object, text: str, birth: datetime.date) -> bool | None:
    """Whether a 出生日期 cell agrees with the ID's birth date: a full date, or a year and month
    (出生年月: "2015.03", "2015年3月", 201503, or the number 2015.03 from Excel). None when the
    cell is not a date at all."""
    if isinstance(raw, float) and _MIN_YEAR <= raw < _MAX_YEAR + 1 and not raw.is_integer():
        year, fraction = int(raw), f"{raw!r}".split(".")[1]
        months = {int(fraction[:2])} if len(fraction) >= 2 else {int(fraction), int(fraction) * 10}
        return year == birth.year and birth.month in months
    try:
        return parse_date(raw) == birth
    except ValueError:
        pass
    m = _YEAR_MONTH_RE.fullmatch(text)
    if m is None:
        return None
    year, month = (int(m[1]), int(m[2])) if m[1] else (int(m[3]), int(m[4]))
    return (year, month) == (birth.year, birth.month)


# ---------------------------------------------------------------------------------------------
# The row


# A cell typed as a formula. (+ - @ starts are common in real text — phones, notes, "@所有人" —
# and are neutralised whenever the value is written to a workbook again: aixin.lib.excel.)
_FORMULA_STARTS = ("=",)


DROPPED_OUT = cols.SCHOOL_STAGE_WORDS["辍学"]
_MAX_LENGTH = {c.key: c.max_length for c in cols.COLUMNS if c.max_length}
_TEXT_MEMO: dict[str, str] = {}
_TEXT_MEMO_LIMIT = 65536


def parse_row(
    row_number: int,
    cells: Sequence[object],
    keys: Sequence[str | None],
    headers: Sequence[str],
    resolver: RegionResolver,
    *,
    today: datetime.date,
    id_number: str = "",
) -> ChildRow:
    """One data row → a ChildRow with canonical values; raises RowRejected. `id_number` is the
    row's ID number when the caller has already normalised and checked it (normalise_id)."""
    plan = _plan_for(keys)
    where = plan.where

    def header(key: str) -> str:
        i = where.get(key)
        if i is None:
            return ""
        return str(headers[i]) if i < len(headers) else cols.COLUMNS_BY_KEY[key].label

    def reject(key: str, reason: str) -> RowRejected:
        return RowRejected(row_number, header(key), reason, key=key)

    name = _cell_text(cells, plan.name_at)
    if not name:
        raise reject("name", "姓名为空")
    if name[0] in _FORMULA_STARTS:
        raise reject("name", f"姓名不能以“{name[0]}”开头")
    if len(name) > _MAX_LENGTH["name"]:
        raise reject("name", f"姓名过长（{len(name)}字），最多{_MAX_LENGTH['name']}字")
    info = idnumber.describe(id_number) if id_number else None
    if info is None or info.birth_date > today:  # checked against another day: check again
        if not _cell_text(cells, plan.id_at):
            raise reject("id_number", "身份证号为空")
        try:
            info = _parse_id(cells[plan.id_at], today)
        except ValueError as exc:
            raise reject("id_number", str(exc)) from None

    values: dict[str, object] = {"name": name}
    origin: dict[str, str] = {}  # boolean key → the column that set it
    lists: dict[str, list[str]] = {}
    n_cells = len(cells)
    for i, key, kind in plan.others:
        if i >= n_cells:
            continue
        raw = cells[i]
        if raw is None or raw == "":
            continue
        if type(raw) is str:
            # Ledgers repeat the same words down a column (categories, schools, grades…).
            memo = _TEXT_MEMO.get(raw)
            if memo is None:
                if len(_TEXT_MEMO) >= _TEXT_MEMO_LIMIT:
                    _TEXT_MEMO.clear()
                memo = _TEXT_MEMO[raw] = normalise_text(raw)
            text = memo
        else:
            text = normalise_text(raw)
        if not text or text in _PLACEHOLDERS:
            continue
        if kind == "text":
            if text[0] in _FORMULA_STARTS:
                # Never stored: a cell like =HYPERLINK(...) would run as a formula in someone's
                # Excel later; a person checks it instead.
                raise reject(
                    key,
                    f"“{text[:30]}”以“{text[0]}”开头，像是表格公式，未导入；如确为文字，请去掉开头的“{text[0]}”",
                )
            limit = _MAX_LENGTH.get(key)
            if limit is not None and len(text) > limit:
                raise reject(key, f"内容过长（{len(text)}字），最多{limit}字：“{text[:limit]}…”")
            values[key] = text
        elif kind == "bool":
            flag = _BOOL.table.get(text.upper())
            if flag is None:
                raise reject(key, f"应填“是”或“否”，不能填“{text}”")
            values[key] = flag == "1"
            origin[key] = key
        elif kind == "choice":
            words = _WORDS[key]
            choice = words.lookup(text)
            if choice is None:
                raise reject(key, f"“{text}”无法识别，可填：{words.accepted}")
            values[key] = choice
        elif kind == "list":
            words = _WORDS[key]
            codes: list[str] = []
            for item in _split_items(text):
                code = words.lookup(item)
                if code is None:
                    raise reject(key, f"“{item}”无法识别，可填：{words.accepted}")
                codes.append(code)
            if codes:
                lists[key] = codes
        elif kind == "phone":
            phone = _phone(raw, text)
            if phone is None:
                if len(_PHONES.findall(text)) > 1:
                    raise reject(
                        key,
                        f"监护人电话“{text}”填写了多个号码，只能填一个，请保留最常用的号码（其他号码可写在备注中）",
                    )
                raise reject(key, f"监护人电话“{text}”格式不正确")
            values[key] = phone
        elif kind == "sex":
            sex = _SEX.lookup(text)
            if sex is None:
                raise reject(key, f"性别“{text}”无法识别，应填“男”或“女”")
            if sex != info.sex:
                raise reject(key, f"性别“{_SEX_LABEL[sex]}”与身份证号（{_SEX_LABEL[info.sex]}）不一致")
        elif kind == "date":
            agrees = _birth_matches(raw, text, info.birth_date)
            if agrees is None:
                try:
                    parse_date(raw)
                except ValueError as exc:
                    raise reject(key, str(exc)) from None
            if not agrees:
                raise reject(
                    key,
                    f"出生日期与身份证号不一致（填写为“{text}”，身份证号中为{info.birth_date.isoformat()}）",
                )
        elif kind == "int":
            try:
                values[key] = int(float(text))
            except ValueError:
                raise reject(key, f"“{text}”应为整数") from None

    if lists:
        _apply_lists(lists, values, origin, header, reject)
    dropped_out = values.pop("is_dropped_out", False)
    if dropped_out and values.setdefault("school_stage", DROPPED_OUT) != DROPPED_OUT:
        raise reject(
            "is_dropped_out", f"“{header('is_dropped_out')}”为“是”，但“{header('school_stage')}”不是辍学"
        )

    if plan.regions:
        given = {key: _cell_text(cells, i) for i, key in plan.regions}
        if given.get("region_code") or given.get("village"):
            try:
                values["village_id"] = resolver.resolve(
                    code=cells[where["region_code"]] if given.get("region_code") else "",
                    district=given.get("district", ""),
                    town=given.get("town", ""),
                    village=given.get("village", ""),
                )
            except RegionError as exc:
                blamed = exc.field if exc.field in where else plan.regions[0][1]
                raise reject(blamed, str(exc)) from None
    return ChildRow(row_number=row_number, id_number=info.number, values=values)


def _apply_lists(
    lists: dict[str, list[str]],
    values: dict[str, object],
    origin: dict[str, str],
    header: Any,
    reject: Any,
) -> None:
    for list_key, group in _GROUPS.items():
        listed = lists.get(list_key)
        if listed is None:
            continue
        for flag_key in group:
            flag = flag_key in listed
            if flag_key in values:
                # A yes/no column and a list say the same thing twice: a "是" adds to the list,
                # only a "否" for an item the list names contradicts it.
                if flag and values[flag_key] is False:
                    other = header(origin[flag_key]) or cols.COLUMNS_BY_KEY[origin[flag_key]].label
                    item = cols.COLUMNS_BY_KEY[flag_key].label.removeprefix("是否")
                    raise reject(
                        list_key, f"“{header(list_key)}”填写了{item}，但“{other}”填写为“否”，请核对后改为一致"
                    )
                continue
            values[flag_key] = flag
            origin[flag_key] = list_key
    reasons = lists.get("other_difficulty_reasons")
    if reasons is not None:
        values["other_difficulty_reasons"] = sorted(set(reasons))
        # Reasons make an other-difficulty child; only a "否" in that yes/no column contradicts
        # them (a category list that does not name it adds nothing either way).
        if (
            values.get("is_other_difficulty") is False
            and origin.get("is_other_difficulty") == "is_other_difficulty"
        ):
            other = header(origin["is_other_difficulty"])
            raise reject(
                "other_difficulty_reasons",
                f"“{header('other_difficulty_reasons')}”与“{other}”不一致：填写了困境原因的应为其他困境儿童",
            )
        values["is_other_difficulty"] = True
    for parent_key in ("father_situation", "mother_situation"):
        situation = lists.get(parent_key)
        if situation is not None:
            values[parent_key] = sorted({code for code in situation if code})


__all__ = [
    "ID_STORED_AS_NUMBER",
    "ChildRow",
    "RegionError",
    "RegionResolver",
    "RowRejected",
    "VillageRef",
    "normalise_id",
    "normalise_text",
    "parse_date",
    "parse_row",
]
