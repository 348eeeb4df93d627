from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from aixin.activities.models import Activity, ActivityParticipation
from aixin.activities.services import activity_create
from aixin.audit.models import AuditEvent
from aixin.lib.errors import InvalidInput, NotAllowed
from tests import factories

URL = "activities:activity_list"


@pytest.fixture
def kids(tree):
    return {
        "a1": factories.make_child(tree.village_a1, name="甲一"),
        "a1b": factories.make_child(tree.village_a1b, name="甲二"),
        "a2": factories.make_child(tree.village_a2, name="甲三"),
        "b1": factories.make_child(tree.village_b1, name="乙一"),
    }


@pytest.fixture
def activities(tree, users, kids):
    today = timezone.localdate()
    a_admin, b_admin = users["district_admin"], users["district_b_admin"]
    return {
        "village_a1": activity_create(
            actor=a_admin,
            name="集体生日会",
            kind="birthday",
            held_on=today,
            venue="渝好空间",
            region=tree.village_a1,
            child_ids=[kids["a1"].pk, kids["a1b"].pk],
        ),
        "village_a2": activity_create(
            actor=a_admin,
            name="读书会",
            kind="reading",
            held_on=today - datetime.timedelta(days=10),
            venue="家长学校",
            region=tree.village_a2,
            child_ids=[kids["a2"].pk],
        ),
        "district_b": activity_create(
            actor=b_admin,
            name="乙区欢跑活动",
            kind="running",
            held_on=today,
            venue="阳光驿站",
            region=tree.village_b1,
            child_ids=[kids["b1"].pk],
        ),
    }


def shown(response):
    return [a.pk for a in response.context["activities"]]


def test_district_admin_lists_their_districts_activities_with_child_counts(users, activities, login):
    response = login(users["district_admin"]).get(reverse(URL))

    assert response.status_code == 200
    assert shown(response) == [activities["village_a1"].pk, activities["village_a2"].pk]
    assert [a.n_children for a in response.context["activities"]] == [2, 1]
    html = response.content.decode()
    assert "集体生日会" in html
    assert "渝好空间" in html
    assert "万州区 · 万州1镇1村" in html
    assert "乙区欢跑活动" not in html


def test_district_b_admin_lists_only_district_b(users, activities, login):
    response = login(users["district_b_admin"]).get(reverse(URL))

    assert shown(response) == [activities["district_b"].pk]


def test_town_supervisor_lists_only_their_towns_activities(users, activities, login):
    response = login(users["town_supervisor"]).get(reverse(URL))

    assert shown(response) == [activities["village_a1"].pk]


def test_village_director_lists_only_their_villages_activities(users, activities, login):
    response = login(users["village_director"]).get(reverse(URL))

    assert shown(response) == [activities["village_a1"].pk]


def test_city_admin_lists_every_activity_and_filters_by_kind(users, activities, login):
    client = login(users["city_admin"])

    assert len(shown(client.get(reverse(URL)))) == 3
    assert shown(client.get(reverse(URL), {"kind": "reading"})) == [activities["village_a2"].pk]
    assert shown(client.get(reverse(URL), {"year": "1999"})) == []


def test_volunteer_is_refused_the_activity_list(tree, activities, login):
    response = login(factories.make_volunteer(tree.village_a1).user).get(reverse(URL))

    assert response.status_code == 403


def test_creating_an_activity_records_participation_and_an_audit_event(tree, users, kids):
    activity = Activity.objects.get(
        pk=activity_create(
            actor=users["district_admin"],
            name="  文体活动  ",
            kind="sports_arts",
            held_on=timezone.localdate(),
            venue="渝好空间",
            region=tree.town_a1,
            child_ids=[kids["a1"].pk, kids["a1"].pk, kids["a2"].pk],
        ).pk
    )

    assert activity.name == "文体活动"
    assert activity.district_id == tree.district_a.pk
    assert sorted(activity.participations.values_list("child_id", flat=True)) == sorted(
        [kids["a1"].pk, kids["a2"].pk]
    )
    assert set(activity.participations.values_list("held_on", flat=True)) == {timezone.localdate()}
    event = AuditEvent.objects.get(object_type="activity", object_id=str(activity.pk))
    assert event.action == "create"
    assert event.district_id == tree.district_a.pk


def test_activity_cannot_include_a_child_outside_the_admins_district(tree, users, kids):
    with pytest.raises(InvalidInput) as exc:
        activity_create(
            actor=users["district_admin"],
            name="夏令营",
            kind="camp",
            held_on=timezone.localdate(),
            region=tree.village_a1,
            child_ids=[kids["a1"].pk, kids["b1"].pk],
        )

    assert exc.value.field == "child_ids"
    assert str(kids["b1"].pk) in exc.value.message
    assert Activity.objects.count() == 0
    assert ActivityParticipation.objects.count() == 0


def test_activity_cannot_be_held_in_another_district(tree, users, kids):
    with pytest.raises(InvalidInput) as exc:
        activity_create(
            actor=users["district_admin"],
            name="夏令营",
            kind="camp",
            held_on=timezone.localdate(),
            region=tree.village_b1,
            child_ids=[kids["a1"].pk],
        )

    assert exc.value.field == "region"
    assert Activity.objects.count() == 0


def test_activity_cannot_be_dated_in_the_future(tree, users, kids):
    with pytest.raises(InvalidInput) as exc:
        activity_create(
            actor=users["district_admin"],
            name="成人礼",
            kind="coming_of_age",
            held_on=timezone.localdate() + datetime.timedelta(days=1),
            region=tree.village_a1,
            child_ids=[],
        )

    assert exc.value.field == "held_on"
    assert Activity.objects.count() == 0


def test_activity_needs_a_known_kind_and_a_name(tree, users):
    with pytest.raises(InvalidInput) as exc:
        activity_create(
            actor=users["district_admin"],
            name="活动",
            kind="party",
            held_on=timezone.localdate(),
            region=tree.village_a1,
            child_ids=[],
        )
    assert exc.value.field == "kind"
    with pytest.raises(InvalidInput) as exc:
        activity_create(
            actor=users["district_admin"],
            name=" ",
            kind="camp",
            held_on=timezone.localdate(),
            region=tree.village_a1,
            child_ids=[],
        )
    assert exc.value.field == "name"
    assert Activity.objects.count() == 0


@pytest.mark.parametrize("role", ["town_supervisor", "village_director"])
def test_only_admins_may_record_activities(tree, users, kids, role):
    with pytest.raises(NotAllowed):
        activity_create(
            actor=users[role],
            name="读书会",
            kind="reading",
            held_on=timezone.localdate(),
            region=tree.village_a1,
            child_ids=[kids["a1"].pk],
        )

    assert Activity.objects.count() == 0
