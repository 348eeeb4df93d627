"""API schemas of cases: one input and one output shape per operation."""

from __future__ import annotations

import datetime

from ninja import Schema


class IncidentIn(Schema):
    child_id: int | None = None
    category: str = ""
    severity: str = ""
    description: str = ""
    observed_at: datetime.datetime | None = None
    place: str = ""


class IncidentFilterIn(Schema):
    state: str = ""
    severity: str = ""
    overdue: bool = False
    limit: int = 50
    offset: int = 0


class ReferralOut(Schema):
    id: int
    department: str
    department_label: str
    state: str
    due_at: datetime.datetime | None
    reason: str
    version: int


class IncidentOut(Schema):
    id: int
    number: str
    child_id: int
    child_name: str
    village: str
    category: str
    category_label: str
    mandatory: bool
    severity: str
    state: str
    state_label: str
    due_at: datetime.datetime | None
    escalation_level: int
    version: int
    reported_at: datetime.datetime
    referrals: list[ReferralOut]


class IncidentPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[IncidentOut]


class TransitionIn(Schema):
    """A case action (accept, refer, resolve, close, return, reopen, note); with `referral_id`
    a referral action (accept, reject, act, done); `receipt` / `correction` add to the report."""

    action: str = ""
    version: int | None = None
    note: str = ""
    departments: list[str] = []
    referral_id: int | None = None
    receipt_number: str = ""
    agency: str = ""
