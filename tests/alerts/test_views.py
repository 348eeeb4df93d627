from __future__ import annotations

from django.urls import reverse

from aixin.alerts.models import Alert, AlertKind, AlertStatus
from aixin.audit.models import AuditEvent
from tests import factories
from tests.alerts.helpers import make_alert

LIST = reverse("alerts:alert_list")


def _alerts(tree):
    a = make_alert(factories.make_child(tree.village_a1, name="甲童"), AlertKind.UNPAIRED, "甲童尚未结对")
    a2 = make_alert(factories.make_child(tree.village_a2, name="乙童"), AlertKind.HANDOVER, "乙童即将成年")
    b = make_alert(factories.make_child(tree.village_b1, name="丙童"), AlertKind.RISK_REVIEW, "丙童需复核")
    return a, a2, b


def test_staff_see_the_open_alerts_of_their_scope_with_a_link_to_the_childs_file(tree, users, login):
    a, _a2, _b = _alerts(tree)

    page = login(users["district_admin"]).get(LIST).content.decode()

    assert "甲童尚未结对" in page and "乙童即将成年" in page
    assert reverse("registry:child_detail", args=[a.child_id]) in page
    assert "丙童" not in page


def test_district_b_admin_does_not_see_district_a_alerts(tree, users, login):
    _alerts(tree)

    page = login(users["district_b_admin"]).get(LIST).content.decode()

    assert "丙童需复核" in page
    assert "甲童" not in page and "乙童" not in page


def test_a_town_supervisor_sees_only_her_towns_alerts(tree, users, login):
    _alerts(tree)

    page = login(users["town_supervisor"]).get(LIST).content.decode()

    assert "甲童尚未结对" in page
    assert "乙童" not in page and "丙童" not in page


def test_the_list_filters_by_kind(tree, users, login):
    _alerts(tree)

    page = login(users["city_admin"]).get(LIST, {"kind": "handover"}).content.decode()

    assert "乙童即将成年" in page
    assert "甲童尚未结对" not in page and "丙童需复核" not in page


def test_handled_alerts_leave_the_open_list_but_can_be_shown(tree, users, login):
    a, _a2, _b = _alerts(tree)
    client = login(users["district_admin"])
    client.post(reverse("alerts:alert_resolve", args=[a.pk]), {"text": "已结对"})

    assert "甲童尚未结对" not in client.get(LIST).content.decode()
    assert "甲童尚未结对" in client.get(LIST, {"status": "resolved"}).content.decode()


def test_the_list_is_paginated(tree, users, login):
    for i in range(55):
        make_alert(factories.make_child(tree.village_a1, name=f"童{i}"), AlertKind.RISK_REVIEW)

    page = login(users["district_admin"]).get(LIST).content.decode()

    assert page.count('data-alert="') == 50
    assert "第 1 / 2 页" in page


def test_resolving_from_the_list_closes_the_alert_and_returns_to_the_list(tree, users, login):
    a, _a2, _b = _alerts(tree)
    client = login(users["village_director"])

    response = client.post(
        reverse("alerts:alert_resolve", args=[a.pk]),
        {"text": "已上报区妇联安排结对", "next": f"{LIST}?kind=unpaired"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == f"{LIST}?kind=unpaired"
    assert "已处理儿童甲童的预警" in response.content.decode()
    a.refresh_from_db()
    assert (a.status, a.resolution, a.resolved_by) == (
        "resolved",
        "已上报区妇联安排结对",
        users["village_director"],
    )
    assert AuditEvent.objects.filter(object_type="alert", object_id=str(a.pk)).exists()


def test_resolving_without_a_note_says_so_and_keeps_the_alert_open(tree, users, login):
    a, _a2, _b = _alerts(tree)

    response = login(users["district_admin"]).post(
        reverse("alerts:alert_resolve", args=[a.pk]), {"text": ""}, follow=True
    )

    assert "请填写处理说明" in response.content.decode()
    assert Alert.objects.get(pk=a.pk).status == AlertStatus.OPEN


def test_dismissing_from_the_list_records_the_reason(tree, users, login):
    _a, a2, _b = _alerts(tree)

    login(users["district_admin"]).post(
        reverse("alerts:alert_dismiss", args=[a2.pk]), {"text": "出生日期登记错误"}
    )

    a2.refresh_from_db()
    assert (a2.status, a2.resolution) == ("dismissed", "出生日期登记错误")


def test_an_unsafe_next_address_is_not_followed(tree, users, login):
    a, _a2, _b = _alerts(tree)

    response = login(users["district_admin"]).post(
        reverse("alerts:alert_resolve", args=[a.pk]), {"text": "已处理", "next": "https://evil.example/"}
    )

    assert response["Location"] == LIST


def test_resolving_another_districts_alert_answers_404_and_changes_nothing(tree, users, login):
    _a, _a2, b = _alerts(tree)
    client = login(users["district_admin"])

    for name in ("alerts:alert_resolve", "alerts:alert_dismiss"):
        response = client.post(reverse(name, args=[b.pk]), {"text": "越权"})
        assert response.status_code == 404
    b.refresh_from_db()
    assert (b.status, b.resolution, b.resolved_by) == ("open", "", None)
    assert not AuditEvent.objects.filter(object_type="alert").exists()


def test_loving_mothers_cannot_open_the_alert_pages(tree, users, login):
    a, _a2, _b = _alerts(tree)
    client = login(factories.make_volunteer(tree.village_a1).user)

    assert client.get(LIST).status_code == 403
    assert client.post(reverse("alerts:alert_resolve", args=[a.pk]), {"text": "x"}).status_code == 403
    assert Alert.objects.get(pk=a.pk).status == AlertStatus.OPEN


def test_resolving_needs_a_post(tree, users, login):
    a, _a2, _b = _alerts(tree)

    assert login(users["district_admin"]).get(reverse("alerts:alert_resolve", args=[a.pk])).status_code == 405
