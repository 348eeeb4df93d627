"""The import template and the rejected-rows workbook, opened the way a district opens them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from aixin.accounts.models import Role
from aixin.ingest import workbooks
from aixin.ingest.columns import COLUMNS, match_header
from aixin.ingest.models import ImportBatch, ImportRejection
from aixin.lib.idnumber import is_valid
from tests import factories


def _open(content: bytes) -> Workbook:
    return load_workbook(io.BytesIO(content))


@pytest.fixture(scope="module")
def template() -> Workbook:
    return _open(workbooks.template_workbook())


def _data(template: Workbook) -> Worksheet:
    ws = template[workbooks.DATA_SHEET]
    assert isinstance(ws, Worksheet)
    return ws


def _letter_of(ws: Worksheet, label: str) -> str:
    for cell in ws[1]:
        if cell.value == label:
            return str(cell.column_letter)
    raise AssertionError(f"no column {label}")


def _validation_for(ws: Worksheet, letter: str) -> Any:
    found = [dv for dv in ws.data_validations.dataValidation if f"{letter}2:{letter}5001" in str(dv.sqref)]
    assert len(found) == 1, f"column {letter} should carry exactly one validation"
    return found[0]


# --- the template ---------------------------------------------------------------------------


def test_template_has_the_data_sheet_first_and_the_instructions_and_nothing_else(template: Workbook) -> None:
    assert template.sheetnames == ["儿童信息", "填写说明"]
    assert template.active is not None and template.active.title == "儿童信息"


def test_template_header_is_every_column_label_and_the_importer_recognises_each(template: Workbook) -> None:
    ws = _data(template)
    header = [c.value for c in ws[1]]
    assert header == [c.label for c in COLUMNS]
    assert [match_header(h) for h in header] == [c.key for c in COLUMNS]


def test_template_has_no_example_row_that_would_be_imported(template: Workbook) -> None:
    ws = _data(template)
    values = [v for row in ws.iter_rows(min_row=2, values_only=True) for v in row if v not in (None, "")]
    assert values == []


def test_required_columns_have_a_red_bold_header_and_the_others_do_not(template: Workbook) -> None:
    ws = _data(template)
    for cell, column in zip(ws[1], COLUMNS, strict=True):
        red = (
            bool(cell.font.bold) and str(cell.font.color.rgb).endswith("C00000") if cell.font.color else False
        )
        assert red == column.required, column.label
    assert [c.label for c in COLUMNS if c.required] == ["姓名", "身份证号"]


def test_id_number_column_is_text_for_5000_rows_so_excel_keeps_every_digit(template: Workbook) -> None:
    ws = _data(template)
    letter = _letter_of(ws, "身份证号")
    assert ws[f"{letter}2"].number_format == "@"
    assert ws[f"{letter}2500"].number_format == "@"
    assert ws[f"{letter}5001"].number_format == "@"
    assert ws.column_dimensions[letter].number_format == "@"
    # A column without a format stays General.
    assert ws[f"{_letter_of(ws, '姓名')}2"].number_format == "General"


def test_birth_date_column_is_formatted_as_a_date(template: Workbook) -> None:
    ws = _data(template)
    letter = _letter_of(ws, "出生日期")
    assert ws[f"{letter}2"].number_format == "yyyy-mm-dd"
    assert ws[f"{letter}5001"].number_format == "yyyy-mm-dd"


def test_yes_no_columns_offer_a_drop_down_of_shi_and_fou(template: Workbook) -> None:
    ws = _data(template)
    for column in COLUMNS:
        if column.kind == "bool":
            dv = _validation_for(ws, _letter_of(ws, column.label))
            assert dv.type == "list"
            assert dv.formula1 == '"是,否"', column.label


def test_choice_columns_offer_their_main_words(template: Workbook) -> None:
    ws = _data(template)
    household = _validation_for(ws, _letter_of(ws, "户籍类型"))
    assert household.type == "list" and household.formula1 == '"农业户口,非农业户口"'
    stage = _validation_for(ws, _letter_of(ws, "就学情况")).formula1.strip('"').split(",")
    assert stage[:2] == ["幼儿园", "未入园"]
    assert {"小学", "初中", "高中", "中职", "辍学"} <= set(stage)
    assert "学前" not in stage  # one word per value, not every synonym
    sex = _validation_for(ws, _letter_of(ws, "性别"))
    assert sex.formula1 == '"男,女"'
    status = _validation_for(ws, _letter_of(ws, "儿童状态")).formula1
    assert "在册" in status and "迁出" in status


def test_every_offered_word_is_one_the_importer_accepts(template: Workbook) -> None:
    for column in COLUMNS:
        if column.kind in ("bool", "choice", "sex"):
            for word in workbooks.list_words(column):
                assert word in column.values, f"{column.label}: {word}"


def test_list_columns_explain_that_several_values_are_separated_by_the_dun_comma(template: Workbook) -> None:
    ws = _data(template)
    for column in COLUMNS:
        if column.kind != "list":
            continue
        letter = _letter_of(ws, column.label)
        dv = _validation_for(ws, letter)
        assert dv.type in (None, "none"), "a list column must accept several values"
        assert dv.showInputMessage and "顿号" in dv.prompt and "、" in dv.prompt
        assert ws[f"{letter}1"].comment is not None and "顿号" in ws[f"{letter}1"].comment.text


def test_header_is_frozen_and_columns_are_wide_enough(template: Workbook) -> None:
    ws = _data(template)
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions[_letter_of(ws, "身份证号")].width >= 20


def test_instructions_sheet_lists_every_column_with_required_flag_and_example(template: Workbook) -> None:
    ws = template[workbooks.INSTRUCTIONS_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("列名", "是否必填", "说明/可填写的值", "示例")
    by_label = {r[0]: r for r in rows[1 : len(COLUMNS) + 1]}
    assert list(by_label) == [c.label for c in COLUMNS]
    assert by_label["姓名"][1] == "必填" and by_label["民族"][1] == "选填"
    assert "二选一" in by_label["村(社区)代码"][1]
    assert "农业户口" in by_label["户籍类型"][2]
    assert "顿号" in by_label["儿童类别"][2]
    assert is_valid(by_label["身份证号"][3])
    assert by_label["出生日期"][3] == "2015-01-01"


def test_instructions_sheet_gives_the_general_rules(template: Workbook) -> None:
    ws = template[workbooks.INSTRUCTIONS_SHEET]
    text = " ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)
    for needle in ("每个儿童填写一行", "文本", "区划代码", ".xlsx", ".xls", ".csv", "100MB", "未导入的行"):
        assert needle in text, needle


# --- the rejected rows ----------------------------------------------------------------------

HEADERS = ["序号", "儿童姓名", "公民身份号码", "所属镇街", "联系电话", "备注"]


@pytest.fixture
def batch(tree: Any) -> ImportBatch:
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a)
    return ImportBatch.objects.create(
        source="civil_affairs",
        scope=tree.district_a,
        created_by=admin,
        file_name="民政台账.xlsx",
        headers=HEADERS,
        status="done",
        total_rows=9,
        rejected_count=3,
    )


def _reject(batch: ImportBatch, row: int, column: str, reason: str, cells: list[str]) -> ImportRejection:
    return ImportRejection.objects.create(
        batch=batch, row_number=row, column=column, reason=reason, cells=cells
    )


def _sheet(content: bytes) -> Worksheet:
    wb = _open(content)
    assert wb.sheetnames == ["未导入的行"]
    ws = wb["未导入的行"]
    assert isinstance(ws, Worksheet)
    return ws


def test_rejected_rows_come_back_with_their_original_cells_and_the_reason(batch: ImportBatch) -> None:
    _reject(
        batch,
        7,
        "公民身份号码",
        "身份证号校验位不正确",
        ["5", "李小红", "500101201501010015", "高笋塘街道", "13800001234", ""],
    )
    _reject(batch, 3, "所属镇街", "找不到该乡镇", ["1", "王小明", "50010120150101001X", "无此镇", "", "补录"])
    rows = list(_sheet(workbooks.rejections_workbook(batch)).iter_rows(values_only=True))
    assert rows[0] == ("行号", *HEADERS, "出错列", "原因")
    assert rows[1] == (
        3,
        "1",
        "王小明",
        "50010120150101001X",
        "无此镇",
        None,
        "补录",
        "所属镇街",
        "找不到该乡镇",
    )
    assert rows[2][0] == 7 and rows[2][2] == "李小红"
    assert rows[2][-1] == "身份证号校验位不正确" and rows[2][-2] == "公民身份号码"
    assert len(rows) == 3


def test_the_importer_recognises_the_header_and_ignores_the_three_added_columns(batch: ImportBatch) -> None:
    _reject(batch, 2, "公民身份号码", "身份证号不能为空", ["1", "王小明", "", "高笋塘街道", "", ""])
    header = [c.value for c in _sheet(workbooks.rejections_workbook(batch))[1]]
    keys = [match_header(h) for h in header]
    assert keys[0] is None and keys[-2:] == [None, None]
    assert keys[1:-2] == [match_header(h) for h in HEADERS]
    assert {"name", "id_number", "town", "guardian_phone", "notes"} <= set(keys)


def test_id_numbers_stay_text_with_every_digit(batch: ImportBatch) -> None:
    _reject(
        batch,
        4,
        "所属镇街",
        "找不到该乡镇",
        ["2", "赵小刚", "500101201501010023", "无此镇", "02388886666", ""],
    )
    ws = _sheet(workbooks.rejections_workbook(batch))
    id_cell, phone_cell = ws.cell(row=2, column=4), ws.cell(row=2, column=6)
    assert id_cell.value == "500101201501010023" and id_cell.data_type == "s"
    assert id_cell.number_format == "@"
    assert phone_cell.value == "02388886666" and phone_cell.number_format == "@"


def test_a_formula_looking_cell_is_neutralised_not_run(batch: ImportBatch) -> None:
    _reject(
        batch,
        5,
        "儿童姓名",
        "姓名不能包含特殊字符",
        [
            "3",
            '=HYPERLINK("http://evil.example","点我")',
            "500101201501010031",
            "高笋塘街道",
            "+8613800001234",
            "@SUM(A1)",
        ],
    )
    ws = _sheet(workbooks.rejections_workbook(batch))
    assert all(cell.data_type != "f" for row in ws.iter_rows() for cell in row)
    assert ws.cell(row=2, column=3).value == '\'=HYPERLINK("http://evil.example","点我")'
    assert ws.cell(row=2, column=6).value == "'+8613800001234"
    assert ws.cell(row=2, column=7).value == "'@SUM(A1)"


def test_the_cell_in_error_is_highlighted(batch: ImportBatch) -> None:
    _reject(batch, 6, "所属镇街", "找不到该乡镇", ["4", "钱小丽", "500101201501010040", "无此镇", "", ""])
    ws = _sheet(workbooks.rejections_workbook(batch))
    town_cell, name_cell = ws.cell(row=2, column=5), ws.cell(row=2, column=3)
    assert town_cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert not str(name_cell.fill.fgColor.rgb).endswith("FFC7CE")


def test_a_row_with_two_reasons_appears_once_with_both(batch: ImportBatch) -> None:
    cells = ["8", "孙小强", "123", "无此镇", "", ""]
    _reject(batch, 8, "公民身份号码", "身份证号应为18位", cells)
    _reject(batch, 8, "所属镇街", "找不到该乡镇", cells)
    rows = list(_sheet(workbooks.rejections_workbook(batch)).iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1
    assert rows[0][-2] == "公民身份号码、所属镇街"
    assert rows[0][-1] == "身份证号应为18位；找不到该乡镇"


def test_short_or_long_cell_lists_are_aligned_to_the_header(batch: ImportBatch) -> None:
    _reject(batch, 9, "儿童姓名", "姓名不能为空", ["9", ""])
    _reject(batch, 10, "儿童姓名", "姓名不能为空", ["10", "", "", "", "", "", "多出的格"])
    rows = list(_sheet(workbooks.rejections_workbook(batch)).iter_rows(min_row=2, values_only=True))
    assert all(len(r) == len(HEADERS) + 3 for r in rows)
    assert rows[0][-1] == "姓名不能为空" and rows[1][-1] == "姓名不能为空"
    assert "多出的格" not in rows[1]


def test_a_batch_without_rejections_gives_just_the_header(batch: ImportBatch) -> None:
    rows = list(_sheet(workbooks.rejections_workbook(batch)).iter_rows(values_only=True))
    assert rows == [("行号", *HEADERS, "出错列", "原因")]


def test_the_header_row_is_the_first_row_bold_and_frozen_with_the_row_number(batch: ImportBatch) -> None:
    _reject(batch, 2, "儿童姓名", "姓名不能为空", ["1", "", "", "", "", ""])
    ws = _sheet(workbooks.rejections_workbook(batch))
    assert ws["A1"].value == "行号" and ws["A1"].font.b
    assert ws.freeze_panes == "B2"


# --- read back by the importer's reader -----------------------------------------------------


def test_a_filled_in_template_is_read_by_the_importer_with_every_column_recognised(tmp_path: Any) -> None:
    from aixin.ingest.reading import open_table

    wb = _open(workbooks.template_workbook())
    ws = _data(wb)
    example = [workbooks.EXAMPLES.get(c.key, "") for c in COLUMNS]
    for i, value in enumerate(example, start=1):
        ws.cell(row=2, column=i, value=value or None)
    path = tmp_path / "填好的模板.xlsx"
    wb.save(path)
    table = open_table(path)
    assert table.sheet == "儿童信息"
    assert table.keys == [c.key for c in COLUMNS]
    assert table.total_rows == 1
    (_, cells), *_ = list(table.rows())
    assert cells[table.keys.index("id_number")] == workbooks.EXAMPLE_ID
    assert cells[table.keys.index("name")] == "张小明"


def test_the_rejected_rows_file_is_read_by_the_importer_with_the_original_cells(
    batch: ImportBatch, tmp_path: Any
) -> None:
    from aixin.ingest.reading import open_table

    _reject(
        batch,
        3,
        "所属镇街",
        "找不到该乡镇",
        ["1", "王小明", "50010120150101001X", "无此镇", "023-1234", "补录"],
    )
    _reject(
        batch,
        5,
        "公民身份号码",
        "身份证号校验位不正确",
        ["2", "李小红", "500101201501010015", "高笋塘街道", "", ""],
    )
    path = tmp_path / "未导入的行.xlsx"
    path.write_bytes(workbooks.rejections_workbook(batch))
    table = open_table(path)
    assert table.header_rows == (1,)
    assert table.keys[0] is None and table.keys[-2:] == [None, None]
    assert table.keys[1:-2] == [match_header(h) for h in HEADERS]
    rows = [cells for _, cells in table.rows()]
    assert len(rows) == 2
    assert rows[0][1:-2] == ["1", "王小明", "50010120150101001X", "无此镇", "023-1234", "补录"]
    assert rows[1][3] == "500101201501010015"
