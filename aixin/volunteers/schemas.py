from __future__ import annotations

from ninja import Schema


class VolunteerOut(Schema):
    id: int
    name: str
    phone_masked: str
    source_group: str
    source_group_label: str
    district_code: str
    district: str
    town: str
    village_code: str
    village: str
    status: str
    status_label: str
    capacity: int
    load: int
    free_capacity: int
    specialties: list[str]
    trained: bool


class VolunteerPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[VolunteerOut]
