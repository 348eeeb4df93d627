"""The chart options the dashboard page hands to ECharts (what they draw is checked in a real
browser by tests/browser/test_dashboard_display.py)."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from tests import factories
from tests.dashboard.helpers import UNSUPPORTED, build_world


@pytest.fixture
def world(tree, users):
    return build_world(tree, admin=users["district_admin"])


def page_json(html: str, element_id: str):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert found, element_id
    return json.loads(found.group(1))


def first_cells(html: str, table_id: str) -> list[str]:
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, table_id
    return [
        re.sub(r"<[^>]+>", "", cell)
        for cell in re.findall(r"<tr[^>]*>\s*<td>(.*?)</td>", body.group(1), re.S)
    ]


def test_breakdown_chart_puts_the_town_furthest_from_its_target_on_top_and_drills_to_the_bar_clicked(
    tree, users, world, login
):
    # 万州2镇 falls to 1 of 2 children paired (50 %), below 万州1镇 (2 of 3, 66.7 %).
    factories.make_child(tree.village_a2, name="新增", conditions=UNSUPPORTED)

    html = login(users["district_admin"]).get(reverse("dashboard:overview")).content.decode()

    chart = page_json(html, "chart-breakdown")["baseOption"]
    assert chart["yAxis"]["type"] == "category"  # names down the side, one bar each
    assert chart["yAxis"]["inverse"] is True  # the first one on top
    assert chart["yAxis"]["data"] == ["万州2镇", "万州1镇"]
    assert chart["series"][0]["data"] == [50.0, 66.7]
    assert page_json(html, "drill-codes") == [tree.town_a2.code, tree.town_a1.code]
    # The table keeps the regions' own order.
    assert first_cells(html, "breakdown") == ["万州1镇", "万州2镇"]
    target = chart["series"][0]["markLine"]
    assert target["data"] == [{"xAxis": 100, "name": "目标"}]
    assert target["label"]["formatter"] == "目标 100%"


def test_a_region_without_children_to_cover_shows_a_dash_at_the_bottom_of_the_breakdown_chart(
    tree, users, world, login
):
    html = login(users["city_admin"]).get(reverse("dashboard:overview")).content.decode()

    chart = page_json(html, "chart-breakdown")["baseOption"]
    # 涪陵区: 1 of 1 paired (the target reached, green); 万州区: 3 of 4.
    assert chart["yAxis"]["data"] == ["万州区", "涪陵区"]
    assert chart["series"][0]["data"] == [75.0, {"value": 100.0, "itemStyle": {"color": "#1b7f3b"}}]

    html = login(users["district_b_admin"]).get(reverse("dashboard:overview")).content.decode()
    chart = page_json(html, "chart-breakdown")["baseOption"]
    assert chart["yAxis"]["data"] == ["涪陵1镇", "涪陵2镇"]
    assert chart["series"][0]["data"][1] == {"value": 0, "label": {"formatter": "—"}}


def test_coverage_and_six_plus_one_charts_are_drawn_top_down_in_the_order_of_their_tables(
    tree, users, world, login
):
    html = login(users["district_admin"]).get(reverse("dashboard:overview")).content.decode()

    for chart_id, table_id in (("chart-coverage", "coverage"), ("chart-compliance", "compliance")):
        axis = page_json(html, chart_id)["baseOption"]["yAxis"]
        assert axis["inverse"] is True, chart_id
        assert axis["data"] == first_cells(html, table_id), chart_id


def test_care_type_slices_name_their_type_on_two_lines_and_a_phone_shows_the_legend_instead(
    tree, users, world, login
):
    html = login(users["district_admin"]).get(reverse("dashboard:overview")).content.decode()

    chart = page_json(html, "chart-tier")
    labels = [d["label"]["formatter"] for d in chart["baseOption"]["series"][0]["data"]]
    assert labels == ["重点关爱\n（多对一）\n{c}", "困难关爱\n（一对一）\n{c}", "团体关爱\n（多对多）\n{c}"]
    assert chart["baseOption"]["legend"]
    (phone,) = chart["media"]
    assert phone["option"]["series"][0]["label"] == {"show": False}
