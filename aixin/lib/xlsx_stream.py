"""A plain streaming .xlsx writer for large exports (framework-free).

openpyxl (even write-only, without lxml) needs ~25 s for 100,000 rows × 12 columns — about the
web worker's timeout. This writes the sheet directly as SpreadsheetML: inline strings, a fixed
style sheet (XlsxStyle), frozen panes, column widths — the minimal set of package parts a
spreadsheet application needs (read back in the tests with openpyxl; python-calamine reads it
too). Used by the civil-affairs pairing-status export and the import's rejected rows.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from openpyxl.utils import get_column_letter

from aixin.lib.excel import neutralise


class XlsxStyle:
    """The cell styles of `streamed_workbook_bytes` (indexes into its style sheet)."""

    NORMAL = 0
    BOLD = 1  # a header cell
    TITLE = 2  # bold, 14 pt
    TEXT = 3  # number format "@": Excel keeps an edited ID number as text
    ERROR = 4  # light red fill: the cell a rejection is about
    ERROR_TEXT = 5  # both
    HEADER = 6  # bold on light blue
    HEADER_REQUIRED = 7  # bold dark red on light blue


class Styled(NamedTuple):
    """A cell value with its own style, in a row given to `streamed_workbook_bytes`."""

    value: Any
    style: int


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    _XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    _XML_HEAD + f'<Relationships xmlns="{_PKG_REL_NS}">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    _XML_HEAD + f'<Relationships xmlns="{_PKG_REL_NS}">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)


def _font(size: int, *, bold: bool = False, color: str = "") -> str:
    b = "<b/>" if bold else ""
    c = f'<color rgb="{color}"/>' if color else ""
    return f'<font>{b}<sz val="{size}"/>{c}<name val="等线"/><family val="2"/><charset val="134"/></font>'


def _fill(rgb: str) -> str:
    solid = f'<patternFill patternType="solid"><fgColor rgb="{rgb}"/><bgColor indexed="64"/></patternFill>'
    return f"<fill>{solid}</fill>"


def _xf(num_fmt: int, font: int, fill: int) -> str:
    extra = (' applyNumberFormat="1"' if num_fmt else "") + (' applyFont="1"' if font else "")
    extra += ' applyFill="1"' if fill else ""
    return f'<xf numFmtId="{num_fmt}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"{extra}/>'


# Fonts: 0 normal, 1 bold, 2 bold 14 pt, 3 bold dark red. Fills: 0 and 1 are required by Excel,
# 2 light red, 3 light blue. Number format 49 is the built-in "@".
_STYLES = (
    _XML_HEAD
    + f'<styleSheet xmlns="{_MAIN_NS}"><fonts count="4">'
    + _font(11)
    + _font(11, bold=True)
    + _font(14, bold=True)
    + _font(11, bold=True, color="FFC00000")
    + '</fonts><fills count="4"><fill><patternFill patternType="none"/></fill>'
    + '<fill><patternFill patternType="gray125"/></fill>'
    + _fill("FFFFC7CE")
    + _fill("FFDDEBF7")
    + "</fills>"
    + '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    + '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    + '<cellXfs count="8">'
    + _xf(0, 0, 0)  # NORMAL
    + _xf(0, 1, 0)  # BOLD
    + _xf(0, 2, 0)  # TITLE
    + _xf(49, 0, 0)  # TEXT
    + _xf(0, 0, 2)  # ERROR
    + _xf(49, 0, 2)  # ERROR_TEXT
    + _xf(0, 1, 3)  # HEADER
    + _xf(0, 3, 3)  # HEADER_REQUIRED
    + "</cellXfs>"
    + '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    + "</styleSheet>"
)
# Characters XML 1.0 cannot carry at all.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return _XML_INVALID.sub("", text)


def _cell(ref: str, value: Any, style: int) -> str:
    if isinstance(value, Styled):
        value, style = value.value, value.style
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    text = _escape(str(neutralise(value)))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _row(n: int, letters: list[str], values: Sequence[Any], styles: Sequence[int]) -> str:
    while len(letters) < len(values):
        letters.append(get_column_letter(len(letters) + 1))
    cells = "".join(
        _cell(f"{letters[i]}{n}", v, styles[i] if i < len(styles) else XlsxStyle.NORMAL)
        for i, v in enumerate(values)
    )
    return f'<row r="{n}">{cells}</row>'


def streamed_workbook_bytes(
    *,
    title: str,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    watermark: str = "",
    widths: Sequence[float] = (),
    text_columns: Sequence[int] = (),
    sheet_name: str = "",
    title_row: bool = True,
    freeze_columns: int = 0,
) -> tuple[bytes, int]:
    """One sheet in the layout of aixin.lib.excel.workbook_bytes — title row (unless
    `title_row=False`), watermark, bold header, rows with formula-looking text neutralised,
    frozen header — written as a stream for large files. `text_columns` (0-based) are formatted
    as text; a cell may be `Styled(value, XlsxStyle.X)`; the sheet is named `sheet_name` (or the
    title). Returns the file and the number of rows written from `rows`."""
    letters = [get_column_letter(i) for i in range(1, len(headers) + 1)]
    text_set = set(text_columns)
    styles = [XlsxStyle.TEXT if i in text_set else XlsxStyle.NORMAL for i in range(len(headers))]
    head: list[tuple[list[Any], list[int]]] = []
    if title_row:
        head.append(([title], [XlsxStyle.TITLE]))
    if watermark:
        head.append(([watermark], [XlsxStyle.NORMAL]))
    head.append((list(headers), [XlsxStyle.BOLD] * len(headers)))
    frozen = len(head)
    top_left = f"{get_column_letter(freeze_columns + 1)}{frozen + 1}"
    x_split = f'xSplit="{freeze_columns}" ' if freeze_columns else ""
    pane = (
        f'{x_split}ySplit="{frozen}" topLeftCell="{top_left}" '
        f'activePane="{"bottomRight" if freeze_columns else "bottomLeft"}" state="frozen"'
    )
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, start=1)
    )
    name = _escape((sheet_name or title)[:31])
    buf = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr(
            "xl/workbook.xml",
            _XML_HEAD + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
            f'<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                (
                    _XML_HEAD + f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
                    f'<sheetViews><sheetView workbookViewId="0"><pane {pane}/></sheetView></sheetViews>'
                    '<sheetFormatPr defaultRowHeight="15"/>'
                    + (f"<cols>{cols}</cols>" if cols else "")
                    + "<sheetData>"
                ).encode()
            )
            parts = [
                _row(n, letters, values, row_styles) for n, (values, row_styles) in enumerate(head, start=1)
            ]
            n = frozen
            for values in rows:
                n += 1
                count += 1
                parts.append(_row(n, letters, values, styles))
                if len(parts) >= 1000:
                    sheet.write("".join(parts).encode())
                    parts = []
            parts.append("</sheetData></worksheet>")
            sheet.write("".join(parts).encode())
    return buf.getvalue(), count
