from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aixin.alerts.models import AlertKind
from aixin.alerts.selectors import open_alerts_by_kind
from aixin.alerts.services import resolve
from tests import factories
from tests.alerts.helpers import make_alert


def _panel(html: str) -> dict[str, int]:
    panel = html.split('id="alert-panel"', 1)[1].split("</section>", 1)[0]
    return {k: int(n) for k, n in re.findall(r'data-kind="(\w+)".*?data-count="(\d+)"', panel)}


def _world(tree, users):
    for i in range(2):
        make_alert(factories.make_child(tree.village_a1, name=f"甲{i}"), AlertKind.UNPAIRED)
    make_alert(factories.make_child(tree.village_a2, name="乙"), AlertKind.HANDOVER)
    handled = make_alert(factories.make_child(tree.village_a1, name="已处理"), AlertKind.RISK_REVIEW)
    resolve(actor=users["district_admin"], alert_id=handled.pk, resolution="已核实")
    make_alert(factories.make_child(tree.village_b1, name="丙"), AlertKind.RISK_REVIEW)


def test_the_staff_home_shows_open_alerts_per_kind_linking_to_the_filtered_list(tree, users, login):
    _world(tree, users)

    html = login(users["district_admin"]).get(reverse("dashboard:overview")).content.decode()

    assert "待办预警" in html
    assert _panel(html) == {
        "unpaired": 2,
        "handover": 1,
        "risk_review": 0,
        "close_proposal": 0,
        "retiered": 0,
    }
    assert f"{reverse('alerts:alert_list')}?kind=unpaired&amp;region=500101" in html


def test_the_city_sees_every_district_and_a_drill_down_narrows_the_panel(tree, users, login):
    _world(tree, users)
    client = login(users["city_admin"])

    city = _panel(client.get(reverse("dashboard:overview")).content.decode())
    town = _panel(client.get(reverse("dashboard:overview"), {"region": tree.town_a2.code}).content.decode())

    assert (city["unpaired"], city["handover"], city["risk_review"]) == (2, 1, 1)
    assert (town["unpaired"], town["handover"]) == (0, 1)


def test_district_b_admins_panel_does_not_count_district_a_alerts(tree, users, login):
    _world(tree, users)

    html = login(users["district_b_admin"]).get(reverse("dashboard:overview")).content.decode()

    assert _panel(html) == {
        "unpaired": 0,
        "handover": 0,
        "risk_review": 1,
        "close_proposal": 0,
        "retiered": 0,
    }


def test_the_panel_counts_with_one_query(tree, users):
    _world(tree, users)

    with CaptureQueriesContext(connection) as ctx:
        counts = open_alerts_by_kind(users["city_admin"], region=tree.city)

    assert len(ctx.captured_queries) == 1
    assert sum(c.count for c in counts) == 4
