"""The stats API's output: the dashboard's Overview, field for field."""

from __future__ import annotations

import datetime

from ninja import Schema


class RegionOut(Schema):
    code: str
    name: str
    level: int
    level_label: str


class TallyOut(Schema):
    key: str
    label: str
    count: int


class ChildStatsOut(Schema):
    active: int
    by_category: list[TallyOut]
    by_tier: list[TallyOut]
    paired: int
    not_contacted_14: int
    not_contacted_30: int


class CoverageOut(Schema):
    key: str
    label: str
    done: int
    total: int
    percent: float | None
    target_percent: int


class MotherStatsOut(Schema):
    total: int
    by_status: list[TallyOut]
    active: int
    load: int
    capacity: int
    load_percent: float | None
    load_distribution: list[TallyOut]
    trained: int
    trained_percent: float | None


class ComplianceOut(Schema):
    rule_code: str
    rule_name: str
    due: int
    done: int
    overdue: int
    percent: float | None


class AreaOut(Schema):
    code: str
    name: str
    level: int
    children: int
    left_behind: int
    must_cover: int
    must_cover_paired: int
    coverage_percent: float | None
    active_mothers: int
    left_behind_per_mother: float | None
    compliance_percent: float | None


class MatchingGapOut(Schema):
    town_code: str
    town_name: str
    district_name: str
    unmatched: int
    must_cover_unmatched: int
    mothers_needed: int
    missing: dict[str, int]


class ClosureOut(Schema):
    key: str
    name: str
    total: int
    closed: int
    rate: float | None
    median_hours: float | None


class CaseStatsOut(Schema):
    severities: list[tuple[str, str]]
    open_by_age: list[tuple[str, list[int]]]
    open_total: int
    overdue_cases: int
    overdue_referrals: int
    by_district: list[ClosureOut]
    by_department: list[ClosureOut]


class ActivityStatsOut(Schema):
    year: int
    held: int
    children_reached: int


class OverviewOut(Schema):
    region: RegionOut
    breadcrumb: list[RegionOut]
    today: datetime.date
    children: ChildStatsOut
    coverage: list[CoverageOut]
    mothers: MotherStatsOut
    compliance: list[ComplianceOut]
    compliance_available: bool
    overdue_total: int
    activities: ActivityStatsOut
    area_level: str | None
    breakdown: list[AreaOut]
    hot_spots: list[AreaOut]
    matching_gaps: list[MatchingGapOut]
    cases: CaseStatsOut | None
