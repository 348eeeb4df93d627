"""The import pages: upload a ledger, follow its progress, read and download the rejected rows,
decide duplicate suspects, and see on a child's file which source and batch changed what."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from aixin.audit.models import AuditEvent
from aixin.ingest import services
from aixin.ingest.models import BatchStatus, DuplicateSuspect, ImportBatch, SuspectStatus
from aixin.registry.models import Child, ChildChange, ChildStatus
from tests import factories
from tests.downloads import post_export, workbook_in

HEADER = ["姓名", "身份证号码", "村(社区)代码", "监护人", "联系电话"]
BIRTH = datetime.date(2015, 3, 4)


def ident(n: int) -> str:
    return factories.id_number(BIRTH, seq=n)


def csv_upload(rows: list[list[str]], *, header: list[str] = HEADER, name: str = "民政台账.csv") -> Any:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buf.getvalue().encode("utf-8"), content_type="text/csv")


def good_row(n: int, village: Any, name: str = "") -> list[str]:
    return [name or f"刘{'一二三四五六七八九十'[n % 10]}娃", ident(n), village.code, "刘奶奶", "13800001234"]


def bad_id_row(n: int, village: Any) -> list[str]:
    row = good_row(n, village, name="错号娃")
    number = ident(n)
    row[1] = number[:17] + ("0" if number[17] != "0" else "1")  # wrong check character
    return row


@pytest.fixture
def queue_runs_now(django_capture_on_commit_callbacks: Any) -> Any:
    """Huey in immediate mode (memory storage): `with queue_runs_now():` around a request runs
    the task it queues on commit inside the test, as the consumer would run it."""
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    HUEY.immediate = before


@pytest.fixture
def admin_a(users: dict[str, Any]) -> Any:
    return users["district_admin"]


def upload(client: Any, rows: list[list[str]], *, source: str = "civil_affairs", **kw: Any) -> Any:
    data = {"source": source, "file": csv_upload(rows, **kw)}
    return client.post(reverse("ingest:batch_list"), data)


def import_now(
    actor: Any, tmp_path: Any, rows: list[list[str]], *, source: str = "civil_affairs"
) -> ImportBatch:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = tmp_path / f"batch-{len(rows)}-{source}.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return services.start_file_import(actor=actor, source=source, upload=path, run_now=True)


# ---------------------------------------------------------------------------------------------
# Upload and the batch page


def test_admin_uploads_a_small_csv_and_sees_the_batch_with_its_counts(
    tree: Any, admin_a: Any, login: Any, queue_runs_now: Any
) -> None:
    client = login(admin_a)
    rows = [good_row(1, tree.village_a1), good_row(2, tree.village_a1), bad_id_row(3, tree.village_a1)]
    with queue_runs_now():
        response = upload(client, rows)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ingest:batch_detail", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE
    assert batch.file_name == "民政台账.csv" and batch.created_by == admin_a
    assert Child.objects.filter(district=tree.district_a).count() == 2

    page = client.get(response["Location"]).content.decode()
    assert "已完成" in page
    assert "已处理 3 / 共 3 行" in page
    assert 'id="batch-counts"' in page
    assert "错号娃" not in page  # the reasons are shown, not the row's personal data
    assert "身份证号" in page and "校验" in page
    assert reverse("ingest:batch_rejections", args=[batch.pk]) in page
    assert reverse("registry:child_list") in page
    # A finished batch does not poll.
    assert 'hx-trigger="every 1s"' not in page

    listing = client.get(reverse("ingest:batch_list")).content.decode()
    assert "民政台账.csv" in listing and reverse("ingest:batch_detail", args=[batch.pk]) in listing


def test_dry_run_checks_the_file_and_writes_nothing(
    tree: Any, admin_a: Any, login: Any, queue_runs_now: Any
) -> None:
    client = login(admin_a)
    with queue_runs_now():
        response = client.post(
            reverse("ingest:batch_list"),
            {"source": "education", "dry_run": "on", "file": csv_upload([good_row(1, tree.village_a1)])},
        )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert batch.dry_run is True
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE and batch.created_count == 1
    assert Child.objects.count() == 0
    page = client.get(response["Location"]).content.decode()
    assert "检查结果（未写入）" in page


def test_a_file_without_a_header_shows_the_reason_on_the_form_and_creates_no_batch(
    tree: Any, admin_a: Any, login: Any, queue_runs_now: Any
) -> None:
    client = login(admin_a)
    with queue_runs_now():
        response = upload(client, [["甲", "乙"], ["丙", "丁"]], header=["随便", "写写"])
    body = response.content.decode()
    assert response.status_code == 200
    assert "未找到表头" in body
    assert 'role="alert"' in body
    assert ImportBatch.objects.count() == 0
    assert Child.objects.count() == 0


def test_the_upload_form_asks_for_a_source(tree: Any, admin_a: Any, login: Any, queue_runs_now: Any) -> None:
    client = login(admin_a)
    with queue_runs_now():
        response = upload(client, [good_row(1, tree.village_a1)], source="")
    assert response.status_code == 200
    assert "请选择数据来源" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_a_running_batch_polls_and_its_fragment_shows_rows_done_of_total(
    tree: Any, admin_a: Any, login: Any, queue_runs_now: Any
) -> None:
    batch = ImportBatch.objects.create(
        source="civil_affairs",
        status=BatchStatus.RUNNING,
        created_by=admin_a,
        scope=tree.district_a,
        file_name="大文件.xlsx",
        total_rows=40,
    )
    services._put_progress(batch.pk, 12, 40)
    client = login(admin_a)
    page = client.get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert f'hx-get="{reverse("ingest:batch_progress", args=[batch.pk])}"' in page

    fragment = client.get(reverse("ingest:batch_progress", args=[batch.pk]), HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert fragment.status_code == 200
    assert "已处理 12 / 共 40 行" in text
    assert '<progress value="12" max="40"' in text
    assert 'hx-trigger="every 1s"' in text
    assert "HX-Refresh" not in fragment
    assert "<html" not in text

    # Once it is done the fragment stops polling and reloads the page for the results.
    services._put_progress(batch.pk, 40, 40)
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.DONE)
    done = client.get(reverse("ingest:batch_progress", args=[batch.pk]), HTTP_HX_REQUEST="true")
    assert "已处理 40 / 共 40 行" in done.content.decode()
    assert 'hx-trigger="every 1s"' not in done.content.decode()
    assert done["HX-Refresh"] == "true"


def test_a_failed_batch_shows_its_error_in_chinese(tree: Any, admin_a: Any, login: Any) -> None:
    batch = ImportBatch.objects.create(
        source="civil_affairs",
        status=BatchStatus.FAILED,
        created_by=admin_a,
        scope=tree.district_a,
        error="导入出错：OperationalError。本批次未写入任何数据，可修正后重新导入",
    )
    page = login(admin_a).get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    assert "导入失败" in page
    assert "本批次未写入任何数据，可修正后重新导入" in page
    assert 'hx-trigger="every 1s"' not in page


def test_rejected_rows_download_as_an_excel_with_the_reasons(
    tree: Any, admin_a: Any, login: Any, tmp_path: Any
) -> None:
    batch = import_now(admin_a, tmp_path, [good_row(1, tree.village_a1), bad_id_row(2, tree.village_a1)])
    assert batch.rejected_count == 1
    reason = batch.rejections.get().reason
    response = post_export(login(admin_a), reverse("ingest:batch_rejections", args=[batch.pk]))
    wb = load_workbook(io.BytesIO(workbook_in(response)), read_only=True)
    text = " ".join(
        str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c
    )
    assert reason in text
    assert "错号娃" in text  # the original cells, to fix and re-import
    assert AuditEvent.objects.filter(
        action="export", object_type="import_batch", object_id=str(batch.pk)
    ).exists()


def test_the_template_downloads_as_an_excel_with_the_column_names(users: Any, login: Any) -> None:
    response = login(users["city_admin"]).get(reverse("ingest:template"))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content), read_only=True)
    text = " ".join(
        str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c
    )
    assert "身份证号" in text and "姓名" in text


def test_a_districts_template_lists_its_own_village_codes_and_takes_its_examples_from_them(
    users: Any, login: Any, tmp_path: Any
) -> None:
    from aixin.ingest.reading import open_table
    from aixin.ingest.workbooks import CODES_SHEET, DATA_SHEET, INSTRUCTIONS_SHEET

    response = login(users["district_admin"]).get(reverse("ingest:template"))
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == [DATA_SHEET, INSTRUCTIONS_SHEET, CODES_SHEET]
    codes = [row for row in wb[CODES_SHEET].iter_rows(min_row=2, values_only=True)]
    assert [row[3] for row in codes] == ["500101101201", "500101101202", "500101102201", "500101102202"]
    assert codes[0][:3] == ("万州区", "万州1镇", "万州1镇1村")
    examples = {row[0]: row[3] for row in wb[INSTRUCTIONS_SHEET].iter_rows(min_row=2, values_only=True)}
    assert (examples["区县"], examples["村(社区)代码"]) == ("万州区", "500101101201")
    notes = " ".join(str(row[0]) for row in wb[INSTRUCTIONS_SHEET].iter_rows(values_only=True) if row[0])
    assert "不满足" in notes or "与规则不符" in notes
    # Filled in, the template with its code sheet is one list, not several.
    data = wb[DATA_SHEET]
    data["A2"], data["B2"] = "张小明", factories.id_number(datetime.date(2015, 3, 4))
    path = tmp_path / "填好的模板.xlsx"
    wb.save(path)
    assert open_table(path).total_rows == 1


# ---------------------------------------------------------------------------------------------
# Who may see what


def test_another_districts_admin_gets_404_on_the_batch_its_progress_and_rejections(
    tree: Any, users: Any, admin_a: Any, login: Any, tmp_path: Any
) -> None:
    batch = import_now(admin_a, tmp_path, [good_row(1, tree.village_a1), bad_id_row(2, tree.village_a1)])
    client = login(users["district_b_admin"])
    for name in ("ingest:batch_detail", "ingest:batch_progress", "ingest:batch_rejections"):
        response = client.get(reverse(name, args=[batch.pk]))
        assert response.status_code == 404, name
    assert not AuditEvent.objects.filter(action="export", object_type="import_batch").exists()
    listing = client.get(reverse("ingest:batch_list")).content.decode()
    assert reverse("ingest:batch_detail", args=[batch.pk]) not in listing
    # The city sees every district's batches.
    city = login(users["city_admin"]).get(reverse("ingest:batch_list")).content.decode()
    assert reverse("ingest:batch_detail", args=[batch.pk]) in city


def test_only_admins_see_the_import_pages_and_the_menu_entry(users: Any, login: Any, client: Any) -> None:
    admin_home = login(users["district_admin"]).get(reverse("registry:child_list")).content.decode()
    assert reverse("ingest:batch_list") in admin_home
    client.logout()
    town = login(users["town_supervisor"])
    assert reverse("ingest:batch_list") not in town.get(reverse("registry:child_list")).content.decode()
    assert town.get(reverse("ingest:batch_list")).status_code == 403
    assert town.get(reverse("ingest:suspect_list")).status_code == 403


# ---------------------------------------------------------------------------------------------
# Duplicate suspects


def make_suspect(tree: Any, admin: Any, *, village: Any = None) -> DuplicateSuspect:
    village = village or tree.village_a1
    older = factories.make_child(village, name="陈小雨", birth=BIRTH)
    newer = factories.make_child(village, name="陈晓雨", birth=BIRTH)
    batch = ImportBatch.objects.create(
        source="education", status=BatchStatus.DONE, created_by=admin, scope=village.district
    )
    return DuplicateSuspect.objects.create(batch=batch, child=newer, other=older, district=village.district)


def test_suspects_are_shown_side_by_side_with_masked_ids(tree: Any, admin_a: Any, login: Any) -> None:
    suspect = make_suspect(tree, admin_a)
    page = login(admin_a).get(reverse("ingest:suspect_list")).content.decode()
    assert "陈小雨" in page and "陈晓雨" in page
    assert suspect.child.id_number_masked in page and suspect.other.id_number_masked in page
    assert "陈奶奶" in page  # guardians
    assert reverse("ingest:suspect_decide", args=[suspect.pk]) in page
    assert "同一儿童" in page and "不同儿童" in page


def test_deciding_same_child_closes_the_newer_record(tree: Any, admin_a: Any, login: Any) -> None:
    suspect = make_suspect(tree, admin_a)
    response = login(admin_a).post(
        reverse("ingest:suspect_decide", args=[suspect.pk]), {"decision": "same", "note": "村委会核实"}
    )
    assert response.status_code == 302
    suspect.refresh_from_db()
    assert suspect.status == SuspectStatus.SAME and suspect.note == "村委会核实"
    newer = Child.objects.get(pk=suspect.child_id)
    older = Child.objects.get(pk=suspect.other_id)
    assert newer.status == ChildStatus.CLOSED and "同一儿童" in newer.closed_reason
    assert older.status == ChildStatus.ACTIVE
    page = login(admin_a).get(reverse("ingest:suspect_list")).content.decode()
    assert "较新的重复记录已退出台账" in page
    assert reverse("ingest:suspect_decide", args=[suspect.pk]) not in page


def test_deciding_different_children_keeps_both_records(tree: Any, admin_a: Any, login: Any) -> None:
    suspect = make_suspect(tree, admin_a)
    response = login(admin_a).post(
        reverse("ingest:suspect_decide", args=[suspect.pk]), {"decision": "different", "note": ""}
    )
    assert response.status_code == 302
    suspect.refresh_from_db()
    assert suspect.status == SuspectStatus.DIFFERENT and suspect.decided_by == admin_a
    assert set(Child.objects.values_list("status", flat=True)) == {ChildStatus.ACTIVE}


def test_a_decision_without_a_choice_changes_nothing_and_says_what_is_missing(
    tree: Any, admin_a: Any, login: Any
) -> None:
    suspect = make_suspect(tree, admin_a)
    client = login(admin_a)
    response = client.post(reverse("ingest:suspect_decide", args=[suspect.pk]), {"note": "x"}, follow=True)
    assert "请选择核实结果" in response.content.decode()
    suspect.refresh_from_db()
    assert suspect.status == SuspectStatus.OPEN


def test_another_districts_admin_cannot_see_or_decide_a_suspect(
    tree: Any, users: Any, admin_a: Any, login: Any
) -> None:
    suspect = make_suspect(tree, admin_a)
    client = login(users["district_b_admin"])
    assert "陈小雨" not in client.get(reverse("ingest:suspect_list")).content.decode()
    response = client.post(reverse("ingest:suspect_decide", args=[suspect.pk]), {"decision": "same"})
    assert response.status_code == 404
    suspect.refresh_from_db()
    assert suspect.status == SuspectStatus.OPEN
    assert Child.objects.filter(status=ChildStatus.CLOSED).count() == 0


# ---------------------------------------------------------------------------------------------
# The child file's history


def test_the_child_file_shows_the_source_and_batch_of_each_change(
    tree: Any, users: Any, admin_a: Any, login: Any, tmp_path: Any
) -> None:
    batch = import_now(admin_a, tmp_path, [good_row(1, tree.village_a1, name="周小兰")])
    child = Child.objects.get(name="周小兰")
    batch_url = reverse("ingest:batch_detail", args=[batch.pk])

    page = login(admin_a).get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    # The child's creation is its first line of history, with the batch that created it.
    assert "<td>建档</td>" in page and "新建档案（民政数据导入）" in page
    assert "民政" in page
    assert f"批次 #{batch.pk}" in page
    assert batch_url in page

    # A town supervisor sees where the change came from, without a link to a batch page she
    # may not open.
    town_page = login(users["town_supervisor"]).get(reverse("registry:child_detail", args=[child.pk]))
    text = town_page.content.decode()
    assert "民政" in text and f"批次 #{batch.pk}" in text
    assert batch_url not in text


def test_a_manual_change_is_shown_as_manual_entry(tree: Any, admin_a: Any, login: Any) -> None:
    child = factories.make_child(tree.village_a1, name="吴小川")
    ChildChange.objects.create(
        child=child, field="school", old_value="", new_value="一小", source="manual", changed_by=admin_a
    )
    page = login(admin_a).get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    assert "手工录入" in page
    assert "就读学校" in page


def test_a_file_over_the_limit_is_stopped_while_uploading_and_the_form_says_so(
    tree: Any, admin_a: Any, login: Any, monkeypatch: Any
) -> None:
    from aixin.ingest import reading

    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 200)
    client = login(admin_a)
    rows = [good_row(i, tree.village_a1) for i in range(1, 20)]  # well over 200 bytes
    response = upload(client, rows)
    body = response.content.decode()
    assert response.status_code == 200
    assert "文件过大" in body and "请拆分后上传" in body
    assert ImportBatch.objects.count() == 0


def test_the_upload_form_states_the_size_limit_the_server_enforces_and_that_title_rows_are_fine(
    tree: Any, admin_a: Any, login: Any, monkeypatch: Any
) -> None:
    from aixin.ingest import reading

    monkeypatch.setattr(reading, "MAX_FILE_BYTES", 5 * 1024 * 1024)
    body = login(admin_a).get(reverse("ingest:batch_list")).content.decode()
    assert "不超过 5 MB" in body
    assert "标题行" in body and "第一行为表头" not in body


def test_the_upload_still_requires_the_csrf_token(tree: Any, admin_a: Any) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    response = client.post(
        reverse("ingest:batch_list"),
        {"source": "civil_affairs", "file": csv_upload([good_row(1, tree.village_a1)])},
    )
    assert response.status_code == 403
    assert ImportBatch.objects.count() == 0
