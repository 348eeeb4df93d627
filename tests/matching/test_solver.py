"""The exact solver against brute force on small random instances: must-cover children first,
then as many children as possible, then the lowest cost; capacities and candidate pairs kept."""

from __future__ import annotations

import itertools
import random

import pytest

from aixin.matching.solver import Instance, SolverError, solve, solve_greedy, solve_two_phase


def brute_force(inst: Instance) -> tuple[int, int, int]:
    """The best (must unmatched, others unmatched, cost) over every assignment."""
    options: list[list[tuple[int, int]]] = [[(-1, 0)] for _ in range(inst.n_children)]
    for child, mother, cost in zip(
        inst.arc_child.tolist(), inst.arc_mother.tolist(), inst.arc_cost.tolist(), strict=True
    ):
        options[child].append((mother, cost))
    best = None
    for combo in itertools.product(*options):
        used = [0] * inst.n_mothers
        ok = True
        for mother, _cost in combo:
            if mother >= 0:
                used[mother] += 1
                if used[mother] > inst.capacity[mother]:
                    ok = False
                    break
        if not ok:
            continue
        must = sum(1 for c, (m, _) in enumerate(combo) if m < 0 and inst.must_cover[c])
        other = sum(1 for c, (m, _) in enumerate(combo) if m < 0 and not inst.must_cover[c])
        key = (must, other, sum(cost for m, cost in combo if m >= 0))
        best = key if best is None or key < best else best
    assert best is not None
    return best


def random_instance(rng: random.Random) -> Instance:
    n, m = rng.randint(1, 6), rng.randint(0, 4)
    must = [rng.random() < 0.3 for _ in range(n)]
    capacity = [rng.randint(0, 2) for _ in range(m)]
    arcs = [(c, mo, rng.randint(0, 50)) for c in range(n) for mo in range(m) if rng.random() < 0.5]
    return Instance.build(must, capacity, arcs)


@pytest.mark.parametrize("seed", range(300))
def test_the_solver_finds_the_lexicographic_optimum_that_brute_force_finds(seed):
    inst = random_instance(random.Random(seed))
    solution = solve(inst)
    assert solution.key(inst) == brute_force(inst)
    # The assignment is real: only candidate pairs, no mother over her free places.
    used = [0] * inst.n_mothers
    for child, arc in enumerate(solution.arc_of.tolist()):
        if arc >= 0:
            assert inst.arc_child[arc] == child and inst.arc_mother[arc] == solution.mother_of[child]
            used[solution.mother_of[child]] += 1
    assert all(u <= cap for u, cap in zip(used, inst.capacity.tolist(), strict=True))


def test_a_must_cover_child_is_covered_even_when_that_leaves_two_other_children_out():
    # Mother 0 has one place; child 0 (must-cover) can only go to her, children 1 and 2 too.
    inst = Instance.build([True, False, False], [1], [(0, 0, 90), (1, 0, 1), (2, 0, 1)])
    assert solve(inst).mother_of.tolist() == [0, -1, -1]


def test_more_children_matched_beats_a_cheaper_assignment():
    # Child 0 could take the near mother 0, but then child 1 (who only reaches mother 0) is left.
    inst = Instance.build([False, False], [1, 1], [(0, 0, 1), (0, 1, 40), (1, 0, 5)])
    solution = solve(inst)
    assert solution.mother_of.tolist() == [1, 0] and solution.cost == 45


def test_greedy_down_the_list_leaves_out_a_child_the_optimum_covers():
    inst = Instance.build([False, True], [1, 1], [(0, 0, 1), (0, 1, 2), (1, 0, 3)])
    greedy, best = solve_greedy(inst), solve(inst)
    assert greedy.mother_of.tolist() == [0, -1]  # the must-cover child 1 is left without a mother
    assert best.mother_of.tolist() == [1, 0]
    assert best.key(inst) < greedy.key(inst)


def test_no_mothers_or_no_children_give_an_empty_answer():
    assert solve(Instance.build([True, False], [], [])).mother_of.tolist() == [-1, -1]
    assert solve(Instance.build([], [2], [])).matched == 0


def test_negative_costs_are_refused():
    with pytest.raises(SolverError):
        solve(Instance.build([False], [1], [(0, 0, -1)]))


def test_an_instance_too_large_for_exact_penalties_is_solved_in_two_phases_not_wrongly():
    n = 200_000  # as one graph: the must-cover penalty times the node count would overflow
    inst = Instance.build([i == 7 for i in range(n)], [1], [(0, 0, 1_000_000), (7, 0, 5)])
    best = solve(inst)
    assert best.mother_of[7] == 0 and best.matched == 1  # the must-cover child takes the place


@pytest.mark.parametrize("seed", range(60))
def test_the_two_phase_solver_finds_the_same_optimum_as_brute_force(seed):
    inst = random_instance(random.Random(10_000 + seed))
    assert solve_two_phase(inst).key(inst) == brute_force(inst)
