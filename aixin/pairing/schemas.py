from __future__ import annotations

import datetime

from ninja import Schema


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


class PairingPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PairingOut]
