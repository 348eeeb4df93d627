"""A workbook with one list per sheet (one sheet per town, as districts often keep them) is
imported whole: every sheet's children, rejections that name the sheet, and a rejected-rows file
that says which sheet each row came from."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from aixin.ingest import services
from aixin.ingest.models import BatchStatus, ImportBatch
from aixin.registry.models import Child
from tests.downloads import post_export, workbook_in
from tests.ingest.test_import_engine import HEADER, ident
from tests.ingest.test_import_engine import row as engine_row


def row(n: int, village: Any, *, name: str = "") -> list[str]:
    return engine_row(n, village, name=name or f"李{n}娃")


def write_workbook(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(["2026年农村留守儿童花名册"])
        for cells in rows:
            ws.append(cells)
    wb.save(path)
    return path


def run(path: Path, actor: Any) -> ImportBatch:
    return services.start_file_import(actor=actor, source="civil_affairs", upload=path, run_now=True)


@pytest.fixture
def admin_a(users: dict[str, Any]) -> Any:
    return users["district_admin"]


@pytest.fixture
def town_book(tree: Any, tmp_path: Path) -> Path:
    bad_id = row(4, tree.village_a1b)
    bad_id[2] = bad_id[2][:17] + ("0" if bad_id[2][17] != "0" else "1")  # wrong check character
    return write_workbook(
        tmp_path / "各镇名单.xlsx",
        {
            "城关镇": [HEADER, row(1, tree.village_a1), row(2, tree.village_a1)],
            "龙潭镇": [HEADER, row(3, tree.village_a1b), bad_id, row(1, tree.village_a1b, name="重复娃")],
        },
    )


def test_each_sheets_children_are_imported_and_the_batch_names_the_sheets(
    tree: Any, admin_a: Any, town_book: Path
) -> None:
    batch = run(town_book, admin_a)
    assert batch.status == BatchStatus.DONE
    assert (batch.created_count, batch.rejected_count, batch.total_rows) == (3, 2, 5)
    assert batch.sheets == ["城关镇", "龙潭镇"]
    assert set(Child.objects.values_list("name", flat=True)) == {"李1娃", "李2娃", "李3娃"}


def test_a_rejection_names_its_sheet_and_its_row_in_that_sheet(
    tree: Any, admin_a: Any, town_book: Path
) -> None:
    batch = run(town_book, admin_a)
    bad, repeated = batch.rejections.order_by("sheet_index", "row_number")
    assert (bad.sheet, bad.row_number, bad.column) == ("龙潭镇", 4, "身份证号码")
    # The same child on two sheets: the second names the first, sheet and row.
    assert (repeated.sheet, repeated.row_number) == ("龙潭镇", 5)
    assert "与工作表“城关镇”第3行的身份证号相同" in repeated.reason


def test_importing_the_workbook_again_changes_nothing(tree: Any, admin_a: Any, town_book: Path) -> None:
    run(town_book, admin_a)
    again = run(town_book, admin_a)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)


def test_the_batch_page_shows_the_sheet_of_each_rejected_row(
    tree: Any, admin_a: Any, town_book: Path, login: Any
) -> None:
    batch = run(town_book, admin_a)
    page = login(admin_a).get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    assert "城关镇、龙潭镇" in page
    table = page[page.index('id="rejection-rows"') :]
    assert "<th>工作表</th>" in table and ">龙潭镇</td>" in table


def test_the_rejected_rows_file_says_the_sheet_and_imports_again_once_fixed(
    tree: Any, admin_a: Any, town_book: Path, login: Any, tmp_path: Path
) -> None:
    batch = run(town_book, admin_a)
    response = post_export(login(admin_a), reverse("ingest:batch_rejections", args=[batch.pk]))
    wb = openpyxl.load_workbook(io.BytesIO(workbook_in(response)))
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "工作表")
    header, body = rows[header_at], rows[header_at + 1 :]
    assert header[:3] == ["工作表", "行号", "序号"]
    assert [(r[0], r[1]) for r in body] == [("龙潭镇", 4), ("龙潭镇", 5)]
    # The district fixes the ID number of the first and uploads the file as it is.
    ws.cell(row=header_at + 2, column=header.index("身份证号码") + 1, value=ident(4))
    fixed = tmp_path / "改好的.xlsx"
    wb.save(fixed)
    again = run(fixed, admin_a)
    assert again.created_count == 1 and Child.objects.filter(name="李4娃").exists()


def test_a_dry_runs_suspects_on_two_sheets_name_both_sheets(
    tree: Any, admin_a: Any, tmp_path: Path, login: Any
) -> None:
    """Same name, birth date and village, other ID numbers, typed by two towns."""
    path = write_workbook(
        tmp_path / "各镇名单.xlsx",
        {
            "城关镇": [HEADER, row(1, tree.village_a1, name="王小明")],
            "龙潭镇": [HEADER, row(2, tree.village_a1, name="王小明")],
        },
    )
    batch = services.start_file_import(
        actor=admin_a, source="civil_affairs", upload=path, dry_run=True, run_now=True
    )
    assert batch.suspect_count == 1
    page = login(admin_a).get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    suspects = page[page.index('id="dry-run-suspect-rows"') :]
    assert "工作表“龙潭镇”第3行 王小明" in suspects
    assert "本文件工作表“城关镇”第3行 王小明" in suspects


def test_a_rejected_rows_file_rejected_again_has_one_row_number_reason_and_sheet_column(
    tree: Any, admin_a: Any, town_book: Path, login: Any, tmp_path: Path
) -> None:
    client = login(admin_a)
    first = run(town_book, admin_a)
    exported = tmp_path / "拒绝行.xlsx"
    exported.write_bytes(
        workbook_in(post_export(client, reverse("ingest:batch_rejections", args=[first.pk])))
    )
    # Uploaded again with the ID number unfixed: refused again, by its row in this file.
    again = run(exported, admin_a)
    assert again.rejected_count == 1
    response = post_export(client, reverse("ingest:batch_rejections", args=[again.pk]))
    rows = [list(r) for r in openpyxl.load_workbook(io.BytesIO(workbook_in(response))).worksheets[0].values]
    header_at = next(i for i, r in enumerate(rows) if r[0] == "行号")
    header = rows[header_at]
    assert header == ["行号", *HEADER, "出错列", "原因"]
    [line] = rows[header_at + 1 :]
    assert line[0] == header_at + 2  # the row in the file uploaded, not in the first one
    assert line[-2] == "身份证号码" and "校验" in line[-1]


def test_the_batch_page_names_the_columns_it_did_not_import(
    tree: Any, admin_a: Any, tmp_path: Path, login: Any
) -> None:
    header = [*HEADER, "关系", "备用电话", ""]
    path = write_workbook(
        tmp_path / "名单.xlsx",
        {"城关镇": [header, [*row(1, tree.village_a1), "祖母", "13900001111", "父亲服刑"]]},
    )
    batch = run(path, admin_a)
    child = Child.objects.get()
    assert child.guardians.get().relation == "祖母"  # 关系 beside 监护人 is the guardian's relation
    page = login(admin_a).get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    notice = page[page.index('id="ignored-columns"') :]
    assert "以下列未能识别，其内容没有导入：备用电话、（第M列，无列名）。" in notice


def test_a_second_column_for_a_field_already_read_is_named_as_not_imported(
    tree: Any, admin_a: Any, tmp_path: Path, login: Any
) -> None:
    header = [*HEADER, "备注", "说明"]
    path = write_workbook(
        tmp_path / "名单.xlsx", {"城关镇": [header, [*row(1, tree.village_a1), "奶奶患病", "父亲服刑"]]}
    )
    batch = run(path, admin_a)
    page = login(admin_a).get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    notice = page[page.index('id="ignored-columns"') :]
    assert "说明（与“备注”重复，只读取了“备注”）" in notice
    assert Child.objects.get().notes == "奶奶患病"
