"""Exact assignment of children to loving mothers (R-6.2, issue 4): min-cost flow with the
program's priorities applied lexicographically. Framework-free (numpy + OR-Tools).

The network (shared/reference/matching-notes.md): one node per child (supply 1), one per mother,
one sink. Arcs: child → mother for each candidate pair (capacity 1, the pair's cost); mother →
sink (capacity = her free capacity, cost 0); child → sink, "unassigned" (capacity 1) with a
penalty. Every instance is feasible, and the penalties make the optimum lexicographic:

1. as few must-cover children (scattered orphans, de-facto unsupported) unmatched as possible,
2. then as few other children unmatched as possible,
3. then the lowest total cost.

With costs in [0, C] and n children (n_o of them not must-cover), a total cost differs by at most
n·C between two assignments, so P_other = n·C + 1 makes one more matched child worth more than
any cost, and P_must = n_o·P_other + n·C + 1 makes one more matched must-cover child worth more
than anything else. Where those penalties would overflow OR-Tools' cost range (e.g. a whole
city as one graph), `solve_two_phase` gives the same optimum with small numbers: first the fewest
unmatched children of each kind (costs ignored), then the cheapest assignment that leaves out no
more than that of each kind. (Per district is faster still: pairs never cross a district.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Instance:
    """Children 0..n-1, mothers 0..m-1 and the candidate pairs (arcs) between them."""

    must_cover: NDArray[np.bool_]  # per child
    capacity: NDArray[np.int64]  # per mother: free places
    arc_child: NDArray[np.int32]
    arc_mother: NDArray[np.int32]
    arc_cost: NDArray[np.int64]  # >= 0

    @property
    def n_children(self) -> int:
        return int(self.must_cover.shape[0])

    @property
    def n_mothers(self) -> int:
        return int(self.capacity.shape[0])

    @classmethod
    def build(
        cls,
        must_cover: list[bool],
        capacity: list[int],
        arcs: list[tuple[int, int, int]],
    ) -> Instance:
        child, mother, cost = (list(col) for col in zip(*arcs, strict=True)) if arcs else ([], [], [])
        return cls(
            must_cover=np.asarray(must_cover, dtype=np.bool_),
            capacity=np.asarray(capacity, dtype=np.int64),
            arc_child=np.asarray(child, dtype=np.int32),
            arc_mother=np.asarray(mother, dtype=np.int32),
            arc_cost=np.asarray(cost, dtype=np.int64),
        )


@dataclass(frozen=True)
class Solution:
    mother_of: NDArray[np.int64]  # per child: the mother's index, or -1
    arc_of: NDArray[np.int64]  # per child: the index of the chosen arc, or -1
    cost: int  # the sum of the chosen arcs' costs

    @property
    def matched(self) -> int:
        return int((self.mother_of >= 0).sum())

    def must_cover_matched(self, instance: Instance) -> int:
        return int(((self.mother_of >= 0) & instance.must_cover).sum())

    def key(self, instance: Instance) -> tuple[int, int, int]:
        """(must-cover unmatched, others unmatched, cost): smaller is better, in this order."""
        unmatched = self.mother_of < 0
        must = int((unmatched & instance.must_cover).sum())
        return must, int(unmatched.sum()) - must, self.cost


class SolverError(RuntimeError):
    pass


def penalties(instance: Instance) -> tuple[int, int]:
    """(P_other, P_must), see the module's docstring."""
    n = instance.n_children
    n_other = int((~instance.must_cover).sum())
    top = int(instance.arc_cost.max()) if instance.arc_cost.size else 0
    p_other = n * top + 1
    p_must = n_other * p_other + n * top + 1
    return p_other, p_must


def _check(instance: Instance) -> None:
    if instance.arc_cost.size and int(instance.arc_cost.min()) < 0:
        raise SolverError("费用不能为负数")
    if instance.capacity.size and int(instance.capacity.min()) < 0:
        raise SolverError("剩余结对名额不能为负数")


def solve(instance: Instance) -> Solution:
    """The lexicographically optimal assignment (see the module's docstring)."""
    _check(instance)
    n, m, k = instance.n_children, instance.n_mothers, int(instance.arc_cost.size)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return Solution(mother_of=empty, arc_of=empty, cost=0)
    p_other, p_must = penalties(instance)
    # The penalties of all children must fit int64, and OR-Tools' cost scaling multiplies costs
    # by the number of nodes (BAD_COST_RANGE beyond).
    if p_must > INT64_MAX // max(n, 1) or p_must > INT64_MAX // (4 * (n + m + 2)):
        return solve_two_phase(instance)
    sink = n + m
    supplies = np.zeros(n + m + 1, dtype=np.int64)
    supplies[:n], supplies[sink] = 1, -n
    flow = _min_cost_flow(
        n + m + 1,
        np.concatenate([instance.arc_child, np.arange(n, n + m), np.arange(n)]),
        np.concatenate([instance.arc_mother.astype(np.int64) + n, np.full(m, sink), np.full(n, sink)]),
        np.concatenate([np.ones(k, dtype=np.int64), instance.capacity, np.ones(n, dtype=np.int64)]),
        np.concatenate(
            [instance.arc_cost, np.zeros(m, dtype=np.int64), np.where(instance.must_cover, p_must, p_other)]
        ),
        supplies,
    )
    return _solution(instance, flow.flows(np.arange(k, dtype=np.int32)) > 0 if k else np.zeros(0, np.bool_))


def _min_cost_flow(
    n_nodes: int,
    tails: NDArray[np.int64],
    heads: NDArray[np.int64],
    capacities: NDArray[np.int64],
    costs: NDArray[np.int64],
    supplies: NDArray[np.int64],
) -> min_cost_flow.SimpleMinCostFlow:
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacities.astype(np.int64), costs.astype(np.int64)
    )
    flow.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies.astype(np.int64))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise SolverError(f"最小费用流求解失败（状态 {status}）")
    return flow


def solve_two_phase(instance: Instance) -> Solution:
    """The same lexicographic optimum as `solve`, without large penalties (see the module's
    docstring): any size of instance fits OR-Tools' cost range."""
    _check(instance)
    n, m, k = instance.n_children, instance.n_mothers, int(instance.arc_cost.size)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return Solution(mother_of=empty, arc_of=empty, cost=0)
    must = instance.must_cover
    kids = np.arange(n, dtype=np.int64)
    mothers = np.arange(n, n + m, dtype=np.int64)
    arc_tails = instance.arc_child.astype(np.int64)
    arc_heads = instance.arc_mother.astype(np.int64) + n
    ones_k, ones_n = np.ones(k, dtype=np.int64), np.ones(n, dtype=np.int64)
    # 1. The fewest must-cover children unmatched, then the fewest others (costs ignored).
    sink = n + m
    supplies = np.zeros(n + m + 1, dtype=np.int64)
    supplies[:n], supplies[sink] = 1, -n
    first = _min_cost_flow(
        n + m + 1,
        np.concatenate([arc_tails, mothers, kids]),
        np.concatenate([arc_heads, np.full(m, sink), np.full(n, sink)]),
        np.concatenate([ones_k, instance.capacity, ones_n]),
        np.concatenate([np.zeros(k + m, dtype=np.int64), np.where(must, int((~must).sum()) + 1, 1)]),
        supplies,
    )
    left = first.flows(np.arange(k + m, k + m + n, dtype=np.int32)) > 0
    # 2. The cheapest assignment leaving out at most as many of each kind.
    left_must, left_other, sink = n + m, n + m + 1, n + m + 2
    supplies = np.zeros(n + m + 3, dtype=np.int64)
    supplies[:n], supplies[sink] = 1, -n
    second = _min_cost_flow(
        n + m + 3,
        np.concatenate([arc_tails, mothers, kids, [left_must, left_other]]),
        np.concatenate([arc_heads, np.full(m, sink), np.where(must, left_must, left_other), [sink, sink]]),
        np.concatenate(
            [ones_k, instance.capacity, ones_n, [int((left & must).sum()), int((left & ~must).sum())]]
        ),
        np.concatenate([instance.arc_cost.astype(np.int64), np.zeros(m + n + 2, dtype=np.int64)]),
        supplies,
    )
    return _solution(instance, second.flows(np.arange(k, dtype=np.int32)) > 0 if k else np.zeros(0, np.bool_))


def _solution(instance: Instance, chosen: NDArray[np.bool_]) -> Solution:
    n = instance.n_children
    mother_of = np.full(n, -1, dtype=np.int64)
    arc_of = np.full(n, -1, dtype=np.int64)
    picked = np.nonzero(chosen)[0]
    mother_of[instance.arc_child[picked]] = instance.arc_mother[picked]
    arc_of[instance.arc_child[picked]] = picked
    return Solution(mother_of=mother_of, arc_of=arc_of, cost=int(instance.arc_cost[picked].sum()))


def solve_greedy(instance: Instance) -> Solution:
    """The spreadsheet way, as a baseline: down the list, each child takes its cheapest (nearest)
    candidate who still has room."""
    _check(instance)
    n = instance.n_children
    room = instance.capacity.astype(np.int64).tolist()
    mother_of = np.full(n, -1, dtype=np.int64)
    arc_of = np.full(n, -1, dtype=np.int64)
    order = np.lexsort((instance.arc_cost, instance.arc_child))  # per child, cheapest first
    starts = np.searchsorted(instance.arc_child[order], np.arange(n + 1)).tolist()
    order_list, arc_mother = order.tolist(), instance.arc_mother.tolist()
    for c in range(n):
        for a in order_list[starts[c] : starts[c + 1]]:
            mother = arc_mother[a]
            if room[mother] > 0:
                room[mother] -= 1
                mother_of[c] = mother
                arc_of[c] = a
                break
    chosen = arc_of[arc_of >= 0]
    return Solution(mother_of=mother_of, arc_of=arc_of, cost=int(instance.arc_cost[chosen].sum()))
