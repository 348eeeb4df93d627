"""Matching runs (issue 4): load a district's children who need a loving mother and the mothers
with free places, generate candidate pairs, solve exactly, and store the proposals with their
reasons, the top five alternatives and, for each child left out, why.

A run holds the district (a partial unique index: one running run per district) while it
computes; its proposals are written in one transaction with its report. Proposals are only
suggestions: nothing becomes a pairing until a person confirms it (next step of issue 4).
"""

from __future__ import annotations

import datetime
import itertools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from aixin.lib import bulk
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.lib.idnumber import age_on
from aixin.matching.candidates import ChildPoint, MotherPoint, Weights, generate
from aixin.matching.exclusions import excluded_pairs
from aixin.matching.models import MatchProposal, MatchRun, RunStatus
from aixin.matching.solver import Solution, solve, solve_greedy
from aixin.pairing.models import OPEN_STATUSES, Pairing
from aixin.pairing.services import awaiting_loving_mother
from aixin.regions.models import Region, RegionLevel
from aixin.registry.models import CareTier, Child, ChildStatus
from aixin.volunteers.models import Volunteer, VolunteerStatus

ALTERNATIVES = 5


@dataclass
class DistrictData:
    children: list[ChildPoint]
    mothers: list[MotherPoint]
    names: dict[int, str]  # volunteer id → name
    excluded: set[tuple[int, int]]
    active_mothers: int  # in the district, whatever their free places


def configured_weights() -> Weights:
    from django.conf import settings

    return Weights(**getattr(settings, "AIXIN_MATCH_WEIGHTS", {}))


def needy_children(district: Region, *, today: datetime.date | None = None) -> Any:
    """Children of the district who need a mother now (`needs_loving_mother`: one-to-one or
    many-to-one, in the register, under 18) with no open pairing."""
    return Child.objects.filter(
        awaiting_loving_mother(today or timezone.localdate()), district=district
    ).order_by("pk")


_CHILD_FIELDS = (
    "pk",
    "district_id",
    "town_id",
    "region_id",
    "birth_date",
    "sex",
    "is_scattered_orphan",
    "is_de_facto_unsupported",
    "difficulty_mental",
    "risk_psych_behaviour",
    "difficulty_study",
    "difficulty_physical",
    "is_justice_involved",
    "care_tier",
    "latitude",
    "longitude",
)


def child_points(children: Any, *, today: datetime.date) -> list[ChildPoint]:
    """The matching view of the children of a queryset (read as plain values, not models)."""
    points = []
    for (
        pk,
        district_id,
        town_id,
        village_id,
        birth_date,
        sex,
        orphan,
        unsupported,
        mental,
        behaviour,
        study,
        physical,
        justice,
        tier,
        lat,
        lon,
    ) in children.values_list(*_CHILD_FIELDS).iterator(chunk_size=5000):
        needs = _NEED_SETS[(mental, behaviour, study, physical, justice, tier == CareTier.MANY_TO_ONE)]
        points.append(
            ChildPoint(
                id=pk,
                district_id=district_id,
                town_id=town_id,
                village_id=village_id,
                age=age_on(birth_date, today),
                sex=sex,
                must_cover=orphan or unsupported,
                needs=needs,
                lat=lat,
                lon=lon,
            )
        )
    return points


# The needs a child's flags name (mental, behaviour, study, physical, justice, many-to-one),
# for every combination: one shared frozenset each.
_NEED_SETS = {
    flags: frozenset(
        need
        for need, on in zip(
            ("mental", "behaviour", "study", "physical", "justice", "many_to_one"), flags, strict=True
        )
        if on
    )
    for flags in itertools.product((False, True), repeat=6)
}


def load_mothers(district: Region) -> tuple[list[MotherPoint], dict[int, str], int]:
    """The district's active mothers (free places = capacity − load: existing pairings keep
    theirs), their preferences, their names, and how many there are."""
    mothers: list[MotherPoint] = []
    names: dict[int, str] = {}
    volunteers = Volunteer.objects.filter(district=district, status=VolunteerStatus.ACTIVE).order_by("pk")
    rows = volunteers.values_list(
        "pk",
        "name",
        "district_id",
        "town_id",
        "home_region_id",
        "capacity",
        "load",
        "specialties",
        "trained",
        "preferred_age_min",
        "preferred_age_max",
        "preferred_child_sex",
        "latitude",
        "longitude",
    )
    shared: dict[tuple[str, ...], frozenset[str]] = {}
    for (
        pk,
        name,
        district_id,
        town_id,
        village_id,
        capacity,
        load,
        specialties,
        trained,
        age_min,
        age_max,
        sex,
        lat,
        lon,
    ) in rows.iterator(chunk_size=5000):
        names[pk] = name
        found = set(specialties or [])
        if trained:
            found.add("trained")
        if load > 0:
            found.add("experienced")
        key = tuple(sorted(found))
        mothers.append(
            MotherPoint(
                id=pk,
                district_id=district_id,
                town_id=town_id,
                village_id=village_id,
                free=max(0, capacity - load),
                load=load,
                capacity=capacity,
                specialties=shared.setdefault(key, frozenset(key)),
                age_min=age_min,
                age_max=age_max,
                child_sex=sex,
                lat=lat,
                lon=lon,
            )
        )
    return mothers, names, len(mothers)


def load_district(district: Region, *, today: datetime.date) -> DistrictData:
    """Everything a run needs for one district (see needy_children and load_mothers)."""
    children = child_points(needy_children(district), today=today)
    mothers, names, active = load_mothers(district)
    excluded = excluded_pairs(district)
    return DistrictData(children, mothers, names, excluded, active)


def _unmatched_reason(data: DistrictData, i: int, has_candidates: bool, excluded_only: bool) -> str:
    if data.active_mothers == 0:
        return "本区县没有服务中的爱心妈妈"
    if not any(m.free > 0 for m in data.mothers):
        return "本区县服务中的爱心妈妈均已满额"
    if excluded_only:
        return "范围内的爱心妈妈均已婉拒或不宜结对"
    if not has_candidates:
        return "范围内没有有空余名额且符合条件的爱心妈妈"
    return "范围内的爱心妈妈名额已优先用于其他儿童（须优先保障的儿童优先）"


def _summary(solution: Solution, instance: Any) -> dict[str, Any]:
    must, others, cost = solution.key(instance)
    return {
        "matched": solution.matched,
        "must_cover_matched": solution.must_cover_matched(instance),
        "must_cover_unmatched": must,
        "others_unmatched": others,
        "cost": cost,
    }


def _district_for(actor: Any, district_code: str) -> Region:
    from aixin.accounts.access import may_manage, region_in_scope

    district = Region.objects.filter(code=district_code, level=RegionLevel.DISTRICT).first()
    if district is None:
        raise InvalidInput(f"区县代码“{district_code}”不存在", field="district")
    if actor is not None and (not may_manage(actor) or not region_in_scope(actor, district)):
        raise NotAllowed(f"“{district.name}”不在你的管辖范围内", field="district")
    return district


def run_start(*, actor: Any, district_code: str, reach: str = "district") -> MatchRun:
    """Register a running run for the district, or refuse (Conflict) while another one runs —
    the database's partial unique index decides, so two clicks at once cannot both start."""
    if reach not in ("village", "town", "district"):
        raise InvalidInput("匹配范围应为同村、同镇或同区县", field="reach")
    district = _district_for(actor, district_code)
    try:
        with transaction.atomic():
            return MatchRun.objects.create(district=district, reach=reach, created_by=actor)
    except IntegrityError as exc:
        raise Conflict(f"{district.name}已有一次匹配正在计算，请等它完成后再试") from exc


def run_compute(
    run_id: int, *, weights: Weights | None = None, today: datetime.date | None = None
) -> MatchRun:
    """Compute a started run and store its proposals and report in one transaction; a failure
    is recorded on the run (status failed) and nothing else is written."""
    run = MatchRun.objects.select_related("district").get(pk=run_id)
    if run.status != RunStatus.RUNNING:
        return run
    day = today or timezone.localdate()
    try:
        report, proposals = _compute(
            run.district, reach=run.reach, weights=weights or configured_weights(), today=day
        )
        t0 = time.perf_counter()
        with transaction.atomic():
            # The run's row first: on SQLite this takes the write lock the bulk insert needs.
            MatchRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, finished_at=timezone.now())
            bulk.insert(MatchProposal, [bulk.new(MatchProposal, run_id=run.pk, **p) for p in proposals])
            report["seconds"]["store"] = round(time.perf_counter() - t0, 3)
            report["seconds"]["total"] = round(report["seconds"]["total"] + report["seconds"]["store"], 3)
            MatchRun.objects.filter(pk=run.pk).update(report=report)
    except Exception as exc:
        MatchRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=f"计算出错：{type(exc).__name__}", finished_at=timezone.now()
        )
        raise
    run.refresh_from_db()
    return run


def run_match(
    *,
    actor: Any,
    district_code: str,
    reach: str = "district",
    dry_run: bool = False,
    weights: Weights | None = None,
    today: datetime.date | None = None,
) -> MatchRun | dict[str, Any]:
    """Start and compute a run at once (the command line), or with dry_run only the report."""
    if dry_run:
        district = _district_for(actor, district_code)
        report, _proposals = _compute(
            district,
            reach=reach,
            weights=weights or configured_weights(),
            today=today or timezone.localdate(),
        )
        return report
    run = run_start(actor=actor, district_code=district_code, reach=reach)
    return run_compute(run.pk, weights=weights, today=today)


def _compute(
    district: Region, *, reach: str, weights: Weights, today: datetime.date
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    t0 = time.perf_counter()
    data = load_district(district, today=today)
    t1 = time.perf_counter()
    # Generated once; excluded pairs (declined) are then filtered out, which is what passing
    # them to `generate` would do, and tells apart children whose only candidates declined.
    everything = generate(data.children, data.mothers, reach=reach, weights=weights)
    found = everything.without(data.excluded)
    t2 = time.perf_counter()
    instance = found.instance()
    solution = solve(instance)
    t3 = time.perf_counter()
    greedy = solve_greedy(instance)

    order, starts = found.by_child()
    with_any = np.bincount(everything.child, minlength=len(data.children)) > 0
    proposals: list[dict[str, Any]] = []
    unmatched: dict[str, int] = {}
    mother_ids = [m.id for m in data.mothers]
    arc_mother, arc_cost = found.mother.tolist(), found.cost.tolist()
    order_list, starts_list = order.tolist(), starts.tolist()
    for i, child in enumerate(data.children):
        start, end = starts_list[i], starts_list[i + 1]
        chosen = int(solution.arc_of[i])
        # The cheapest few are enough: the chosen one and five others.
        arcs = order_list[start : min(end, start + ALTERNATIVES + 1)]
        alternatives = [
            {
                "volunteer": mother_ids[arc_mother[a]],
                "name": data.names[mother_ids[arc_mother[a]]],
                "cost": arc_cost[a],
                "explanation": found.explain(a),
            }
            for a in [a for a in arcs if a != chosen][:ALTERNATIVES]
        ]
        proposal: dict[str, Any] = {
            "child_id": child.id,
            "must_cover": child.must_cover,
            "alternatives": alternatives,
        }
        if chosen >= 0:
            proposal["volunteer_id"] = mother_ids[arc_mother[chosen]]
            proposal["cost"] = arc_cost[chosen]
            proposal["explanation"] = found.explain(chosen)[:300]
        else:
            reason = _unmatched_reason(data, i, end > start, bool(with_any[i] and end == start))
            proposal["unmatched_reason"] = reason
            unmatched[reason] = unmatched.get(reason, 0) + 1
        proposals.append(proposal)
    must_total = sum(1 for c in data.children if c.must_cover)
    summary = _summary(solution, instance)
    matched_ids = {data.children[i].id for i in range(len(data.children)) if solution.arc_of[i] >= 0}
    report = {
        "district": district.code,
        "children": len(data.children),
        "must_cover_total": must_total,
        "mothers_with_room": sum(1 for m in data.mothers if m.free > 0),
        "candidate_pairs": len(found),
        **summary,
        "unmatched_by_reason": unmatched,
        "warnings": _warnings(data, summary),
        "greedy": _summary(greedy, instance),
        "coverage": coverage(district, matched_ids),
        "recruitment_gaps": recruitment_gaps(data, solution),
        "seconds": {
            "load": round(t1 - t0, 3),
            "candidates": round(t2 - t1, 3),
            "solve": round(t3 - t2, 3),
            "proposals": round(time.perf_counter() - t3, 3),
            "store": 0.0,
            "total": round(time.perf_counter() - t0, 3),
        },
    }
    return report, proposals


def _warnings(data: DistrictData, summary: dict[str, Any]) -> list[str]:
    """What staff must act on before (or beyond) confirming the proposals, in words."""
    out = []
    if data.children and data.active_mothers == 0:
        out.append("本区县没有服务中的爱心妈妈：请先招募并审核爱心妈妈，本次没有提出任何结对建议")
    elif data.children and not any(m.free > 0 for m in data.mothers):
        out.append("本区县服务中的爱心妈妈均已满额：请招募新的爱心妈妈或调整可结对人数")
    if summary["must_cover_unmatched"]:
        out.append(
            f"须优先保障的儿童（散居孤儿、事实无人抚养儿童）中有 {summary['must_cover_unmatched']} 名"
            "无法在范围内匹配到爱心妈妈：任何分配都无法覆盖他们，请按下方招募缺口优先招募，或扩大匹配范围"
        )
    return out


def coverage(district: Region, matched_ids: set[int]) -> dict[str, dict[str, int]]:
    """The R-6.5 pairing targets of the district before this run and if its proposals are all
    confirmed: must-cover children (scattered orphans, de-facto unsupported) and children with a
    special difficulty, paired / total. (Group-activity reach is not changed by matching.)"""
    open_pairing = Pairing.objects.filter(child=OuterRef("pk"), status__in=OPEN_STATUSES)
    active = Child.objects.filter(district=district, status=ChildStatus.ACTIVE).annotate(
        paired=Exists(open_pairing)
    )
    must = active.filter(Q(is_scattered_orphan=True) | Q(is_de_facto_unsupported=True))
    difficult = active.filter(
        Q(difficulty_life=True)
        | Q(difficulty_study=True)
        | Q(difficulty_physical=True)
        | Q(difficulty_mental=True)
    )
    out: dict[str, dict[str, int]] = {}
    for name, qs in (("must_cover", must), ("special_difficulty", difficult)):
        rows = list(qs.values_list("pk", "paired"))
        before = sum(1 for _pk, paired in rows if paired)
        added = sum(1 for pk, paired in rows if not paired and pk in matched_ids)
        out[name] = {"total": len(rows), "paired_before": before, "paired_after": before + added}
    return out


def recruitment_gaps(data: DistrictData, solution: Solution) -> list[dict[str, Any]]:
    """Towns where children remain unmatched: how many, how many mothers more are needed (at the
    district's typical capacity) and which specialties the town's mothers lack for their needs."""
    from aixin.matching.candidates import NEEDS

    capacities = sorted(m.capacity for m in data.mothers if m.capacity > 0)
    typical = capacities[len(capacities) // 2] if capacities else 2
    specialties_by_town: dict[int, set[str]] = {}
    for m in data.mothers:
        specialties_by_town.setdefault(m.town_id, set()).update(m.specialties)
    towns: dict[int, dict[str, Any]] = {}
    for i, child in enumerate(data.children):
        if solution.arc_of[i] >= 0:
            continue
        gap = towns.setdefault(
            child.town_id, {"town": child.town_id, "unmatched": 0, "must_cover_unmatched": 0, "missing": {}}
        )
        gap["unmatched"] += 1
        gap["must_cover_unmatched"] += int(child.must_cover)
        have = specialties_by_town.get(child.town_id, set())
        for need in child.needs:
            answers, label = NEEDS[need]
            if not answers & have:
                gap["missing"][label] = gap["missing"].get(label, 0) + 1
    names = dict(Region.objects.filter(pk__in=list(towns)).values_list("pk", "name"))
    out = []
    for gap in towns.values():
        gap["town_name"] = names.get(gap["town"], "")
        gap["mothers_needed"] = -(-gap["unmatched"] // typical)
        out.append(gap)
    out.sort(key=lambda g: (-g["must_cover_unmatched"], -g["unmatched"], g["town_name"]))
    return out
