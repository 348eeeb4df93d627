from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aixin.accounts.models import Role
from aixin.regions.models import RegionLevel
from aixin.regions.tree import create_region
from aixin.volunteers.models import VolunteerStatus
from tests import factories

URL = reverse("regions:region_list")


def test_district_admin_starts_at_her_district_and_sees_its_towns_with_counts(tree, users, login):
    factories.make_child(tree.village_a1, name="张小明")
    factories.make_child(tree.village_a1b, name="李小红")
    factories.make_child(tree.village_a2, name="王小刚")
    factories.make_child(tree.village_b1, name="赵小丽")  # another district: not counted
    factories.make_volunteer(tree.village_a1)
    factories.make_volunteer(tree.village_a1, status=VolunteerStatus.SUSPENDED, name="周爱民")

    response = login(users["district_admin"]).get(URL)

    assert response.status_code == 200
    rows = {r.region.code: (r.children, r.mothers) for r in response.context["rows"]}
    assert rows == {"500101101": (2, 1), "500101102": (1, 0)}
    assert response.context["region"] == tree.district_a
    assert "万州1镇" in response.content.decode()


def test_counts_are_one_grouped_query_per_model_not_one_per_sub_region(tree, users, login):
    for n in range(5):
        create_region(
            code=f"500101{110 + n}", name=f"新{n}镇", level=RegionLevel.TOWN, parent=tree.district_a
        )
    client = login(users["district_admin"])
    client.get(URL)  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(5):
        create_region(
            code=f"500101{120 + n}", name=f"后{n}镇", level=RegionLevel.TOWN, parent=tree.district_a
        )
    with CaptureQueriesContext(connection) as more:
        client.get(URL)
    assert len(more) == len(few)


def test_drilling_into_a_town_shows_its_villages(tree, users, login):
    factories.make_child(tree.village_a1)

    response = login(users["district_admin"]).get(URL, {"code": tree.town_a1.code})

    assert response.status_code == 200
    rows = {r.region.code: r.children for r in response.context["rows"]}
    assert rows == {"500101101201": 1, "500101101202": 0}
    assert [r.code for r in response.context["breadcrumb"]] == ["500101", "500101101"]


def test_region_outside_the_users_scope_is_404(tree, users, login):
    client = login(users["district_admin"])
    assert client.get(URL, {"code": tree.district_b.code}).status_code == 404
    assert client.get(URL, {"code": tree.city.code}).status_code == 404
    assert client.get(URL, {"code": "no-such-code"}).status_code == 404


def test_town_supervisor_cannot_drill_into_a_sibling_town(tree, users, login):
    client = login(users["town_supervisor"])
    assert client.get(URL).context["region"] == tree.town_a1
    assert client.get(URL, {"code": tree.town_a2.code}).status_code == 404


def test_volunteer_may_not_open_the_region_page(tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    assert login(volunteer.user).get(URL).status_code == 403


def test_abolished_district_is_shown_with_its_successor_and_end_date(tree, users, login):
    successor = create_region(
        code="500157",
        name="两江新区",
        level=RegionLevel.DISTRICT,
        parent=tree.city,
        valid_from=datetime.date(2025, 11, 6),
    )
    create_region(
        code="500112",
        name="渝北区",
        level=RegionLevel.DISTRICT,
        parent=tree.city,
        valid_to=datetime.date(2025, 11, 5),
        successor=successor,
    )

    response = login(users["city_admin"]).get(URL)

    page = response.content.decode()
    assert "2025-11-05 撤销" in page
    assert "→ 两江新区" in page
    assert "2025-11-06 设立" in page
    assert [r.region.code for r in response.context["rows"]][-1] == "500112"


def test_city_admin_can_open_any_district(tree, users, login):
    response = login(users["city_admin"]).get(URL, {"code": tree.district_b.code})
    assert response.status_code == 200
    assert [r.region.code for r in response.context["rows"]] == ["500102101", "500102102"]


def test_village_director_sees_her_village_without_sub_regions(tree, users, login):
    response = login(users["village_director"]).get(URL)
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert factories.make_user(Role.VILLAGE_DIRECTOR, tree.village_a2).region == tree.village_a2
