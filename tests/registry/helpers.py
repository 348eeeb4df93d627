"""Builders for registry tests: service inputs and valid ID numbers."""

from __future__ import annotations

import datetime
from typing import Any

from aixin.regions.models import Region
from aixin.registry.services import ChildData, ConditionData, GuardianData
from tests import factories


def years_ago(years: int, *, days: int = 0) -> datetime.date:
    today = datetime.date.today()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:
        day = today.replace(year=today.year - years, day=28)
    return day - datetime.timedelta(days=days)


def new_id(birth: datetime.date | None = None, **kw: Any) -> str:
    return factories.id_number(birth or years_ago(9, days=10), **kw)


def child_data(village: Region, **overrides: Any) -> ChildData:
    values: dict[str, Any] = {"name": "王小花", "id_number": new_id(), "village": village}
    values.update(overrides)
    return ChildData(**values)


def grandma(phone: str = "13912345678") -> GuardianData:
    return GuardianData(name="王奶奶", relation="祖母", phone=phone, guardianship_type="entrusted")


def both_parents_away() -> list[ConditionData]:
    start = datetime.date.today() - datetime.timedelta(days=400)
    return [
        ConditionData(parent="father", kind="working_away", started_on=start, evidence="村委会证明"),
        ConditionData(parent="mother", kind="working_away", started_on=start, evidence="村委会证明"),
    ]
