"""The work dashboard page (R-12.1): one screen per region with drill-down."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from aixin.accounts.access import STAFF, access
from aixin.alerts.selectors import open_alerts_by_kind
from aixin.dashboard.selectors import AreaRow, Overview, cached_overview, region_for_user

RED = "#c8102e"
GREEN = "#1b7f3b"
PALETTE = ["#c8102e", "#e0663a", "#f2a541", "#1b7f3b", "#0b5cad", "#6a4c93"]


@access(*STAFF)
@require_GET
def overview_page(request: HttpRequest) -> HttpResponse:
    region = region_for_user(user=request.user, code=request.GET.get("region", "").strip() or None)
    if region is None:
        raise Http404("区划不存在或不在你的管辖范围内")
    data = cached_overview(user=request.user, region=region)
    breakdown = ranked_breakdown(data.breakdown)
    return render(
        request,
        "dashboard/overview.html",
        {
            "o": data,
            "region": region,
            "charts": _charts(data, breakdown),
            # In the chart's order: a click on the n-th bar opens the n-th code's dashboard.
            "drill_codes": [r.code for r in breakdown],
            # The staff home's to-do panel: open alerts per kind in the viewed region (one query).
            "alert_counts": open_alerts_by_kind(request.user, region=region),
        },
    )


# A chart in a card on a phone (ECharts media query, on the chart's own width).
PHONE = {"maxWidth": 480}


def _bar(
    labels: list[str],
    values: list[Any],
    *,
    horizontal: bool = False,
    percent: bool = False,
    break_names_on_phone: bool = True,
) -> dict[str, Any]:
    category: dict[str, Any] = {"type": "category", "data": labels, "axisLabel": {"interval": 0}}
    if horizontal:
        # A category y-axis is drawn bottom-up: inverted, the first item is on top, as in the
        # table beside the chart.
        category["inverse"] = True
    value: dict[str, Any] = {"type": "value", "minInterval": 1, "axisLabel": {"hideOverlap": True}}
    if percent:
        value = {
            "type": "value",
            "min": 0,
            "max": 100,
            "axisLabel": {"formatter": "{value}%", "hideOverlap": True},
        }
    series: dict[str, Any] = {
        "type": "bar",
        "data": values,
        "itemStyle": {"color": RED},
        "label": {"show": True, "position": "right" if horizontal else "top"},
    }
    if percent:
        series["label"]["formatter"] = "{c}%"
        series["markLine"] = {
            "symbol": "none",
            "silent": True,
            "data": [{"xAxis" if horizontal else "yAxis": 100, "name": _("目标")}],
            "lineStyle": {"color": GREEN, "type": "dashed"},
            # Above a vertical line (the grid leaves room on top: with the inverted y-axis the
            # line starts there); inside the plot along a horizontal one, whose end would push
            # the label off the chart's right edge.
            "label": {"formatter": _("目标 100%"), "position": "start" if horizontal else "insideEndTop"},
        }
    option: dict[str, Any] = {
        "baseOption": {
            "color": PALETTE,
            "tooltip": {"trigger": "axis"},
            # On the right, room for the value beside the longest bar.
            "grid": {
                "left": 16,
                "right": 48 if horizontal else 16,
                "top": 28,
                "bottom": 8,
                "containLabel": True,
            },
            "xAxis": value if horizontal else category,
            "yAxis": category if horizontal else value,
            "series": [series],
        }
    }
    phone: dict[str, Any] = {}
    if break_names_on_phone:
        # On a phone, names break onto more lines (10 characters beside a bar, 3 under one)
        # instead of squeezing the bars out or running into each other.
        width = 120 if horizontal else 40
        phone["yAxis" if horizontal else "xAxis"] = {"axisLabel": {"width": width, "overflow": "break"}}
    if percent and horizontal:
        phone["xAxis"] = {"splitNumber": 2}  # 0%, 50%, 100%: five steps do not fit
    option["media"] = [{"query": PHONE, "option": phone}]
    return option


def ranked_breakdown(rows: list[AreaRow]) -> list[AreaRow]:
    """The sub-regions for the breakdown chart: lowest coverage first (the ones to act on), those
    without any child to cover last; ties keep the table's order."""
    return sorted(rows, key=lambda r: (r.coverage_percent is None, r.coverage_percent or 0))


def _breakdown_chart(rows: list[AreaRow]) -> dict[str, Any]:
    """Horizontal bars, one per sub-region: some 40 district names or a few towns stay readable
    (app.js gives the chart a height per bar, from the CSS)."""
    chart = _bar(
        [r.name for r in rows],
        [
            # No child to cover: no bar, and a dash as in the table.
            {"value": 0, "label": {"formatter": "—"}}
            if r.coverage_percent is None
            # Target reached: green, as the table's badge.
            else {"value": r.coverage_percent, "itemStyle": {"color": GREEN}}
            if r.coverage_percent >= 100
            else r.coverage_percent
            for r in rows
        ],
        horizontal=True,
        percent=True,
        break_names_on_phone=False,  # one line per bar: a region's name fits beside it
    )
    base = chart["baseOption"]
    base["series"][0]["barMaxWidth"] = 22
    base["grid"]["right"] = 56
    base["yAxis"]["triggerEvent"] = True  # a click on a name drills down too (dashboard.js)
    return chart


def _pie_label(label: str) -> str:
    """A tier's slice label on two lines, split before its bracket (困难关爱 / （一对一）), with
    the count below: one line was cut off beside the donut."""
    head, bracket, rest = label.partition("（")
    return (f"{head}\n{bracket}{rest}" if bracket and head else label) + "\n{c}"


def _charts(o: Overview, breakdown: list[AreaRow]) -> dict[str, dict[str, Any]]:
    """ECharts options, rendered by app.js from json_script elements."""
    tiers = {
        "baseOption": {
            "color": PALETTE,
            "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
            "legend": {"bottom": 0},
            "series": [
                {
                    "type": "pie",
                    "radius": ["32%", "58%"],
                    "center": ["50%", "46%"],
                    # Names at the chart's sides, clear of the ring, on lines drawn out to them.
                    "label": {"lineHeight": 16, "alignTo": "edge", "edgeDistance": 12},
                    "labelLine": {"length": 12, "length2": 0},
                    "data": [
                        {"name": t.label, "value": t.count, "label": {"formatter": _pie_label(t.label)}}
                        for t in o.children.by_tier
                    ],
                }
            ],
        },
        # On a phone there is no room beside the donut for the names: the legend gives them
        # (and the table below the counts).
        "media": [
            {
                "query": {"maxWidth": 400},
                "option": {
                    "series": [
                        {"radius": ["36%", "64%"], "label": {"show": False}, "labelLine": {"show": False}}
                    ]
                },
            }
        ],
    }
    charts = {
        "category": _bar(
            [t.label for t in o.children.by_category], [t.count for t in o.children.by_category]
        ),
        "tier": tiers,
        "coverage": _bar(
            [c.label for c in o.coverage], [c.percent or 0 for c in o.coverage], horizontal=True, percent=True
        ),
        "load": _bar(
            [t.label for t in o.mothers.load_distribution], [t.count for t in o.mothers.load_distribution]
        ),
    }
    if o.compliance:
        charts["compliance"] = _bar(
            [r.rule_name for r in o.compliance],
            [r.percent or 0 for r in o.compliance],
            horizontal=True,
            percent=True,
        )
    if breakdown:
        charts["breakdown"] = _breakdown_chart(breakdown)
    return charts
