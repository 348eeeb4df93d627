from __future__ import annotations

import datetime

from ninja import Schema


class CareRecordIn(Schema):
    pairing_id: int
    # A string, so that a malformed date gets the same Chinese error as every other field.
    date: str
    kind: str
    rules: list[str]
    services: list[str] = []
    festival: str = ""
    notes: str = ""


class CareRecordOut(Schema):
    id: int
    pairing_id: int
    child_id: int
    date: datetime.date
    kind: str
    rules: list[str]
    services: list[str]
    festival: str


class ChecklistItemOut(Schema):
    rule_code: str
    rule_name: str
    short_name: str
    cadence: str
    status: str
    period_start: datetime.date
    period_end: datetime.date
    last_done_on: datetime.date | None


class PairingChecklistOut(Schema):
    pairing_id: int
    child_name: str
    village: str
    items: list[ChecklistItemOut]
