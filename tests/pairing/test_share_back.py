"""Sharing the pairing status back with civil affairs (R-4.6): the status file an administrator
downloads, and the pairings API that civil affairs systems poll with `changed_since`."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aixin.audit.models import AuditEvent
from aixin.pairing import services
from aixin.pairing.exports import STATUS_HEADERS, pairing_status_rows
from aixin.pairing.models import Pairing
from aixin.registry import derive
from aixin.registry.models import Child, ChildStatus
from tests import factories
from tests.downloads import post_export, workbook_in
from tests.pairing.helpers import activate, needy_child, propose

URL = "pairing:status_export"


@pytest.fixture
def world(tree: Any, users: dict[str, Any]) -> dict[str, Any]:
    admin = users["district_admin"]
    paired = needy_child(tree.village_a1, name="甲童")
    pending = needy_child(tree.village_a1b, name="乙童")
    unpaired = needy_child(tree.village_a2, name="丁童")
    closed = needy_child(tree.village_a2, name="戊童")
    Child.objects.filter(pk=closed.pk).update(status=ChildStatus.CLOSED, closed_reason="迁出本市")
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    activate(admin, paired, mother)
    propose(admin, pending, factories.make_volunteer(tree.village_a1b, name="乙妈妈"))
    Child.objects.filter(pk=paired.pk).update(last_contact_on=datetime.date(2025, 3, 8))
    foreign = needy_child(tree.village_b1, name="丙童")
    activate(users["district_b_admin"], foreign, factories.make_volunteer(tree.village_b1, name="丙妈妈"))
    return {
        "paired": paired,
        "pending": pending,
        "unpaired": unpaired,
        "closed": closed,
        "foreign": foreign,
        "mother": mother,
    }


def _rows(response: Any) -> list[tuple[Any, ...]]:
    wb = load_workbook(io.BytesIO(workbook_in(response)))
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r[0] == "区县")
    assert rows[header_at] == STATUS_HEADERS
    return [r for r in rows[header_at + 1 :]]


def _by_name(rows: list[tuple[Any, ...]]) -> dict[str, tuple[Any, ...]]:
    return {r[3]: r for r in rows}


# --- the status file ------------------------------------------------------------------------


def test_district_admin_gets_one_row_per_child_in_the_register_of_her_district(world, users, login):
    rows = _rows(post_export(login(users["district_admin"]), reverse(URL)))
    names = [r[3] for r in rows]
    assert sorted(names) == ["丁童", "乙童", "甲童"]
    assert "丙童" not in names and "戊童" not in names  # district B; closed file
    text = " ".join(str(v) for r in rows for v in r if v)
    assert "丙妈妈" not in text


def test_each_row_says_whether_the_child_is_paired_pending_or_unpaired(world, users, login):
    rows = _by_name(_rows(post_export(login(users["district_admin"]), reverse(URL))))
    header = list(STATUS_HEADERS)
    col = {h: header.index(h) for h in header}
    paired = rows["甲童"]
    assert paired[col["结对状态"]] == "已结对"
    assert paired[col["爱心妈妈"]] == "甲妈妈"
    assert paired[col["结对日期"]] == timezone.localdate().isoformat()
    assert paired[col["最近一次关爱日期"]] == "2025-03-08"
    assert paired[col["区县"]] == "万州区" and paired[col["村(社区)"]] == world["paired"].region.name
    assert rows["乙童"][col["结对状态"]] == "待确认" and rows["乙童"][col["爱心妈妈"]] == "乙妈妈"
    assert rows["丁童"][col["结对状态"]] == "未结对" and rows["丁童"][col["爱心妈妈"]] in (None, "")


def test_the_full_id_number_is_in_the_file_and_the_mothers_phone_is_masked(world, users, login):
    rows = _by_name(_rows(post_export(login(users["district_admin"]), reverse(URL))))
    header = list(STATUS_HEADERS)
    row = rows["甲童"]
    assert row[header.index("身份证号")] == derive.reveal_id_number(world["paired"])
    assert len(row[header.index("身份证号")]) == 18
    phone = row[header.index("爱心妈妈电话")]
    assert phone == world["mother"].phone_masked and "*" in phone


def test_the_file_has_a_title_a_watermark_a_frozen_header_and_id_numbers_as_text(world, users, login):
    response = post_export(login(users["district_admin"]), reverse(URL))
    assert response["Cache-Control"] == "no-store"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(workbook_in(response))).worksheets[0]
    assert ws.title == "结对状态（共享民政）"
    assert ws["A1"].value == "结对状态（共享民政）" and ws["A1"].font.b
    assert "导出人" in ws["A2"].value and "请勿外传" in ws["A2"].value
    assert ws["A3"].value == "区县" and ws["A3"].font.b
    assert ws.freeze_panes == "A4"
    id_cell = ws.cell(row=4, column=STATUS_HEADERS.index("身份证号") + 1)
    assert id_cell.data_type == "s" and len(id_cell.value) == 18 and id_cell.number_format == "@"


def test_the_export_is_audited_with_its_row_count(world, users, login):
    post_export(login(users["district_admin"]), reverse(URL))
    event = AuditEvent.objects.get(action="export", object_type="pairing_status")
    assert event.details["rows"] == 3
    assert event.actor == users["district_admin"]
    assert event.district == users["district_admin"].region
    assert "3" in event.summary and "身份证号" in event.summary


def test_city_admin_gets_both_districts(world, users, login):
    names = [r[3] for r in _rows(post_export(login(users["city_admin"]), reverse(URL)))]
    assert sorted(names) == sorted(["甲童", "乙童", "丁童", "丙童"])


@pytest.mark.parametrize("role", ["town_supervisor", "village_director"])
def test_town_and_village_staff_cannot_download_the_status_file(world, users, login, role):
    response = login(users[role]).get(reverse(URL))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(object_type="pairing_status").exists()


def test_a_loving_mother_cannot_download_the_status_file(world, login):
    assert login(world["mother"].user).get(reverse(URL)).status_code == 403
    assert not AuditEvent.objects.filter(object_type="pairing_status").exists()


def test_a_formula_looking_name_is_written_as_text(tree, users, login):
    factories.make_child(tree.village_a1, name="=1+1")
    rows = _rows(post_export(login(users["district_admin"]), reverse(URL)))
    assert rows[0][3] == "'=1+1"


def test_the_ledger_offers_the_share_back_file_to_administrators_only(world, users, login, client):
    page = login(users["district_admin"]).get(reverse("pairing:ledger")).content.decode()
    assert reverse(URL) in page
    page = login(users["town_supervisor"]).get(reverse("pairing:ledger")).content.decode()
    assert reverse(URL) not in page


def test_rows_are_read_in_one_query_however_many_children(tree, users, django_assert_max_num_queries):
    admin = users["district_admin"]
    for n in range(30):
        child = needy_child(tree.village_a1 if n % 2 else tree.village_a2, name=f"童{n}")
        if n % 3 == 0:
            activate(admin, child, factories.make_volunteer(tree.village_a1, name=f"妈妈{n}"))
    with django_assert_max_num_queries(1):
        rows = list(pairing_status_rows(admin))
    assert len(rows) == 30
    assert sum(1 for r in rows if r[7] == "已结对") == 10


def test_the_download_needs_a_fixed_number_of_queries(
    world, tree, users, login, django_assert_max_num_queries
):
    client = login(users["district_admin"])
    for n in range(20):
        needy_child(tree.village_a1, name=f"多{n}")
    with django_assert_max_num_queries(8):
        rows = _rows(post_export(client, reverse(URL)))
    assert len(rows) == 23


# --- changed_since on the pairings API -----------------------------------------------------

API = "/api/v1/pairings"


def _stamp(pairing: Pairing, when: datetime.datetime) -> None:
    Pairing.objects.filter(pk=pairing.pk).update(updated_at=when)


def test_changed_since_returns_only_pairings_changed_later_oldest_change_first(tree, users, login):
    admin = users["district_admin"]
    old = activate(admin, needy_child(tree.village_a1, name="旧"), factories.make_volunteer(tree.village_a1))
    newer = activate(
        admin, needy_child(tree.village_a2, name="新"), factories.make_volunteer(tree.village_a2)
    )
    newest = propose(
        admin, needy_child(tree.village_a1, name="最新"), factories.make_volunteer(tree.village_a1)
    )
    tz = timezone.get_current_timezone()
    _stamp(old, datetime.datetime(2025, 3, 1, 9, 0, tzinfo=tz))
    _stamp(newest, datetime.datetime(2025, 3, 3, 9, 0, tzinfo=tz))
    _stamp(newer, datetime.datetime(2025, 3, 2, 9, 0, tzinfo=tz))
    body = login(admin).get(API, {"changed_since": "2025-03-01T09:00:00+08:00"}).json()
    assert body["count"] == 2
    assert [p["child_name"] for p in body["items"]] == ["新", "最新"]
    item = body["items"][0]
    assert item["child_id"] == newer.child_id and item["status"] == "active"
    assert item["volunteer_name"] == newer.volunteer.name
    assert item["start_date"] == newer.start_date.isoformat() and item["end_date"] is None
    assert datetime.datetime.fromisoformat(item["updated_at"]) == datetime.datetime(
        2025, 3, 2, 9, 0, tzinfo=tz
    )


def test_ending_a_pairing_makes_it_appear_in_the_next_poll(tree, users, login):
    admin = users["district_admin"]
    pairing = activate(
        admin, needy_child(tree.village_a1, name="甲"), factories.make_volunteer(tree.village_a1)
    )
    client = login(admin)
    first = client.get(API, {"changed_since": "2020-01-01"}).json()["items"]
    last_seen = first[-1]["updated_at"]
    assert client.get(API, {"changed_since": last_seen}).json()["count"] == 0
    services.pairing_end(actor=admin, pairing_id=pairing.pk, reason="儿童随父母外出")
    items = client.get(API, {"changed_since": last_seen}).json()["items"]
    assert [(p["child_id"], p["status"]) for p in items] == [(pairing.child_id, "ended")]
    assert items[0]["end_date"] == timezone.localdate().isoformat()


def test_a_naive_or_unencoded_offset_timestamp_is_read_as_beijing_time(tree, users, login):
    admin = users["district_admin"]
    pairing = activate(admin, needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1))
    _stamp(pairing, datetime.datetime(2025, 3, 1, 9, 0, tzinfo=timezone.get_current_timezone()))
    client = login(admin)
    assert client.get(API, {"changed_since": "2025-03-01T08:59:59"}).json()["count"] == 1
    assert client.get(API, {"changed_since": "2025-03-01T09:00:00"}).json()["count"] == 0
    # "+08:00" not URL-encoded arrives as " 08:00".
    assert client.get(API + "?changed_since=2025-03-01T08:59:59+08:00").json()["count"] == 1
    assert client.get(API, {"changed_since": "2025-03-01T00:59:59Z"}).json()["count"] == 1
    assert client.get(API, {"changed_since": "2025-03-01 08:59:59"}).json()["count"] == 1
    assert client.get(API, {"changed_since": "2025-03-01 09:00"}).json()["count"] == 0
    # Unix seconds, as the push API's own timestamps: 2025-03-01 09:00 Beijing is 1740790800.
    assert client.get(API, {"changed_since": "1740790799"}).json()["count"] == 1
    assert client.get(API, {"changed_since": "1740790800"}).json()["count"] == 0


@pytest.mark.parametrize(
    "bad", ["yesterday", "2025-13-01", "2025-03-01T25:00:00", "2025/03/01", "0001-01-01T00:00:00+08:00", " "]
)
def test_a_bad_changed_since_is_refused_with_a_chinese_message(tree, users, login, bad):
    response = login(users["district_admin"]).get(API, {"changed_since": bad})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "changed_since"
    assert "ISO 8601" in body["detail"] and "不是有效的时间" in body["detail"]


def test_changed_since_stays_within_the_callers_scope(tree, users, login):
    activate(
        users["district_admin"],
        needy_child(tree.village_a1, name="万州娃"),
        factories.make_volunteer(tree.village_a1),
    )
    activate(
        users["district_b_admin"],
        needy_child(tree.village_b1, name="涪陵娃"),
        factories.make_volunteer(tree.village_b1),
    )
    names = [
        p["child_name"]
        for p in login(users["district_b_admin"]).get(API, {"changed_since": "2020-01-01"}).json()["items"]
    ]
    assert names == ["涪陵娃"]
    names = [
        p["child_name"]
        for p in login(users["village_director"]).get(API, {"changed_since": "2020-01-01"}).json()["items"]
    ]
    assert names == ["万州娃"]


def test_a_mother_polling_sees_only_her_own_pairings(tree, users, login):
    mine = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    activate(users["district_admin"], needy_child(tree.village_a1, name="我的娃"), mine)
    activate(
        users["district_admin"],
        needy_child(tree.village_a1, name="别人的娃"),
        factories.make_volunteer(tree.village_a1),
    )
    body = login(mine.user).get(API, {"changed_since": "2020-01-01"}).json()
    assert [p["child_name"] for p in body["items"]] == ["我的娃"]


def test_without_changed_since_the_list_is_unchanged_and_carries_updated_at(tree, users, login):
    admin = users["district_admin"]
    activate(admin, needy_child(tree.village_a2, name="乙"), factories.make_volunteer(tree.village_a2))
    activate(admin, needy_child(tree.village_a1, name="甲"), factories.make_volunteer(tree.village_a1))
    body = login(admin).get(API).json()
    assert [p["child_name"] for p in body["items"]] == ["甲", "乙"]  # by village, as before
    assert all(p["updated_at"] for p in body["items"])
