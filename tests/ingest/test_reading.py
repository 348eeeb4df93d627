"""Reading department ledgers: the messy files districts actually upload.

Every input file is generated here (tmp_path); no binary fixtures are committed.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aixin.ingest import reading
from aixin.ingest.reading import MAX_FILE_BYTES, FileRejected, open_table, sniff_kind
from aixin.lib.errors import InvalidInput

HEADER = ["序号", "姓名", "身份证号", "性别", "监护人姓名", "联系电话"]
ROW_A = ["1", "张小明", "500101201503041234", "男", "张大山", "13800138000"]
ROW_B = ["2", "李小红", "50010120160506234X", "女", "李秀英", "13900139000"]


# ---------------------------------------------------------------------------------------------
# File builders


def write_xlsx(path: Path, rows, *, merges=(), title="Sheet1", extra_sheets=()) -> Path:
    """rows: list of lists (None = no cell); extra_sheets: (title, rows, merges) after the first."""
    wb = openpyxl.Workbook()
    sheets = [(title, rows, merges), *extra_sheets]
    for i, (name, sheet_rows, sheet_merges) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = name
        for r, row in enumerate(sheet_rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
        for ref in sheet_merges:
            ws.merge_cells(ref)
    wb.save(path)
    return path


def write_xls(path: Path, rows, *, merges=()) -> Path:
    """merges: (first_row, last_row, first_col, last_col), 0-based, value taken from rows."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("名单")
    merged_cells = set()
    for r1, r2, c1, c2 in merges:
        ws.write_merge(r1, r2, c1, c2, rows[r1][c1])
        merged_cells |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or (r, c) in merged_cells:
                continue
            if isinstance(value, datetime.date):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    wb.save(str(path))
    return path


def write_csv(path: Path, rows, *, encoding="utf-8", delimiter=",") -> Path:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def ole2_container(stream_names: list[str], payload: bytes = b"\x00" * 4096) -> bytes:
    """A minimal, structurally valid OLE2 compound file (512-byte sectors): sector 0 is the FAT,
    sector 1 the directory (root + the given streams), then one stream's data. Encrypted
    .xlsx files are stored exactly like this, with EncryptionInfo and EncryptedPackage streams."""
    assert len(stream_names) <= 3
    data_sectors = (len(payload) + 511) // 512
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIII", header, 0x2C, 1, 1, 0, 4096)  # FAT sectors, dir start, txn, cutoff
    struct.pack_into("<IIII", header, 0x3C, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)  # no mini FAT, no DIFAT
    struct.pack_into("<109I", header, 0x4C, 0, *([0xFFFFFFFF] * 108))
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [2 + i + 1 for i in range(data_sectors - 1)] + [0xFFFFFFFE]
    fat += [0xFFFFFFFF] * (128 - len(fat))
    fat_sector = struct.pack("<128I", *fat)

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        e = bytearray(128)
        e[: len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)
        struct.pack_into("<III", e, 68, 0xFFFFFFFF, right, child)
        struct.pack_into("<II", e, 116, start, size)
        return bytes(e)

    entries = [entry("Root Entry", 5, 1, 0xFFFFFFFF, 0xFFFFFFFE, 0)]
    for i, name in enumerate(stream_names, start=1):
        right = i + 1 if i < len(stream_names) else 0xFFFFFFFF
        start, size = (2, len(payload)) if i == len(stream_names) else (0xFFFFFFFE, 0)
        entries.append(entry(name, 2, 0xFFFFFFFF, right, start, size))
    directory = b"".join(entries).ljust(512, b"\x00")
    return bytes(header) + fat_sector + directory + payload.ljust(data_sectors * 512, b"\x00")


def rows_of(table) -> list[tuple[int, list[object]]]:
    return list(table.rows())


def rejected(path: Path, **kwargs) -> str:
    with pytest.raises(FileRejected) as exc:
        open_table(path, **kwargs)
    assert isinstance(exc.value, InvalidInput)
    return exc.value.message


# ---------------------------------------------------------------------------------------------
# Kind of file


def test_an_xlsx_named_csv_is_still_read_as_excel(tmp_path):
    path = write_xlsx(tmp_path / "名单.csv", [HEADER, ROW_A])
    table = open_table(path)
    assert table.file_kind == "xlsx"
    assert table.encoding == ""
    assert rows_of(table) == [(2, ROW_A)]


def test_an_old_xls_workbook_is_read(tmp_path):
    path = write_xls(tmp_path / "名单.xlsx", [HEADER, ROW_A])
    table = open_table(path)
    assert (table.file_kind, table.sheet) == ("xls", "名单")
    assert rows_of(table) == [(2, ROW_A)]
    assert rows_of(table) == [(2, ROW_A)]  # re-opened despite the misleading extension


def test_a_csv_named_xlsx_is_read_as_text(tmp_path):
    path = write_csv(tmp_path / "名单.xlsx", [HEADER, ROW_A])
    assert sniff_kind(path) == "csv"
    assert rows_of(open_table(path)) == [(2, ROW_A)]


def _zip_without_workbook(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("照片/1.txt", "hello")
    return path


@pytest.mark.parametrize(
    ("make", "detail"),
    [
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "PNG"),
        (lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "PDF"),
        (_zip_without_workbook, "ZIP"),
        (lambda p: p.write_bytes(bytes(range(256)) * 40), "无法识别"),
        (lambda p: p.write_text("<html><body><table><tr><td>姓名</td></tr></table>", "utf-8"), "HTML"),
        (lambda p: p.write_bytes(ole2_container(["WordDocument"])), "Word"),
    ],
    ids=["png", "pdf", "zip", "random-binary", "html-saved-as-xls", "word-97"],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused_saying_what_it_is(tmp_path, make, detail):
    path = tmp_path / "名单.xlsx"
    make(path)
    message = rejected(path)
    assert message.startswith("文件不是Excel或CSV表格（")
    assert detail in message


def test_a_truncated_upload_of_an_xlsx_is_reported_as_damaged(tmp_path):
    path = write_xlsx(tmp_path / "名单.xlsx", [HEADER, ROW_A])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "已损坏" in rejected(path)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(b""),
        lambda p: write_xlsx(p, []),
        lambda p: write_csv(p, [[], ["", "  "], []]),
        lambda p: p.write_bytes(codecs.BOM_UTF8),
    ],
    ids=["zero-bytes", "xlsx-without-cells", "csv-of-blank-lines", "csv-with-only-a-bom"],
)
def test_an_empty_file_is_refused_as_empty(tmp_path, make):
    path = tmp_path / "名单.xlsx"
    make(path)
    assert rejected(path) == "文件是空的"


def test_a_ledger_with_a_header_but_no_children_is_refused_as_empty(tmp_path):
    path = write_xlsx(tmp_path / "名单.xlsx", [HEADER, [], ["  "]])
    assert rejected(path).startswith("文件是空的")


def test_a_password_protected_xlsx_asks_to_remove_the_password(tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(ole2_container(["EncryptionInfo", "EncryptedPackage"]))
    assert rejected(path) == "工作簿设置了密码，请取消密码后重新上传"


def test_a_password_protected_xls_asks_to_remove_the_password(tmp_path):
    path = write_xls(tmp_path / "名单.xls", [HEADER, ROW_A])
    data = bytearray(path.read_bytes())
    # Turn the WRITEACCESS record (0x005C, 112 bytes) right after the BOF into a FILEPASS record
    # (0x002F) announcing RC4 encryption, as Excel writes for "password to open".
    at = data.find(b"\x5c\x00\x70\x00", 512)
    assert at > 0
    data[at : at + 2] = b"\x2f\x00"
    data[at + 4 : at + 10] = struct.pack("<HHH", 1, 1, 1)
    path.write_bytes(bytes(data))
    assert rejected(path) == "工作簿设置了密码，请取消密码后重新上传"


def test_a_file_over_100_mb_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "全区名单.xlsx"
    with open(path, "wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: no 200 MB written

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr("builtins.open", no_reading)
    monkeypatch.setattr(reading, "CalamineWorkbook", None)
    message = rejected(path)
    assert message == "文件过大（200.0MB），单个文件不能超过100MB，请拆分后上传"
    assert MAX_FILE_BYTES == 100 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# CSV encodings and delimiters


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030")],
)
def test_csv_in_utf8_with_or_without_bom_and_in_gbk_reads_the_same_chinese(tmp_path, encoding, expected):
    path = write_csv(tmp_path / "名单.csv", [HEADER, ROW_A, ROW_B], encoding=encoding)
    table = open_table(path)
    assert table.encoding == expected
    assert table.headers == HEADER
    assert rows_of(table) == [(2, ROW_A), (3, ROW_B)]


def test_a_csv_whose_chinese_turns_gbk_after_the_first_lines_is_still_read(tmp_path):
    filler = [[str(i), "Zhang", "500101201503041234"] for i in range(20000)]
    path = write_csv(tmp_path / "名单.csv", [HEADER, *filler, ROW_A], encoding="gbk")
    # the header is GBK too, so the first bytes already fail as UTF-8; make them plain ASCII:
    data = path.read_bytes().replace("序号".encode("gbk"), b"No", 1)
    path.write_bytes(data)
    table = open_table(path)
    assert table.encoding == "gb18030"
    assert list(table.rows())[-1] == (20002, ROW_A)


def test_a_csv_in_an_unknown_encoding_is_refused(tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes("姓名,身份证号\n".encode() + b"Jos\xe9\xff,500101201503041234\n")
    assert rejected(path) == "无法识别文件编码，请另存为UTF-8或GBK编码的CSV"


@pytest.mark.parametrize("delimiter", [",", "\t", ";"], ids=["comma", "tab", "semicolon"])
def test_csv_with_comma_tab_or_semicolon_delimiters_is_split_into_columns(tmp_path, delimiter):
    rows = [["一、名单"], HEADER, ROW_A, ["3", "王, 五", "500101201503041250", "男", "王;父", "1"]]
    path = write_csv(tmp_path / "名单.csv", rows, delimiter=delimiter)
    table = open_table(path)
    assert table.header_rows == (2,)
    assert table.keys[:3] == [None, "name", "id_number"]
    assert rows_of(table) == [(3, ROW_A), (4, rows[3])]


def test_excel_unicode_text_export_in_utf16_is_read(tmp_path):
    path = write_csv(tmp_path / "名单.txt", [HEADER, ROW_A], encoding="utf-16", delimiter="\t")
    table = open_table(path)
    assert table.encoding == "utf-16"
    assert rows_of(table) == [(2, ROW_A)]


def test_utf16_text_without_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "名单.txt"
    path.write_bytes("\r\n".join("\t".join(r) for r in [HEADER, ROW_A]).encode("utf-16-le"))
    table = open_table(path)
    assert table.encoding == "utf-16-le"
    assert rows_of(table) == [(2, ROW_A)]


def test_a_big5_csv_from_a_traditional_chinese_system_is_refused_naming_its_encoding(tmp_path):
    header = ["姓名", "身份證號", "監護人姓名", "聯繫電話"]
    row = ["張小明", "500101201503041234", "張大山", "13800138000"]
    message = rejected(write_csv(tmp_path / "名单.csv", [header, row], encoding="big5"))
    assert "Big5" in message and "UTF-8" in message


# ---------------------------------------------------------------------------------------------
# Where the header is


def test_the_sheet_with_the_list_is_used_beside_an_instructions_sheet(tmp_path):
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [["填表说明"], ["1. 身份证号请设为文本"], ["2. 姓名必填"]],
        title="说明",
        extra_sheets=[("留守儿童", [HEADER, ROW_A], ()), ("代码表", [["村(社区)代码", "名称"]], ())],
    )
    table = open_table(path)
    assert table.sheet == "留守儿童"
    assert rows_of(table) == [(2, ROW_A)]


def test_a_workbook_with_a_list_on_each_of_several_sheets_is_read_as_one_list(tmp_path):
    """One sheet per town is common; reading only the first would drop the others unseen."""
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [["填表说明"]],
        title="说明",
        extra_sheets=[
            ("太泉街道", [HEADER, ROW_A], ()),
            ("云丰镇", [["2026年花名册"], HEADER, ROW_B], ()),
            ("南岩乡", [HEADER], ()),  # a header and no child yet: not a list
        ],
    )
    table = open_table(path)
    assert table.sheets == ("太泉街道", "云丰镇")
    assert table.total_rows == 2
    assert table.headers == HEADER
    rows = rows_of(table)
    assert [cells for _n, cells in rows] == [ROW_A, ROW_B]
    assert [reading.where(n, table.sheets) for n, _cells in rows] == [
        "工作表“太泉街道”第2行",
        "工作表“云丰镇”第3行",
    ]


def test_sheets_with_their_columns_in_other_orders_fill_the_same_columns(tmp_path):
    """Each town typed its own sheet: the columns are matched by what they hold, and a column
    one sheet lacks is blank in its rows."""
    other_order = ["身份证号码", "姓名", "就读学校", "序号"]
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [HEADER, ROW_A],
        title="太泉街道",
        extra_sheets=[("云丰镇", [other_order, ["50010120160506234X", "李小红", "云丰小学", "1"]], ())],
    )
    table = open_table(path)
    assert table.headers == [*HEADER, "就读学校"]
    rows = rows_of(table)
    assert rows[0][1] == [*ROW_A, ""]
    assert rows[1][1] == ["1", "李小红", "50010120160506234X", "", "", "", "云丰小学"]
    assert reading.place(rows[1][0], table.sheets) == ("云丰镇", 2)


def _id(n: int) -> str:
    return f"5001012015030412{n:02d}"  # reading does not check the check character


def test_a_sheet_of_children_who_left_beside_the_list_refuses_the_workbook(tmp_path):
    """Importing it would put children who left back in the register."""
    path = write_xlsx(
        tmp_path / "名单.xlsx", [HEADER, ROW_A], title="在册", extra_sheets=[("已退出", [HEADER, ROW_B], ())]
    )
    message = rejected(path)
    assert "工作表“已退出”看起来不是在册儿童名单" in message and "“退出”" in message


def test_two_sheets_sharing_most_id_numbers_refuse_the_workbook(tmp_path):
    """Last year's list beside this year's is not one register split by town."""
    people = [[str(n), f"童{n}", _id(n), "男", "家长", "13800138000"] for n in range(1, 6)]
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [HEADER, *people],
        title="今年",
        extra_sheets=[("上次", [["名单"], HEADER, *people[:4]], ())],
    )
    message = rejected(path)
    assert "工作表“今年”与“上次”有4名儿童的身份证号相同" in message
    assert "如“今年”第2行与“上次”第3行的童1" in message and _id(1) not in message


def test_two_small_sheets_of_the_same_children_refuse_the_workbook(tmp_path):
    people = [[str(n), f"童{n}", _id(n), "男", "家长", "13800138000"] for n in range(1, 3)]
    path = write_xlsx(
        tmp_path / "名单.xlsx", [HEADER, *people], title="甲", extra_sheets=[("乙", [HEADER, *people], ())]
    )
    assert "有2名儿童的身份证号相同" in rejected(path)


def test_sheets_named_by_different_years_refuse_the_workbook(tmp_path):
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [HEADER, ROW_A],
        title="2026年",
        extra_sheets=[("2025年", [HEADER, ROW_B], ())],
    )
    message = rejected(path)
    assert "名称中的年份不同（2025、2026）" in message


def test_a_summary_sheet_beside_the_town_sheets_is_named_as_such(tmp_path):
    people = [[str(n), f"童{n}", _id(n), "男", "家长", "13800138000"] for n in range(1, 7)]
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [HEADER, *people],
        title="全县汇总",
        extra_sheets=[("城关镇", [HEADER, *people[:3]], ()), ("龙潭镇", [HEADER, *people[3:]], ())],
    )
    assert "“全县汇总”看起来是其他工作表的汇总" in rejected(path)


def test_a_town_sheet_that_cannot_be_read_refuses_the_workbook_naming_it(tmp_path):
    """Importing the readable sheets alone would drop that town's children unseen."""
    unknown_id = ["序号", "姓名", "身份证编号", "性别"]
    no_name = ["序号", "儿童", "身份证号", "性别"]
    for header, why in (
        (unknown_id, "前30行中没有包含“身份证号”等列名的表头"),
        (no_name, "表头缺少必需的列：姓名"),
    ):
        path = write_xlsx(
            tmp_path / "名单.xlsx",
            [HEADER, ROW_A],
            title="太泉街道",
            extra_sheets=[("中岩镇", [header, ROW_A[:4], ROW_B[:4]], ())],
        )
        message = rejected(path)
        assert (
            message.startswith("工作表“中岩镇”中有身份证号，看起来也是儿童名单，但无法读取：")
            and why in message
        )


def test_a_hidden_town_sheet_beside_the_visible_lists_refuses_the_workbook(tmp_path):
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [HEADER, ROW_A],
        title="龙潭镇",
        extra_sheets=[
            ("苍岭镇", [HEADER, *([str(n), f"童{n}", _id(n), "男", "家长", "1"] for n in (1, 2))], ())
        ],
    )
    wb = openpyxl.load_workbook(path)
    wb["苍岭镇"].sheet_state = "hidden"
    wb.save(path)
    message = rejected(path)
    assert message.startswith("隐藏的工作表“苍岭镇”中也有身份证号") and "（“龙潭镇”）" in message


def test_a_sheet_whose_list_starts_below_the_thirtieth_row_is_not_left_out_unseen(tmp_path):
    notes = [[f"说明第{n}行"] for n in range(34)]
    children = [[str(n), f"童{n}", _id(n), "男", "家长", "1"] for n in range(1, 4)]
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [HEADER, ROW_A],
        title="城关镇",
        extra_sheets=[("龙潭镇", [*notes, HEADER, *children], ())],
    )
    assert rejected(path).startswith("工作表“龙潭镇”中有身份证号，看起来也是儿童名单，但无法读取")


def test_a_column_without_a_header_that_holds_something_is_named_by_its_place(tmp_path):
    """So that the batch page can say its content was not imported; an empty one stays unnamed."""
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [[*HEADER, None, None], [*ROW_A, "重要：父亲服刑", None], [*ROW_B, None, None]],
    )
    assert open_table(path).headers[len(HEADER) :] == ["（第G列，无列名）"]
    csv_path = write_csv(tmp_path / "名单.csv", [[*HEADER, ""], [*ROW_A, "重要"], [*ROW_B, ""]])
    assert open_table(csv_path).headers[-1] == "（第G列，无列名）"


def test_one_child_on_two_town_sheets_is_left_to_the_import_to_refuse(tmp_path):
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [HEADER, ROW_A, ROW_B],
        title="城关镇",
        extra_sheets=[("龙潭镇", [HEADER, [*ROW_B[:1], "李小红", *ROW_B[2:]]], ())],
    )
    assert open_table(path).total_rows == 3


def test_a_file_with_one_list_keeps_its_own_row_numbers(tmp_path):
    table = open_table(write_xlsx(tmp_path / "名单.xlsx", [["花名册"], HEADER, ROW_A]))
    assert table.sheets == ()
    [(number, _cells)] = rows_of(table)
    assert number == 3
    assert reading.where(number, table.sheets) == "第3行"


def test_a_hidden_sheet_is_used_only_when_no_visible_sheet_has_a_header(tmp_path):
    path = write_xlsx(
        tmp_path / "名单.xlsx",
        [HEADER, ROW_B],
        title="旧名单",
        extra_sheets=[("名单", [HEADER, ROW_A], ())],
    )
    wb = openpyxl.load_workbook(path)
    wb["旧名单"].sheet_state = "hidden"
    wb.active = 1
    wb.save(path)
    table = open_table(path)
    assert table.sheet == "名单"
    assert rows_of(table) == [(2, ROW_A)]


def test_title_rows_above_the_header_are_skipped(tmp_path):
    rows = [
        ["酉阳县2026年农村留守儿童花名册"],
        ["填报单位：龙潭镇  填报日期：2026年3月1日"],
        [],
        HEADER,
        ROW_A,
    ]
    path = write_xlsx(tmp_path / "名单.xlsx", rows, merges=["A1:F1", "A2:F2"])
    table = open_table(path)
    assert table.header_rows == (4,)
    assert table.headers == HEADER
    assert table.keys == [None, "name", "id_number", "sex", "guardian_name", "guardian_phone"]
    assert rows_of(table) == [(5, ROW_A)]


def test_a_sheet_without_a_header_row_is_refused_saying_what_a_header_needs(tmp_path):
    rows = [["花名册"], ["张小明", "500101201503041234"], ["李小红", "50010120160506234X"]]
    path = write_xlsx(tmp_path / "名单.xlsx", rows)
    assert rejected(path) == (
        "未找到表头：前30行中没有包含“身份证号”等列名的行。请确认表头行包含 姓名、身份证号 等列名"
    )


def test_a_header_below_row_30_is_not_found(tmp_path):
    rows = [[f"说明{i}"] for i in range(30)] + [HEADER, ROW_A]
    assert "未找到表头" in rejected(write_xlsx(tmp_path / "名单.xlsx", rows))
    rows = [[f"说明{i}"] for i in range(29)] + [HEADER, ROW_A]
    assert open_table(write_xlsx(tmp_path / "名单2.xlsx", rows)).header_rows == (30,)


def test_a_header_without_a_name_column_names_the_missing_required_column(tmp_path):
    path = write_csv(tmp_path / "名单.csv", [["序号", "身份证号", "性别"], ["1", "500101201503041234", "男"]])
    assert rejected(path) == "表头缺少必需的列：姓名"


def test_a_second_column_with_the_same_meaning_is_not_used(tmp_path):
    header = ["姓名", "身份证号", "联系电话", "监护人电话", "学生姓名"]
    path = write_csv(tmp_path / "名单.csv", [header, ["张小明", "500101201503041234", "1", "2", "张"]])
    table = open_table(path)
    assert table.headers == header
    assert table.keys == ["name", "id_number", "guardian_phone", None, None]


def test_a_two_row_header_with_merged_cells_combines_group_and_sub_column(tmp_path):
    rows = [
        ["酉阳县农村留守儿童花名册"],
        ["序号", "姓名", "身份证号", "监护人", None, None, "备注"],
        [None, None, None, "姓名", "关系", "电话", None],
        [1, "张小明", "500101201503041234", "张大山", "父子", "13800138000", "无"],
    ]
    merges = ["A1:G1", "A2:A3", "B2:B3", "C2:C3", "D2:F2", "G2:G3"]
    table = open_table(write_xlsx(tmp_path / "名单.xlsx", rows, merges=merges))
    assert table.header_rows == (2, 3)
    assert table.headers == ["序号", "姓名", "身份证号", "监护人姓名", "监护人关系", "监护人电话", "备注"]
    assert table.keys == [
        None,
        "name",
        "id_number",
        "guardian_name",
        "guardian_relation",
        "guardian_phone",
        "notes",
    ]
    assert rows_of(table) == [(4, rows[3])]


def test_a_two_row_merged_header_in_an_xls_is_combined_too(tmp_path):
    rows = [
        ["序号", "姓名", "身份证号", "监护人", None, None],
        [None, None, None, "姓名", "关系", "电话"],
        [1, "张小明", "500101201503041234", "张大山", "父子", "13800138000"],
    ]
    merges = [(0, 1, 0, 0), (0, 1, 1, 1), (0, 1, 2, 2), (0, 0, 3, 5)]
    table = open_table(write_xls(tmp_path / "名单.xls", rows, merges=merges))
    assert table.header_rows == (1, 2)
    assert table.keys[3:] == ["guardian_name", "guardian_relation", "guardian_phone"]
    assert rows_of(table) == [(3, rows[2])]


def test_a_two_row_header_typed_without_merging_in_a_csv_is_combined(tmp_path):
    rows = [
        ["姓名", "身份证号", "监护人", "", ""],
        ["", "", "姓名", "关系", "电话"],
        ["张小明", "500101201503041234", "张大山", "父子", "13800138000"],
    ]
    table = open_table(write_csv(tmp_path / "名单.csv", rows))
    assert table.header_rows == (1, 2)
    assert table.headers == ["姓名", "身份证号", "监护人姓名", "监护人关系", "监护人电话"]
    assert rows_of(table) == [(3, rows[2])]


def test_a_one_row_header_is_not_merged_with_the_first_data_row(tmp_path):
    # "留守儿童" is both a header synonym and a value; the data row must not become a header row.
    rows = [["姓名", "身份证号", "类别"], ["张小明", "500101201503041234", "留守儿童"]]
    table = open_table(write_csv(tmp_path / "名单.csv", rows))
    assert table.header_rows == (1,)
    assert table.keys == ["name", "id_number", "categories"]


# ---------------------------------------------------------------------------------------------
# Data rows


def test_excel_cells_keep_their_types_and_whitespace_cells_become_empty(tmp_path):
    header = ["姓名", "身份证号", "出生日期", "是否散居孤儿", "联系电话", "备注"]
    row = ["张小明", "500101201503041234", datetime.date(2015, 3, 4), True, 13800138000, "　 "]
    path = write_xlsx(tmp_path / "名单.xlsx", [header, row])
    [(number, cells)] = rows_of(open_table(path))
    assert number == 2
    assert cells[0] == "张小明"
    assert isinstance(cells[2], datetime.date)
    assert cells[2].timetuple()[:3] == (2015, 3, 4)
    assert cells[3] is True
    assert cells[4] == 13800138000
    assert isinstance(cells[4], int | float)
    assert cells[5] == ""


def test_rows_are_padded_to_the_header_width_and_cells_right_of_it_kept_under_their_place(tmp_path):
    """Cells right of the last header are not dropped unseen: their column is named by its place,
    and the batch page lists it as not imported."""
    rows = [
        ["姓名", "身份证号", "备注"],
        ["张小明", "500101201503041234"],
        ["李", "5001", "x", "多余", "多余"],
    ]
    table = open_table(write_csv(tmp_path / "名单.csv", rows))
    assert table.headers == ["姓名", "身份证号", "备注", "（第D列，无列名）", "（第E列，无列名）"]
    assert rows_of(table) == [
        (2, ["张小明", "500101201503041234", "", "", ""]),
        (3, ["李", "5001", "x", "多余", "多余"]),
    ]


def test_a_village_merged_down_over_several_children_is_given_to_each_child(tmp_path):
    rows = [
        ["村(社区)", "姓名", "身份证号"],
        ["桃花村", "张小明", "500101201503041234"],
        [None, "李小红", "50010120160506234X"],
        [None, "王小刚", "500101201701011111"],
        ["杏花村", "赵小丽", "500101201801012222"],
        [None, "钱小多", "500101201901013333"],
    ]
    path = write_xlsx(tmp_path / "名单.xlsx", rows, merges=["A2:A4"])
    assert [cells[0] for _, cells in rows_of(open_table(path))] == [
        "桃花村",
        "桃花村",
        "桃花村",
        "杏花村",
        "",
    ]


def test_a_merged_village_in_an_xls_is_given_to_each_child(tmp_path):
    rows = [["村(社区)", "姓名", "身份证号"], ["桃花村", "张小明", "1"], [None, "李小红", "2"]]
    path = write_xls(tmp_path / "名单.xls", rows, merges=[(1, 2, 0, 0)])
    assert [cells[0] for _, cells in rows_of(open_table(path))] == ["桃花村", "桃花村"]


@pytest.mark.parametrize("total", ["合计", "合  计", "总计：2人", "小计", "共2人", " 共 2 人 "])
def test_blank_rows_are_skipped_and_nothing_after_the_total_row_is_read(tmp_path, total):
    rows = [
        HEADER,
        ROW_A,
        [],
        ["", "  ", "\u3000"],
        ROW_B,
        ["", total, "", "", "", "2"],
        ["3", "王五", "5001"],
    ]
    table = open_table(write_xlsx(tmp_path / "名单.xlsx", rows))
    assert table.total_rows == 2
    assert rows_of(table) == [(2, ROW_A), (5, ROW_B)]


def test_a_ledger_grouped_by_town_is_read_past_each_subtotal_but_not_its_footer(tmp_path):
    rows = [
        HEADER,
        ROW_A,
        ["", "小计", "", "", "", "1人"],
        ROW_B,
        ["", "小计", "", "", "", "1人"],
        ["3", "王五", "500101201703041232", "男", "王大山", "13700137000"],
        ["", "合计", "", "", "", "3人"],
        ["填表人：李四", "", "联系电话：13800000000", "", "审核人：张三", ""],
    ]
    table = open_table(write_xlsx(tmp_path / "名单.xlsx", rows))
    assert [n for n, _ in table.rows()] == [2, 4, 6]
    assert table.total_rows == 3


@pytest.mark.parametrize("number", [500101150304123, "50010120150304"], ids=["old-15-digits", "digits-lost"])
def test_a_child_below_a_subtotal_whose_id_number_is_short_is_still_read_to_be_reported(tmp_path, number):
    short = ["2", "王五", number, "男", "王大山", "13700137000"]
    rows = [HEADER, ROW_A, ["", "小计", "", "", "", "1人"], short]
    table = open_table(write_xlsx(tmp_path / "名单.xlsx", rows))
    assert [n for n, _ in table.rows()] == [2, 4]
    assert table.total_rows == 2


def test_a_child_row_whose_note_starts_with_hexiang_words_does_not_stop_the_table(tmp_path):
    header = ["姓名", "身份证号", "备注"]
    rows = [header, ["张小明", "500101201503041234", "合计补助500元"], ["李小红", "50010120160506234X", ""]]
    table = open_table(write_csv(tmp_path / "名单.csv", rows))
    assert [n for n, _ in table.rows()] == [2, 3]


def test_a_header_repeated_on_every_printed_page_is_skipped(tmp_path):
    rows = [
        ["序号", "姓名", "身份证号", "监护人", None],
        [None, None, None, "姓名", "电话"],
        [1, "张小明", "500101201503041234", "张大山", "13800138000"],
        ["序号", "姓名", "身份证号", "监护人", None],
        [None, None, None, "姓名", "电话"],
        [2, "李小红", "50010120160506234X", "李秀英", "13900139000"],
    ]
    merges = ["A1:A2", "B1:B2", "C1:C2", "D1:E1", "A4:A5", "B4:B5", "C4:C5", "D4:E4"]
    table = open_table(write_xlsx(tmp_path / "名单.xlsx", rows, merges=merges))
    assert table.total_rows == 2
    assert [n for n, _ in table.rows()] == [3, 6]


def test_row_numbers_are_the_rows_the_user_sees_in_excel(tmp_path):
    rows = [["花名册"], ["填报单位：龙潭镇"], HEADER]
    rows += [[str(i), f"儿童{i}", f"5001012015030400{i:02d}", "男", "", ""] for i in range(1, 11)]
    rows += [[], [], ["", "", "", "", "", ""]]
    rows += [["17", "第十七行", "500101201503041717", "女", "", ""]]
    table = open_table(write_xlsx(tmp_path / "名单.xlsx", rows))
    numbers = dict((cells[1], n) for n, cells in table.rows())
    assert numbers["儿童1"] == 4
    assert numbers["第十七行"] == 17


def test_csv_row_numbers_count_a_quoted_multi_line_cell_as_one_row(tmp_path):
    rows = [HEADER, ["1", "张小明", "500101201503041234", "男", "张大山\n（爷爷）", ""], [], ROW_B]
    table = open_table(write_csv(tmp_path / "名单.csv", rows))
    assert [n for n, _ in table.rows()] == [2, 4]


def test_rows_can_be_read_twice(tmp_path):
    for path in (
        write_xlsx(tmp_path / "a.xlsx", [HEADER, ROW_A, ROW_B]),
        write_csv(tmp_path / "a.csv", [HEADER, ROW_A, ROW_B]),
    ):
        table = open_table(path)
        first = list(table.rows())
        assert first == list(table.rows())
        assert len(first) == table.total_rows == 2


def test_a_partly_read_table_can_be_read_again_from_the_start(tmp_path):
    table = open_table(write_xlsx(tmp_path / "a.xlsx", [HEADER, ROW_A, ROW_B]))
    it = table.rows()
    assert next(it)[0] == 2
    it.close()
    assert [n for n, _ in table.rows()] == [2, 3]


# ---------------------------------------------------------------------------------------------
# Property: any text survives the CSV round trip

_BLANK = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]*")
_cell = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"))
    | st.sampled_from(["\n", "\r", "\t", '"', ",", ";"]),
    max_size=12,
).filter(lambda s: not re.match(r"\s*[合总小共]", s) and "身份证" not in s)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=8),
    encoding=st.sampled_from(["utf-8", "gb18030"]),
)
def test_any_text_written_to_a_csv_comes_back_unchanged(tmp_path, rows, encoding):
    header = ["姓名", "身份证号", "备注"]
    written = [[f"行{i}", *row[1:]] for i, row in enumerate(rows)]  # never a blank row
    path = write_csv(tmp_path / f"rt-{encoding}.csv", [header, *written], encoding=encoding)
    table = open_table(path)
    expected = [(i + 2, ["" if _BLANK.fullmatch(c) else c for c in row]) for i, row in enumerate(written)]
    assert list(table.rows()) == expected
    assert table.total_rows == len(written)
