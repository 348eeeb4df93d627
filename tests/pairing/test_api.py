from __future__ import annotations

from tests import factories
from tests.pairing.helpers import activate, needy_child, propose


def test_pairings_api_is_scoped_to_the_district(users, tree, login):
    activate(
        users["district_admin"],
        needy_child(tree.village_a1, name="万州娃"),
        factories.make_volunteer(tree.village_a1),
    )
    activate(
        users["district_b_admin"],
        needy_child(tree.village_b1, name="涪陵娃"),
        factories.make_volunteer(tree.village_b1),
    )
    body = login(users["district_admin"]).get("/api/v1/pairings").json()
    assert body["count"] == 1
    assert [p["child_name"] for p in body["items"]] == ["万州娃"]
    assert body["items"][0]["status"] == "active"


def test_pairings_api_filters_by_status_and_region(users, tree, login):
    propose(
        users["district_admin"],
        needy_child(tree.village_a1, name="甲"),
        factories.make_volunteer(tree.village_a1),
    )
    activate(
        users["district_admin"],
        needy_child(tree.village_a2, name="乙"),
        factories.make_volunteer(tree.village_a2),
    )
    client = login(users["city_admin"])
    assert [p["child_name"] for p in client.get("/api/v1/pairings?status=proposed").json()["items"]] == ["甲"]
    assert [p["child_name"] for p in client.get("/api/v1/pairings?region=500101102").json()["items"]] == [
        "乙"
    ]
    assert client.get("/api/v1/pairings?region=999999").json()["count"] == 0


def test_district_b_admin_cannot_filter_into_district_a(users, tree, login):
    activate(users["district_admin"], needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1))
    assert login(users["district_b_admin"]).get("/api/v1/pairings?region=500101").json()["count"] == 0


def test_mother_sees_only_her_own_pairings(users, tree, login):
    mine = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    other = factories.make_volunteer(tree.village_a1, name="乙妈妈")
    propose(users["district_admin"], needy_child(tree.village_a1, name="我的娃"), mine)
    activate(users["district_admin"], needy_child(tree.village_a1, name="别人的娃"), other)
    body = login(mine.user).get("/api/v1/pairings").json()
    assert [p["child_name"] for p in body["items"]] == ["我的娃"]


def test_anonymous_caller_is_refused(client, tree):
    assert client.get("/api/v1/pairings").status_code == 401
