"""API schemas of the registry: a minimal one for loving mothers (R-1.2), a fuller one for staff."""

from __future__ import annotations

import datetime

from ninja import Schema


class ChildFilterIn(Schema):
    region: str = ""
    category: str = ""
    tier: str = ""
    paired: str = ""
    age_band: str = ""
    status: str = ""
    inactive_days: int | None = None
    q: str = ""
    limit: int = 50
    offset: int = 0


class ChildMinimalOut(Schema):
    """What a loving mother needs: never the ID number, not even masked."""

    id: int
    name: str
    age: int
    sex: str
    school: str
    grade: str
    village: str
    guardian_name: str
    guardian_phone: str
    needs: list[str]


class GuardianOut(Schema):
    name: str
    relation: str
    phone_masked: str
    guardianship_type: str
    is_primary: bool


class ChildStaffOut(Schema):
    id: int
    name: str
    sex: str
    age: int
    birth_date: datetime.date
    id_number_masked: str
    district: str
    town: str
    village: str
    region_code: str
    school: str
    grade: str
    categories: list[str]
    difficulties: list[str]
    risks: list[str]
    care_tier: str
    derived_tier: str
    tier_override: str
    status: str
    paired: bool
    mother_name: str | None
    last_contact_on: datetime.date | None


class ChildStaffDetailOut(ChildStaffOut):
    guardians: list[GuardianOut]
    tier_override_reason: str
    address: str
