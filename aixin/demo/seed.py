"""A deterministic, realistic Chongqing data set for the demo and the benchmark.

Everything is drawn from one `random.Random(seed)` and one `Faker("zh_CN")` seeded with the same
value, so the same seed gives the same names, ID numbers, pairings and records. Children and
mothers are built with aixin.registry.derive exactly as the services build them (encryption,
blind index, masking, rules), and written with bulk_create in batches; care records go through
PostgreSQL COPY when the database is PostgreSQL (the benchmark loads millions of them).
"""

from __future__ import annotations

import base64
import bisect
import datetime
import hashlib
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max, OuterRef, Subquery
from faker import Faker

from aixin.accounts.models import Role, User
from aixin.activities.models import Activity, ActivityParticipation
from aixin.care.models import CareRecord, CareRule, CareRuleProgress, Festival, SchoolTerm, seal_notes
from aixin.lib.crypto import pinned_keyring
from aixin.lib.idnumber import IdNumberInfo, check_character
from aixin.pairing.models import GuardianConsent, Pairing, PairingStatus
from aixin.regions.models import Region, RegionLevel
from aixin.registry import derive
from aixin.registry.models import Child, Guardian, ParentCondition
from aixin.registry.rules import Condition
from aixin.volunteers.models import Volunteer, VolunteerStatus

DEMO_PASSWORD = "Aixin-demo-2026"  # noqa: S105 - documented demo password, printed by demo-logins
BATCH = 1000
TZ = ZoneInfo("Asia/Shanghai")

# (username, role, how the region is chosen) — see _create_demo_users.
DEMO_USERNAMES = (
    "city",
    "youyang",
    "zhen",
    "cun",
    "mama",
    "gongan",
    "zhuanban",
    "xitong",
    "anquan",
    "shenji",
    "pinggu",
)
YOUYANG_CODE = "500242"

# Bits of the seeded 6+1 rules, used when the CareRule rows are not (yet) in the database.
DEFAULT_RULE_BITS = {
    "weekly_contact": 0,
    "monthly_guardian": 1,
    "term_activity": 2,
    "yearly_festival": 3,
    "yearly_reading": 4,
    "yearly_safety": 5,
    "family_education": 6,
}

RURAL_HEAVY = ("酉阳", "秀山", "彭水", "巫溪", "城口", "云阳", "奉节", "开州")
CENTRAL = ("渝中",)
URBAN = ("大渡口", "沙坪坝", "九龙坡", "南岸", "两江", "高新", "江北", "渝北")
MINORITY = ("酉阳", "秀山", "彭水", "石柱", "黔江")


@dataclass
class SeedOptions:
    children: int = 5000
    volunteers: int = 1500
    months: int = 6
    seed: int = 2026
    today: datetime.date | None = None
    towns_per_district: tuple[int, int] = (6, 12)
    villages_per_town: tuple[int, int] = (5, 12)
    # Share of eligible (one_to_one + many_to_one) children with an active pairing.
    pair_share: float = 0.5
    load_regions: bool = True
    use_copy: bool | None = None  # None: COPY on PostgreSQL, bulk_create elsewhere
    # Import the demo civil-affairs ledger of 酉阳 at the end (aixin.demo.ledger).
    ledger: bool = True


@dataclass
class SeedSummary:
    districts: int = 0
    towns: int = 0
    villages: int = 0
    children: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)
    guardians: int = 0
    volunteers: Counter[str] = field(default_factory=Counter)
    pairings: Counter[str] = field(default_factory=Counter)
    care_records: int = 0
    activities: int = 0
    participations: int = 0
    children_in_activities: int = 0
    users: list[str] = field(default_factory=list)
    ledger: str = ""  # what the demo ledger import did (aixin.demo.ledger.summary_line)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        n = max(self.children, 1)

        def pct(key: str, counts: Counter[str]) -> str:
            return f"{counts[key]}（{100 * counts[key] / n:.0f}%）"

        return [
            f"区划：{self.districts} 个区县，{self.towns} 个乡镇（街道），{self.villages} 个村（社区）",
            f"儿童：{self.children} 名；农村留守 {pct('left_behind', self.categories)}，"
            f"散居孤儿 {pct('orphan', self.categories)}，事实无人抚养 {pct('de_facto', self.categories)}，"
            f"其他困境 {pct('other', self.categories)}，涉案 {self.categories['justice']}",
            f"关爱类型：团体 {pct('group', self.tiers)}，一对一 {pct('one_to_one', self.tiers)}，"
            f"多对一 {pct('many_to_one', self.tiers)}",
            f"监护人：{self.guardians} 名",
            "爱心妈妈："
            + "，".join(f"{VolunteerStatus(k).label} {v}" for k, v in sorted(self.volunteers.items())),
            "结对：" + "，".join(f"{PairingStatus(k).label} {v}" for k, v in sorted(self.pairings.items())),
            f"关爱记录：{self.care_records} 条",
            f"团体活动：{self.activities} 场，参与 {self.participations} 人次，覆盖儿童 "
            f"{self.children_in_activities} 名（{100 * self.children_in_activities / n:.0f}%）",
            f"演示账号：{'、'.join(self.users)}（密码 {DEMO_PASSWORD}；"
            "工作人员的动态验证码密钥见 aixin demo-logins）",
            *([self.ledger] if self.ledger else []),
            f"用时 {self.seconds:.1f} 秒",
        ]


# ------------------------------------------------------------------------------------------
# Small records kept in memory between the steps.


@dataclass(slots=True)
class ChildInfo:
    pk: int
    name: str
    district_id: int
    town_id: int
    village_id: int
    tier: str
    guardian_pk: int | None
    guardian_name: str
    guardian_relation: str


@dataclass(slots=True)
class MotherInfo:
    pk: int
    district_id: int
    town_id: int
    village_id: int
    capacity: int
    user_id: int | None
    load: int = 0
    profile: str = "regular"
    blackouts: list[tuple[datetime.date, datetime.date]] = field(default_factory=list)


@dataclass(slots=True)
class PairInfo:
    pk: int
    child: ChildInfo
    mother: MotherInfo
    start: datetime.date
    end: datetime.date | None
    demo: bool = False


def _log_noop(_msg: str) -> None:
    return None


@contextmanager
def _historical_timestamps(*fields: Any) -> Iterator[None]:
    """Let bulk_create keep the historical created_at / proposed_at values we set."""
    saved = [(f, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f, value in saved:
            f.auto_now_add = value


def _at(day: datetime.date, rng: random.Random, hours: tuple[int, int] = (8, 21)) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(rng.randint(*hours), rng.randint(0, 59)), tzinfo=TZ)


def _months_back(day: datetime.date, months: int) -> datetime.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return datetime.date(y, m + 1, min(day.day, 28))


def _rand_day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, max((end - start).days, 0)))


# ------------------------------------------------------------------------------------------
# Regions


def _ensure_regions(opts: SeedOptions, log: Callable[[str], None]) -> None:
    if not opts.load_regions:
        return
    if not Region.objects.filter(level=RegionLevel.DISTRICT).exists():
        from aixin.regions.services import regions_load_builtin

        regions_load_builtin()
        log("已载入重庆市区县级区划")
    if not Region.objects.filter(level=RegionLevel.VILLAGE).exists():
        from aixin.regions.demo import generate_demo_regions

        made = generate_demo_regions(
            seed=opts.seed,
            towns_per_district=opts.towns_per_district,
            villages_per_town=opts.villages_per_town,
        )
        log(f"已生成演示乡镇和村（社区）{made} 个")


def _district_weight(d: Region) -> float:
    if any(k in d.name for k in CENTRAL):
        return 0.25
    if any(k in d.name for k in RURAL_HEAVY):
        return 2.6
    if any(k in d.name for k in URBAN):
        return 0.6
    if d.code.startswith("5002"):
        return 1.8
    return 1.2


def _id_address_code(d: Region, hosts: dict[int, Region]) -> str:
    if d.statutory and len(d.code) == 6 and d.code.isdigit():
        return d.code
    host = hosts.get(d.host_id) if d.host_id else None
    return host.code if host is not None else "500110"


class _Places:
    """Current districts and their villages, with weights for where children live."""

    def __init__(self, rng: random.Random) -> None:
        districts = list(Region.objects.current().filter(level=RegionLevel.DISTRICT).order_by("code"))
        villages = list(
            Region.objects.current()
            .filter(level=RegionLevel.VILLAGE, district__in=districts)
            .select_related("town")
            .order_by("code")
        )
        by_district: dict[int, list[Region]] = defaultdict(list)
        for v in villages:
            assert v.district_id is not None  # filtered on district__in above
            by_district[v.district_id].append(v)
        self.districts = [d for d in districts if by_district.get(d.pk)]
        if not self.districts:
            raise RuntimeError("没有可用的村（社区）：请先载入区划并生成演示乡镇和村")
        self.by_id = {d.pk: d for d in self.districts}
        hosts = {r.pk: r for r in Region.objects.filter(pk__in=[d.host_id for d in districts if d.host_id])}
        self.id_code = {d.pk: _id_address_code(d, hosts) for d in self.districts}
        self.villages = by_district
        self.towns = {v.town.pk: v.town for v in villages if v.town is not None}
        self.town_count = len(self.towns)
        self.village_count = len(villages)
        self.district_cum = self._cum([_district_weight(d) for d in self.districts])
        self.village_cum: dict[int, list[float]] = {}
        for d in self.districts:
            town_factor: dict[int | None, float] = {}
            weights = []
            for v in by_district[d.pk]:
                tf = town_factor.setdefault(v.town_id, rng.uniform(0.4, 2.0))
                weights.append(tf * rng.uniform(0.5, 1.5))
            self.village_cum[d.pk] = self._cum(weights)

    @staticmethod
    def _cum(weights: list[float]) -> list[float]:
        out, total = [], 0.0
        for w in weights:
            total += w
            out.append(total)
        return out

    def pick_district(self, rng: random.Random) -> Region:
        cum = self.district_cum
        return self.districts[bisect.bisect(cum, rng.random() * cum[-1])]

    def pick_village(self, rng: random.Random, district: Region) -> Region:
        cum = self.village_cum[district.pk]
        idx = min(bisect.bisect(cum, rng.random() * cum[-1]), len(cum) - 1)
        return self.villages[district.pk][idx]


# ------------------------------------------------------------------------------------------
# Children


OTHER_REASONS = ("重病儿童", "残疾儿童", "低保家庭儿童", "父母一方重病或重残", "家庭遭遇重大变故")
NEAR_RELATIVES = (
    ("祖母", "entrusted"),
    ("祖父", "entrusted"),
    ("外祖母", "entrusted"),
    ("外祖父", "entrusted"),
)
PHONE_PREFIXES = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "182",
    "183",
    "187",
    "188",
    "189",
    "199",
)


def _phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"


def _school(rng: random.Random, age: int, village: Region, district: Region) -> tuple[str, str, str, bool]:
    town = village.town.name if village.town else ""
    if age < 3:
        return "", "", "not_enrolled", False
    if age < 6:
        return f"{town}中心幼儿园", ["小班", "中班", "大班"][min(age - 3, 2)], "preschool", False
    if age < 12:
        school = f"{town}中心小学" if rng.random() < 0.7 else f"{village.name}小学"
        return school, f"{age - 5}年级", "primary", True
    if age < 15:
        return f"{town}中学", ["初一", "初二", "初三"][age - 12], "junior", True
    if rng.random() < 0.7:
        return f"{district.name}第一中学", ["高一", "高二", "高三"][min(age - 15, 2)], "senior", True
    return (
        f"{district.name}职业教育中心",
        ["一年级", "二年级", "三年级"][min(age - 15, 2)],
        "vocational",
        True,
    )


def _conditions(rng: random.Random, kind: str, today: datetime.date) -> list[Condition]:
    def ago(days_lo: int, days_hi: int) -> datetime.date:
        return today - datetime.timedelta(days=rng.randint(days_lo, days_hi))

    if kind == "left_behind":
        return [
            Condition("father", "working_away", ago(400, 3000)),
            Condition("mother", "working_away", ago(200, 2500)),
        ]
    if kind == "left_behind_unable":
        away, home = rng.choice((("father", "mother"), ("mother", "father")))
        home_kind = rng.choice(("severe_disability", "serious_illness"))
        grade = rng.choice((1, 2)) if home_kind == "severe_disability" else None
        return [
            Condition(away, "working_away", ago(400, 3000)),
            Condition(
                home,
                home_kind,
                ago(300, 3000),
                disability_grade=grade,
                disability_category=rng.randint(1, 7) if grade else None,
            ),
        ]
    if kind == "orphan":
        return [Condition("father", "dead", ago(300, 4000)), Condition("mother", "dead", ago(300, 4000))]
    if kind == "de_facto":
        variant = rng.random()
        if variant < 0.5:  # father imprisoned 5 years, mother lost contact for 2 years
            return [
                Condition("father", "imprisoned", ago(200, 900), term_months=60),
                Condition("mother", "lost_contact", ago(700, 760)),
            ]
        if variant < 0.8:
            return [
                Condition("father", "dead", ago(400, 3000)),
                Condition("mother", "lost_contact", ago(365, 1500)),
            ]
        return [
            Condition(
                "father", "severe_disability", ago(1000, 3000), disability_grade=1, disability_category=4
            ),
            Condition("mother", "serious_illness", ago(300, 1500)),
        ]
    if kind == "other":
        return [Condition("father", "working_away", ago(300, 2000))] if rng.random() < 0.5 else []
    return []


def _child_kind(rng: random.Random, urban: bool) -> str:
    u = rng.random()
    left = 0.32 if urban else 0.65
    if u < left:
        return "left_behind"
    u -= left
    if u < 0.10:
        return "left_behind_unable"
    u -= 0.10
    if u < 0.05:
        return "orphan"
    u -= 0.05
    if u < 0.08:
        return "de_facto"
    return "other"


class _Builder:
    def __init__(self, opts: SeedOptions, log: Callable[[str], None]) -> None:
        self.opts = opts
        self.log = log
        self.today = opts.today or datetime.date.today()
        self.rng = random.Random(opts.seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(opts.seed)
        self.summary = SeedSummary()
        self.use_copy = opts.use_copy if opts.use_copy is not None else connection.vendor == "postgresql"
        self.rule_bits = dict(DEFAULT_RULE_BITS)
        self.rules: dict[int, CareRule] = {}
        for rule in CareRule.objects.all():
            self.rule_bits[rule.code] = rule.bit
            self.rules[rule.bit] = rule

    # -- children --------------------------------------------------------------------------

    def build_children(self, places: _Places) -> list[ChildInfo]:
        rng, fake, today, s = self.rng, self.fake, self.today, self.summary
        used: set[str] = set()
        infos: list[ChildInfo] = []
        batch: list[tuple[Child, list[Condition], list[tuple[str, str, str, str]]]] = []
        birth_lo = datetime.date(2008, 1, 1)
        birth_hi = min(datetime.date(2024, 12, 31), today)
        for _ in range(self.opts.children):
            district = places.pick_district(rng)
            village = places.pick_village(rng, district)
            urban = any(k in district.name for k in CENTRAL + URBAN)
            kind = _child_kind(rng, urban)
            female = rng.random() < 0.48
            birth = _rand_day(rng, birth_lo, birth_hi)
            code = places.id_code[district.pk]
            while True:
                order = rng.randint(0, 499) * 2 + (0 if female else 1)
                first17 = f"{code}{birth:%Y%m%d}{order:03d}"
                if first17 not in used:
                    used.add(first17)
                    break
            # Valid by construction (tests check every number with idnumber.parse), so the
            # address-code look-up of parse() is skipped here.
            info = IdNumberInfo(
                number=first17 + check_character(first17),
                birth_date=birth,
                sex="F" if female else "M",
                region_code=code,
            )
            surname = fake.last_name()
            given = fake.first_name_female() if female else fake.first_name_male()
            child = Child(source="demo")
            derive.set_name(child, surname + given)
            derive.set_identity(child, info)
            derive.set_region(child, village)
            age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
            child.school, child.grade, child.school_stage, child.full_time_student = _school(
                rng, age, village, district
            )
            if any(k in district.name for k in MINORITY):
                child.ethnicity = rng.choices(("土家族", "苗族", "汉族"), (50, 25, 25))[0]
            else:
                child.ethnicity = "汉族" if rng.random() < 0.97 else "土家族"
            child.household_type = "urban" if urban and rng.random() < 0.3 else "rural"
            # The village is the child's region; the address is the part below it.
            child.address = f"{rng.randint(1, 12)}组{rng.randint(1, 80)}号"
            if village.latitude is not None and village.longitude is not None:
                child.latitude = round(village.latitude + rng.uniform(-0.01, 0.01), 6)
                child.longitude = round(village.longitude + rng.uniform(-0.01, 0.01), 6)
            if kind == "other":
                child.is_other_difficulty = True
                child.other_difficulty_reasons = rng.sample(OTHER_REASONS, rng.choice((1, 1, 2)))
            if kind == "left_behind_unable":
                child.parent_one_away_other_unable = True
            p_difficulty = {"left_behind": 0.2, "left_behind_unable": 0.3, "other": 0.6}.get(kind, 0.5)
            if rng.random() < p_difficulty:
                for attr in rng.sample(
                    ("difficulty_life", "difficulty_study", "difficulty_physical", "difficulty_mental"),
                    rng.choice((1, 1, 2)),
                ):
                    setattr(child, attr, True)
            justice = rng.random() < 0.01
            if justice:
                child.is_justice_involved = True
            if justice or rng.random() < 0.035:
                attr = rng.choice(("risk_psych_behaviour", "risk_harm_others", "risk_being_harmed"))
                setattr(child, "risk_harm_others" if justice else attr, True)
            conds = _conditions(rng, kind, today)
            derive.apply_rules(child, conds, today=today)
            guardians = self._guardians(kind, surname)
            batch.append((child, conds, guardians))
            if len(batch) >= BATCH:
                infos.extend(self._flush_children(batch))
                batch = []
        if batch:
            infos.extend(self._flush_children(batch))
        s.children = len(infos)
        return infos

    def _guardians(self, kind: str, surname: str) -> list[tuple[str, str, str, str]]:
        rng = self.rng
        out: list[tuple[str, str, str, str]] = []
        if kind in ("left_behind", "left_behind_unable", "de_facto"):
            relation, gtype = rng.choice(NEAR_RELATIVES)
            gtype = "relative" if kind == "de_facto" else gtype
            out.append((self._adult_name(relation, surname), relation, gtype, _phone(rng)))
            if kind == "left_behind" and rng.random() < 0.4:
                out.append((self._adult_name("母亲", surname), "母亲", "parent", _phone(rng)))
        elif kind == "orphan":
            relation = rng.choice(("祖母", "叔叔", "姑姑", "舅舅"))
            out.append((self._adult_name(relation, surname), relation, "relative", _phone(rng)))
        else:
            relation = rng.choice(("母亲", "父亲", "母亲"))
            out.append((self._adult_name(relation, surname), relation, "parent", _phone(rng)))
        return out

    def _adult_name(self, relation: str, surname: str) -> str:
        fake = self.fake
        male = relation in ("祖父", "父亲", "叔叔", "舅舅", "外祖父")
        paternal = relation in ("祖父", "父亲", "叔叔", "姑姑")
        last = surname if paternal else fake.last_name()
        return last + (fake.first_name_male() if male else fake.first_name_female())

    def _flush_children(
        self, batch: list[tuple[Child, list[Condition], list[tuple[str, str, str, str]]]]
    ) -> list[ChildInfo]:
        s = self.summary
        Child.objects.bulk_create([c for c, _, _ in batch])
        conditions: list[ParentCondition] = []
        guardians: list[Guardian] = []
        for child, conds, gs in batch:
            for c in conds:
                row = ParentCondition(
                    child_id=child.pk,
                    parent=c.parent,
                    kind=c.kind,
                    started_on=c.started_on,
                    term_months=c.term_months,
                    evidence="民政部门核实",
                )
                row.disability_grade = c.disability_grade  # encrypted by the model's property
                row.disability_category = c.disability_category
                conditions.append(row)
            for i, (name, relation, gtype, phone) in enumerate(gs):
                g = Guardian(
                    child_id=child.pk,
                    name=name,
                    relation=relation,
                    guardianship_type=gtype,
                    is_primary=i == 0,
                )
                derive.set_guardian_phone(g, phone)
                guardians.append(g)
            s.tiers[child.care_tier] += 1
            if child.is_left_behind:
                s.categories["left_behind"] += 1
            if child.is_scattered_orphan:
                s.categories["orphan"] += 1
            if child.is_de_facto_unsupported:
                s.categories["de_facto"] += 1
            if child.is_other_difficulty:
                s.categories["other"] += 1
            if child.is_justice_involved:
                s.categories["justice"] += 1
        ParentCondition.objects.bulk_create(conditions)
        Guardian.objects.bulk_create(guardians)
        s.guardians += len(guardians)
        primary = {g.child_id: g for g in guardians if g.is_primary}
        out = []
        for child, _, _ in batch:
            guardian = primary.get(child.pk)
            out.append(
                ChildInfo(
                    pk=child.pk,
                    name=child.name,
                    district_id=child.district_id,
                    town_id=child.town_id,
                    village_id=child.region_id,
                    tier=child.care_tier,
                    guardian_pk=guardian.pk if guardian else None,
                    guardian_name=guardian.name if guardian else "监护人",
                    guardian_relation=guardian.relation if guardian else "",
                )
            )
        return out

    # -- mothers ---------------------------------------------------------------------------

    def build_mothers(self, places: _Places, children: list[ChildInfo]) -> list[MotherInfo]:
        """Mothers live near eligible children: half in the village of one, half elsewhere in
        the same district, so that most pairings are within a town."""
        rng, fake, today = self.rng, self.fake, self.today
        eligible = [c for c in children if c.tier != "group"] or children
        statuses = ("active", "approved", "screening", "recruited", "suspended", "exited")
        status_w = (80, 5, 5, 2, 4, 4)
        groups = (
            "federation_executive",
            "federation_cadre",
            "government_cadre",
            "party_cadre",
            "red_banner",
            "merit_model",
            "model_family",
            "women_volunteer",
            "five_elders",
            "entrepreneur",
            "other",
        )
        group_w = (38, 24, 8, 8, 3, 3, 4, 6, 2, 2, 2)
        specialties = (
            "family_education",
            "psychology",
            "medicine",
            "law",
            "tutoring",
            "arts_sports",
            "life_care",
        )
        volunteers: list[Volunteer] = []
        mothers: list[MotherInfo] = []
        for _ in range(self.opts.volunteers):
            anchor = rng.choice(eligible)
            district = places.by_id[anchor.district_id]
            if rng.random() < 0.5:
                village = self._village_by_id(places, district.pk, anchor.village_id)
            else:
                village = places.pick_village(rng, district)
            status = rng.choices(statuses, status_w)[0]
            v = Volunteer(status=status, capacity=rng.choices((1, 2, 3), (30, 45, 25))[0])
            derive.set_name(v, fake.last_name() + fake.first_name_female())
            derive.set_region(v, village, field="home_region")
            derive.set_volunteer_phone(v, _phone(rng))
            birth = _rand_day(rng, datetime.date(1962, 1, 1), datetime.date(1996, 12, 31))
            first17 = f"{places.id_code[district.pk]}{birth:%Y%m%d}{rng.randint(0, 499) * 2:03d}"
            derive.set_volunteer_id_number(v, first17 + check_character(first17))
            v.source_group = rng.choices(groups, group_w)[0]
            town_name = village.town.name if village.town else district.name
            v.work_unit = {
                "federation_executive": f"{village.name}妇联",
                "federation_cadre": f"{town_name}妇联",
                "government_cadre": f"{town_name}人民政府",
                "party_cadre": f"{town_name}党政办",
                "entrepreneur": f"{district.name}{fake.company_prefix()}公司",
            }.get(v.source_group, rng.choice((f"{town_name}中心小学", f"{town_name}卫生院", "个体", "务农")))
            if village.latitude is not None and village.longitude is not None:
                v.latitude = round(village.latitude + rng.uniform(-0.01, 0.01), 6)
                v.longitude = round(village.longitude + rng.uniform(-0.01, 0.01), 6)
            v.specialties = rng.sample(specialties, rng.choice((1, 1, 2, 2, 3)))
            if status in ("active", "approved", "suspended", "exited"):
                v.background_check = "clear"
                v.background_checked_on = today - datetime.timedelta(days=rng.randint(60, 900))
            v.trained = status in ("active", "suspended", "exited") or (
                status == "approved" and rng.random() < 0.5
            )
            v.points = rng.randint(0, 400) if status == "active" else rng.randint(0, 60)
            if status == "exited":
                v.exit_reason = rng.choice(("工作调动", "身体原因", "家庭原因，无法继续服务", "迁居外地"))
            volunteers.append(v)
        for i in range(0, len(volunteers), BATCH):
            Volunteer.objects.bulk_create(volunteers[i : i + BATCH])
        for v in volunteers:
            self.summary.volunteers[v.status] += 1
            if v.status == "active":
                mothers.append(
                    MotherInfo(
                        pk=v.pk,
                        district_id=v.district_id,
                        town_id=v.town_id,
                        village_id=v.home_region_id,
                        capacity=v.capacity,
                        user_id=None,
                        profile=self._profile(),
                    )
                )
        self._plan_lapses(mothers)
        return mothers

    def _village_by_id(self, places: _Places, district_pk: int, village_pk: int) -> Region:
        if not hasattr(self, "_village_index"):
            self._village_index = {v.pk: v for vs in places.villages.values() for v in vs}
        return self._village_index.get(village_pk) or places.villages[district_pk][0]

    def _profile(self) -> str:
        u = self.rng.random()
        return "regular" if u < 0.70 else "sporadic" if u < 0.85 else "lapsed"

    def _plan_lapses(self, mothers: list[MotherInfo]) -> None:
        """~15% of mothers stop for weeks; 40% of those are still silent today, so the 14- and
        30-day inactivity flags and overdue items show."""
        rng, today = self.rng, self.today
        window_start = _months_back(today, self.opts.months)
        for m in mothers:
            if m.profile != "lapsed":
                continue
            if rng.random() < 0.4:
                m.blackouts.append((today - datetime.timedelta(days=rng.randint(15, 60)), today))
            else:
                start = _rand_day(rng, window_start, today - datetime.timedelta(days=70))
                m.blackouts.append((start, start + datetime.timedelta(days=rng.randint(21, 56))))

    # -- pairings --------------------------------------------------------------------------

    def build_pairings(
        self,
        children: list[ChildInfo],
        mothers: list[MotherInfo],
        staff: dict[int, int],
        reserved: list[tuple[ChildInfo, MotherInfo, datetime.date]],
    ) -> list[PairInfo]:
        rng, today = self.rng, self.today
        by_village: dict[int, list[MotherInfo]] = defaultdict(list)
        by_town: dict[int, list[MotherInfo]] = defaultdict(list)
        by_district: dict[int, list[MotherInfo]] = defaultdict(list)
        for m in mothers:
            if m.user_id is not None:
                continue  # the demo mother's pairings are planned separately
            by_village[m.village_id].append(m)
            by_town[m.town_id].append(m)
            by_district[m.district_id].append(m)

        def take(pool: list[MotherInfo]) -> MotherInfo | None:
            while pool:
                m = pool[rng.randrange(len(pool))] if len(pool) > 1 else pool[0]
                if m.load < m.capacity:
                    return m
                pool.remove(m)
            return None

        reserved_children = {c.pk for c, _, _ in reserved}
        eligible = [c for c in children if c.tier != "group" and c.pk not in reserved_children]
        rng.shuffle(eligible)
        share = self.opts.pair_share
        rows: list[tuple[Pairing, ChildInfo, MotherInfo, str]] = []
        window_start = _months_back(today, self.opts.months)
        for child, mother, start in reserved:
            mother.load += 1
            rows.append((self._pairing(child, mother, "active", start, None, staff), child, mother, "active"))
        for child in eligible:
            u = rng.random()
            if u < share:
                status = "active"
            elif u < share + 0.03:
                status = "proposed"
            elif u < share + 0.06:
                status = "awaiting_consent"
            elif u < share + 0.09:
                status = "ended"
            else:
                continue
            found = (
                take(by_village.get(child.village_id, []))
                or take(by_town.get(child.town_id, []))
                or take(by_district.get(child.district_id, []))
            )
            if found is None:
                continue
            mother = found
            if status == "ended":
                start = _rand_day(
                    rng, today - datetime.timedelta(days=540), today - datetime.timedelta(days=200)
                )
                end = _rand_day(rng, start + datetime.timedelta(days=60), today - datetime.timedelta(days=20))
            elif status == "active":
                mother.load += 1
                end = None
                # Most pairings predate the window; a third started within it.
                if rng.random() < 0.66:
                    start = _rand_day(rng, window_start - datetime.timedelta(days=400), window_start)
                else:
                    start = _rand_day(rng, window_start, today - datetime.timedelta(days=10))
            else:
                mother.load += 1
                start, end = today - datetime.timedelta(days=rng.randint(1, 20)), None
            rows.append((self._pairing(child, mother, status, start, end, staff), child, mother, status))

        with _historical_timestamps(
            Pairing._meta.get_field("proposed_at"), Pairing._meta.get_field("created_at")
        ):
            for i in range(0, len(rows), BATCH):
                Pairing.objects.bulk_create([r[0] for r in rows[i : i + BATCH]])
        consents = []
        pairs: list[PairInfo] = []
        for p, child, mother, status in rows:
            self.summary.pairings[status] += 1
            if status in ("active", "ended"):
                assert p.start_date is not None  # active and ended pairings have started
                consents.append(
                    GuardianConsent(
                        pairing_id=p.pk,
                        guardian_id=child.guardian_pk,
                        guardian_name=child.guardian_name,
                        relation=child.guardian_relation,
                        method=rng.choices(("written", "in_person", "phone", "wechat"), (60, 20, 10, 10))[0],
                        consented_on=p.start_date,
                        evidence=rng.choice(("纸质同意书已归档", "监护人签字确认书", "村委会见证")),
                        recorded_by_id=staff[child.district_id],
                    )
                )
                pairs.append(
                    PairInfo(
                        pk=p.pk,
                        child=child,
                        mother=mother,
                        start=p.start_date,
                        end=p.end_date,
                        demo=mother.user_id is not None,
                    )
                )
        for i in range(0, len(consents), BATCH):
            GuardianConsent.objects.bulk_create(consents[i : i + BATCH])
        loads = [Volunteer(pk=m.pk, load=m.load) for m in mothers if m.load]
        Volunteer.objects.bulk_update(loads, ["load"], batch_size=BATCH)
        return pairs

    def _pairing(
        self,
        child: ChildInfo,
        mother: MotherInfo,
        status: str,
        start: datetime.date,
        end: datetime.date | None,
        staff: dict[int, int],
    ) -> Pairing:
        rng = self.rng
        proposed_on = (
            start - datetime.timedelta(days=rng.randint(3, 15)) if status in ("active", "ended") else start
        )
        p = Pairing(
            child_id=child.pk,
            volunteer_id=mother.pk,
            tier=child.tier,
            status=status,
            district_id=child.district_id,
            town_id=child.town_id,
            village_id=child.village_id,
            proposed_by_id=staff[child.district_id],
            proposed_at=_at(proposed_on, rng),
            created_at=_at(proposed_on, rng),
        )
        if status == "awaiting_consent":
            p.responded_at = _at(self.today, rng, (8, 9))
        if status in ("active", "ended"):
            p.start_date = start
            p.responded_at = _at(proposed_on + datetime.timedelta(days=1), rng)
        if status == "ended":
            p.end_date = end
            p.end_reason = rng.choice(
                ("爱心妈妈工作调动", "儿童随父母迁居外地", "儿童家庭情况好转，转为团体关爱")
            )
            p.ended_by_id = staff[child.district_id]
        return p

    # -- care records ----------------------------------------------------------------------

    def _festivals(self, start: datetime.date, end: datetime.date) -> list[tuple[datetime.date, str]]:
        rows = [(f.date, f.name) for f in Festival.objects.filter(date__gte=start, date__lte=end)]
        if rows:
            return rows
        builtin = [
            ("2024-02-10", "春节"),
            ("2024-06-01", "六一儿童节"),
            ("2024-06-10", "端午节"),
            ("2024-09-17", "中秋节"),
            ("2025-01-29", "春节"),
            ("2025-02-12", "元宵节"),
            ("2025-05-31", "端午节"),
            ("2025-06-01", "六一儿童节"),
            ("2025-10-06", "中秋节"),
            ("2025-10-29", "重阳节"),
            ("2026-02-17", "春节"),
            ("2026-03-03", "元宵节"),
            ("2026-06-01", "六一儿童节"),
            ("2026-06-19", "端午节"),
            ("2026-09-25", "中秋节"),
            ("2027-02-06", "春节"),
        ]
        out = []
        for day, name in builtin:
            d = datetime.date.fromisoformat(day)
            if start <= d <= end:
                out.append((d, name))
        return out

    def _terms(self, start: datetime.date, end: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
        rows = [(t.start, t.end) for t in SchoolTerm.objects.filter(end__gte=start, start__lte=end)]
        if rows:
            return rows
        out = []
        for year in range(start.year - 1, end.year + 1):
            out.append((datetime.date(year, 2, 20), datetime.date(year, 7, 5)))
            out.append((datetime.date(year, 9, 1), datetime.date(year + 1, 1, 20)))
        return [(a, b) for a, b in out if b >= start and a <= end]

    NOTES = {
        "phone": (
            "电话询问近期学习和身体情况，孩子情绪稳定",
            "和孩子聊了学校的事，提醒按时完成作业",
            "孩子说最近数学进步了，鼓励继续努力",
            "询问奶奶身体情况，叮嘱注意天气变化添衣",
        ),
        "video": (
            "视频通话，孩子展示了新画的画",
            "视频聊天，孩子说想念在外打工的妈妈，安慰并鼓励",
            "视频检查了作业完成情况",
        ),
        "home_visit": (
            "上门看望，家里卫生整洁，和奶奶交流了孩子近况",
            "家访，带去文具和学习用品",
            "入户走访，了解家庭生活困难并反映给村妇联",
        ),
        "school": ("到学校和班主任沟通学习情况", "到校看望，孩子在校表现良好"),
        "activity": ("陪同参加村儿童之家活动", "一起读绘本，孩子很喜欢", "参加安全教育主题活动"),
    }

    def care_rows(
        self,
        pair: PairInfo,
        window: tuple[datetime.date, datetime.date],
        festivals: list[tuple[datetime.date, str]],
        terms: list[tuple[datetime.date, datetime.date]],
    ) -> list[tuple[datetime.date, str, int, str, str, list[str]]]:
        rng, bits = self.rng, self.rule_bits
        lo = max(window[0], pair.start)
        hi = min(window[1], pair.end or window[1], self.today)
        if hi < lo:
            return []
        profile = pair.mother.profile
        p_week = {"regular": 0.92, "sporadic": 0.6, "lapsed": 0.88}[profile]
        p_month = {"regular": 0.85, "sporadic": 0.5, "lapsed": 0.8}[profile]
        p_extra = {"regular": 0.7, "sporadic": 0.4, "lapsed": 0.6}[profile]
        out: list[tuple[datetime.date, str, int, str, str, list[str]]] = []

        def add(
            day: datetime.date, kind: str, mask: int, festival: str = "", services: list[str] | None = None
        ) -> None:
            notes = rng.choice(self.NOTES[kind])
            out.append((day, kind, mask, festival, notes, services or ["companionship"]))

        week = lo - datetime.timedelta(days=lo.weekday())
        contact_kinds, contact_w = ("phone", "video", "home_visit", "school"), (55, 25, 15, 5)
        while week <= hi:
            a, b = max(week, lo), min(week + datetime.timedelta(days=6), hi)
            if rng.random() < p_week:
                add(
                    _rand_day(rng, a, b),
                    rng.choices(contact_kinds, contact_w)[0],
                    1 << bits["weekly_contact"],
                )
                if rng.random() < 0.15:
                    add(_rand_day(rng, a, b), "phone", 1 << bits["weekly_contact"])
            week += datetime.timedelta(days=7)
        month = lo.replace(day=1)
        while month <= hi:
            nxt = (month + datetime.timedelta(days=32)).replace(day=1)
            a, b = max(month, lo), min(nxt - datetime.timedelta(days=1), hi)
            if rng.random() < p_month:
                kind = rng.choice(("home_visit", "phone", "video"))
                mask = 1 << bits["monthly_guardian"]
                if kind == "home_visit":
                    mask |= 1 << bits["weekly_contact"]
                add(_rand_day(rng, a, b), kind, mask, services=["family_education"])
            if month.month in (1, 4, 7, 10) and rng.random() < p_extra:
                qend = min(
                    (month + datetime.timedelta(days=92)).replace(day=1) - datetime.timedelta(days=1), hi
                )
                add(
                    _rand_day(rng, a, qend),
                    "home_visit",
                    (1 << bits["family_education"]) | (1 << bits["monthly_guardian"]),
                    services=["family_education"],
                )
            month = nxt
        for t_start, t_end in terms:
            a, b = max(t_start, lo), min(t_end, hi)
            if a <= b and rng.random() < p_extra:
                add(
                    _rand_day(rng, a, b),
                    rng.choice(("activity", "school")),
                    1 << bits["term_activity"],
                    services=["companionship", "habits"],
                )
        for day, name in festivals:
            if lo <= day <= hi and rng.random() < 0.55:
                add(
                    day,
                    rng.choice(("home_visit", "video")),
                    (1 << bits["yearly_festival"]) | (1 << bits["weekly_contact"]),
                    festival=name,
                )
        for year in range(lo.year, hi.year + 1):
            a, b = max(lo, datetime.date(year, 1, 1)), min(hi, datetime.date(year, 12, 31))
            if rng.random() < p_extra * 0.7:
                add(_rand_day(rng, a, b), "activity", 1 << bits["yearly_reading"], services=["tutoring"])
            if rng.random() < p_extra * 0.85:
                sa, sb = max(a, datetime.date(year, 6, 15)), min(b, datetime.date(year, 7, 20))
                if sa > sb:
                    sa, sb = a, b
                add(
                    _rand_day(rng, sa, sb),
                    rng.choice(("home_visit", "activity")),
                    1 << bits["yearly_safety"],
                    services=["habits"],
                )
        if pair.mother.blackouts:
            out = [r for r in out if not any(a <= r[0] <= b for a, b in pair.mother.blackouts)]
        if pair.demo:
            # The demo mother's checklist must show due items: nothing in the last 9 days and
            # no guardian talk this month yet.
            recent = self.today - datetime.timedelta(days=9)
            this_month = self.today.replace(day=1)
            guardian_bit = 1 << bits["monthly_guardian"]
            out = [r for r in out if r[0] <= recent and not (r[0] >= this_month and r[2] & guardian_bit)]
        out.sort(key=lambda r: r[0])
        return out

    def build_care_records(self, pairs: list[PairInfo]) -> None:
        rng = self.rng
        window = (_months_back(self.today, self.opts.months), self.today)
        festivals = self._festivals(*window)
        terms = self._terms(*window)
        self.progress: dict[tuple[int, int], datetime.date] = {}
        pair_meta = {p.pk: p for p in pairs}
        columns = (
            "pairing_id",
            "child_id",
            "volunteer_id",
            "district_id",
            "town_id",
            "village_id",
            "date",
            "kind",
            "rules_mask",
            "services",
            "festival",
            "notes_encrypted",
            "photo",
            "created_by_id",
            "created_at",
            "updated_at",
        )

        def rows() -> Iterator[tuple[Any, ...]]:
            for p in pairs:
                c, m = p.child, p.mother
                for day, kind, mask, festival, notes, services in self.care_rows(p, window, festivals, terms):
                    bit = 0
                    while mask >> bit:
                        if mask >> bit & 1:
                            key = (p.pk, bit)
                            if self.progress.get(key, day) <= day:
                                self.progress[key] = day
                        bit += 1
                    stamp = _at(day, rng, (7, 22))
                    yield (
                        p.pk,
                        c.pk,
                        m.pk,
                        c.district_id,
                        c.town_id,
                        c.village_id,
                        day,
                        kind,
                        mask,
                        services,
                        festival,
                        seal_notes(notes),
                        "",
                        m.user_id,
                        stamp,
                        stamp,
                    )

        with pinned_keyring():  # one keyring for sealing the notes of every record
            count = 0
            if self.use_copy:
                sql = f"COPY {CareRecord._meta.db_table} ({', '.join(columns)}) FROM STDIN"
                with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                    for row in rows():
                        copy.write_row((*row[:9], json.dumps(row[9], ensure_ascii=False), *row[10:]))
                        count += 1
                        if count % 500_000 == 0:
                            self.log(f"  已写入关爱记录 {count} 条")
            else:
                buf: list[CareRecord] = []
                with _historical_timestamps(CareRecord._meta.get_field("created_at")):
                    for row in rows():
                        buf.append(CareRecord(**dict(zip(columns, row, strict=True))))
                        if len(buf) >= 5000:
                            CareRecord.objects.bulk_create(buf, batch_size=BATCH)
                            count += len(buf)
                            buf = []
                    CareRecord.objects.bulk_create(buf, batch_size=BATCH)
                    count += len(buf)
        self.summary.care_records = count
        self._pair_meta = pair_meta

    def rebuild_progress(self) -> None:
        rebuild: Callable[[], int] | None
        try:
            from aixin.care.services import care_progress_rebuild as rebuild
        except ImportError:
            rebuild = None
        if rebuild is not None:
            rebuild()
        else:
            rows = []
            for (pairing_pk, bit), day in self.progress.items():
                rule = self.rules.get(bit)
                if rule is None:
                    continue
                p = self._pair_meta[pairing_pk]
                rows.append(
                    CareRuleProgress(
                        pairing_id=pairing_pk,
                        rule_id=rule.pk,
                        last_done_on=day,
                        district_id=p.child.district_id,
                        town_id=p.child.town_id,
                    )
                )
            CareRuleProgress.objects.bulk_create(rows, batch_size=BATCH)
        last = (
            CareRecord.objects.filter(child=OuterRef("pk"))
            .order_by()
            .values("child")
            .annotate(last=Max("date"))
            .values("last")
        )
        Child.objects.filter(pk__in=CareRecord.objects.values("child")).update(last_contact_on=Subquery(last))

    # -- activities ------------------------------------------------------------------------

    def build_activities(self, places: _Places, children: list[ChildInfo], staff: dict[int, int]) -> None:
        rng, today = self.rng, self.today
        year_start = datetime.date(today.year, 1, 1)
        kinds = (
            ("birthday", "集体生日会"),
            ("sports_arts", "文体活动"),
            ("group_counselling", "团体辅导"),
            ("reading", "读书会"),
            ("camp", "夏令营"),
            ("choir", "欢唱团活动"),
            ("running", "欢跑团活动"),
        )
        by_district: dict[int, list[ChildInfo]] = defaultdict(list)
        for c in children:
            by_district[c.district_id].append(c)
        activities: list[Activity] = []
        members: list[list[ChildInfo]] = []
        for district in places.districts:
            kids = by_district.get(district.pk, [])
            if not kids:
                continue
            n = max(2, min(len(kids) // 70, 60))
            by_town: dict[int, list[ChildInfo]] = defaultdict(list)
            for c in kids:
                by_town[c.town_id].append(c)
            town_ids = sorted(by_town, key=lambda t: -len(by_town[t]))
            district_acts: list[int] = []
            town_acts: dict[int, list[int]] = defaultdict(list)
            for i in range(n):
                town_id = town_ids[i % len(town_ids)]
                town = places.towns[town_id]
                kind, label = rng.choice(kinds)
                day = _rand_day(rng, year_start, today)
                activities.append(
                    Activity(
                        name=f"{town.name}{label}",
                        kind=kind,
                        held_on=day,
                        venue=f"{town.name}儿童之家",
                        region_id=town_id,
                        district_id=district.pk,
                        created_by_id=staff[district.pk],
                        created_at=_at(day, rng),
                    )
                )
                members.append([])
                district_acts.append(len(activities) - 1)
                town_acts[town_id].append(len(activities) - 1)
            for c in kids:
                if rng.random() >= 0.4:
                    continue
                pool = town_acts.get(c.town_id) or district_acts
                picks = {rng.choice(pool)}
                if rng.random() < 0.25:
                    picks.add(rng.choice(district_acts))
                for idx in picks:
                    members[idx].append(c)
        with _historical_timestamps(Activity._meta.get_field("created_at")):
            Activity.objects.bulk_create(activities, batch_size=BATCH)
        parts = [
            ActivityParticipation(activity_id=a.pk, child_id=c.pk, held_on=a.held_on)
            for a, kids in zip(activities, members, strict=True)
            for c in kids
        ]
        ActivityParticipation.objects.bulk_create(parts, batch_size=BATCH)
        self.summary.activities = len(activities)
        self.summary.participations = len(parts)
        self.summary.children_in_activities = len({p.child_id for p in parts})

    # -- users -----------------------------------------------------------------------------

    def create_staff(self, places: _Places) -> dict[int, int]:
        """One district staff account per district (no password) that recorded consents and
        activities; 酉阳's is the demo log-in `youyang`."""
        hashed = make_password(DEMO_PASSWORD)
        fake = self.fake
        city = Region.objects.filter(level=RegionLevel.CITY).order_by("code").first()
        if city is None:
            raise RuntimeError("没有市级区划 500000：请先载入区划")
        users = [
            User(
                username="city",
                role=Role.CITY_ADMIN,
                region=city,
                password=hashed,
                display_name=fake.last_name() + fake.first_name_female(),
            )
        ]
        for d in places.districts:
            demo = d.code == YOUYANG_CODE
            u = User(
                username="youyang" if demo else f"staff-{d.code}",
                role=Role.DISTRICT_ADMIN,
                region=d,
                display_name=fake.last_name() + fake.first_name_female(),
                password=hashed if demo else make_password(None),
            )
            users.append(u)
        User.objects.bulk_create(users)
        self.summary.users.extend(u.username for u in users if u.username in DEMO_USERNAMES)
        return {u.region_id: u.pk for u in users if u.role == Role.DISTRICT_ADMIN}

    def plan_demo_mother(
        self, places: _Places, children: list[ChildInfo]
    ) -> tuple[list[MotherInfo], list[tuple[ChildInfo, MotherInfo, datetime.date]]]:
        """The town supervisor, village director and loving mother of the demo, in the 酉阳 town
        and village with the most children who need one-to-one care."""
        youyang = next((d for d in places.districts if d.code == YOUYANG_CODE), None)
        if youyang is None:
            return [], []
        hashed = make_password(DEMO_PASSWORD)
        fake, rng = self.fake, self.rng
        eligible = [c for c in children if c.district_id == youyang.pk and c.tier != "group"]
        if len(eligible) < 2:
            eligible = [c for c in children if c.district_id == youyang.pk]
        if len(eligible) < 2:
            return [], []
        towns = Counter(c.town_id for c in eligible)
        town_id = min(towns, key=lambda t: (-towns[t], t))
        villages = Counter(c.village_id for c in eligible if c.town_id == town_id)
        village_id = min(villages, key=lambda v: (-villages[v], v))
        village = self._village_by_id(places, youyang.pk, village_id)
        town = places.towns[town_id]
        users = [
            User(
                username="zhen",
                role=Role.TOWN_SUPERVISOR,
                region=town,
                password=hashed,
                display_name=fake.last_name() + fake.first_name_female(),
            ),
            User(
                username="cun",
                role=Role.VILLAGE_DIRECTOR,
                region=village,
                password=hashed,
                display_name=fake.last_name() + fake.first_name_female(),
            ),
        ]
        mama_name = fake.last_name() + fake.first_name_female()
        users.append(
            User(
                username="mama", role=Role.VOLUNTEER, region=village, password=hashed, display_name=mama_name
            )
        )
        User.objects.bulk_create(users)
        self.summary.users.extend(u.username for u in users)
        v = Volunteer(
            user=users[2],
            status="active",
            capacity=3,
            source_group="federation_executive",
            work_unit=f"{village.name}妇联",
            specialties=["family_education", "tutoring"],
            background_check="clear",
            background_checked_on=self.today - datetime.timedelta(days=400),
            trained=True,
            points=260,
        )
        derive.set_name(v, mama_name)
        derive.set_region(v, village, field="home_region")
        derive.set_volunteer_phone(v, "13908380001")
        v.save()
        self.summary.volunteers["active"] += 1
        mother = MotherInfo(
            pk=v.pk,
            district_id=youyang.pk,
            town_id=town_id,
            village_id=village_id,
            capacity=3,
            user_id=users[2].pk,
            profile="regular",
        )
        near = sorted(eligible, key=lambda c: (c.village_id != village_id, c.town_id != town_id, c.pk))
        start = self.today - datetime.timedelta(days=rng.randint(110, 130))
        return [mother], [(near[0], mother, start), (near[1], mother, start + datetime.timedelta(days=7))]


def seed_demo(opts: SeedOptions, *, log: Callable[[str], None] = _log_noop) -> SeedSummary:
    """Fill an empty database with the demo data set and return what was made."""
    started = time.monotonic()
    _ensure_regions(opts, log)
    with transaction.atomic():
        b = _Builder(opts, log)
        places = _Places(b.rng)
        b.summary.districts = len(places.districts)
        b.summary.towns = places.town_count
        b.summary.villages = places.village_count
        staff = b.create_staff(places)
        log(f"正在生成 {opts.children} 名儿童…")
        children = b.build_children(places)
        demo_mothers, reserved = b.plan_demo_mother(places, children)
        log(f"正在生成 {opts.volunteers} 名爱心妈妈…")
        mothers = b.build_mothers(places, children) + demo_mothers
        log("正在结对…")
        pairs = b.build_pairings(children, mothers, staff, reserved)
        log("正在生成关爱记录…")
        b.build_care_records(pairs)
        b.rebuild_progress()
        log("正在生成团体活动…")
        b.build_activities(places, children, staff)
        enrol_demo_authenticators()
    if opts.ledger:
        # After the block above: the import runs in its own transaction (aixin.ingest).
        from aixin.demo.ledger import import_demo_ledger, summary_line

        log("正在导入示例民政台账…")
        batch = import_demo_ledger(today=b.today, log=log, seed=opts.seed)
        if batch is not None:
            b.summary.ledger = summary_line(batch)
    b.summary.seconds = time.monotonic() - started
    return b.summary


def demo_totp_secret(username: str) -> str:
    """The fixed authenticator key of a demo log-in, printed by `aixin demo-logins` (demo only:
    anyone who reads this code can compute it)."""
    digest = hashlib.sha256(f"aixin-demo-totp:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def enrol_demo_authenticators() -> list[User]:
    """Give each demo log-in whose role needs a second factor an authenticator with its fixed key,
    so that the demo runs with AIXIN_TOTP_ENFORCED on and a person can add the printed key to an
    authenticator app."""
    from aixin.accounts.totp import device_install

    enrolled = [u for u in demo_users() if u.role in settings.AIXIN_TOTP_REQUIRED_ROLES]
    for user in enrolled:
        device_install(user=user, secret=demo_totp_secret(user.username))
    return enrolled


def demo_users() -> list[User]:
    order = {name: i for i, name in enumerate(DEMO_USERNAMES)}
    users = User.objects.filter(username__in=DEMO_USERNAMES).select_related("region")
    return sorted(users, key=lambda u: order[u.username])


__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERNAMES",
    "SeedOptions",
    "SeedSummary",
    "demo_totp_secret",
    "demo_users",
    "enrol_demo_authenticators",
    "seed_demo",
]
