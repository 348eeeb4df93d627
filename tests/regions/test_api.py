from __future__ import annotations

import datetime

from aixin.accounts.models import ApiToken, hash_token
from aixin.regions.models import RegionLevel
from aixin.regions.tree import create_region
from tests import factories

URL = "/api/v1/regions"


def test_api_lists_the_children_of_the_users_own_region_by_default(tree, users, login):
    response = login(users["district_admin"]).get(URL)
    assert response.status_code == 200
    assert response.json() == [
        {
            "code": "500101101",
            "name": "万州1镇",
            "level": 3,
            "kind": "",
            "parent_code": "500101",
            "valid_from": None,
            "valid_to": None,
            "successor_code": None,
            "statutory": True,
        },
        {
            "code": "500101102",
            "name": "万州2镇",
            "level": 3,
            "kind": "",
            "parent_code": "500101",
            "valid_from": None,
            "valid_to": None,
            "successor_code": None,
            "statutory": True,
        },
    ]


def test_api_lists_the_children_of_a_parent_in_scope(tree, users, login):
    response = login(users["district_admin"]).get(URL, {"parent": "500101101"})
    assert [r["code"] for r in response.json()] == ["500101101201", "500101101202"]


def test_api_answers_404_for_a_parent_outside_the_users_scope(tree, users, login):
    client = login(users["district_admin"])
    assert client.get(URL, {"parent": tree.district_b.code}).status_code == 404
    assert client.get(URL, {"parent": "500000"}).status_code == 404


def test_api_shows_abolished_units_with_successor_and_dates(tree, users, login):
    new = create_region(
        code="500157",
        name="两江新区",
        level=RegionLevel.DISTRICT,
        parent=tree.city,
        kind="区",
        valid_from=datetime.date(2025, 11, 6),
    )
    create_region(
        code="500105",
        name="江北区",
        level=RegionLevel.DISTRICT,
        parent=tree.city,
        kind="区",
        valid_to=datetime.date(2025, 11, 5),
        successor=new,
    )
    rows = {r["code"]: r for r in login(users["city_admin"]).get(URL).json()}
    assert rows["500105"]["valid_to"] == "2025-11-05"
    assert rows["500105"]["successor_code"] == "500157"
    assert rows["500157"]["valid_from"] == "2025-11-06"


def test_api_accepts_a_personal_token(tree, users, client):
    raw = ApiToken.generate()
    ApiToken.objects.create(user=users["town_supervisor"], prefix=raw[:12], token_hash=hash_token(raw))
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert [r["code"] for r in response.json()] == ["500101101201", "500101101202"]


def test_api_refuses_volunteers(tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    assert login(volunteer.user).get(URL).status_code == 403


def test_api_refuses_anonymous_callers(tree, client):
    assert client.get(URL).status_code == 401
