"""The town → village picker of the child, loving-mother and activity forms: small pages for the
city administrator (thousands of villages), the plain select for a district's staff."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from aixin.activities.models import Activity
from aixin.regions.models import Region, RegionLevel
from aixin.regions.tree import create_region
from aixin.registry.models import Child
from aixin.volunteers.models import Volunteer
from tests.registry.helpers import new_id

OPTIONS = reverse("regions:village_options")


@pytest.fixture
def big(tree):
    """Three more districts of 10 towns × 20 villages each (600 villages) under the city."""
    made: dict[str, Region] = {}
    for d in range(3):
        dcode = f"5002{d:02d}"
        district = create_region(code=dcode, name=f"大{d}区", level=RegionLevel.DISTRICT, parent=tree.city)
        made[dcode] = district
        for t in range(10):
            tcode = f"{dcode}{t:03d}"
            town = create_region(code=tcode, name=f"大{d}区{t}镇", level=RegionLevel.TOWN, parent=district)
            made[tcode] = town
            Region.objects.bulk_create(
                [_village(town, f"{tcode}{v:03d}", f"大{d}区{t}镇{v}村", sort_order=v) for v in range(20)]
            )
    return made


def _village(town: Region, code: str, name: str, *, sort_order: int) -> Region:
    return Region(
        code=code,
        name=name,
        level=RegionLevel.VILLAGE,
        parent=town,
        path=f"{town.path}{code}/",
        district_id=town.district_id,
        town=town,
        sort_order=sort_order,
    )


def village(code: str) -> Region:
    return Region.objects.get(code=code)


def option_count(html: str) -> int:
    return html.count("<option")


def child_post(village_pk: int, **over: str) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "王小花",
        "id_number": new_id(),
        "village": village_pk,
        "household_type": "rural",
        "guardian_name": "王奶奶",
        "guardian_relation": "祖母",
        "guardianship_type": "entrusted",
        "father_kind": "working_away",
        "mother_kind": "working_away",
    }
    data.update(over)
    return data


def test_city_admins_child_form_offers_towns_not_every_village(users, big, login):
    response = login(users["city_admin"]).get(reverse("registry:child_create"))

    html = response.content.decode()
    assert response.status_code == 200
    assert Region.objects.filter(level=RegionLevel.VILLAGE).count() == 608
    assert option_count(html) < 1000
    assert '<optgroup label="大1区">' in html
    assert '<option value="500201003">大1区3镇</option>' in html
    assert "大1区3镇7村" not in html
    assert 'name="village_town"' in html
    assert f'hx-get="{OPTIONS}"' in html
    assert 'hx-target="#id_village"' in html
    assert "<script>" not in html.split("</head>")[1]


def test_city_admin_posting_a_village_pk_still_creates_the_child(users, big, login):
    chosen = village("500201003007")
    response = login(users["city_admin"]).post(reverse("registry:child_create"), child_post(chosen.pk))

    child = Child.objects.get()
    assert response.status_code == 302
    assert child.region_id == chosen.pk
    assert child.town_id == big["500201003"].pk


def test_bound_form_after_an_error_keeps_the_chosen_town_and_village(users, big, login):
    chosen = village("500202004011")
    response = login(users["city_admin"]).post(
        reverse("registry:child_create"), child_post(chosen.pk, name="")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert not Child.objects.exists()
    assert '<option value="500202004" selected>大2区4镇</option>' in html
    assert f'<option value="{chosen.pk}" selected>大2区4镇11村</option>' in html
    assert "大2区4镇19村" in html
    assert "大2区5镇0村" not in html


def test_edit_form_preselects_the_childs_town_and_village(users, big, login):
    chosen = village("500200009000")
    login(users["city_admin"]).post(reverse("registry:child_create"), child_post(chosen.pk))
    child = Child.objects.get()

    html = login(users["city_admin"]).get(reverse("registry:child_edit", args=[child.pk])).content.decode()

    assert '<option value="500200009" selected>大0区9镇</option>' in html
    assert f'<option value="{chosen.pk}" selected>大0区9镇0村</option>' in html


def test_endpoint_lists_only_the_villages_of_the_town(users, big, login):
    response = login(users["city_admin"]).get(OPTIONS, {"town": "500201003", "name": "village"})

    html = response.content.decode()
    labels = re.findall(r">([^<]+)</option>", html)
    assert response.status_code == 200
    assert labels == ["请选择村（社区）", *[f"大1区3镇{v}村" for v in range(20)]]
    assert response["HX-Trigger-After-Settle"] == "village-options-loaded"


def test_endpoint_reads_the_town_select_posted_under_the_field_name(users, big, login):
    response = login(users["city_admin"]).get(OPTIONS, {"village_town": "500201003", "name": "village"})

    assert option_count(response.content.decode()) == 21


def test_endpoint_answers_404_for_a_town_of_another_district(users, tree, login):
    response = login(users["district_admin"]).get(OPTIONS, {"town": tree.town_b1.code, "name": "village"})

    assert response.status_code == 404
    assert tree.village_b1.name not in response.content.decode()


def test_endpoint_answers_404_for_an_unknown_town(users, tree, login):
    response = login(users["city_admin"]).get(OPTIONS, {"town": "999999999"})

    assert response.status_code == 404


def test_endpoint_without_a_town_answers_only_the_prompt(users, tree, login):
    response = login(users["village_director"]).get(OPTIONS)

    assert response.status_code == 200
    assert response.content.decode().strip() == '<option value="">请先选择乡镇（街道）</option>'


def test_village_director_gets_only_her_own_village_from_her_town(users, tree, login):
    response = login(users["village_director"]).get(OPTIONS, {"town": tree.town_a1.code})

    html = response.content.decode()
    assert response.status_code == 200
    assert tree.village_a1.name in html
    assert tree.village_a1b.name not in html


def test_endpoint_in_whole_town_mode_starts_with_the_town_itself(users, tree, login):
    response = login(users["district_admin"]).get(
        OPTIONS, {"town": tree.town_a1.code, "name": "region", "whole_town": "1"}
    )

    html = response.content.decode()
    assert f'<option value="{tree.town_a1.pk}" selected>万州1镇（全镇）</option>' in html
    assert option_count(html) == 3


def test_volunteer_may_not_ask_for_village_options(tree, login):
    from tests import factories

    mother = factories.make_volunteer(tree.village_a1)
    response = login(mother.user).get(OPTIONS, {"town": tree.town_a1.code})

    assert response.status_code == 403


def test_district_admin_still_gets_the_plain_village_select(users, big, login):
    admin = users["city_admin"].__class__.objects.create_user(
        username="big1", password="x", role="district_admin", region=big["500201"], display_name="大1区"
    )
    html = login(admin).get(reverse("registry:child_create")).content.decode()

    assert 'name="village_town"' not in html
    assert "regions:village_options" not in html and OPTIONS not in html
    assert '<select name="village"' in html
    assert "大1区 大1区3镇 大1区3镇7村" in html
    assert "大2区" not in html


def test_city_admins_volunteer_form_uses_the_picker_and_saves_the_home_village(users, big, login):
    client = login(users["city_admin"])
    page = client.get(reverse("volunteers:volunteer_create")).content.decode()
    chosen = village("500200001002")

    response = client.post(
        reverse("volunteers:volunteer_create"),
        {
            "name": "陈秀英",
            "phone": "13912345678",
            "source_group": "red_banner",
            "home_region": chosen.pk,
            "capacity": "2",
        },
    )

    assert 'name="home_region_town"' in page
    assert option_count(page.split('name="home_region_town"')[1].split("</select>")[1]) < 5
    assert response.status_code == 302
    assert Volunteer.objects.get().home_region_id == chosen.pk


def test_city_admins_activity_form_picks_a_whole_town_or_a_village(users, big, login):
    client = login(users["city_admin"])
    page = client.get(reverse("activities:activity_create")).content.decode()
    town = big["500202002"]
    data = {
        "name": "集体生日会",
        "kind": "birthday",
        "held_on": timezone.localdate().isoformat(),
        "venue": "渝好空间",
        "participant_lines": "",
    }

    whole_town = client.post(reverse("activities:activity_create"), {**data, "region": town.pk})
    one_village = client.post(
        reverse("activities:activity_create"), {**data, "region": village("500202002005").pk}
    )

    assert option_count(page) < 1000
    assert 'hx-trigger="change, village-options-loaded"' in page
    assert 'hx-trigger="change consume"' in page
    assert (whole_town.status_code, one_village.status_code) == (302, 302)
    assert [a.region.name for a in Activity.objects.order_by("pk")] == ["大2区2镇", "大2区2镇5村"]


def test_activity_form_refilled_with_a_town_shows_it_as_whole_town(users, big, login):
    town = big["500202002"]
    html = (
        login(users["city_admin"])
        .get(reverse("activities:activity_create"), {"region": town.pk})
        .content.decode()
    )

    assert '<option value="500202002" selected>大2区2镇</option>' in html
    assert f'<option value="{town.pk}" selected>大2区2镇（全镇）</option>' in html
    assert "大2区2镇19村" in html


def test_district_admins_activity_form_keeps_the_grouped_place_select(users, tree, login):
    html = login(users["district_admin"]).get(reverse("activities:activity_create")).content.decode()

    assert 'name="region_town"' not in html
    assert f'<option value="{tree.town_a1.pk}">万州1镇（全镇）</option>' in html
    assert f'<option value="{tree.village_a1.pk}">万州1镇1村</option>' in html


def test_form_sent_back_without_a_village_keeps_the_chosen_town(users, big, login):
    response = login(users["city_admin"]).post(
        reverse("registry:child_create"), child_post("", village_town="500202004")
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert not Child.objects.exists()
    assert '<option value="500202004" selected>大2区4镇</option>' in html
    assert '<option value="">请选择村（社区）</option>' in html
    assert "大2区4镇19村" in html
