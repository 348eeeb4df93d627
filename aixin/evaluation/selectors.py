"""De-identified figures for third-party evaluators (R-11.1, SPEC roles: `evaluator`).

Evaluators are placed at the city and see every district, but never a person: these selectors
read the whole register (`Child.objects`, not `children_visible_to`, which gives an evaluator
nothing) and return only counts, rates and pseudonymous rows without names, ID numbers, phones,
addresses, villages, towns or birth dates. Only `@access(Role.EVALUATOR)` views call them.

Small counts (statistical disclosure control):
- every cell counting children (or 6+1 items) under 5 — including 0 — is shown as "<5";
- every total (a district's number of children, its must-cover children, and every number of
  the city row, which sums the districts) is rounded to the nearest 5 (and shown "<5" under 5),
  so a suppressed cell cannot be recovered by subtracting the other cells of its row or column
  from a total;
- a rate is shown only when its numerator is at least 5 and what is left (denominator −
  numerator) is 0 or at least 5; otherwise "—", since a rate and a rounded total would give the
  small count back.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from aixin.dashboard.selectors import CATEGORY_FIELDS, _must_cover_q
from aixin.regions.models import Region, RegionLevel

SUPPRESS_BELOW = 5
ROUND_TOTALS_TO = 5
SUPPRESSED = "<5"
NO_RATE = "—"


@dataclass(frozen=True)
class Figure:
    """A number as an evaluator may see it: `shown` is what the page prints."""

    shown: str

    def __str__(self) -> str:
        return self.shown


def cell(n: int) -> Figure:
    """A count of a group of children: suppressed under 5."""
    return Figure(SUPPRESSED if n < SUPPRESS_BELOW else str(n))


def total(n: int) -> Figure:
    """A total: rounded to the nearest 5 (half up), suppressed under 5."""
    if n < SUPPRESS_BELOW:
        return Figure(SUPPRESSED)
    return Figure(str((n + ROUND_TOTALS_TO // 2) // ROUND_TOTALS_TO * ROUND_TOTALS_TO))


def rate(done: int, due: int) -> Figure:
    """A percentage, only when neither the done nor the not-done part is a small group."""
    rest = due - done
    if due <= 0 or done < SUPPRESS_BELOW or 0 < rest < SUPPRESS_BELOW:
        return Figure(NO_RATE)
    return Figure(f"{round(100 * done / due)}%")


@dataclass(frozen=True)
class AreaFigures:
    """One district (or the city row) of the evaluation overview."""

    name: str
    children: Figure
    by_category: list[Figure]
    by_tier: list[Figure]
    must_cover: Figure
    must_cover_paired: Figure
    coverage_rate: Figure
    compliance_rate: Figure
    reached: Figure
    reach_rate: Figure


@dataclass(frozen=True)
class EvaluationOverview:
    today: datetime.date
    categories: list[str]
    tiers: list[str]
    districts: list[AreaFigures] = field(default_factory=list)
    city: AreaFigures | None = None


def _counts_by_district(today: datetime.date) -> dict[int, dict[str, int]]:
    """Exact numbers per district id: never leave this module unrounded."""
    from aixin.activities.models import ActivityParticipation
    from aixin.pairing.models import Pairing, PairingStatus
    from aixin.registry.models import CareTier, Child, ChildStatus

    year_start, year_end = datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)
    paired = Exists(Pairing.objects.filter(child_id=OuterRef("pk"), status=PairingStatus.ACTIVE))
    reached_ids = ActivityParticipation.objects.filter(held_on__gte=year_start, held_on__lte=year_end).values(
        "child_id"
    )
    aggregates: dict[str, Any] = {"active": Count("pk")}
    for name, _label in CATEGORY_FIELDS:
        aggregates[f"cat_{name}"] = Count("pk", filter=Q(**{name: True}))
    for tier in CareTier.values:
        aggregates[f"tier_{tier}"] = Count("pk", filter=Q(care_tier=tier))
    aggregates.update(
        must=Count("pk", filter=_must_cover_q(today)),
        must_paired=Count("pk", filter=_must_cover_q(today) & Q(paired=True)),
        reached=Count("pk", filter=Q(pk__in=reached_ids)),
    )
    rows = (
        Child.objects.filter(status=ChildStatus.ACTIVE)
        .annotate(paired=paired)
        .order_by()
        .values("district_id")
        .annotate(**aggregates)
    )
    return {r["district_id"]: r for r in rows}


def _compliance_by_district(today: datetime.date) -> dict[int, tuple[int, int]]:
    """(done, due) 6+1 items of the current periods per district id, from the care app."""
    from aixin.care.selectors import compliance_by_area
    from aixin.pairing.models import Pairing

    groups = compliance_by_area(Pairing.objects.all(), level="district", today=today)
    return {g.id: (g.done, g.due) for g in groups}


def _figures(name: str, c: dict[str, int], compliance: tuple[int, int], *, as_total: bool) -> AreaFigures:
    from aixin.registry.models import CareTier

    count = total if as_total else cell
    return AreaFigures(
        name=name,
        children=total(c.get("active", 0)),
        by_category=[count(c.get(f"cat_{n}", 0)) for n, _label in CATEGORY_FIELDS],
        by_tier=[count(c.get(f"tier_{t}", 0)) for t in CareTier.values],
        must_cover=total(c.get("must", 0)),
        must_cover_paired=count(c.get("must_paired", 0)),
        coverage_rate=rate(c.get("must_paired", 0), c.get("must", 0)),
        compliance_rate=rate(*compliance),
        reached=count(c.get("reached", 0)),
        reach_rate=rate(c.get("reached", 0), c.get("active", 0)),
    )


def evaluation_overview(*, today: datetime.date | None = None) -> EvaluationOverview:
    """Per district and for the city, with small counts suppressed (see the module docstring)."""
    from aixin.registry.models import CareTier

    today = today or timezone.localdate()
    counts = _counts_by_district(today)
    compliance = _compliance_by_district(today)
    districts = Region.objects.filter(
        Q(level=RegionLevel.DISTRICT, valid_to__isnull=True) | Q(pk__in=list(counts))
    ).order_by("sort_order", "code")
    rows = [
        _figures(d.name, counts.get(d.pk, {}), compliance.get(d.pk, (0, 0)), as_total=False)
        for d in districts
    ]
    city_counts: dict[str, int] = {}
    for c in counts.values():
        for key, value in c.items():
            if key != "district_id":
                city_counts[key] = city_counts.get(key, 0) + value
    city_compliance = (sum(d for d, _ in compliance.values()), sum(u for _, u in compliance.values()))
    return EvaluationOverview(
        today=today,
        categories=[label for _name, label in CATEGORY_FIELDS],
        tiers=[str(t.label) for t in CareTier],
        districts=rows,
        city=_figures("全市", city_counts, city_compliance, as_total=True),
    )


# ---------------------------------------------------------------------------------------------
# The record-level download

RECORD_HEADERS = ("编号", "区县", "年龄段", "性别", "类别", "关爱类型", "是否结对", "上一年度关爱记录数")


def age_band(birth_date: datetime.date, today: datetime.date) -> str:
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if age < 6:
        return "0–5岁"
    if age < 12:
        return "6–11岁"
    if age < 18:
        return "12–17岁"
    return "18岁及以上"


def pseudonym(child_id: int, salt: bytes) -> str:
    """HMAC of the child's id under a salt made for one export and then forgotten: the same
    child has different numbers in two downloads, and nobody can go back from a number."""
    return hmac.new(salt, str(child_id).encode(), hashlib.sha256).hexdigest()[:16]


def evaluation_records(
    *, today: datetime.date | None = None, salt: bytes | None = None
) -> Iterator[list[Any]]:
    """One de-identified row per child in the register (status active), ordered by pseudonym so
    that the order says nothing about the register. Columns: RECORD_HEADERS. Care records are
    counted for the previous calendar year."""
    from aixin.care.models import CareRecord
    from aixin.pairing.models import Pairing, PairingStatus
    from aixin.registry.models import Child, ChildStatus

    today = today or timezone.localdate()
    salt = salt or secrets.token_bytes(32)
    last_year = today.year - 1
    care_counts = dict(
        CareRecord.objects.filter(date__year=last_year)
        .order_by()
        .values("child_id")
        .annotate(n=Count("pk"))
        .values_list("child_id", "n")
    )
    districts = dict(Region.objects.filter(level=RegionLevel.DISTRICT).values_list("pk", "name"))
    paired = Exists(Pairing.objects.filter(child_id=OuterRef("pk"), status=PairingStatus.ACTIVE))
    fields = ["pk", "district_id", "birth_date", "sex", "care_tier", *(n for n, _l in CATEGORY_FIELDS)]
    children = (
        Child.objects.filter(status=ChildStatus.ACTIVE).annotate(paired=paired).values(*fields, "paired")
    )
    sexes = dict(Child._meta.get_field("sex").flatchoices)
    tiers = dict(Child._meta.get_field("care_tier").flatchoices)
    rows = []
    for c in children.iterator(chunk_size=2000):
        categories = "、".join(label for name, label in CATEGORY_FIELDS if c[name])
        rows.append(
            [
                pseudonym(c["pk"], salt),
                districts.get(c["district_id"], ""),
                age_band(c["birth_date"], today),
                str(sexes.get(c["sex"], "")),
                categories,
                str(tiers.get(c["care_tier"], "")),
                "是" if c["paired"] else "否",
                care_counts.get(c["pk"], 0),
            ]
        )
    rows.sort(key=lambda r: r[0])
    yield from rows
