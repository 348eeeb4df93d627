"""Panels other apps' pages include: the 工作专班 panel of a child's file and the 专班缺失/不完整
panel of the staff home page. Each reads through the scoping selectors with the request's user."""

from __future__ import annotations

from typing import Any

from django import template

from aixin.taskforces import selectors

register = template.Library()

PANEL_ROWS = 10


@register.simple_tag(takes_context=True)
def taskforce_child_panel(context: Any, child: Any) -> selectors.ChildPanel:
    return selectors.child_panel(context["request"].user, child)


@register.inclusion_tag("taskforces/_missing_panel.html", takes_context=True)
def taskforce_missing_panel(context: Any, region: Any) -> dict[str, Any]:
    user = context["request"].user
    rows = selectors.children_missing_taskforce(user=user, region=region)
    return {
        "region": region,
        "rows": rows[:PANEL_ROWS],
        "total": len(rows),
        "coverage": selectors.taskforce_coverage(user=user, region=region),
    }
