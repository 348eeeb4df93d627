"""The yearly access report for the compliance audit (R-12.5): who accessed which records how
often, read from the audit log.

- per user: role, region, child-file views, distinct children viewed, exports, reveals of full
  identifiers, and child-file views per month;
- per child (a pseudonym, never the name, with the district): how many distinct users viewed
  the file.

"Child-file views" are the VIEW events on children (pages and API). The report names staff, so
its download is personal data (an encrypted archive through aixin.audit.exports). It covers the
whole city: it is for the city's administrators and the operator's command only.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import ExtractMonth
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from aixin.accounts.models import Role, User
from aixin.audit.models import AuditAction, AuditEvent
from aixin.lib.crypto import blind_index
from aixin.lib.excel import neutralise

MONTHS = tuple(range(1, 13))
USER_HEADERS = (
    "用户名",
    "姓名",
    "角色",
    "所属区域",
    "查看儿童档案次数",
    "查看儿童人数",
    "导出次数",
    "查看完整号码次数",
    *(f"{m}月查看档案" for m in MONTHS),
)
CHILD_HEADERS = ("儿童代号", "区县", "查看人数", "查看次数")
PSEUDONYM_CONTEXT = "access-report-child"


@dataclass
class UserAccess:
    username: str
    name: str
    role: str
    region: str
    file_views: int = 0
    children: int = 0
    exports: int = 0
    reveals: int = 0
    by_month: dict[int, int] = field(default_factory=dict)

    def row(self) -> list[Any]:
        return [
            self.username,
            self.name,
            self.role,
            self.region,
            self.file_views,
            self.children,
            self.exports,
            self.reveals,
            *(self.by_month.get(m, 0) for m in MONTHS),
        ]


@dataclass
class ChildAccess:
    pseudonym: str
    district: str
    users: int
    views: int

    def row(self) -> list[Any]:
        return [self.pseudonym, self.district, self.users, self.views]


@dataclass
class AccessReport:
    year: int
    users: list[UserAccess]
    children: list[ChildAccess]


def child_pseudonym(child_id: Any) -> str:
    """A stable code for a child that does not reveal who it is; with the key, the compliance
    office can check a given child's code."""
    return "C" + blind_index(str(child_id), context=PSEUDONYM_CONTEXT)[:11].upper()


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    return datetime.datetime(year, 1, 1, tzinfo=tz), datetime.datetime(year + 1, 1, 1, tzinfo=tz)


def access_report(*, year: int) -> AccessReport:
    """The access report of calendar `year` (local time), users and children in stable order."""
    start, end = _year_bounds(year)
    events = AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end, actor__isnull=False)
    file_views = events.filter(action=AuditAction.VIEW, object_type="child")

    users: dict[int, UserAccess] = {}
    counted = Q(action=AuditAction.VIEW, object_type="child") | Q(
        action__in=(AuditAction.EXPORT, AuditAction.REVEAL)
    )
    actor_ids = set(events.filter(counted).values_list("actor_id", flat=True).distinct())
    roles = dict(Role.choices)
    for user in User.objects.filter(pk__in=actor_ids).select_related("region").order_by("username"):
        users[user.pk] = UserAccess(
            username=user.get_username(),
            name=user.display_name,
            role=str(roles.get(user.role, user.role)),
            region=user.region.name if user.region_id else "",
        )

    tz = ZoneInfo(settings.TIME_ZONE)
    for row in (
        file_views.annotate(month=ExtractMonth("created_at", tzinfo=tz))
        .values("actor_id", "month")
        .annotate(n=Count("id"))
        .order_by()
    ):
        entry = users[row["actor_id"]]
        entry.by_month[row["month"]] = row["n"]
        entry.file_views += row["n"]
    for row in file_views.values("actor_id").annotate(n=Count("object_id", distinct=True)).order_by():
        users[row["actor_id"]].children = row["n"]
    for action, attr in ((AuditAction.EXPORT, "exports"), (AuditAction.REVEAL, "reveals")):
        for row in events.filter(action=action).values("actor_id").annotate(n=Count("id")).order_by():
            setattr(users[row["actor_id"]], attr, row["n"])

    children: list[ChildAccess] = []
    districts = dict(
        file_views.exclude(district__isnull=True)
        .values_list("object_id", "district__name")
        .order_by("object_id", "created_at")
    )
    for row in (
        file_views.values("object_id")
        .annotate(users=Count("actor_id", distinct=True), views=Count("id"))
        .order_by()
    ):
        children.append(
            ChildAccess(
                pseudonym=child_pseudonym(row["object_id"]),
                district=districts.get(row["object_id"], ""),
                users=row["users"],
                views=row["views"],
            )
        )
    children.sort(key=lambda c: (-c.users, -c.views, c.district, c.pseudonym))
    ordered = sorted(users.values(), key=lambda u: (-u.file_views, u.username))
    return AccessReport(year=year, users=ordered, children=children)


def _sheet(wb: Workbook, title: str, headers: Sequence[str], rows: list[list[Any]], watermark: str) -> None:
    ws = wb.create_sheet(title=title[:31])
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    if watermark:
        ws.append([watermark])
    ws.append(list(headers))
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([neutralise(v) for v in row])
    for i, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(24, len(str(header)) * 2 + 4))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)


def access_report_workbook(report: AccessReport, *, watermark: str = "") -> bytes:
    """Two sheets: 用户访问 (per user) and 儿童档案被访问 (per child, pseudonymous)."""
    wb = Workbook()
    default = wb.active
    if default is not None:
        wb.remove(default)
    _sheet(wb, f"{report.year}年用户访问", USER_HEADERS, [u.row() for u in report.users], watermark)
    _sheet(wb, f"{report.year}年儿童档案被访问", CHILD_HEADERS, [c.row() for c in report.children], watermark)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
