from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from aixin.audit.models import AuditAction, AuditEvent
from aixin.audit.services import audit_log

URL = "audit:event_list"


@pytest.fixture
def events(tree, users):
    """Two child-file views in district A, one in district B, one reveal in A."""
    return {
        "a_view": audit_log(
            actor=users["district_admin"],
            action=AuditAction.VIEW,
            object_type="child",
            object_id=11,
            region=tree.village_a1,
            summary="查看儿童档案：甲一",
        ),
        "a_town": audit_log(
            actor=users["town_supervisor"],
            action=AuditAction.VIEW,
            object_type="child",
            object_id=12,
            region=tree.village_a2,
            summary="查看儿童档案：甲二",
        ),
        "a_reveal": audit_log(
            actor=users["district_admin"],
            action=AuditAction.REVEAL,
            object_type="child",
            object_id=11,
            region=tree.village_a1,
            summary="查看完整身份证号：甲一",
        ),
        "b_view": audit_log(
            actor=users["district_b_admin"],
            action=AuditAction.VIEW,
            object_type="child",
            object_id=21,
            region=tree.village_b1,
            summary="查看儿童档案：乙一",
        ),
    }


def shown(response):
    return [e.pk for e in response.context["events"]]


def test_district_admin_sees_only_their_districts_events(users, events, login):
    response = login(users["district_admin"]).get(reverse(URL))

    assert response.status_code == 200
    assert shown(response) == [events["a_reveal"].pk, events["a_town"].pk, events["a_view"].pk]
    html = response.content.decode()
    assert "查看儿童档案：甲一" in html
    assert "乙一" not in html


def test_district_b_admin_does_not_see_district_a_events(users, events, login):
    response = login(users["district_b_admin"]).get(reverse(URL))

    assert shown(response) == [events["b_view"].pk]


def test_city_admin_sees_every_event(users, events, login):
    response = login(users["city_admin"]).get(reverse(URL))

    assert set(shown(response)) == {e.pk for e in events.values()}


@pytest.mark.parametrize("role", ["town_supervisor", "village_director"])
def test_supervisors_and_directors_are_refused_the_audit_log(users, events, login, role):
    response = login(users[role]).get(reverse(URL))

    assert response.status_code == 403


def test_volunteer_is_refused_the_audit_log(tree, events, login):
    from tests.factories import make_volunteer

    response = login(make_volunteer(tree.village_a1).user).get(reverse(URL))

    assert response.status_code == 403


def test_audit_log_filters_by_action(users, events, login):
    response = login(users["district_admin"]).get(reverse(URL), {"action": "reveal"})

    assert shown(response) == [events["a_reveal"].pk]


def test_audit_log_filters_by_actor_username(users, events, login):
    response = login(users["district_admin"]).get(reverse(URL), {"actor": "town_a1"})

    assert shown(response) == [events["a_town"].pk]


def test_audit_log_filters_by_object(users, events, login):
    client = login(users["district_admin"])

    response = client.get(reverse(URL), {"object_type": "child", "object_id": "11"})

    assert shown(response) == [events["a_reveal"].pk, events["a_view"].pk]


def test_audit_log_filter_cannot_reach_another_districts_object(users, events, login):
    response = login(users["district_admin"]).get(reverse(URL), {"object_type": "child", "object_id": "21"})

    assert shown(response) == []
    assert "没有符合条件的日志" in response.content.decode()


def test_audit_log_filters_by_date_range(users, events, login):
    client = login(users["district_admin"])
    today = timezone.localdate()
    tomorrow, yesterday = today + datetime.timedelta(days=1), today - datetime.timedelta(days=1)

    assert len(shown(client.get(reverse(URL), {"date_from": today, "date_to": today}))) == 3
    assert shown(client.get(reverse(URL), {"date_from": tomorrow})) == []
    assert shown(client.get(reverse(URL), {"date_to": yesterday})) == []


def test_reversed_date_range_is_explained_and_filters_nothing_out(users, events, login):
    today = timezone.localdate()
    response = login(users["district_admin"]).get(
        reverse(URL), {"date_from": today, "date_to": today - datetime.timedelta(days=3)}
    )

    assert response.status_code == 200
    assert "结束日期早于开始日期" in response.content.decode()


def test_audit_log_is_paginated_fifty_a_page(tree, users, login):
    for n in range(51):
        audit_log(
            actor=users["district_admin"],
            action=AuditAction.VIEW,
            object_type="child",
            object_id=n,
            region=tree.village_a1,
        )
    client = login(users["district_admin"])

    first = client.get(reverse(URL))
    second = client.get(reverse(URL), {"page": 2})

    assert len(shown(first)) == 50
    assert len(shown(second)) == 1
    assert "第 1 / 2 页，共 51 条" in first.content.decode()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_audit_log_page_accepts_no_writes(users, events, login, method):
    before = list(AuditEvent.objects.order_by("pk").values_list("pk", "summary"))

    response = getattr(login(users["city_admin"]), method)(reverse(URL), {"id": events["a_view"].pk})

    assert response.status_code == 405
    assert list(AuditEvent.objects.order_by("pk").values_list("pk", "summary")) == before


def test_saving_an_existing_audit_event_is_refused(events):
    event = AuditEvent.objects.get(pk=events["a_view"].pk)
    event.summary = "篡改"

    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()

    assert AuditEvent.objects.get(pk=event.pk).summary == "查看儿童档案：甲一"


def test_raw_sql_cannot_update_or_delete_audit_events(events):
    pk = events["a_view"].pk

    for sql in (
        "UPDATE audit_auditevent SET summary = 'x' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [pk])

    assert AuditEvent.objects.get(pk=pk).summary == "查看儿童档案：甲一"
    assert AuditEvent.objects.count() == 4


def test_queryset_update_is_refused_by_the_database(events):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=events["b_view"].pk).update(summary="x")

    assert AuditEvent.objects.get(pk=events["b_view"].pk).summary == "查看儿童档案：乙一"
