from __future__ import annotations

import datetime

from ninja import Schema
from pydantic import field_serializer


class PairingOut(Schema):
    id: int
    child_id: int
    child_name: str
    volunteer_id: int
    volunteer_name: str
    tier: str
    tier_label: str
    status: str
    status_label: str
    district: str
    town: str
    village: str
    village_code: str
    proposed_at: datetime.datetime
    start_date: datetime.date | None
    end_date: datetime.date | None
    updated_at: datetime.datetime

    @field_serializer("updated_at")
    def _full_precision(self, value: datetime.datetime) -> str:
        # Django's JSON encoder cuts datetimes to milliseconds; a system polling with
        # ?changed_since=<the last updated_at> needs the stored microseconds, or it would get the
        # last pairing again and again.
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


class PairingPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PairingOut]
