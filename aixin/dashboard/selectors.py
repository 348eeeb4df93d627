"""Statistics for the work dashboard (R-12.1) and the stats API.

One `overview()` answers for any region the user may see — the city, a district, a town or a
village. Every number is computed with a handful of aggregate queries (conditional
`Count(..., filter=Q(...))`, grouped by the denormalised district/town/village columns) over the
access-scoped querysets, so the page costs the same few queries whether a district has 30 children
or 30,000. Membership tests ("has an active pairing", "took part in an activity this year") are
uncorrelated `IN (subquery)` filters, which PostgreSQL runs as one hashed sub-plan.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, FilteredRelation, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aixin.accounts.access import (
    activities_visible_to,
    children_visible_to,
    pairings_visible_to,
    regions_visible_to,
    volunteers_visible_to,
)
from aixin.pairing.services import minor_on
from aixin.regions.models import Region, RegionLevel

# The five categories of, in the order the program document lists them.
CATEGORY_FIELDS: tuple[tuple[str, str], ...] = (
    ("is_left_behind", "农村留守儿童"),
    ("is_scattered_orphan", "散居孤儿"),
    ("is_de_facto_unsupported", "事实无人抚养儿童"),
    ("is_other_difficulty", "其他困境儿童"),
    ("is_justice_involved", "涉案未成年人"),
)
DIFFICULTY_FIELDS = ("difficulty_life", "difficulty_study", "difficulty_physical", "difficulty_mental")
INDIVIDUAL_TIERS = ("one_to_one", "many_to_one")
HOT_SPOT_COUNT = 5

# How each model is narrowed to a region of each level (the city needs no filter).
_CHILD_FIELDS: dict[int, str] = {
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.TOWN: "town_id",
    RegionLevel.VILLAGE: "region_id",
}
_VOLUNTEER_FIELDS: dict[int, str] = {
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.TOWN: "town_id",
    RegionLevel.VILLAGE: "home_region_id",
}
_PAIRING_FIELDS: dict[int, str] = {
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.TOWN: "town_id",
    RegionLevel.VILLAGE: "village_id",
}
# The column that names the sub-region one level below the viewed region.
_CHILD_GROUP: dict[int, str] = {
    RegionLevel.CITY: "district_id",
    RegionLevel.DISTRICT: "town_id",
    RegionLevel.TOWN: "region_id",
}
_VOLUNTEER_GROUP: dict[int, str] = {
    RegionLevel.CITY: "district_id",
    RegionLevel.DISTRICT: "town_id",
    RegionLevel.TOWN: "home_region_id",
}
_AREA_LEVEL: dict[int, str] = {
    RegionLevel.CITY: "district",
    RegionLevel.DISTRICT: "town",
    RegionLevel.TOWN: "village",
}


@dataclass
class RegionRef:
    code: str
    name: str
    level: int
    level_label: str


@dataclass
class Tally:
    key: str
    label: str
    count: int


@dataclass
class ChildStats:
    active: int
    by_category: list[Tally]
    by_tier: list[Tally]
    paired: int
    not_contacted_14: int
    not_contacted_30: int


@dataclass
class Coverage:
    key: str
    label: str
    done: int
    total: int
    percent: float | None
    target_percent: int = 100


@dataclass
class MotherStats:
    total: int
    by_status: list[Tally]
    active: int
    load: int
    capacity: int
    load_percent: float | None
    load_distribution: list[Tally]
    trained: int
    trained_percent: float | None


@dataclass
class ComplianceRow:
    rule_code: str
    rule_name: str
    due: int
    done: int
    overdue: int
    percent: float | None


@dataclass
class AreaRow:
    code: str
    name: str
    level: int
    children: int
    left_behind: int
    must_cover: int
    must_cover_paired: int
    coverage_percent: float | None
    active_mothers: int
    left_behind_per_mother: float | None
    compliance_percent: float | None = None


@dataclass
class ActivityStats:
    year: int
    held: int
    children_reached: int


@dataclass
class CaseStats:
    """Risk cases of the region (issue 5 §6): open cases by age and severity, what is overdue,
    and the closure rate and median time to closure per district and per department."""

    severities: list[tuple[str, str]]  # (code, label)
    open_by_age: list[tuple[str, list[int]]]  # (age bucket, counts in `severities` order)
    open_total: int
    overdue_cases: int
    overdue_referrals: int
    by_district: list[Any]  # aixin.cases.selectors.ClosureStat
    by_department: list[Any]


@dataclass
class Overview:
    region: RegionRef
    breadcrumb: list[RegionRef]
    today: datetime.date
    children: ChildStats
    coverage: list[Coverage]
    mothers: MotherStats
    compliance: list[ComplianceRow]
    compliance_available: bool
    overdue_total: int
    activities: ActivityStats
    area_level: str | None
    breakdown: list[AreaRow] = field(default_factory=list)
    hot_spots: list[AreaRow] = field(default_factory=list)
    # Towns the latest matching runs could not serve (aixin.matching.selectors.Gap).
    matching_gaps: list[Any] = field(default_factory=list)
    cases: CaseStats | None = None


def percent(done: int, total: int) -> float | None:
    return round(100.0 * done / total, 1) if total else None


def region_for_user(*, user: Any, code: str | None) -> Region | None:
    """The region to show: the one named by `code` if the user may see it, else None (→ 404);
    without a code, the user's own region."""
    if not code:
        own: Region | None = user.region
        return own
    return regions_visible_to(user).filter(code=code).first()


def _narrow(qs: QuerySet[Any], region: Region, fields: dict[int, str]) -> QuerySet[Any]:
    column = fields.get(region.level)
    return qs if column is None else qs.filter(**{column: region.pk})


def _ref(region: Region) -> RegionRef:
    return RegionRef(
        code=region.code,
        name=region.name,
        level=region.level,
        level_label=str(RegionLevel(region.level).label),
    )


def _breadcrumb(*, user: Any, region: Region) -> list[RegionRef]:
    """The visible ancestors of `region` and the region itself, city first."""
    codes = [c for c in region.path.strip("/").split("/") if c]
    ancestors = regions_visible_to(user).filter(code__in=codes).order_by("level")
    return [_ref(r) for r in ancestors]


def _must_cover_q(today: datetime.date) -> Q:
    """Children the program must pair individually: orphans, de-facto unsupported, special
    difficulties, and anyone whose tier is one-to-one or many-to-one (R-6.5 a and b) — while
    under 18: at 18 a young person is handed over to a growth guardian, not paired."""
    return (_orphan_q() | _difficulty_q()) & minor_on(today)


def _orphan_q() -> Q:
    return Q(is_scattered_orphan=True) | Q(is_de_facto_unsupported=True)


def _difficulty_q() -> Q:
    q = Q(care_tier__in=INDIVIDUAL_TIERS)
    for name in DIFFICULTY_FIELDS:
        q |= Q(**{name: True})
    return q


def _silent_since(cutoff: datetime.date) -> Q:
    """Paired since before `cutoff` and no contact since (as care.selectors.inactive_children)."""
    return Q(active_pairing__start_date__lte=cutoff) & (
        Q(last_contact_on__isnull=True) | Q(last_contact_on__lt=cutoff)
    )


def _year_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 31)


def overview(*, user: Any, region: Region, today: datetime.date | None = None) -> Overview:
    """The dashboard's numbers for `region`, within what `user` may see. The caller checks that
    the region is visible (see `region_for_user`)."""
    from aixin.activities.models import ActivityParticipation
    from aixin.pairing.models import PairingStatus
    from aixin.registry.models import CareTier, ChildStatus
    from aixin.volunteers.models import VolunteerStatus

    today = today or timezone.localdate()
    year_start, year_end = _year_bounds(today)

    children = _narrow(children_visible_to(user), region, _CHILD_FIELDS).filter(status=ChildStatus.ACTIVE)
    pairings = _narrow(pairings_visible_to(user), region, _PAIRING_FIELDS)
    active_pairings = pairings.filter(status=PairingStatus.ACTIVE)
    volunteers = _narrow(volunteers_visible_to(user), region, _VOLUNTEER_FIELDS)

    # At most one active pairing per child (a partial unique index), so this LEFT JOIN adds no
    # rows; one hash join is much cheaper than probing a sub-plan in each of several FILTERs.
    children = children.annotate(
        active_pairing=FilteredRelation("pairings", condition=Q(pairings__status=PairingStatus.ACTIVE))
    )
    reached_ids = ActivityParticipation.objects.filter(held_on__gte=year_start, held_on__lte=year_end).values(
        "child_id"
    )
    paired_q = Q(active_pairing__isnull=False)
    day14 = today - datetime.timedelta(days=14)
    day30 = today - datetime.timedelta(days=30)

    # 1. Children: categories, tiers, coverage targets, contact gaps — one query.
    aggregates: dict[str, Any] = {"active": Count("pk")}
    for name, _label in CATEGORY_FIELDS:
        aggregates[f"cat_{name}"] = Count("pk", filter=Q(**{name: True}))
    for tier in CareTier.values:
        aggregates[f"tier_{tier}"] = Count("pk", filter=Q(care_tier=tier))
    aggregates.update(
        orphans=Count("pk", filter=_orphan_q()),
        orphans_paired=Count("pk", filter=_orphan_q() & Q(active_pairing__tier__in=INDIVIDUAL_TIERS)),
        difficulty=Count("pk", filter=_difficulty_q()),
        difficulty_paired=Count("pk", filter=_difficulty_q() & paired_q),
        reached=Count("pk", filter=Q(pk__in=reached_ids)),
        paired=Count("pk", filter=paired_q),
        silent_14=Count("pk", filter=_silent_since(day14)),
        silent_30=Count("pk", filter=_silent_since(day30)),
    )
    aggregates.update(
        must=Count("pk", filter=_must_cover_q(today)),
        must_paired=Count("pk", filter=_must_cover_q(today) & paired_q),
    )
    child_col = _CHILD_GROUP.get(region.level)
    volunteer_col = _VOLUNTEER_GROUP.get(region.level)
    # With sub-regions, one grouped query gives both the breakdown rows and (summed) the totals.
    child_rows: dict[int, dict[str, Any]] = {}
    if child_col:
        child_rows = {r[child_col]: r for r in children.order_by().values(child_col).annotate(**aggregates)}
        c = {key: sum(r[key] for r in child_rows.values()) for key in aggregates}
    else:
        c = children.aggregate(**aggregates)
    child_stats = ChildStats(
        active=c["active"],
        by_category=[Tally(key=n, label=_(label), count=c[f"cat_{n}"]) for n, label in CATEGORY_FIELDS],
        by_tier=[Tally(key=t.value, label=str(t.label), count=c[f"tier_{t.value}"]) for t in CareTier],
        paired=c["paired"],
        not_contacted_14=c["silent_14"],
        not_contacted_30=c["silent_30"],
    )
    coverage = [
        Coverage(
            key="orphans_one_to_one",
            label=_("散居孤儿、事实无人抚养儿童一对一结对"),
            done=c["orphans_paired"],
            total=c["orphans"],
            percent=percent(c["orphans_paired"], c["orphans"]),
        ),
        Coverage(
            key="difficulty_paired",
            label=_("特殊困难儿童结对"),
            done=c["difficulty_paired"],
            total=c["difficulty"],
            percent=percent(c["difficulty_paired"], c["difficulty"]),
        ),
        Coverage(
            key="group_reach",
            label=_("本年度团体关爱覆盖"),
            done=c["reached"],
            total=c["active"],
            percent=percent(c["reached"], c["active"]),
        ),
    ]

    # 2. Loving mothers — one query.
    in_service = Q(status=VolunteerStatus.ACTIVE)
    v_aggregates: dict[str, Any] = {
        "total_n": Count("pk"),
        "load_sum": Sum("load", filter=in_service),
        "capacity_sum": Sum("capacity", filter=in_service),
        "trained_n": Count("pk", filter=in_service & Q(trained=True)),
        "load_0": Count("pk", filter=in_service & Q(load=0)),
        "load_1": Count("pk", filter=in_service & Q(load=1)),
        "load_2": Count("pk", filter=in_service & Q(load=2)),
        "load_3": Count("pk", filter=in_service & Q(load__gte=3)),
    }
    for status in VolunteerStatus:
        v_aggregates[f"status_{status.value}"] = Count("pk", filter=Q(status=status.value))
    mother_rows: dict[int, dict[str, Any]] = {}
    if volunteer_col:
        mother_rows = {
            r[volunteer_col]: r for r in volunteers.order_by().values(volunteer_col).annotate(**v_aggregates)
        }
        v = {key: sum(r[key] or 0 for r in mother_rows.values()) for key in v_aggregates}
    else:
        v = volunteers.aggregate(**v_aggregates)
    active_mothers = v[f"status_{VolunteerStatus.ACTIVE.value}"]
    load, capacity = v["load_sum"] or 0, v["capacity_sum"] or 0
    mothers = MotherStats(
        total=v["total_n"],
        by_status=[
            Tally(key=s.value, label=str(s.label), count=v[f"status_{s.value}"]) for s in VolunteerStatus
        ],
        active=active_mothers,
        load=load,
        capacity=capacity,
        load_percent=percent(load, capacity),
        load_distribution=[
            Tally(key="0", label=_("未结对"), count=v["load_0"]),
            Tally(key="1", label=_("结对 1 名"), count=v["load_1"]),
            Tally(key="2", label=_("结对 2 名"), count=v["load_2"]),
            Tally(key="3+", label=_("结对 3 名及以上"), count=v["load_3"]),
        ],
        trained=v["trained_n"],
        trained_percent=percent(v["trained_n"], active_mothers),
    )

    # 3. 6+1 compliance for the current period (the care app's projection).
    compliance, area_compliance, available = _compliance(
        active_pairings, level=_AREA_LEVEL.get(region.level), today=today
    )

    # 4. Group activities this year.
    activities = _narrow_activities(activities_visible_to(user), region).filter(
        held_on__gte=year_start, held_on__lte=year_end
    )
    activity_stats = ActivityStats(year=today.year, held=activities.count(), children_reached=c["reached"])

    # 5. Breakdown by sub-region and recruitment hot spots.
    breakdown = _breakdown(
        region=region, child_rows=child_rows, mother_rows=mother_rows, compliance=area_compliance
    )
    hot_spots = sorted(
        (row for row in breakdown if row.left_behind > 0),
        key=lambda r: (r.active_mothers == 0, r.left_behind_per_mother or r.left_behind, r.left_behind),
        reverse=True,
    )[:HOT_SPOT_COUNT]

    return Overview(
        region=_ref(region),
        breadcrumb=_breadcrumb(user=user, region=region),
        today=today,
        children=child_stats,
        coverage=coverage,
        mothers=mothers,
        compliance=compliance,
        compliance_available=available,
        overdue_total=sum(row.overdue for row in compliance),
        activities=activity_stats,
        area_level=_AREA_LEVEL.get(region.level),
        breakdown=breakdown,
        hot_spots=hot_spots,
        matching_gaps=matching_gaps(region, limit=HOT_SPOT_COUNT * 2),
        cases=case_stats(region),
    )


def cached_overview(*, user: Any, region: Region) -> Overview:
    """`overview`, kept for settings.AIXIN_DASHBOARD_CACHE_SECONDS per (role, the user's own
    region, the region viewed, day): people with the same scope see the same numbers, so a big
    screen and fifty officials opening the dashboard cost one computation a minute. 0 = always
    fresh."""
    from django.conf import settings
    from django.core.cache import cache

    seconds = int(getattr(settings, "AIXIN_DASHBOARD_CACHE_SECONDS", 0))
    if seconds <= 0:
        return overview(user=user, region=region)
    today = timezone.localdate()
    key = f"aixin:overview:{user.role}:{user.region_id}:{region.pk}:{today.isoformat()}"
    found = cache.get(key)
    if isinstance(found, Overview):
        return found
    fresh = overview(user=user, region=region, today=today)
    cache.set(key, fresh, seconds)
    return fresh


def case_stats(region: Region) -> CaseStats:
    from aixin.cases import selectors as cases
    from aixin.cases.categories import Severity

    table = cases.open_cases_by_age(scope=region)
    codes = list(Severity.values)
    return CaseStats(
        severities=[(c, str(Severity(c).label)) for c in codes],
        open_by_age=[(label, [row[c] for c in codes]) for label, row in table.items()],
        open_total=sum(sum(row.values()) for row in table.values()),
        overdue_cases=cases.overdue_cases(scope=region).count(),
        overdue_referrals=cases.overdue_referrals(scope=region).count(),
        by_district=cases.closure_by_district(scope=region),
        by_department=cases.closure_by_department(scope=region),
    )


def matching_gaps(region: Region, *, limit: int) -> list[Any]:
    from aixin.matching.selectors import recruitment_gaps

    return recruitment_gaps(region, limit=limit)


def _narrow_activities(qs: QuerySet[Any], region: Region) -> QuerySet[Any]:
    if region.level == RegionLevel.DISTRICT:
        return qs.filter(district_id=region.pk)
    if region.level == RegionLevel.TOWN:
        # Town-level activities carry the town itself; village ones carry it as region.town.
        return qs.filter(Q(region__town_id=region.pk) | Q(region_id=region.pk))
    if region.level == RegionLevel.VILLAGE:
        return qs.filter(region_id=region.pk)
    return qs


def _care_selectors() -> Any:
    try:
        from aixin.care import selectors
    except ModuleNotFoundError as exc:  # the care app's selectors are not installed yet
        if exc.name != "aixin.care.selectors":
            raise
        return None
    return selectors


def _row(rule_code: str, rule_name: str, due: int, done: int, overdue: int) -> ComplianceRow:
    return ComplianceRow(
        rule_code=rule_code,
        rule_name=str(rule_name),
        due=due,
        done=done,
        overdue=overdue,
        percent=percent(done, due),
    )


def _compliance(
    pairings: QuerySet[Any], *, level: str | None, today: datetime.date
) -> tuple[list[ComplianceRow], dict[int, float | None], bool]:
    """Per-rule compliance of the region and overall completion per sub-region. With sub-regions,
    the region's numbers are the sums of the care app's per-area numbers (the areas partition the
    pairings), which saves a second pass over the same rows."""
    care = _care_selectors()
    if care is None:
        return [], {}, False
    if level is None:
        rows = [
            _row(r.rule_code, r.rule_name, r.due, r.done, r.overdue)
            for r in care.current_compliance(pairings, today=today)
        ]
        return rows, {}, True
    groups = care.compliance_by_area(pairings, level=level, today=today)
    totals: dict[str, list[Any]] = {}
    for group in groups:
        for r in group.rules:
            t = totals.setdefault(r.rule_code, [r.rule_name, 0, 0, 0])
            t[1], t[2], t[3] = t[1] + r.due, t[2] + r.done, t[3] + r.overdue
    rows = [_row(code, name, due, done, overdue) for code, (name, due, done, overdue) in totals.items()]
    return rows, {g.id: percent(g.done, g.due) for g in groups}, True


def _breakdown(
    *,
    region: Region,
    child_rows: dict[int, dict[str, Any]],
    mother_rows: dict[int, dict[str, Any]],
    compliance: dict[int, float | None],
) -> list[AreaRow]:
    """One row per sub-region (current ones, and any old one that still holds records)."""
    from aixin.volunteers.models import VolunteerStatus

    if region.level not in _CHILD_GROUP:
        return []  # a village has no sub-regions
    active_key = f"status_{VolunteerStatus.ACTIVE.value}"
    keys = set(child_rows) | set(mother_rows)
    subregions = Region.objects.filter(Q(parent=region, valid_to__isnull=True) | Q(pk__in=keys)).order_by(
        "sort_order", "code"
    )
    rows = []
    for sub in subregions:
        c = child_rows.get(sub.pk, {})
        mothers = mother_rows.get(sub.pk, {}).get(active_key, 0)
        left_behind = c.get("cat_is_left_behind", 0)
        rows.append(
            AreaRow(
                code=sub.code,
                name=sub.name,
                level=sub.level,
                children=c.get("active", 0),
                left_behind=left_behind,
                must_cover=c.get("must", 0),
                must_cover_paired=c.get("must_paired", 0),
                coverage_percent=percent(c.get("must_paired", 0), c.get("must", 0)),
                active_mothers=mothers,
                left_behind_per_mother=round(left_behind / mothers, 2) if mothers else None,
                compliance_percent=compliance.get(sub.pk),
            )
        )
    return rows
