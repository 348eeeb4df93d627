from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from aixin.accounts.access import SEPARATED_ADMINS


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_role": None}
    return {
        "nav_role": user.role,
        "nav_is_staff_role": user.is_staff_role,
        "nav_is_admin": user.is_admin_role,
        "nav_is_volunteer": user.is_volunteer,
        # The separated administrators have no notifications page (三权分立: their own pages only).
        "nav_is_separated_admin": user.role in SEPARATED_ADMINS,
    }
