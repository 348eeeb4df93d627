from __future__ import annotations

import pytest
from django.urls import reverse

from tests.dashboard.helpers import build_world

URL_NAME = "api:stats_overview"


@pytest.fixture
def world(tree, users):
    return build_world(tree, admin=users["district_admin"])


def test_stats_api_returns_the_overview_of_the_users_district(tree, users, world, login):
    response = login(users["district_admin"]).get(reverse(URL_NAME))

    assert response.status_code == 200
    data = response.json()
    assert data["region"] == {"code": "500101", "name": "万州区", "level": 2, "level_label": "区县"}
    assert data["children"]["active"] == 6
    assert [(c["key"], c["done"], c["total"], c["percent"]) for c in data["coverage"]] == [
        ("orphans_one_to_one", 1, 2, 50.0),
        ("difficulty_paired", 3, 4, 75.0),
        ("group_reach", 3, 6, 50.0),
    ]
    assert data["mothers"]["active"] == 3
    assert [r["code"] for r in data["breakdown"]] == [tree.town_a1.code, tree.town_a2.code]
    assert data["today"] == world.today.isoformat()


def test_stats_api_drills_down_to_a_village_in_scope(tree, users, world, login):
    response = login(users["district_admin"]).get(reverse(URL_NAME), {"region": tree.village_a1.code})

    assert response.status_code == 200
    assert response.json()["children"]["active"] == 3
    assert response.json()["breakdown"] == []


def test_stats_api_answers_404_for_another_districts_region(tree, users, world, login):
    client = login(users["district_admin"])
    for code in (tree.district_b.code, tree.village_b1.code, tree.city.code):
        response = client.get(reverse(URL_NAME), {"region": code})
        assert response.status_code == 404, code
        assert response.json() == {"detail": "区划不存在或不在你的管辖范围内"}


def test_district_b_admin_sees_only_district_b_through_the_api(tree, users, world, login):
    data = login(users["district_b_admin"]).get(reverse(URL_NAME)).json()

    assert data["children"]["active"] == 2
    assert data["mothers"]["active"] == 1
    assert login(users["district_b_admin"]).get(reverse(URL_NAME), {"region": "500101"}).status_code == 404


def test_town_supervisor_gets_the_town_only(tree, users, world, login):
    client = login(users["town_supervisor"])

    assert client.get(reverse(URL_NAME)).json()["children"]["active"] == 4
    assert client.get(reverse(URL_NAME), {"region": tree.district_a.code}).status_code == 404


def test_volunteer_is_refused_the_stats_api(tree, users, world, login):
    response = login(world.mothers["m1"].user).get(reverse(URL_NAME))

    assert response.status_code == 403
    assert response.json() == {"detail": "你的角色无权使用该接口"}


def test_anonymous_caller_is_refused_the_stats_api(client, tree):
    response = client.get(reverse(URL_NAME))

    assert response.status_code == 401
