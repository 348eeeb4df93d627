from __future__ import annotations

from tests import factories


def test_volunteers_api_is_scoped_and_masks_phones(users, tree, login):
    mine = factories.make_volunteer(tree.village_a1, name="万州妈妈")
    factories.make_volunteer(tree.village_b1, name="涪陵妈妈")
    body = login(users["district_admin"]).get("/api/v1/volunteers").json()
    assert body["count"] == 1
    item = body["items"][0]
    assert (item["name"], item["phone_masked"], item["load"], item["capacity"]) == (
        "万州妈妈",
        mine.phone_masked,
        0,
        2,
    )
    assert "phone" not in item and "phone_encrypted" not in item


def test_volunteers_api_filters_and_pages(users, tree, login):
    for n in range(3):
        factories.make_volunteer(tree.village_a1, name=f"妈妈{n}", specialties=["law"] if n == 1 else [])
    factories.make_volunteer(tree.village_a2, name="停服妈妈", status="suspended")
    client = login(users["city_admin"])
    assert client.get("/api/v1/volunteers?status=suspended").json()["items"][0]["name"] == "停服妈妈"
    assert [v["name"] for v in client.get("/api/v1/volunteers?specialty=law").json()["items"]] == ["妈妈1"]
    page = client.get("/api/v1/volunteers?limit=2&offset=2").json()
    assert (page["count"], len(page["items"])) == (4, 2)
    assert client.get("/api/v1/volunteers?region=500102").json()["count"] == 0


def test_village_director_sees_only_mothers_of_her_village(users, tree, login):
    factories.make_volunteer(tree.village_a1, name="本村")
    factories.make_volunteer(tree.village_a1b, name="邻村")
    body = login(users["village_director"]).get("/api/v1/volunteers").json()
    assert [v["name"] for v in body["items"]] == ["本村"]


def test_volunteer_role_sees_only_her_own_profile(tree, login):
    volunteer = factories.make_volunteer(tree.village_a1, name="本人")
    factories.make_volunteer(tree.village_a1, name="同村别人")
    body = login(volunteer.user).get("/api/v1/volunteers").json()
    assert [v["name"] for v in body["items"]] == ["本人"]
