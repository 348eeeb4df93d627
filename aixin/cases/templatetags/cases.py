"""`{% case_panel child %}` on the child file (R-10.3): the child's open cases and the button to
report a concern; read through the scoping selectors for the signed-in user."""

from __future__ import annotations

from typing import Any

from django import template

from aixin.accounts.access import STAFF
from aixin.cases.selectors import open_cases_of_child

register = template.Library()


@register.inclusion_tag("cases/child_panel.html", takes_context=True)
def case_panel(context: dict[str, Any], child: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or getattr(user, "role", None) not in STAFF:
        return {"show": False}
    return {"show": True, "child": child, "cases": list(open_cases_of_child(user=user, child=child))}
