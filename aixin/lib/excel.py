"""Excel ledgers (台账): write rows safely.

A cell that starts with = + - @ (or a tab / carriage return) is neutralised with a leading
apostrophe so that a name like "=HYPERLINK(...)" is shown as text, never run as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from aixin.lib.exports import attachment_response

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def workbook_bytes(
    *, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], watermark: str = ""
) -> bytes:
    wb = Workbook(write_only=False)
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
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
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(30, len(str(header)) * 2 + 4))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, *, filename: str, ascii_name: str) -> HttpResponse:
    """An Excel download: the Chinese file name for browsers that read RFC 5987, an ASCII one
    for the rest, and never cached (ledgers hold personal data)."""
    return attachment_response(content, filename=filename, ascii_name=ascii_name, content_type=XLSX_TYPE)
