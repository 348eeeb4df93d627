"""The yearly access report (R-12.5): who viewed which children's files how often, exports and
reveals, per month; per child (a pseudonym) how many users viewed it."""

from __future__ import annotations

import datetime
import io
import stat

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aixin.accounts import access
from aixin.accounts.models import Role
from aixin.audit.access_report import access_report, child_pseudonym
from aixin.audit.models import AuditAction, AuditEvent
from aixin.audit.services import audit_log
from tests.downloads import post_export, workbook_in

TZ = datetime.timezone(datetime.timedelta(hours=8))


def _at(monkeypatch, when, **event):
    monkeypatch.setattr(timezone, "now", lambda: when)
    return audit_log(**event)


@pytest.fixture
def year_of_events(tree, users, monkeypatch):
    """2026: the district admin views child 11 twice in March and child 12 in May, exports once
    and reveals once; the town supervisor views child 11 in May. 2025: the city admin views 11."""
    dist, town = users["district_admin"], users["town_supervisor"]
    view = {"action": AuditAction.VIEW, "object_type": "child", "region": tree.village_a1}
    _at(monkeypatch, datetime.datetime(2026, 3, 2, 9, tzinfo=TZ), actor=dist, object_id=11, **view)
    _at(monkeypatch, datetime.datetime(2026, 3, 9, 9, tzinfo=TZ), actor=dist, object_id=11, **view)
    # 1 May 00:30 in Chongqing is still April in UTC: counted in May.
    _at(monkeypatch, datetime.datetime(2026, 5, 1, 0, 30, tzinfo=TZ), actor=dist, object_id=12, **view)
    _at(monkeypatch, datetime.datetime(2026, 5, 3, 9, tzinfo=TZ), actor=town, object_id=11, **view)
    _at(
        monkeypatch,
        datetime.datetime(2026, 6, 1, 9, tzinfo=TZ),
        actor=dist,
        action=AuditAction.EXPORT,
        object_type="child",
    )
    _at(
        monkeypatch,
        datetime.datetime(2026, 6, 2, 9, tzinfo=TZ),
        actor=dist,
        action=AuditAction.REVEAL,
        object_type="child",
        object_id=11,
    )
    _at(
        monkeypatch,
        datetime.datetime(2025, 12, 31, 9, tzinfo=TZ),
        actor=users["city_admin"],
        object_id=11,
        **view,
    )
    monkeypatch.undo()


@pytest.fixture
def access_report_exportable(monkeypatch):
    """Until aixin/accounts/access.py EXPORT_ROLES has the row (the lead adds it), allow it here."""
    if "access_report" not in access.EXPORT_ROLES:
        monkeypatch.setitem(access.EXPORT_ROLES, "access_report", frozenset({Role.CITY_ADMIN}))


def test_report_counts_views_children_exports_reveals_and_months_per_user(year_of_events, users):
    report = access_report(year=2026)
    by_user = {u.username: u for u in report.users}
    assert set(by_user) == {"dist_a", "town_a1"}
    dist = by_user["dist_a"]
    assert (dist.file_views, dist.children, dist.exports, dist.reveals) == (3, 2, 1, 1)
    assert dist.by_month == {3: 2, 5: 1}
    assert dist.role == "区县妇联工作人员" and dist.region == "万州区"
    assert by_user["town_a1"].by_month == {5: 1}


def test_report_counts_distinct_users_per_child_under_a_pseudonym(year_of_events):
    children = {c.pseudonym: c for c in access_report(year=2026).children}
    assert set(children) == {child_pseudonym(11), child_pseudonym(12)}
    assert (children[child_pseudonym(11)].users, children[child_pseudonym(11)].views) == (2, 3)
    assert children[child_pseudonym(11)].district == "万州区"
    assert children[child_pseudonym(12)].users == 1
    assert child_pseudonym(11) != "11" and child_pseudonym(11) == child_pseudonym("11")


def test_another_year_counts_only_its_own_events(year_of_events):
    report = access_report(year=2025)
    assert [(u.username, u.file_views) for u in report.users] == [("city", 1)]


def test_city_admin_sees_the_report_page_and_the_view_is_audited(year_of_events, users, login):
    response = login(users["city_admin"]).get(reverse("audit:access_report"), {"year": 2026})
    page = response.content.decode()
    assert response.status_code == 200
    assert "dist_a" in page and child_pseudonym(11) in page
    assert AuditEvent.objects.filter(action="view", object_type="access_report", object_id="2026").exists()


def test_district_admin_cannot_open_the_access_report(users, login):
    response = login(users["district_admin"]).get(reverse("audit:access_report"))
    assert response.status_code == 403


def test_report_exports_as_an_encrypted_workbook_with_two_sheets(
    year_of_events, users, login, access_report_exportable
):
    client = login(users["city_admin"])
    url = reverse("audit:access_report") + "?year=2026&download=1"
    assert "解压密码" in client.get(url).content.decode()
    wb = load_workbook(io.BytesIO(workbook_in(post_export(client, url))))
    users_sheet, children_sheet = wb.worksheets
    rows = list(users_sheet.iter_rows(values_only=True))
    assert rows[2][:8] == (
        "用户名",
        "姓名",
        "角色",
        "所属区域",
        "查看儿童档案次数",
        "查看儿童人数",
        "导出次数",
        "查看完整号码次数",
    )
    dist_row = next(r for r in rows if r[0] == "dist_a")
    assert dist_row[4:8] == (3, 2, 1, 1)
    assert dist_row[8:20] == (0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0)
    codes = {r[0] for r in children_sheet.iter_rows(min_row=4, values_only=True)}
    assert codes == {child_pseudonym(11), child_pseudonym(12)}
    event = AuditEvent.objects.get(action="export", object_type="access_report")
    assert event.details["encrypted"] is True and event.details["filters"] == {"year": 2026}


def test_command_writes_the_workbook_readable_only_by_its_owner_and_audits_it(year_of_events, tmp_path):
    out = tmp_path / "report.xlsx"
    call_command("access-report", "--year", "2026", "--output", str(out), stdout=io.StringIO())
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    wb = load_workbook(out)
    assert [ws.title for ws in wb.worksheets] == ["2026年用户访问", "2026年儿童档案被访问"]
    event = AuditEvent.objects.get(action="export", object_type="access_report")
    assert event.details["rows"] == 4


def test_command_without_output_prints_the_figures(year_of_events):
    buf = io.StringIO()
    call_command("access-report", "--year", "2026", stdout=buf)
    assert "dist_a" in buf.getvalue() and "查看档案 3" in buf.getvalue()
    assert not AuditEvent.objects.filter(action="export", object_type="access_report").exists()
