"""The work dashboard page (R-12.1): one screen per region with drill-down."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from aixin.accounts.access import STAFF, access
from aixin.alerts.selectors import open_alerts_by_kind
from aixin.dashboard.selectors import Overview, cached_overview, region_for_user

RED = "#c8102e"
PALETTE = ["#c8102e", "#e0663a", "#f2a541", "#1b7f3b", "#0b5cad", "#6a4c93"]


@access(*STAFF)
@require_GET
def overview_page(request: HttpRequest) -> HttpResponse:
    region = region_for_user(user=request.user, code=request.GET.get("region", "").strip() or None)
    if region is None:
        raise Http404("区划不存在或不在你的管辖范围内")
    data = cached_overview(user=request.user, region=region)
    return render(
        request,
        "dashboard/overview.html",
        {
            "o": data,
            "region": region,
            "charts": _charts(data),
            "drill_codes": [r.code for r in data.breakdown],
            # The staff home's to-do panel: open alerts per kind in the viewed region (one query).
            "alert_counts": open_alerts_by_kind(request.user, region=region),
        },
    )


def _bar(
    labels: list[str], values: list[Any], *, horizontal: bool = False, percent: bool = False
) -> dict[str, Any]:
    category = {"type": "category", "data": labels, "axisLabel": {"interval": 0}}
    value: dict[str, Any] = {"type": "value", "minInterval": 1}
    if percent:
        value = {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}}
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
            "data": [{"xAxis" if horizontal else "yAxis": 100, "name": _("目标")}],
            "lineStyle": {"color": "#1b7f3b", "type": "dashed"},
            "label": {"formatter": _("目标 100%")},
        }
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 16, "right": 48, "top": 24, "bottom": 8, "containLabel": True},
        "xAxis": value if horizontal else category,
        "yAxis": category if horizontal else value,
        "series": [series],
    }


def _charts(o: Overview) -> dict[str, dict[str, Any]]:
    """ECharts options, rendered by app.js from json_script elements."""
    tiers = {
        "color": PALETTE,
        "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d}%)"},
        "legend": {"bottom": 0},
        "series": [
            {
                "type": "pie",
                "radius": ["35%", "65%"],
                "label": {"formatter": "{b}\n{c}"},
                "data": [{"name": t.label, "value": t.count} for t in o.children.by_tier],
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
    if o.breakdown:
        charts["breakdown"] = _bar(
            [r.name for r in o.breakdown], [r.coverage_percent or 0 for r in o.breakdown], percent=True
        )
    return charts
