"""A demo civil-affairs ledger (民政台账) for 酉阳, as a district worker receives it.

`demo_ledger_xlsx` builds the workbook a county civil-affairs bureau sends the women's
federation: a title row, a "填报单位 / 填报日期" row, a two-row header with "监护人" merged over
"姓名 / 关系 / 联系电话", about 120 children living in the district's villages (real town and
village names from the database, some towns written without their 镇/乡 suffix), birth dates in
the mixed forms people type, a 合计 row and the signatures below it. Deterministic for a seed (and
the same database). A handful of rows carry the mistakes such ledgers really have and that the
import must reject with a reason:

* two ID numbers with a wrong check character (a digit typed wrongly);
* one ID number stored as a number, its last digits lost (5.00242201503041e17);
* one village that does not exist in the town;
* one child entered twice (the same ID number on two rows);
* one 17-year-old marked 农村留守儿童 (the category ends at 16).

One row is a child already in the demo registry under the same name, birth date and village but
with another (valid) ID number: the import creates it and lists the two as duplicate suspects.
Children in difficulty (其他困境儿童 with 家庭贫困 and 生活困难, orphans, 事实无人抚养) need
one-to-one care, so the import opens "unpaired" alerts for them; one 事实无人抚养 child (father
服刑在押, mother 失联) turns 18 within 90 days and gets a hand-over alert.

`import_demo_ledger` writes the file under DATA_DIR/demo (so people can upload it themselves on
the 数据导入 page) and imports it as the demo district user `youyang`.
"""

from __future__ import annotations

import datetime
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from faker import Faker
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from aixin.ingest.columns import Source
from aixin.ingest.models import ImportBatch
from aixin.ingest.normalise import RegionError, RegionResolver
from aixin.lib.idnumber import check_character
from aixin.regions.models import Region, RegionLevel
from aixin.registry import derive
from aixin.registry.models import Child, ChildStatus

YOUYANG_CODE = "500242"
DEMO_IMPORTER = "youyang"
LEDGER_DIR_NAME = "demo"
LEDGER_FILE_NAME = "酉阳县民政台账示例.xlsx"

VALID_CHILDREN = 120  # rows that the import creates (the duplicate suspect included)

# The columns of the ledger, left to right: (upper header, lower header). An upper header with
# an empty lower one spans both header rows; "监护人" is merged over its three sub-columns.
HEADER: tuple[tuple[str, str], ...] = (
    ("序号", ""),
    ("姓名", ""),
    ("性别", ""),
    ("民族", ""),
    ("公民身份号码", ""),
    ("出生日期", ""),
    ("户口性质", ""),
    ("所属乡镇(街道)", ""),
    ("村(社区)", ""),
    ("儿童类别", ""),
    ("父亲情况", ""),
    ("母亲情况", ""),
    ("困境原因", ""),
    ("困难类型", ""),
    ("就读学校", ""),
    ("年级", ""),
    ("监护人", "姓名"),
    ("监护人", "关系"),
    ("监护人", "联系电话"),
    ("备注", ""),
)
WIDTHS = (6, 9, 5, 7, 21, 12, 9, 12, 11, 16, 10, 10, 9, 12, 20, 7, 9, 7, 14, 16)
ID_COLUMN = 5  # 1-based column of 公民身份号码

PHONE_PREFIXES = ("133", "135", "137", "138", "139", "150", "151", "152", "158", "177", "180", "187", "189")
MINORITY_SHARE = (("土家族", 55), ("苗族", 20), ("汉族", 25))
# Place names that the demo region generator never makes (its syllables: aixin.regions.demo).
UNKNOWN_VILLAGES = ("红星村", "幸福村", "团结村", "胜利村", "友谊村")


@dataclass(frozen=True)
class _Place:
    village_pk: int
    town: str  # as written in the ledger
    village: str
    town_name: str  # the real town name (schools are named after it)


@dataclass
class _Row:
    """One ledger row before it is written; `id_cell` is what the cell holds (str or float)."""

    name: str
    female: bool
    birth: datetime.date
    id_number: str
    place: _Place
    category: str
    father: str = ""
    mother: str = ""
    reason: str = ""
    difficulty: str = ""
    household: str = "农业户口"
    ethnicity: str = "土家族"
    guardian: tuple[str, str, str] = ("", "", "")
    notes: str = ""
    id_cell: Any = None
    birth_style: int = 0
    planted: str = ""  # the planted mistake, "" for a good row
    extra: dict[str, Any] = field(default_factory=dict)


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age(birth: datetime.date, today: datetime.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


class _Ledger:
    def __init__(self, *, district: Region, seed: int, today: datetime.date) -> None:
        self.district = district
        self.today = today
        self.rng = random.Random(f"demo-ledger-{seed}-{district.code}")  # str seeds are hashed stably
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.id_code = district.code if district.code.isdigit() else YOUYANG_CODE
        self.used_ids: set[str] = set()
        self.resolver = RegionResolver.from_db(day=today)
        self.places = self._places()
        if not self.places:
            raise LookupError(f"{district.name}没有可用的村（社区）：请先生成演示乡镇和村")

    # -- places ----------------------------------------------------------------------------

    def _resolves(self, town: str, village: str, pk: int) -> bool:
        try:
            return self.resolver.resolve(town=town, village=village) == pk
        except RegionError:
            return False

    def _places(self) -> list[_Place]:
        """The district's villages with the names the ledger gives them: the real names, about
        a third of the towns without their 镇/乡 suffix and some villages as "…村委会", kept
        only where the import resolves them to that very village."""
        rng = self.rng
        villages = (
            Region.objects.current()
            .filter(level=RegionLevel.VILLAGE, district=self.district)
            .select_related("town")
            .order_by("code")
        )
        short_towns: dict[int, bool] = {}
        places: list[_Place] = []
        for v in villages:
            town = v.town
            if town is None:
                continue
            town_written = town.name
            shortens = town.name[-1:] in ("镇", "乡")
            if town.pk not in short_towns:
                # The first town (not street) always, about a third of the others.
                short_towns[town.pk] = shortens and (not any(short_towns.values()) or rng.random() < 0.35)
            if short_towns[town.pk]:
                town_written = town.name[:-1]
            village_written = v.name
            if v.name.endswith("村") and rng.random() < 0.15:
                village_written = v.name + "委会"
            for t, name in ((town_written, village_written), (town.name, v.name)):
                if self._resolves(t, name, v.pk):
                    places.append(_Place(v.pk, t, name, town.name))
                    break
        return places

    def unknown_place(self, near: _Place) -> _Place:
        """A village name that the town `near` lies in does not have."""
        for name in UNKNOWN_VILLAGES:
            try:
                self.resolver.resolve(town=near.town, village=name)
            except RegionError:
                return _Place(0, near.town, name, near.town_name)
        return _Place(0, near.town, "不存在村", near.town_name)

    # -- people ----------------------------------------------------------------------------

    def new_id(self, birth: datetime.date, female: bool) -> str:
        while True:
            order = self.rng.randint(0, 499) * 2 + (0 if female else 1)
            first17 = f"{self.id_code}{birth:%Y%m%d}{order:03d}"
            if first17 not in self.used_ids:
                self.used_ids.add(first17)
                return first17 + check_character(first17)

    def birth(self, lo_age: int, hi_age: int) -> datetime.date:
        """A birth date for an age from lo_age to hi_age (inclusive) today, a few days away from
        the birthdays that would change the age (the import's day may be the next one: it is
        the day in China)."""
        latest = _years_before(self.today, lo_age) - datetime.timedelta(days=3)
        earliest = _years_before(self.today, hi_age + 1) + datetime.timedelta(days=4)
        return earliest + datetime.timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def phone(self) -> str:
        number = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randint(0, 99_999_999):08d}"
        if self.rng.random() < 0.1:  # typed with spaces
            return f"{number[:3]} {number[3:7]} {number[7:]}"
        return number

    def ethnicity(self) -> str:
        names = [name for name, _ in MINORITY_SHARE]
        weights = [weight for _, weight in MINORITY_SHARE]
        return self.rng.choices(names, weights)[0]

    def child(self, kind: str, *, age: tuple[int, int] = (3, 15), place: _Place | None = None) -> _Row:
        rng, fake = self.rng, self.fake
        female = rng.random() < 0.48
        birth = self.birth(*age)
        surname = fake.last_name()
        name = surname + (fake.first_name_female() if female else fake.first_name_male())
        row = _Row(
            name=name,
            female=female,
            birth=birth,
            id_number=self.new_id(birth, female),
            place=place or rng.choice(self.places),
            category="",
            ethnicity=self.ethnicity(),
            birth_style=rng.randrange(6),
        )
        grandparent = rng.choice((("祖母", False), ("祖父", True), ("外祖母", False), ("外祖父", True)))
        if kind == "left_behind":
            row.category = "农村留守儿童"
            row.father = row.mother = "外出务工"
            if rng.random() < 0.15:
                row.father = rng.choice(("外出务工(浙江)", "外出务工(广东)"))
            if rng.random() < 0.15:
                row.difficulty = "学习困难"
            row.guardian = self.guardian(surname, *grandparent)
            if rng.random() < 0.2:
                row.notes = rng.choice(("父母在外省务工", "春节返乡", "隔代抚养"))
        elif kind == "left_behind_unable":
            row.category = "农村留守儿童"
            away, home = ("father", "mother") if rng.random() < 0.6 else ("mother", "father")
            setattr(row, away, "外出务工")
            setattr(row, home, rng.choice(("重残", "重病")))
            row.guardian = self.guardian(surname, *grandparent)
        elif kind == "poor":
            row.category = "其他困境儿童"
            row.reason = "家庭贫困"
            row.difficulty = "生活困难" if rng.random() < 0.85 else "生活困难、学习困难"
            row.household = rng.choice(("农业户口", "农业户口", "农业户口", "非农业户口"))
            parent = rng.choice((("母亲", False), ("父亲", True)))
            row.guardian = self.guardian(surname, *parent)
            row.notes = rng.choice(("低保户", "", "脱贫监测户", ""))
        elif kind == "disabled":
            row.category = "其他困境儿童"
            row.reason = "自身残疾"
            row.difficulty = "身体健康困难"
            row.guardian = self.guardian(surname, "母亲", False)
            row.notes = "持残疾证"
        elif kind == "orphan":
            row.category = "散居孤儿"
            row.father = row.mother = "死亡"
            row.difficulty = "生活困难"
            row.guardian = self.guardian(
                surname, *rng.choice((("祖母", False), ("叔叔", True), ("姑姑", False)))
            )
        elif kind == "de_facto":
            row.category = "事实无人抚养儿童"
            row.father, row.mother = rng.choice(
                (("服刑在押", "失联"), ("死亡", "失联"), ("重残", "服刑在押"))
            )
            row.guardian = self.guardian(surname, *grandparent)
        else:  # pragma: no cover - a programming error
            raise ValueError(kind)
        return row

    def guardian(self, surname: str, relation: str, male: bool) -> tuple[str, str, str]:
        fake = self.fake
        paternal = relation in ("祖母", "祖父", "父亲", "叔叔", "姑姑")
        last = surname if paternal and relation != "祖母" else fake.last_name()
        name = last + (fake.first_name_male() if male else fake.first_name_female())
        return name, relation, self.phone()

    # -- the rows --------------------------------------------------------------------------

    def rows(self) -> list[_Row]:
        rng = self.rng
        plan = (
            ["left_behind"] * 66
            + ["left_behind_unable"] * 8
            + ["poor"] * 24
            + ["disabled"] * 6
            + ["orphan"] * 4
            + ["de_facto"] * 10
        )
        good: list[_Row] = []
        for kind in plan:
            age = (3, 15) if kind.startswith("left_behind") else (2, 17)
            good.append(self.child(kind, age=age))

        # A 事实无人抚养 child (father in prison, mother lost) who turns 18 within 90 days.
        near_18 = self.child("de_facto", age=(17, 17))
        near_18.birth = _years_before(self.today, 18) + datetime.timedelta(days=rng.randint(20, 80))
        near_18.id_number = self.new_id(near_18.birth, near_18.female)
        near_18.father, near_18.mother = "服刑在押", "失联"
        near_18.notes = "即将年满18周岁"
        good.append(near_18)

        suspect = self.suspect_row()
        if suspect is not None:
            good.append(suspect)
        while len(good) < VALID_CHILDREN:
            good.append(self.child("left_behind"))
        good = good[:VALID_CHILDREN]

        bad: list[_Row] = []
        for n in range(2):  # a digit typed wrongly: the check character no longer fits
            row = self.child("left_behind")
            wrong = next(c for c in "0123456789" if c != row.id_number[17] and c > str(n))
            row.id_number = row.id_number[:17] + wrong
            row.planted = "check_digit"
            bad.append(row)
        row = self.child("left_behind")
        while row.id_number.endswith("X"):
            row.id_number = self.new_id(row.birth, row.female)
        row.id_cell = float(int(row.id_number))  # Excel shows 5.00242E+17
        row.planted = "scientific"
        bad.append(row)
        near = self.rng.choice(self.places)
        row = self.child("poor", place=self.unknown_place(near))
        row.planted = "unknown_village"
        row.extra["near"] = near.village_pk
        bad.append(row)
        row = self.child("left_behind", age=(17, 17))
        row.planted = "left_behind_17"
        row.notes = "初中毕业后在家"
        bad.append(row)

        self.avoid_registry_ids(good + bad)

        # Ledgers are sorted by town and village; the bad rows sit among the good ones.
        order = {p.village_pk: i for i, p in enumerate(self.places)}

        def position(r: _Row) -> tuple[int, float]:
            pk = r.place.village_pk or r.extra.get("near", 0)
            return order.get(pk, len(order)), rng.random()

        rows = sorted(good + bad, key=position)
        # One child entered twice, later in the ledger: the same ID number on another row.
        firsts = [r for r in rows[: len(rows) // 2] if not r.planted]
        original = firsts[rng.randrange(len(firsts))]
        twice = _Row(**{**vars(original), "extra": {}})
        twice.planted = "duplicate"
        twice.notes = "重复录入"
        rows.insert(rng.randint(len(rows) // 2 + 5, len(rows) - 1), twice)
        return rows

    def suspect_row(self) -> _Row | None:
        """The same name, birth date and village as a child already in the registry, with
        another valid ID number: a duplicate suspect for a person to decide."""
        by_village = {p.village_pk: p for p in self.places}
        cutoff = _years_before(self.today, 16)
        candidates = list(
            Child.objects.filter(
                district=self.district,
                status=ChildStatus.ACTIVE,
                region_id__in=list(by_village),
                birth_date__gt=cutoff,
            )
            .exclude(source=Source.CIVIL_AFFAIRS)  # not the children of this very ledger
            .order_by("region__code", "name_pinyin", "birth_date", "pk")
            .values_list("name", "birth_date", "sex", "region_id")[:200]
        )
        if not candidates:
            return None
        name, birth, sex, village_id = self.rng.choice(candidates)
        row = self.child("poor", place=by_village[village_id])
        row.name, row.birth, row.female = name, birth, sex == "F"
        row.id_number = self.new_id(birth, row.female)
        row.notes = f"{self.today.year}年新纳入"
        return row

    def avoid_registry_ids(self, rows: list[_Row]) -> None:
        """A new child's ID number must not be one the registry already has from elsewhere (the
        demo children are drawn with the same district code): draw again where it is. Children
        that civil affairs sent (this ledger, imported before) do not count, so the same seed
        gives the same ledger before and after its import."""
        check = rows
        while check:
            by_index = {derive.id_number_index(r.id_number): r for r in check}
            taken = (
                Child.objects.filter(id_number_index__in=list(by_index))
                .exclude(source=Source.CIVIL_AFFAIRS)
                .values_list("id_number_index", flat=True)
            )
            check = [by_index[index] for index in sorted(taken)]
            for row in check:
                row.id_number = self.new_id(row.birth, row.female)


# ------------------------------------------------------------------------------------------
# The workbook


def _birth_cell(row: _Row) -> tuple[Any, str | None]:
    b = row.birth
    style = row.birth_style
    if style == 0:
        return b, "yyyy/m/d"  # a real Excel date
    if style == 1:
        return f"{b.year}/{b.month}/{b.day}", None
    if style == 2:
        return f"{b.year}年{b.month}月{b.day}日", None
    if style == 3:
        return f"{b:%Y%m%d}", None
    if style == 4:
        return b, "yyyy-mm-dd"
    return f"{b.year}.{b.month}.{b.day}", None


def _id_cell(row: _Row, rng: random.Random) -> Any:
    if row.id_cell is not None:
        return row.id_cell
    number = row.id_number
    if number.endswith("X") and rng.random() < 0.5:
        return number[:17] + "x"  # typed with a lower-case x
    return number


def _grade(age: int) -> tuple[str, str]:
    """(school kind, grade) for an age."""
    if age < 3:
        return "", ""
    if age < 6:
        return "幼儿园", ("小班", "中班", "大班")[age - 3]
    if age < 12:
        return "小学", f"{age - 5}年级"
    if age < 15:
        return "初中", ("初一", "初二", "初三")[age - 12]
    return "高中", ("高一", "高二", "高三")[min(age - 15, 2)]


def _school(row: _Row, today: datetime.date, district_short: str) -> tuple[str, str]:
    kind, grade = _grade(_age(row.birth, today))
    town = row.place.town_name
    stem = town[:-1] if town[-1:] in ("镇", "乡") else town.removesuffix("街道")
    if kind == "幼儿园":
        return f"{stem}中心幼儿园", grade
    if kind == "小学":
        return f"{stem}中心小学", grade
    if kind == "初中":
        return f"{stem}中学", grade
    if kind == "高中":
        return f"{district_short}第一中学", grade
    return "", ""


def _write(ledger: _Ledger, rows: list[_Row]) -> bytes:
    today = ledger.today
    district = ledger.district
    short = district.name[:2]
    county = f"{short}县"
    filled_on = min(today, datetime.date(today.year, today.month, 20))
    width = len(HEADER)
    last_col = get_column_letter(width)

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "花名册"
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)

    ws.append([f"{county}农村留守儿童和困境儿童花名册（{today.year}年{today.month}月）"])
    ws.merge_cells(f"A1:{last_col}1")
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.row_dimensions[1].height = 30
    ws.append([f"填报单位：{county}民政局  填报日期：{filled_on.year}年{filled_on.month}月{filled_on.day}日"])
    ws.merge_cells(f"A2:{last_col}2")

    upper = [u for u, _ in HEADER]
    lower = [low for _, low in HEADER]
    ws.append([u if i == 0 or upper[i - 1] != u else None for i, u in enumerate(upper)])
    ws.append([low or None for low in lower])
    for col, (u, low) in enumerate(HEADER, start=1):
        letter = get_column_letter(col)
        if not low:
            ws.merge_cells(f"{letter}3:{letter}4")
        elif col == 1 or HEADER[col - 2][0] != u:
            span = sum(1 for x, _ in HEADER if x == u)
            ws.merge_cells(f"{letter}3:{get_column_letter(col + span - 1)}3")
        for r in (3, 4):
            cell = ws.cell(row=r, column=col)
            cell.font = Font(bold=True)
            cell.alignment = centre
            cell.border = border
        ws.column_dimensions[letter].width = WIDTHS[col - 1]

    for n, row in enumerate(rows, start=1):
        birth, birth_format = _birth_cell(row)
        school, grade = _school(row, today, short)
        guardian_name, relation, phone = row.guardian
        values = [
            n,
            row.name,
            "女" if row.female else "男",
            row.ethnicity,
            _id_cell(row, ledger.rng),
            birth,
            row.household,
            row.place.town,
            row.place.village,
            row.category,
            row.father,
            row.mother,
            row.reason,
            row.difficulty,
            school,
            grade,
            guardian_name,
            relation,
            phone,
            row.notes,
        ]
        ws.append([v if v != "" else None for v in values])
        r = ws.max_row
        id_cell = ws.cell(row=r, column=ID_COLUMN)
        id_cell.number_format = "0" if isinstance(id_cell.value, float) else "@"
        if birth_format:
            ws.cell(row=r, column=6).number_format = birth_format
        for col in range(1, width + 1):
            ws.cell(row=r, column=col).border = border

    ws.append(["合计", f"{len(rows)}人"])
    total = ws.max_row
    for col in range(1, width + 1):
        ws.cell(row=total, column=col).border = border
        ws.cell(row=total, column=col).font = Font(bold=True)
    ws.append([])
    filler, checker, extension = ledger.fake.name(), ledger.fake.name(), ledger.rng.randint(1000, 9999)
    ws.append([f"填报人：{filler}    审核人：{checker}    联系电话：023-7555{extension}"])
    ws.freeze_panes = "C5"
    ws.print_title_rows = "3:4"
    stamp = datetime.datetime.combine(filled_on, datetime.time(9, 0))
    wb.properties.creator = f"{county}民政局"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def demo_ledger_xlsx(*, district_code: str = YOUYANG_CODE, seed: int = 2026, today: datetime.date) -> bytes:
    """The demo civil-affairs ledger of a district (see the module doc) as .xlsx bytes.

    Needs the district's demo towns and villages in the database (raises LookupError)."""
    district = Region.objects.current().filter(level=RegionLevel.DISTRICT, code=district_code).first()
    if district is None:
        raise LookupError(f"没有区划代码为{district_code}的区县：请先载入区划")
    ledger = _Ledger(district=district, seed=seed, today=today)
    return _write(ledger, ledger.rows())


def ledger_path() -> Path:
    return Path(settings.DATA_DIR) / LEDGER_DIR_NAME / LEDGER_FILE_NAME


def _log_noop(_msg: str) -> None:
    return None


def import_demo_ledger(
    *, today: datetime.date, log: Callable[[str], None] = _log_noop, seed: int = 2026
) -> ImportBatch | None:
    """Write the demo ledger to DATA_DIR/demo and import it as the demo district user.

    Returns the batch, or None when the demo user `youyang` or 酉阳's villages are missing."""
    from aixin.accounts.models import User
    from aixin.ingest.services import start_file_import

    user = User.objects.filter(username=DEMO_IMPORTER).select_related("region").first()
    if user is None or user.region is None:
        return None
    try:
        content = demo_ledger_xlsx(district_code=user.region.code, seed=seed, today=today)
    except LookupError:
        return None
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    batch = start_file_import(actor=user, source=Source.CIVIL_AFFAIRS, upload=path, run_now=True)
    log(f"已导入示例民政台账 {path}（批次 #{batch.pk}）：{_counts(batch)}")
    return batch


def _counts(batch: ImportBatch) -> str:
    if batch.error:
        return f"{batch.get_status_display()}，{batch.error}"
    return (
        f"新增 {batch.created_count}，更新 {batch.updated_count}，未变化 {batch.unchanged_count}，"
        f"拒绝 {batch.rejected_count}，疑似重复 {batch.suspect_count}"
    )


def summary_line(batch: ImportBatch) -> str:
    """The seed summary's line about the demo ledger."""
    return f"示例民政台账：{_counts(batch)}"


__all__ = [
    "LEDGER_FILE_NAME",
    "VALID_CHILDREN",
    "demo_ledger_xlsx",
    "import_demo_ledger",
    "ledger_path",
    "summary_line",
]
