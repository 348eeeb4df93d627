from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aixin.dashboard.selectors import overview
from tests import factories
from tests.dashboard.helpers import BOTH_AWAY, UNSUPPORTED, build_world, record_progress


@pytest.fixture
def world(tree, users):
    return build_world(tree, admin=users["district_admin"])


def tallies(items):
    return {t.key: t.count for t in items}


def test_district_overview_counts_active_children_by_category_and_tier(tree, users, world):
    o = overview(user=users["district_admin"], region=tree.district_a, today=world.today)

    assert o.children.active == 6
    assert tallies(o.children.by_category) == {
        "is_left_behind": 3,
        "is_scattered_orphan": 1,
        "is_de_facto_unsupported": 1,
        "is_other_difficulty": 0,
        "is_justice_involved": 0,
    }
    assert tallies(o.children.by_tier) == {"many_to_one": 1, "one_to_one": 3, "group": 2}


def test_district_overview_measures_the_three_coverage_targets(tree, users, world):
    o = overview(user=users["district_admin"], region=tree.district_a, today=world.today)

    got = {c.key: (c.done, c.total, c.percent, c.target_percent) for c in o.coverage}
    assert got == {
        "orphans_one_to_one": (1, 2, 50.0, 100),
        "difficulty_paired": (3, 4, 75.0, 100),
        "group_reach": (3, 6, 50.0, 100),
    }
    assert o.activities.held == 1
    assert o.activities.children_reached == 3


def test_district_overview_counts_paired_children_not_contacted_for_14_and_30_days(tree, users, world):
    o = overview(user=users["district_admin"], region=tree.district_a, today=world.today)

    assert o.children.paired == 3
    assert o.children.not_contacted_14 == 2  # a4 (20 days) and a5 (never)
    assert o.children.not_contacted_30 == 1  # a5


def test_a_child_paired_last_week_is_not_yet_counted_as_not_contacted(tree, users, world):
    child = factories.make_child(tree.village_a2, name="新结对", conditions=UNSUPPORTED)
    factories.make_active_pairing(child, world.mothers["m4"], start=world.today - datetime.timedelta(days=7))

    o = overview(user=users["district_admin"], region=tree.district_a, today=world.today)

    assert o.children.paired == 4
    assert (o.children.not_contacted_14, o.children.not_contacted_30) == (2, 1)


def test_district_overview_summarises_loving_mothers(tree, users, world):
    o = overview(user=users["district_admin"], region=tree.district_a, today=world.today)
    m = o.mothers

    assert (m.total, m.active, m.load, m.capacity, m.load_percent) == (4, 3, 3, 6, 50.0)
    assert tallies(m.by_status)["active"] == 3
    assert tallies(m.by_status)["screening"] == 1
    assert tallies(m.load_distribution) == {"0": 1, "1": 1, "2": 1, "3+": 0}
    assert (m.trained, m.trained_percent) == (2, 66.7)


def test_district_overview_breaks_down_by_town_and_names_recruitment_hot_spots(tree, users, world):
    o = overview(user=users["district_admin"], region=tree.district_a, today=world.today)

    rows = {r.code: r for r in o.breakdown}
    assert list(rows) == [tree.town_a1.code, tree.town_a2.code]
    a1, a2 = rows[tree.town_a1.code], rows[tree.town_a2.code]
    assert (a1.children, a1.left_behind, a1.must_cover, a1.must_cover_paired, a1.coverage_percent) == (
        4,
        2,
        3,
        2,
        66.7,
    )
    assert (a1.active_mothers, a1.left_behind_per_mother) == (1, 2.0)
    assert (a2.children, a2.left_behind, a2.must_cover, a2.must_cover_paired, a2.coverage_percent) == (
        2,
        1,
        1,
        1,
        100.0,
    )
    assert (a2.active_mothers, a2.left_behind_per_mother) == (2, 0.5)
    assert [r.code for r in o.hot_spots] == [tree.town_a1.code, tree.town_a2.code]
    assert o.area_level == "town"


def test_a_town_with_left_behind_children_and_no_mother_is_the_hottest_spot(tree, users, world):
    lonely_town = tree.district_b.children.exclude(pk=tree.town_b1.pk).get()
    factories.make_child(lonely_town.children.first(), name="乙四", conditions=BOTH_AWAY)

    o = overview(user=users["district_b_admin"], region=tree.district_b, today=world.today)

    assert o.hot_spots[0].code == lonely_town.code
    assert o.hot_spots[0].active_mothers == 0
    assert o.hot_spots[0].left_behind_per_mother is None


def test_compliance_per_rule_comes_from_the_care_projection_for_pairings_in_the_region(tree, users, world):
    care = pytest.importorskip("aixin.care.selectors")
    record_progress(world.pairings["a2"], "weekly_contact", world.today)
    record_progress(world.pairings["b1"], "weekly_contact", world.today)

    o = overview(user=users["district_admin"], region=tree.district_a, today=world.today)

    rows = {r.rule_code: r for r in o.compliance}
    assert o.compliance_available is True
    assert len(rows) == 7
    weekly = rows["weekly_contact"]
    assert (weekly.due, weekly.done, weekly.overdue, weekly.percent) == (3, 1, 2, 33.3)
    from aixin.pairing.models import Pairing

    expected = care.current_compliance(Pairing.objects.filter(district=tree.district_a), today=world.today)
    assert [(r.rule_code, r.due, r.done, r.overdue) for r in o.compliance] == [
        (r.rule_code, r.due, r.done, r.overdue) for r in expected
    ]
    assert o.overdue_total == sum(r.overdue for r in expected)


def test_town_supervisor_overview_counts_only_the_town(tree, users, world):
    o = overview(user=users["town_supervisor"], region=tree.town_a1, today=world.today)

    assert o.children.active == 4
    assert o.mothers.active == 1
    assert [r.code for r in o.breakdown] == [tree.village_a1.code, tree.village_a1b.code]
    assert [(r.children, r.must_cover) for r in o.breakdown] == [(3, 2), (1, 1)]
    assert [b.code for b in o.breadcrumb] == [tree.town_a1.code]
    assert o.activities.held == 1


def test_village_overview_has_no_breakdown(tree, users, world):
    o = overview(user=users["village_director"], region=tree.village_a1, today=world.today)

    assert o.children.active == 3
    assert o.breakdown == []
    assert o.hot_spots == []
    assert o.area_level is None


def test_city_overview_adds_up_both_districts(tree, users, world):
    o = overview(user=users["city_admin"], region=tree.city, today=world.today)

    assert o.children.active == 8
    assert [(r.code, r.children) for r in o.breakdown] == [
        (tree.district_a.code, 6),
        (tree.district_b.code, 2),
    ]
    assert [b.code for b in o.breadcrumb] == [tree.city.code]


def test_city_overview_query_count_does_not_grow_with_the_data(tree, users, world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            overview(user=users["city_admin"], region=tree.city, today=world.today)
        return len(ctx.captured_queries)

    before = queries()
    for n in range(6):
        child = factories.make_child(tree.village_a1b, name=f"丙{n}", conditions=UNSUPPORTED)
        factories.make_active_pairing(child, factories.make_volunteer(tree.village_a1b, name=f"丁{n}"))

    assert queries() == before
    assert before <= 30


# --- the page ---------------------------------------------------------------------------------


def test_overview_page_defaults_to_the_users_own_district_and_shows_numbers_as_text(
    tree, users, world, login
):
    response = login(users["district_admin"]).get(reverse("dashboard:overview"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "万州区工作看板" in html
    assert 'data-kpi="children">6<' in html
    assert 'data-kpi="orphans_one_to_one">50.0%<' in html
    assert "1 / 2，目标 100%" in html
    assert f'href="?region={tree.town_a1.code}"' in html
    assert 'data-chart="chart-category"' in html
    assert 'id="chart-category" type="application/json"' in html
    assert "echarts.min.js" in html
    assert (
        f'<script id="drill-codes" type="application/json">["{tree.town_a1.code}", "{tree.town_a2.code}"]'
        in html
    )
    assert "<script>" not in html


def test_overview_page_drills_down_to_a_town_in_scope(tree, users, world, login):
    response = login(users["district_admin"]).get(
        reverse("dashboard:overview"), {"region": tree.town_a1.code}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "万州1镇工作看板" in html
    assert 'data-kpi="children">4<' in html
    assert f'<a href="?region={tree.district_a.code}">万州区</a>' in html


def test_district_admin_gets_404_for_another_districts_dashboard(tree, users, world, login):
    client = login(users["district_admin"])
    for code in (tree.district_b.code, tree.town_b1.code, tree.city.code, "999999"):
        response = client.get(reverse("dashboard:overview"), {"region": code})
        assert response.status_code == 404, code
        assert "涪陵" not in response.content.decode()


def test_town_supervisor_cannot_open_the_district_dashboard(tree, users, world, login):
    client = login(users["town_supervisor"])

    assert client.get(reverse("dashboard:overview"), {"region": tree.district_a.code}).status_code == 404
    assert client.get(reverse("dashboard:overview"), {"region": tree.town_a2.code}).status_code == 404
    response = client.get(reverse("dashboard:overview"))
    assert response.status_code == 200
    assert 'data-kpi="children">4<' in response.content.decode()


def test_volunteer_is_refused_the_dashboard(tree, users, world, login):
    response = login(world.mothers["m1"].user).get(reverse("dashboard:overview"))

    assert response.status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client, tree):
    response = client.get(reverse("dashboard:overview"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_dashboard_page_is_read_only(tree, users, world, login):
    response = login(users["district_admin"]).post(reverse("dashboard:overview"))

    assert response.status_code == 405


def test_an_empty_region_shows_dashes_not_errors(tree, users, login):
    response = login(users["district_b_admin"]).get(reverse("dashboard:overview"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-kpi="children">0<' in html
    assert 'data-kpi="orphans_one_to_one">—<' in html


def test_overview_uses_todays_calendar_year_for_group_reach(tree, users, world):
    next_year = datetime.date(world.today.year + 1, 1, 2)

    o = overview(user=users["district_admin"], region=tree.district_a, today=next_year)

    assert {c.key: c.done for c in o.coverage}["group_reach"] == 0
    assert o.activities.held == 0


def test_the_dashboard_is_computed_once_a_minute_per_scope_when_caching_is_on(
    tree, users, world, settings, client
):
    from django.core.cache import cache

    cache.clear()
    settings.AIXIN_DASHBOARD_CACHE_SECONDS = 60
    client.force_login(users["district_admin"])
    first = client.get(reverse("dashboard:overview"))
    with CaptureQueriesContext(connection) as fresh:
        client.get(reverse("dashboard:overview"))
    settings.AIXIN_DASHBOARD_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as uncached:
        client.get(reverse("dashboard:overview"))
    assert first.status_code == 200
    assert len(fresh.captured_queries) < len(uncached.captured_queries) - 5
    cache.clear()
