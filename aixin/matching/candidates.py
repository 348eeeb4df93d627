"""Candidate pairs for matching (issue 4 §1–2): which mothers may take which child, at what cost,
and why — as plain data, without the database. Framework-free (numpy + scipy's KD-tree).

Reach: a child's candidates are the mothers of the same village, town or district (the reach).
Within it, where both have coordinates, the k nearest by straight-line distance come from a
KD-tree per district (never all pairs); without coordinates the region tree gives a nominal
distance (same village 0.5 km, same town 5 km, same district 20 km). Hard rules drop a pair: a
mother without free places, outside her preferred age range or child's sex, or a pair excluded
(she declined this child; a conflict of interest).

Cost (integer, ≥ 0): distance in tens of metres, plus a penalty for each of the child's needs
her specialties do not cover, plus a charge per child she already cares for (load balance).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from aixin.matching.solver import Instance

REACHES = ("village", "town", "district")
NOMINAL_METRES = {"village": 500, "town": 5_000, "district": 20_000}
CLOSENESS_LABELS = {"village": "同村", "town": "同镇", "district": "同区县"}

# A child's need → the specialties that answer it, and how the explanation names both.
NEEDS: dict[str, tuple[frozenset[str], str]] = {
    "mental": (frozenset({"psychology"}), "心理健康困难"),
    "behaviour": (frozenset({"psychology"}), "心理行为问题"),
    "study": (frozenset({"tutoring", "teacher"}), "学习困难"),
    "physical": (frozenset({"medicine"}), "身体健康困难"),
    "justice": (frozenset({"law"}), "涉案"),
    "many_to_one": (frozenset({"experienced", "trained"}), "多对一重点关爱"),
}
SPECIALTY_LABELS = {
    "psychology": "心理健康",
    "tutoring": "学业辅导",
    "teacher": "教师",
    "medicine": "医疗",
    "law": "法律",
    "experienced": "经验丰富",
    "trained": "受过培训",
}


@dataclass(frozen=True)
class Weights:
    metres_per_unit: int = 10  # cost 1 per 10 m
    unmet_need: int = 500  # = 5 km of distance per need her specialties do not cover
    per_current_child: int = 100  # = 1 km per child she already cares for
    k: int = 30  # nearest mothers considered per child (with coordinates)


@dataclass(frozen=True)
class ChildPoint:
    id: int
    district_id: int
    town_id: int
    village_id: int
    age: int
    sex: str  # "M" | "F"
    must_cover: bool = False
    needs: frozenset[str] = frozenset()
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class MotherPoint:
    id: int
    district_id: int
    town_id: int
    village_id: int
    free: int  # free places
    load: int  # children she cares for now
    capacity: int
    specialties: frozenset[str] = frozenset()
    age_min: int | None = None
    age_max: int | None = None
    child_sex: str = ""  # "" = either
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Pair:
    child: int  # index into the children given
    mother: int  # index into the mothers given
    cost: int
    metres: int
    closeness: str  # village | town | district
    measured: bool  # straight-line distance (both have coordinates) or nominal
    met_needs: tuple[str, ...] = ()
    unmet_needs: tuple[str, ...] = ()


@dataclass
class Candidates:
    children: Sequence[ChildPoint]
    mothers: Sequence[MotherPoint]
    pairs: list[Pair] = field(default_factory=list)

    def instance(self) -> Instance:
        return Instance.build(
            [c.must_cover for c in self.children],
            [m.free for m in self.mothers],
            [(p.child, p.mother, p.cost) for p in self.pairs],
        )


def _xy(lat: float, lon: float) -> tuple[float, float]:
    """Metres on a local plane (equirectangular at Chongqing's latitude: errors < 0.5 % within a
    district)."""
    return lon * 111_320.0 * math.cos(math.radians(29.5)), lat * 110_540.0


def _closeness(child: ChildPoint, mother: MotherPoint) -> str:
    if child.village_id == mother.village_id:
        return "village"
    if child.town_id == mother.town_id:
        return "town"
    return "district"


def _within(closeness: str, reach: str) -> bool:
    return REACHES.index(closeness) <= REACHES.index(reach)


def _admits(mother: MotherPoint, child: ChildPoint) -> bool:
    if mother.free <= 0:
        return False
    if mother.age_min is not None and child.age < mother.age_min:
        return False
    if mother.age_max is not None and child.age > mother.age_max:
        return False
    return not (mother.child_sex and mother.child_sex != child.sex)


def pair_cost(child: ChildPoint, mother: MotherPoint, metres: int, weights: Weights) -> Pair:
    met = tuple(n for n in sorted(child.needs) if NEEDS[n][0] & mother.specialties)
    unmet = tuple(n for n in sorted(child.needs) if not NEEDS[n][0] & mother.specialties)
    cost = (
        metres // weights.metres_per_unit
        + weights.unmet_need * len(unmet)
        + weights.per_current_child * mother.load
    )
    return Pair(0, 0, cost, metres, _closeness(child, mother), False, met, unmet)


def generate(
    children: Sequence[ChildPoint],
    mothers: Sequence[MotherPoint],
    *,
    reach: str = "district",
    weights: Weights | None = None,
    excluded: Iterable[tuple[int, int]] = (),
) -> Candidates:
    """The candidate pairs within `reach` (see the module's docstring). `excluded` holds
    (child id, mother id) pairs that must not be proposed."""
    if reach not in REACHES:
        raise ValueError(f"reach must be one of {REACHES}")
    weights = weights or Weights()
    banned = set(excluded)
    out = Candidates(children=children, mothers=mothers)
    # Mothers with free places, by place: all of them, and those without coordinates.
    everyone = _Places()
    unlocated = _Places()
    located_by_district: dict[int, list[int]] = defaultdict(list)
    for j, m in enumerate(mothers):
        if m.free <= 0:
            continue
        everyone.add(j, m)
        if m.lat is None or m.lon is None:
            unlocated.add(j, m)
        else:
            located_by_district[m.district_id].append(j)
    trees: dict[int, tuple[cKDTree, list[int]]] = {}
    for district, located in located_by_district.items():
        points = np.array([_xy(mothers[j].lat, mothers[j].lon) for j in located])  # type: ignore[arg-type]
        trees[district] = (cKDTree(points), located)

    for i, child in enumerate(children):
        chosen: list[tuple[int, int, bool]] = []  # mother index, metres, measured
        tree = trees.get(child.district_id)
        has_point = child.lat is not None and child.lon is not None
        if tree is not None and has_point:
            kd, located = tree
            k = min(weights.k, len(located))
            dist, pos = kd.query(_xy(child.lat, child.lon), k=k)  # type: ignore[arg-type]
            for d, p in zip(np.atleast_1d(dist).tolist(), np.atleast_1d(pos).tolist(), strict=True):
                chosen.append((located[int(p)], round(d), True))
        # The region tree: nearest level first (village, town, district), up to k mothers.
        tree_pool = unlocated if has_point else everyone
        for j in tree_pool.nearest(child, weights.k):
            chosen.append((j, NOMINAL_METRES[_closeness(child, mothers[j])], False))
        for j, metres, measured in chosen:
            mother = mothers[j]
            if (child.id, mother.id) in banned or not _admits(mother, child):
                continue
            closeness = _closeness(child, mother)
            if not _within(closeness, reach):
                continue
            base = pair_cost(child, mother, metres, weights)
            out.pairs.append(
                Pair(i, j, base.cost, metres, closeness, measured, base.met_needs, base.unmet_needs)
            )
    return out


class _Places:
    """Mother indexes by village, town and district, least loaded first within each."""

    def __init__(self) -> None:
        self.village: dict[int, list[int]] = defaultdict(list)
        self.town: dict[int, list[int]] = defaultdict(list)
        self.district: dict[int, list[int]] = defaultdict(list)

    def add(self, j: int, m: MotherPoint) -> None:
        self.village[m.village_id].append(j)
        self.town[m.town_id].append(j)
        self.district[m.district_id].append(j)

    def nearest(self, child: ChildPoint, k: int) -> list[int]:
        out: list[int] = []
        seen: set[int] = set()
        for group in (
            self.village.get(child.village_id, ()),
            self.town.get(child.town_id, ()),
            self.district.get(child.district_id, ()),
        ):
            for j in group:
                if j not in seen:
                    seen.add(j)
                    out.append(j)
                    if len(out) >= k:
                        return out
        return out


def explain(pair: Pair, mother: MotherPoint) -> str:
    """Why a pair was proposed, in Chinese, e.g.
    "同村，1.2 公里；心理健康专长匹配心理健康困难；当前结对 1/3"."""
    where = CLOSENESS_LABELS[pair.closeness]
    distance = f"{pair.metres / 1000:.1f} 公里" if pair.measured else "无坐标，按区划估算"
    parts = [f"{where}，{distance}"]
    for need in pair.met_needs:
        answering = sorted(NEEDS[need][0] & mother.specialties)
        parts.append(f"{'、'.join(SPECIALTY_LABELS[s] for s in answering)}专长匹配{NEEDS[need][1]}")
    for need in pair.unmet_needs:
        parts.append(f"无对应专长（{NEEDS[need][1]}）")
    parts.append(f"当前结对 {mother.load}/{mother.capacity}")
    return "；".join(parts)
