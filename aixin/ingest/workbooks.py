"""The Excel files of the import: the downloadable template and the rejected rows of a batch.

The template carries only the header row on its data sheet (an example row would be imported),
with drop-down lists for the coded columns and text format on the ID-number column; the
examples and the rules are on the instructions sheet. The rejected-rows workbook repeats the
batch's original header and cells, so that a district fixes the cells and re-uploads the same
file: 行号, 出错列 and 原因 are not recognised columns and are ignored by the importer. Cells that
look like formulas (= + - @) carry a leading apostrophe (aixin.lib.excel.neutralise).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from aixin.ingest.columns import COLUMNS, Column, match_header, shown_label
from aixin.lib.idnumber import check_character
from aixin.lib.xlsx_stream import Styled, XlsxStyle, streamed_workbook_bytes

DATA_SHEET = "儿童信息"
INSTRUCTIONS_SHEET = "填写说明"
CODES_SHEET = "村(社区)代码"
REJECTIONS_SHEET = "未导入的行"
# Rows of the data sheet prepared for input (text format, date format, drop-down lists).
TEMPLATE_ROWS = 5000
MAX_FILE_MB = 100
LIST_SEPARATOR = "、"

REQUIRED_FONT = Font(bold=True, color="C00000")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")

# The words offered in a drop-down where the first accepted word is not the one people write.
PREFERRED_WORDS: dict[str, tuple[str, ...]] = {
    "household_type": ("农业户口", "非农业户口"),
}

_EXAMPLE_ID17 = "50010120150101001"
EXAMPLE_ID = _EXAMPLE_ID17 + check_character(_EXAMPLE_ID17)

EXAMPLES: dict[str, str] = {
    "name": "张小明",
    "id_number": EXAMPLE_ID,
    "sex": "男",
    "birth_date": "2015-01-01",
    "ethnicity": "汉族",
    "household_type": "农业户口",
    "region_code": "500101001001",
    "district": "万州区",
    "town": "高笋塘街道",
    "village": "太白社区",
    "address": "太白路1号",
    "school": "万州区太白小学",
    "grade": "四年级",
    "school_stage": "小学",
    "full_time_student": "是",
    "guardian_name": "张奶奶",
    "guardian_relation": "祖母",
    "guardian_phone": "13800001234",
    "father_situation": "外出务工",
    "mother_situation": "外出务工",
    "categories": "农村留守儿童",
    "is_left_behind": "是",
    "is_scattered_orphan": "否",
    "is_de_facto_unsupported": "否",
    "is_other_difficulty": "否",
    "other_difficulty_reasons": "家庭贫困、监护缺失",
    "is_justice_involved": "否",
    "difficulties": "学习困难",
    "difficulty_life": "否",
    "difficulty_study": "是",
    "difficulty_physical": "否",
    "difficulty_mental": "否",
    "risks": "",
    "risk_psych_behaviour": "否",
    "risk_harm_others": "否",
    "risk_being_harmed": "否",
    "child_status": "在册",
    "notes": "",
}

GENERAL_NOTES: tuple[str, ...] = (
    "每个儿童填写一行，第一行为列名，请不要修改列名；列的顺序可以调整，不认识的列会被忽略。",
    "红色列名为必填列：姓名、身份证号。",
    "身份证号请按文本填写（模板中该列已设为文本格式），避免被 Excel 显示为科学计数法或末尾变成 0。",
    "所在地区可以只填“村(社区)代码”（12位统计用区划代码），也可以填写区县、乡镇(街道)、村(社区)名称。",
    "日期请按 年-月-日 填写，如 2015-01-01。",
    "带下拉列表的列请从列表中选择；可填多项的列（如儿童类别）请用顿号“、”分隔。",
    f"可上传 .xlsx、.xls 或 .csv 文件，单个文件不超过 {MAX_FILE_MB}MB。",
    "导入后未能导入的行可下载为“未导入的行”文件：按“原因”改正后，直接上传该文件即可，"
    "“行号”“出错列”“原因”三列会被自动忽略。",
    "儿童类别由系统按规则认定（渝民发〔2021〕5号）：农村留守儿童看父母是否外出务工、年龄（未满16周岁）"
    "和户籍类型，事实无人抚养儿童看父母的情形。请同时填写“父亲情况”“母亲情况”；"
    "填写的类别与规则不符的行会被退回，并说明原因。",
    f"“{CODES_SHEET}”工作表列出本辖区现有各村(社区)的名称和代码，可直接复制使用。",
)


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# What a free-text column holds, for the instructions sheet.
DESCRIPTIONS: dict[str, str] = {
    "name": "儿童姓名，与户籍登记一致",
    "ethnicity": "如 汉族、土家族、苗族",
    "district": "区县名称，如 万州区",
    "town": "乡镇或街道名称",
    "village": "村或社区名称",
    "address": "现居住的详细地址",
    "school": "就读学校全称",
    "grade": "如 四年级、初二",
    "guardian_name": "实际监护人姓名",
    "guardian_relation": "如 父亲、母亲、祖父、祖母、外祖母",
    "notes": "其他需要说明的情况",
}


def list_words(column: Column) -> list[str]:
    """The words offered for a coded column: the first accepted word for each value (or the
    preferred words), in the order of the value table."""
    if column.key in PREFERRED_WORDS:
        return list(PREFERRED_WORDS[column.key])
    seen: dict[str, str] = {}
    for word, value in column.values.items():
        if value not in seen and not word.isascii():
            seen[value] = word
    return list(seen.values())


def _list_hint(column: Column) -> str:
    return f"可填多项，用顿号“{LIST_SEPARATOR}”分隔；可填写的值：" + LIST_SEPARATOR.join(list_words(column))


def _allowed_text(column: Column) -> str:
    """What the instructions sheet says may be written in a column."""
    parts: list[str] = []
    if column.key in DESCRIPTIONS:
        parts.append(DESCRIPTIONS[column.key])
    if column.kind in ("bool", "choice", "sex"):
        parts.append("从下拉列表选择：" + "、".join(list_words(column)))
    elif column.kind == "list":
        parts.append(_list_hint(column))
    elif column.kind == "date":
        parts.append("日期，格式 年-月-日")
    elif column.kind == "phone":
        parts.append("手机或固定电话，按文本填写")
    if column.help and column.kind != "list":
        parts.append(column.help)
    return "；".join(parts)


def required_text(column: Column) -> str:
    """必填 / 选填 / the region rule, as the instructions sheet and the API docs say it."""
    if column.required:
        return "必填"
    if column.kind in ("region_code", "region_name"):
        return "区划代码与区县、乡镇、村名称二选一"
    return "选填"


def _data_validation(column: Column) -> DataValidation | None:
    if column.kind in ("bool", "choice", "sex"):
        words = list_words(column)
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(words) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle="请从列表中选择",
            error="可填写的值：" + "、".join(words),
            showInputMessage=True,
            promptTitle=column.label[:32],
            prompt=("请从下拉列表选择：" + "、".join(words))[:255],
        )
        return dv
    if column.kind == "list":
        return DataValidation(
            allow_blank=True,
            showInputMessage=True,
            promptTitle=column.label[:32],
            prompt=_list_hint(column)[:255],
        )
    return None


def _width(text: str) -> float:
    return max(10, min(40, len(text) * 2 + 4))


def _sheet_with_header(wb: Workbook, title: str, labels: list[str]) -> Any:
    ws = wb.create_sheet(title)
    ws.append(labels)
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    return ws


def template_workbook(villages: Sequence[Any] = ()) -> bytes:
    """The import template (.xlsx): the data sheet with the header only, the instructions and,
    given the user's `villages` (district, town, village, code), their codes — the examples
    then name the first of them instead of a place elsewhere."""
    examples = dict(EXAMPLES)
    if villages:
        first = villages[0]
        examples.update(
            district=first.district, town=first.town, village=first.village, region_code=first.code
        )
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = DATA_SHEET
    last_row = TEMPLATE_ROWS + 1
    for i, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i, value=column.label)
        cell.font = REQUIRED_FONT if column.required else HEADER_FONT
        cell.fill = HEADER_FILL
        ws.column_dimensions[letter].width = 22 if column.kind == "id" else _width(column.label)
        if column.kind == "list":
            example = LIST_SEPARATOR.join(list_words(column)[:2])
            cell.comment = Comment(
                f"可填多项，用顿号“{LIST_SEPARATOR}”分隔，如：{example}", "爱心妈妈平台", height=60, width=220
            )
        elif column.required:
            cell.comment = Comment("必填", "爱心妈妈平台")
        dv = _data_validation(column)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(dv)
        number_format = {"id": "@", "phone": "@", "region_code": "@", "date": "yyyy-mm-dd"}.get(column.kind)
        if number_format:
            # Both the column style (cells typed beyond the prepared rows) and the prepared cells.
            ws.column_dimensions[letter].number_format = number_format
            for row in range(2, last_row + 1):
                ws.cell(row=row, column=i).number_format = number_format
    ws.freeze_panes = "A2"

    notes = _sheet_with_header(wb, INSTRUCTIONS_SHEET, ["列名", "是否必填", "说明/可填写的值", "示例"])
    for column in COLUMNS:
        notes.append(
            [column.label, required_text(column), _allowed_text(column), examples.get(column.key, "")]
        )
        if column.required:
            notes.cell(row=notes.max_row, column=1).font = REQUIRED_FONT
        notes.cell(row=notes.max_row, column=4).number_format = "@"
    notes.append([])
    notes.append(["填写须知"])
    notes.cell(row=notes.max_row, column=1).font = HEADER_FONT
    for n, text in enumerate(GENERAL_NOTES, start=1):
        notes.append([f"{n}. {text}"])
        notes.merge_cells(start_row=notes.max_row, start_column=1, end_row=notes.max_row, end_column=4)
        notes.cell(row=notes.max_row, column=1).alignment = WRAP
        notes.row_dimensions[notes.max_row].height = 32
    for row in notes.iter_rows(min_row=2, max_row=len(COLUMNS) + 1):
        for cell in row:
            cell.alignment = WRAP
    for letter, width in zip("ABCD", (22, 16, 60, 24), strict=True):
        notes.column_dimensions[letter].width = width
    notes.freeze_panes = "A2"
    if villages:
        codes = _sheet_with_header(wb, CODES_SHEET, ["区县", "乡镇(街道)", "村(社区)名称", "村(社区)代码"])
        for v in villages:
            codes.append([v.district, v.town, v.village, v.code])
            codes.cell(row=codes.max_row, column=4).number_format = "@"
        for letter, width in zip("ABCD", (22, 22, 26, 18), strict=True):
            codes.column_dimensions[letter].width = width
        codes.freeze_panes = "A2"
    wb.active = 0
    return _save(wb)


def _grouped(rejections: Iterable[Any]) -> Iterator[tuple[Any, list[str], list[str]]]:
    """One entry per rejected row (a row may carry several reasons): the first rejection, the
    distinct columns in error and the reasons."""
    current: Any = None
    columns: list[str] = []
    reasons: list[str] = []
    for rejection in rejections:
        if current is not None and (rejection.sheet_index, rejection.row_number) != (
            current.sheet_index,
            current.row_number,
        ):
            yield current, columns, reasons
            current, columns, reasons = None, [], []
        if current is None:
            current = rejection
        if rejection.column and rejection.column not in columns:
            columns.append(rejection.column)
        if rejection.reason:
            reasons.append(rejection.reason)
    if current is not None:
        yield current, columns, reasons


def _label(batch: Any, name: str) -> str:
    return shown_label(getattr(batch, "kind", ""), name)


# The columns a rejected-rows file adds around the department's own.
_LEAD = ("工作表", "行号")
_TAIL = ("出错列", "原因")


def _own_columns(headers: list[str]) -> list[int]:
    """The positions of the batch's columns that are the department's: a rejected-rows file
    uploaded again still has the 工作表, 行号, 出错列 and 原因 of the file before, which the new
    file replaces with its own (instead of carrying two of each)."""
    keep = list(range(len(headers)))
    if len(headers) > 3 and tuple(headers[-2:]) == _TAIL:
        lead = 2 if tuple(headers[:2]) == _LEAD else 1 if headers[0] == "行号" else 0
        if lead:
            return keep[lead:-2]
    return keep


def _rejection_rows(
    batch: Any, headers: list[str], keep: list[int], text_columns: set[int]
) -> Iterator[list[Any]]:
    position = {h: i for i, h in enumerate(headers) if h}
    sheets = bool(batch.sheets)
    rows = batch.rejections.order_by("sheet_index", "row_number", "id").iterator(chunk_size=2000)
    for rejection, names, reasons in _grouped(rows):
        columns = [_label(batch, name) for name in names]
        original = rejection.cells or []
        cells: list[Any] = [
            ("" if i >= len(original) or original[i] is None else str(original[i])) for i in keep
        ]
        for name in columns:
            i = position.get(name)
            if i is not None:
                style = XlsxStyle.ERROR_TEXT if i in text_columns else XlsxStyle.ERROR
                cells[i] = Styled(cells[i], style)
        where = [rejection.sheet, rejection.row_number] if sheets else [rejection.row_number]
        yield [*where, *cells, "、".join(columns), "；".join(reasons)]


def rejections_workbook(batch: Any, *, watermark: str = "") -> bytes:
    """The rejected rows of a batch, one per row of the file: 行号 (after 工作表 for a workbook
    with a list on several sheets), the original header and cells, 出错列, 原因. No title row:
    the header is the first row (below the exporter's `watermark`, when given, which the
    importer skips like a title). Written as a stream: a wholly rejected 100,000-row file stays
    quick to download."""
    headers = [_label(batch, "" if h is None else str(h)) for h in (batch.headers or [])]
    keep = _own_columns(headers)
    headers = [headers[i] for i in keep]
    text_columns = {
        i for i, h in enumerate(headers) if match_header(h) in ("id_number", "guardian_phone", "region_code")
    }
    lead = list(_LEAD) if batch.sheets else ["行号"]
    content, _count = streamed_workbook_bytes(
        title=REJECTIONS_SHEET,
        sheet_name=REJECTIONS_SHEET,
        title_row=False,
        headers=[Styled(h, XlsxStyle.HEADER) for h in (*lead, *headers, *_TAIL)],
        rows=_rejection_rows(batch, headers, keep, text_columns),
        widths=[
            *([14] if batch.sheets else []),
            8,
            *(22 if i in text_columns else _width(h) for i, h in enumerate(headers)),
            16,
            50,
        ],
        text_columns=[i + len(lead) for i in text_columns],
        freeze_columns=len(lead),
        watermark=watermark,
    )
    return content
