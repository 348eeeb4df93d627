"""Candidate pairs: reach, the k nearest by coordinates, the region tree without them, hard
rules (free places, age range, sex, exclusions), costs and the explanation in Chinese."""

from __future__ import annotations

from aixin.matching.candidates import ChildPoint, MotherPoint, Weights, explain, generate
from aixin.matching.solver import solve

LAT, LON = 29.56, 106.55  # 重庆 city centre


def child(i: int, *, village: int = 11, town: int = 1, district: int = 100, **kw) -> ChildPoint:
    return ChildPoint(
        id=i,
        district_id=district,
        town_id=town,
        village_id=village,
        age=kw.pop("age", 9),
        sex=kw.pop("sex", "F"),
        **kw,
    )


def mother(i: int, *, village: int = 11, town: int = 1, district: int = 100, **kw) -> MotherPoint:
    return MotherPoint(
        id=i,
        district_id=district,
        town_id=town,
        village_id=village,
        free=kw.pop("free", 1),
        load=kw.pop("load", 0),
        capacity=kw.pop("capacity", 3),
        **kw,
    )


def test_mothers_of_another_district_are_never_candidates():
    found = generate([child(1)], [mother(1, district=200, town=2, village=21), mother(2)])
    assert [p.mother for p in found.pairs] == [1]


def test_a_village_reach_keeps_only_mothers_of_the_same_village():
    mothers = [mother(1, village=12), mother(2)]
    assert [p.mother for p in generate([child(1)], mothers, reach="village").pairs] == [1]
    assert len(generate([child(1)], mothers, reach="town").pairs) == 2


def test_with_coordinates_only_the_k_nearest_mothers_are_candidates_with_their_distance():
    mothers = [mother(i, lat=LAT + 0.01 * i, lon=LON) for i in range(1, 6)]  # ~1.1 km apart
    found = generate([child(1, lat=LAT, lon=LON)], mothers, weights=Weights(k=2))
    assert sorted(p.mother for p in found.pairs) == [0, 1]
    nearest = min(found.pairs, key=lambda p: p.metres)
    assert 1000 < nearest.metres < 1200 and nearest.measured


def test_full_too_young_wrong_sex_and_excluded_mothers_are_dropped():
    mothers = [
        mother(1, free=0),
        mother(2, age_min=12),
        mother(3, child_sex="M"),
        mother(4),
        mother(5),
    ]
    found = generate([child(7, age=9, sex="F")], mothers, excluded=[(7, 4)])
    assert [mothers[p.mother].id for p in found.pairs] == [5]


def test_a_specialty_that_answers_the_childs_need_costs_less_and_is_explained():
    needy = child(1, needs=frozenset({"mental"}), lat=LAT, lon=LON)
    psychologist = mother(1, specialties=frozenset({"psychology"}), load=1, lat=LAT + 0.011, lon=LON)
    neighbour = mother(2, lat=LAT + 0.001, lon=LON)
    found = generate([needy], [psychologist, neighbour])
    by_mother = {p.mother: p for p in found.pairs}
    assert by_mother[0].cost < by_mother[1].cost  # 1.2 km with the specialty beats 0.1 km without
    assert solve(found.instance()).mother_of.tolist() == [0]
    assert explain(by_mother[0], psychologist) == "同村，1.2 公里；心理健康专长匹配心理健康困难；当前结对 1/3"
    assert "无对应专长（心理健康困难）" in explain(by_mother[1], neighbour)


def test_without_coordinates_the_region_tree_orders_village_then_town_then_district():
    mothers = [mother(1, village=31, town=3), mother(2, village=12), mother(3)]
    found = generate([child(1)], mothers, weights=Weights(k=2))
    assert [(p.mother, p.closeness, p.metres) for p in found.pairs] == [
        (2, "village", 500),
        (1, "town", 5000),
    ]
    assert explain(found.pairs[0], mothers[2]).startswith("同村，无坐标，按区划估算")


def test_a_child_with_coordinates_keeps_its_k_nearest_of_located_and_unlocated_mothers_together():
    located = [mother(i, village=12, lat=LAT + 0.05 * i, lon=LON) for i in range(1, 4)]  # 5.5 km +
    same_village_without_point = mother(9)  # nominal 0.5 km: nearer than any located one
    mothers = [*located, same_village_without_point]
    found = generate([child(1, lat=LAT, lon=LON)], mothers, weights=Weights(k=2))
    assert [(mothers[p.mother].id, p.measured) for p in sorted(found.pairs, key=lambda p: p.metres)] == [
        (9, False),
        (1, True),
    ]


def test_dropping_excluded_pairs_afterwards_equals_excluding_them_at_once():
    children = [child(1), child(2, village=12)]
    mothers = [mother(1), mother(2, village=12), mother(3, town=3, village=31)]
    banned = [(1, 2), (2, 1)]
    later = generate(children, mothers).without(banned)
    at_once = generate(children, mothers, excluded=banned)
    assert sorted((p.child, p.mother, p.cost) for p in later.pairs) == sorted(
        (p.child, p.mother, p.cost) for p in at_once.pairs
    )
    assert (0, 1) not in {(p.child, p.mother) for p in later.pairs}


def test_the_fast_explanation_is_the_same_text_as_explaining_one_pair():
    needy = child(1, needs=frozenset({"mental", "study"}), lat=LAT, lon=LON)
    mothers = [
        mother(1, specialties=frozenset({"psychology", "teacher"}), load=1, lat=LAT + 0.01, lon=LON),
        mother(2, specialties=frozenset({"tutoring"}), village=12),
        mother(3),
    ]
    found = generate([needy], mothers)
    for a, pair in enumerate(found.pairs):
        assert found.explain(a) == explain(pair, mothers[pair.mother])
    assert {found.explain(a) for a in range(len(found))} >= {
        "同村，1.1 公里；心理健康专长匹配心理健康困难；教师专长匹配学习困难；当前结对 1/3"
    }
