"""Care test data: children in the one-to-one tier paired with loving mothers."""

from __future__ import annotations

import datetime
from typing import Any

from aixin.care.services import care_record_create
from tests import factories


def paired_child(
    village: Any,
    *,
    name: str = "王小丫",
    mother: Any = None,
    mother_name: str = "李爱华",
    start: datetime.date | None = None,
    tier_flags: dict[str, bool] | None = None,
) -> Any:
    """An active pairing of a new one-to-one child (life difficulty) in `village`."""
    flags = tier_flags if tier_flags is not None else {"difficulty_life": True}
    child = factories.make_child(village, name=name, school="中心小学", grade="四年级", **flags)
    volunteer = mother or factories.make_volunteer(village, name=mother_name, capacity=5)
    return factories.make_active_pairing(child, volunteer, start=start)


def record(pairing: Any, day: datetime.date, rules: list[str], *, kind: str = "phone", **kw: Any) -> Any:
    return care_record_create(
        actor=pairing.volunteer.user,
        pairing_id=pairing.pk,
        date=day,
        kind=kind,
        rule_codes=rules,
        services=kw.pop("services", ["companionship"]),
        today=kw.pop("today", None),
        **kw,
    )
