"""Candidate pairs for matching (issue 4 §1–2): which mothers may take which child, at what cost,
and why — as plain data, without the database. Framework-free (numpy + scipy's KD-tree).

Reach: a child's candidates are the mothers of the same village, town or district (the reach).
Within it, where both have coordinates, the k nearest by straight-line distance come from a
KD-tree per district, queried for all of the district's children at once (never all pairs);
without coordinates the region tree gives a nominal distance (same village 0.5 km, same town
5 km, same district 20 km). Of all these a child keeps its k nearest. Hard rules drop a pair: a
mother without free places, outside her preferred age range or child's sex, or a pair excluded
(she declined this child; a conflict of interest).

Cost (integer, ≥ 0): distance in tens of metres, plus a penalty for each of the child's needs
her specialties do not cover, plus a charge per child she already cares for (load balance).

Everything is computed on arrays (one row per candidate pair); `Pair` objects and explanations
are made only for the pairs a person will read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
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
NEED_BITS = {need: 1 << bit for bit, need in enumerate(sorted(NEEDS))}
SPECIALTY_LABELS = {
    "psychology": "心理健康",
    "tutoring": "学业辅导",
    "teacher": "教师",
    "medicine": "医疗",
    "law": "法律",
    "experienced": "经验丰富",
    "trained": "受过培训",
}
_POPCOUNT = np.array([bin(x).count("1") for x in range(1 << len(NEEDS))], dtype=np.int64)


@dataclass(frozen=True)
class Weights:
    metres_per_unit: int = 10  # cost 1 per 10 m
    unmet_need: int = 500  # = 5 km of distance per need her specialties do not cover
    per_current_child: int = 100  # = 1 km per child she already cares for
    k: int = 30  # nearest mothers considered per child


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


def needs_mask(needs: Iterable[str]) -> int:
    return sum(NEED_BITS[n] for n in needs)


def answers_mask(specialties: frozenset[str]) -> int:
    """The needs a mother's specialties answer, as bits."""
    return sum(NEED_BITS[n] for n, (answering, _label) in NEEDS.items() if answering & specialties)


def _needs_of(mask: int) -> tuple[str, ...]:
    return tuple(n for n in sorted(NEEDS) if mask & NEED_BITS[n])


class Candidates:
    """Candidate pairs as parallel arrays (index a = one pair), over the children and mothers
    given (indexes into those sequences)."""

    def __init__(
        self,
        children: Sequence[ChildPoint],
        mothers: Sequence[MotherPoint],
        *,
        child: NDArray[np.int32],
        mother: NDArray[np.int32],
        cost: NDArray[np.int64],
        metres: NDArray[np.int64],
        closeness: NDArray[np.int8],
        measured: NDArray[np.bool_],
        child_needs: NDArray[np.int64],
        mother_answers: NDArray[np.int64],
    ) -> None:
        self.children = children
        self.mothers = mothers
        self.child = child
        self.mother = mother
        self.cost = cost
        self.metres = metres
        self.closeness = closeness
        self.measured = measured
        self.child_needs = child_needs
        self.mother_answers = mother_answers
        self._needs_text: dict[tuple[int, frozenset[str]], str] = {}
        self._lists: tuple[list[Any], ...] | None = None

    def __len__(self) -> int:
        return int(self.cost.size)

    def select(self, keep: NDArray[np.bool_]) -> Candidates:
        """The pairs where `keep` is true."""
        return Candidates(
            self.children,
            self.mothers,
            child=self.child[keep],
            mother=self.mother[keep],
            cost=self.cost[keep],
            metres=self.metres[keep],
            closeness=self.closeness[keep],
            measured=self.measured[keep],
            child_needs=self.child_needs,
            mother_answers=self.mother_answers,
        )

    def without(self, excluded: Iterable[tuple[int, int]]) -> Candidates:
        """Drop the pairs whose (child id, mother id) is in `excluded`."""
        banned = _pair_keys_of(excluded)
        if banned.size == 0:
            return self
        child_ids = np.fromiter((c.id for c in self.children), dtype=np.int64, count=len(self.children))
        mother_ids = np.fromiter((m.id for m in self.mothers), dtype=np.int64, count=len(self.mothers))
        keys = _pair_keys(child_ids[self.child], mother_ids[self.mother])
        return self.select(~np.isin(keys, banned))

    def pair(self, a: int) -> Pair:
        c, m = int(self.child[a]), int(self.mother[a])
        needs = int(self.child_needs[c])
        answered = int(self.mother_answers[m])
        return Pair(
            child=c,
            mother=m,
            cost=int(self.cost[a]),
            metres=int(self.metres[a]),
            closeness=REACHES[int(self.closeness[a])],
            measured=bool(self.measured[a]),
            met_needs=_needs_of(needs & answered),
            unmet_needs=_needs_of(needs & ~answered),
        )

    @property
    def pairs(self) -> list[Pair]:
        """Every pair as an object (for small candidate sets: a child's suggestions, tests)."""
        return [self.pair(a) for a in range(len(self))]

    def explain(self, a: int) -> str:
        """`explain(self.pair(a), mother)`, faster: the needs part is made once per kind of
        child and mother, and the arrays are read as lists."""
        if self._lists is None:
            self._lists = (
                self.child.tolist(),
                self.mother.tolist(),
                self.metres.tolist(),
                self.closeness.tolist(),
                self.measured.tolist(),
                self.child_needs.tolist(),
                self.mother_answers.tolist(),
            )
        child, mother_idx, metres, closeness, measured, child_needs, answers = self._lists
        c, m = child[a], mother_idx[a]
        mother = self.mothers[m]
        key = (child_needs[c], mother.specialties)
        needs_text = self._needs_text.get(key)
        if needs_text is None:
            needs_text = self._needs_text[key] = _needs_text(
                _needs_of(key[0] & answers[m]), _needs_of(key[0] & ~answers[m]), mother
            )
        return _explanation(REACHES[closeness[a]], metres[a], measured[a], needs_text, mother)

    def instance(self) -> Instance:
        return Instance(
            must_cover=np.fromiter(
                (c.must_cover for c in self.children), dtype=np.bool_, count=len(self.children)
            ),
            capacity=np.fromiter((m.free for m in self.mothers), dtype=np.int64, count=len(self.mothers)),
            arc_child=self.child.astype(np.int32),
            arc_mother=self.mother.astype(np.int32),
            arc_cost=self.cost.astype(np.int64),
        )

    def by_child(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(order, starts): the pairs sorted by child, then cost, then mother id; the pairs of child
        i are order[starts[i]:starts[i + 1]]."""
        mother_ids = np.fromiter((m.id for m in self.mothers), dtype=np.int64, count=len(self.mothers))
        order = np.lexsort((mother_ids[self.mother], self.cost, self.child))
        starts = np.searchsorted(self.child[order], np.arange(len(self.children) + 1))
        return order.astype(np.int64), starts.astype(np.int64)


def _pair_keys(child_ids: NDArray[np.int64], mother_ids: NDArray[np.int64]) -> NDArray[np.int64]:
    return (child_ids.astype(np.int64) << 32) | mother_ids.astype(np.int64)


def _pair_keys_of(pairs: Iterable[tuple[int, int]]) -> NDArray[np.int64]:
    items = list(pairs)
    if not items:
        return np.empty(0, dtype=np.int64)
    arr = np.asarray(items, dtype=np.int64)
    return _pair_keys(arr[:, 0], arr[:, 1])


def _xy(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.float64]:
    """Metres on a local plane (equirectangular at Chongqing's latitude: errors < 0.5 % within a
    district), as an (n, 2) array."""
    return np.column_stack((lon * (111_320.0 * math.cos(math.radians(29.5))), lat * 110_540.0))


def _float_or_nan(v: float | None) -> float:
    return math.nan if v is None else float(v)


class _Table:
    """Columns of the children's or the mothers' attributes (0 where a kind has none)."""

    def __init__(self, points: Sequence[ChildPoint] | Sequence[MotherPoint]) -> None:
        n = len(points)

        def column(name: str) -> NDArray[np.int64]:
            return np.fromiter((getattr(p, name, 0) for p in points), dtype=np.int64, count=n)

        self.district_id = column("district_id")
        self.town_id = column("town_id")
        self.village_id = column("village_id")
        self.age = column("age")
        self.free = column("free")
        self.load = column("load")
        lat = np.fromiter((_float_or_nan(p.lat) for p in points), dtype=np.float64, count=n)
        lon = np.fromiter((_float_or_nan(p.lon) for p in points), dtype=np.float64, count=n)
        self.located = ~(np.isnan(lat) | np.isnan(lon))
        self.xy = _xy(lat, lon)


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
    nc, nm = len(children), len(mothers)
    kids = _Table(children)
    moms = _Table(mothers)
    child_needs = np.fromiter((needs_mask(c.needs) for c in children), dtype=np.int64, count=nc)
    mother_answers = np.fromiter((answers_mask(m.specialties) for m in mothers), dtype=np.int64, count=nm)

    heads: list[NDArray[np.int64]] = []  # child index per pair
    tails: list[NDArray[np.int64]] = []  # mother index per pair
    dists: list[NDArray[np.int64]] = []
    measured: list[NDArray[np.bool_]] = []
    with_room = np.nonzero(moms.free > 0)[0]
    # Least loaded first where the region tree cannot tell mothers apart.
    with_room = with_room[np.lexsort((with_room, moms.load[with_room]))]
    by_district = _groups(moms.district_id[with_room])
    for district, child_idx in _groups(kids.district_id).items():
        pool = with_room[by_district.get(district, np.empty(0, dtype=np.int64))]
        if pool.size == 0:
            continue
        located_pool = pool[moms.located[pool]]
        here = kids.located[child_idx]
        located_kids, unlocated_kids = child_idx[here], child_idx[~here]
        if located_pool.size and located_kids.size:
            k = min(weights.k, located_pool.size)
            d, pos = cKDTree(moms.xy[located_pool]).query(kids.xy[located_kids], k=k)
            d, pos = d.reshape(len(located_kids), k), pos.reshape(len(located_kids), k)
            heads.append(np.repeat(located_kids, k))
            tails.append(located_pool[pos.ravel()])
            dists.append(np.rint(d.ravel()).astype(np.int64))
            measured.append(np.ones(d.size, dtype=np.bool_))
        # The region tree: mothers without coordinates for children with them, everyone with
        # room for children without; village, then town, then district, k at most.
        for kids_here, tree_pool in ((located_kids, pool[~moms.located[pool]]), (unlocated_kids, pool)):
            if kids_here.size == 0 or tree_pool.size == 0:
                continue
            for village, members in _groups(kids.village_id[kids_here]).items():
                group_kids = kids_here[members]
                town = int(kids.town_id[group_kids[0]])
                ranked, metres = _tree_nearest(tree_pool, moms, village, town, weights.k)
                if ranked.size == 0:
                    continue
                heads.append(np.repeat(group_kids, ranked.size))
                tails.append(np.tile(ranked, group_kids.size))
                dists.append(np.tile(metres, group_kids.size))
                measured.append(np.zeros(ranked.size * group_kids.size, dtype=np.bool_))

    empty = np.empty(0, dtype=np.int64)
    ci = np.concatenate(heads) if heads else empty
    mi = np.concatenate(tails) if tails else empty
    metres_all = np.concatenate(dists) if dists else empty
    measured_all = np.concatenate(measured) if measured else np.empty(0, dtype=np.bool_)
    closeness = np.where(
        kids.village_id[ci] == moms.village_id[mi], 0, np.where(kids.town_id[ci] == moms.town_id[mi], 1, 2)
    ).astype(np.int8)
    keep = closeness <= REACHES.index(reach)
    keep &= _admits(children, mothers, kids, ci, mi)
    if excluded:
        banned = _pair_keys_of(excluded)
        if banned.size:
            child_ids = np.fromiter((c.id for c in children), dtype=np.int64, count=nc)
            mother_ids = np.fromiter((m.id for m in mothers), dtype=np.int64, count=nm)
            keep &= ~np.isin(_pair_keys(child_ids[ci], mother_ids[mi]), banned)
    ci, mi, metres_all, measured_all, closeness = (
        ci[keep],
        mi[keep],
        metres_all[keep],
        measured_all[keep],
        closeness[keep],
    )
    # Each child keeps its k nearest (measured and nominal distances together).
    order = np.lexsort((mi, metres_all, ci))
    ranks = np.arange(order.size) - np.searchsorted(ci[order], ci[order])
    order = order[ranks < weights.k]
    ci, mi, metres_all, measured_all, closeness = (
        ci[order],
        mi[order],
        metres_all[order],
        measured_all[order],
        closeness[order],
    )
    unmet = _POPCOUNT[child_needs[ci] & ~mother_answers[mi]]
    cost = (
        metres_all // weights.metres_per_unit
        + weights.unmet_need * unmet
        + weights.per_current_child * moms.load[mi]
    )
    return Candidates(
        children,
        mothers,
        child=ci.astype(np.int32),
        mother=mi.astype(np.int32),
        cost=cost.astype(np.int64),
        metres=metres_all,
        closeness=closeness,
        measured=measured_all,
        child_needs=child_needs,
        mother_answers=mother_answers,
    )


def _groups(values: NDArray[np.int64]) -> dict[int, NDArray[np.int64]]:
    """value → the positions holding it (in order)."""
    if values.size == 0:
        return {}
    order = np.argsort(values, kind="stable")
    keys, starts = np.unique(values[order], return_index=True)
    return {int(key): part for key, part in zip(keys.tolist(), np.split(order, starts[1:]), strict=True)}


def _tree_nearest(
    pool: NDArray[np.int64], moms: _Table, village: int, town: int, k: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Up to k mothers of `pool` by the region tree: the village's, then the town's, then the
    district's (pool order within each), with their nominal distances."""
    same_village = moms.village_id[pool] == village
    same_town = (moms.town_id[pool] == town) & ~same_village
    rest = ~(same_village | same_town)
    ranked = np.concatenate((pool[same_village], pool[same_town], pool[rest]))[:k]
    metres = np.concatenate(
        (
            np.full(int(same_village.sum()), NOMINAL_METRES["village"], dtype=np.int64),
            np.full(int(same_town.sum()), NOMINAL_METRES["town"], dtype=np.int64),
            np.full(int(rest.sum()), NOMINAL_METRES["district"], dtype=np.int64),
        )
    )[:k]
    return ranked, metres


def _admits(
    children: Sequence[ChildPoint],
    mothers: Sequence[MotherPoint],
    kids: _Table,
    ci: NDArray[np.int64],
    mi: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """The mothers' preferences: the child's age within her range, the child's sex if she gave one."""
    ok = np.ones(ci.size, dtype=np.bool_)
    picky = [
        j for j, m in enumerate(mothers) if m.age_min is not None or m.age_max is not None or m.child_sex
    ]
    if not picky:
        return ok
    nm = len(mothers)
    age_min = np.fromiter(
        (m.age_min if m.age_min is not None else -1 for m in mothers), dtype=np.int64, count=nm
    )
    age_max = np.fromiter(
        (m.age_max if m.age_max is not None else 10_000 for m in mothers), dtype=np.int64, count=nm
    )
    sexes = {"": 0, "M": 1, "F": 2}
    mother_sex = np.fromiter((sexes.get(m.child_sex, 0) for m in mothers), dtype=np.int64, count=nm)
    child_sex = np.fromiter((sexes.get(c.sex, 0) for c in children), dtype=np.int64, count=len(children))
    age = kids.age[ci]
    ok &= (age >= age_min[mi]) & (age <= age_max[mi])
    ok &= (mother_sex[mi] == 0) | (mother_sex[mi] == child_sex[ci])
    return ok


def _needs_text(met: tuple[str, ...], unmet: tuple[str, ...], mother: MotherPoint) -> str:
    parts = []
    for need in met:
        answering = sorted(NEEDS[need][0] & mother.specialties)
        parts.append(f"{'、'.join(SPECIALTY_LABELS[s] for s in answering)}专长匹配{NEEDS[need][1]}")
    for need in unmet:
        parts.append(f"无对应专长（{NEEDS[need][1]}）")
    return "；".join(parts)


def _explanation(closeness: str, metres: int, measured: bool, needs_text: str, mother: MotherPoint) -> str:
    distance = f"{metres / 1000:.1f} 公里" if measured else "无坐标，按区划估算"
    load = f"当前结对 {mother.load}/{mother.capacity}"
    if needs_text:
        return f"{CLOSENESS_LABELS[closeness]}，{distance}；{needs_text}；{load}"
    return f"{CLOSENESS_LABELS[closeness]}，{distance}；{load}"


def explain(pair: Pair, mother: MotherPoint) -> str:
    """Why a pair was proposed, in Chinese, e.g.
    "同村，1.2 公里；心理健康专长匹配心理健康困难；当前结对 1/3"."""
    return _explanation(
        pair.closeness,
        pair.metres,
        pair.measured,
        _needs_text(pair.met_needs, pair.unmet_needs, mother),
        mother,
    )
