"""Reading a department ledger (.xlsx, .xls, .csv) into its header and a stream of data rows.

Departments type their ledgers by hand, so a file may have title rows above the header, a header
over two rows with merged cells, several sheets, blank rows, a total row at the bottom and the
header repeated for printing. `open_table` finds the header, checks the whole file once (counting
its data rows) and refuses a file it cannot use with a Chinese message (`FileRejected`);
`Table.rows()` re-opens the file and yields the data rows with their real row numbers. A workbook
with a list on each of several sheets (one per town) is read as one table over their columns.

Cell values are not interpreted here (the row parser does that): Excel cells keep the type
calamine gives them (str, int, float, bool, date, datetime, …), CSV cells are str, and a cell
with nothing but whitespace becomes "".

Framework-free: no Django imports.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, Literal, NamedTuple

from openpyxl.utils import get_column_letter
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from aixin.ingest.columns import COLUMNS, match_header
from aixin.lib import idnumber
from aixin.lib.errors import InvalidInput

MAX_FILE_BYTES = 100 * 1024 * 1024
HEADER_SCAN_ROWS = 30  # the header must start within the first 30 rows
_SNIFF_BYTES = 64 * 1024
_CSV_SAMPLE_CHARS = 256 * 1024

MSG_EMPTY = "文件是空的"
MSG_EMPTY_BODY = "文件是空的：表头下面没有任何数据行"
MSG_ENCRYPTED = "工作簿设置了密码，请取消密码后重新上传"
MSG_TOO_BIG = "文件过大（{size}MB），单个文件不能超过100MB，请拆分后上传"
MSG_NOT_SPREADSHEET = "文件不是Excel或CSV表格（{detail}），请上传.xlsx、.xls或.csv格式的文件"
MSG_ENCODING = "无法识别文件编码，请另存为UTF-8或GBK编码的CSV"
MSG_BIG5 = "文件是繁体中文(Big5)编码，请用Excel打开后另存为“CSV UTF-8”格式或.xlsx，并使用简体中文列名"
MSG_CORRUPT = "Excel文件已损坏，无法读取（{detail}）。请用Excel打开该文件，另存为.xlsx后重新上传"
MSG_CSV_BROKEN = "CSV文件第{row}行无法解析（{detail}）。请用Excel打开该文件，另存为CSV后重新上传"
MSG_NO_HEADER = "未找到表头：前30行中没有包含“身份证号”等列名的行。请确认表头行包含 姓名、身份证号 等列名"
MSG_MISSING = "表头缺少必需的列：{labels}"
# A workbook may hold one list per sheet (one sheet per town is common). Rows of such a file
# are numbered `sheet index * SHEET_STRIDE + row`: one number says the sheet and the row, and
# the first sheet's rows keep their own numbers. (An Excel sheet has at most 1,048,576 rows.)
SHEET_STRIDE = 10_000_000

MSG_SHEET_NOT_A_REGISTER = (
    "工作簿中有多个工作表都是儿童名单（{sheets}），其中工作表“{sheet}”看起来不是在册儿童名单"
    "（名称含“{word}”）。请删除该工作表，或只把要导入的工作表另存为单独的文件后导入"
)
MSG_SHEETS_YEARS = (
    "工作簿中有多个工作表都是儿童名单（{sheets}），名称中的年份不同（{years}），看起来是不同年份的名单。"
    "请只保留要导入的那一年的工作表，或将其另存为单独的文件后导入"
)
MSG_SHEETS_OVERLAP = (
    "工作簿中有多个工作表都是儿童名单（{sheets}），但工作表“{first}”与“{second}”有{count}名儿童的身份证号相同"
    "（如“{first}”第{row_a}行与“{second}”第{row_b}行{who}），它们看起来不是按乡镇（街道）分开的同一份名单"
    "（例如不同年份的名单）。请只保留要导入的工作表，或将其另存为单独的文件后导入"
)
MSG_SHEETS_SUMMARY = (
    "工作簿中有多个工作表都是儿童名单（{sheets}），工作表“{summary}”与“{other}”有{count}名儿童的身份证号相同，"
    "“{summary}”看起来是其他工作表的汇总。请删除汇总表，或只导入汇总表（将其另存为单独的文件）"
)
_WHY_NO_HEADER = "前30行中没有包含“身份证号”等列名的表头"
MSG_HIDDEN_SHEET = (
    "隐藏的工作表{hidden}中也有身份证号，看起来也是儿童名单，但只有显示的工作表（{sheets}）会被导入。"
    "为免漏导，整个文件未导入：如需导入，请取消隐藏；如是不再使用的旧名单，请删除该工作表后重新上传"
)
# Rows of a sheet looked at for ID numbers, to tell a list of children the import cannot read.
_CHILDREN_SCAN_ROWS = 200
MSG_SHEET_UNREADABLE = (
    "工作表“{sheet}”中有身份证号，看起来也是儿童名单，但无法读取：{why}。"
    "为免漏导，整个文件未导入：请修改该工作表的表头，或删除该工作表后重新上传"
)
# Two sheets sharing this share of the smaller one's children, and at least two, are not one
# register split by town; fewer are typing mistakes, refused row by row by the import.
_SHEETS_OVERLAP_SHARE = 0.2
# Words in a sheet's name that say its children are not (or no longer) in the register.
_NOT_A_REGISTER = re.compile(r"退出|注销|销号|删除|作废|迁出|移出|死亡|已满|成年|往年|历史|去年|上年|上一年")
_SUMMARY = re.compile(r"汇总|总表|全部|全县|全区|合计")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
# A cell holding an 18-character ID number (as text or as an Excel number).
_ID_CELL = re.compile(r"(?<![\dXx])\d{17}[\dXx](?![\dXx])")

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Other files people upload by mistake, by their first bytes.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "这是PNG图片"),
    (b"\xff\xd8\xff", "这是JPG图片"),
    (b"GIF8", "这是GIF图片"),
    (b"%PDF", "这是PDF文件"),
    (b"Rar!", "这是RAR压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "这是7z压缩包"),
    (b"\x1f\x8b", "这是gzip压缩包"),
    (b"PK\x05\x06", "这是空的ZIP压缩包"),
    (b"{\\rtf", "这是RTF文档"),
    (b"MZ", "这是可执行程序"),
)
_EXTENSION_HINTS = {
    "et": "这是WPS表格(.et)格式，请在WPS中另存为.xlsx",
    "ods": "这是OpenDocument表格(.ods)，请另存为.xlsx",
    "xlsb": "这是Excel二进制工作簿(.xlsb)，请另存为.xlsx",
    "numbers": "这是Numbers表格，请导出为.xlsx",
}


class FileRejected(InvalidInput):
    """The whole file cannot be imported; `message` says why, in Chinese."""


@dataclass(frozen=True)
class _Part:
    """One sheet's list: how to read its rows again, where they start, and (when the file has
    several lists) which of its columns fills each column of the table (-1: none)."""

    open_raw: Callable[[], Iterator[list[Any]]]
    layout: _Layout
    columns: tuple[int, ...] | None = None


@dataclass
class Table:
    """A ledger's recognised header and its data rows (read again on each `rows()` call). A
    workbook with a list on each of several sheets is one table: the columns of all its sheets,
    its rows numbered by sheet (`SHEET_STRIDE`)."""

    file_kind: str  # "xlsx" | "xls" | "csv"
    sheet: str  # (first) sheet name ("" for CSV)
    header_rows: tuple[int, ...]  # 1-based row numbers of the (first sheet's) header (1 or 2 rows)
    headers: list[str]  # header text per column as shown to users
    keys: list[str | None]  # column key per column (columns.match_header), None = not recognised
    total_rows: int  # number of data rows that rows() yields
    encoding: str  # CSV encoding used ("" for Excel)
    _parts: tuple[_Part, ...] = field(repr=False, compare=False)
    sheets: tuple[str, ...] = ()  # the sheets read, when more than one

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        """(row number, cells aligned to `headers`) for each data row: the 1-based row number in
        the file, or in its sheet plus `SHEET_STRIDE` times the sheet's index (`place`)."""
        if len(self._parts) == 1:
            part = self._parts[0]
            return _data_rows(part.open_raw(), part.layout, all_str=self.file_kind == "csv")
        return self._sheet_rows()

    def _sheet_rows(self) -> Iterator[tuple[int, list[object]]]:
        for n, part in enumerate(self._parts):
            base = n * SHEET_STRIDE
            columns = part.columns
            for row_number, row in _data_rows(part.open_raw(), part.layout):
                if columns is None:
                    yield base + row_number, row
                else:
                    yield base + row_number, [row[i] if i >= 0 else "" for i in columns]


def place(row_number: int, sheets: Sequence[str]) -> tuple[str, int]:
    """(sheet name, row in the sheet) of a row number of `Table.rows()`; the sheet is "" for a
    file with one list."""
    if len(sheets) < 2:
        return "", row_number
    index, row = divmod(row_number, SHEET_STRIDE)
    return sheets[index], row


def where(row_number: int, sheets: Sequence[str]) -> str:
    """A row as a user finds it: 第12行, or 工作表“城关镇”第12行."""
    sheet, row = place(row_number, sheets)
    return f"工作表“{sheet}”第{row}行" if sheet else f"第{row}行"


# --------------------------------------------------------------------------------------------
# Kind of file


def sniff_kind(path: str | Path, *, filename: str | None = None) -> str:
    """ "xlsx", "xls" or "csv", decided by the file's content (never by its extension).

    Raises FileRejected for an empty, oversized, encrypted or non-spreadsheet file. `filename`
    (the name the user uploaded) only improves the message."""
    path = Path(path)
    size = os.stat(path).st_size
    if size > MAX_FILE_BYTES:
        raise FileRejected(MSG_TOO_BIG.format(size=f"{size / 1024 / 1024:.1f}"))
    if size == 0:
        raise FileRejected(MSG_EMPTY)
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
        if head.startswith(_ZIP_MAGIC):
            return _zip_kind(f, filename)
        if head.startswith(_OLE2_MAGIC):
            return _ole2_kind(f, size, filename)
    for magic, detail in _OTHER_MAGIC:
        if head.startswith(magic):
            raise _not_spreadsheet(detail)
    if head.startswith(_UTF16_BOMS) or _utf16_without_bom(head):
        return "csv"
    markup = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if markup.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head")):
        raise _not_spreadsheet("这是网页(HTML)格式，常见于系统导出的“xls”，请用Excel打开后另存为.xlsx")
    if markup.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
            raise _not_spreadsheet("这是XML表格(Excel 2003 XML)，请用Excel打开后另存为.xlsx")
        raise _not_spreadsheet("这是XML文件")
    if _looks_binary(head):
        raise _not_spreadsheet(_extension_hint(filename) or "无法识别的文件内容")
    return "csv"


def _not_spreadsheet(detail: str) -> FileRejected:
    return FileRejected(MSG_NOT_SPREADSHEET.format(detail=detail))


def _extension_hint(filename: str | None) -> str:
    ext = Path(filename or "").suffix.lower().lstrip(".")
    return _EXTENSION_HINTS.get(ext, "")


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 26)) + b"\x7f"


def _utf16_without_bom(head: bytes) -> str:
    """ "utf-16-le" or "utf-16-be" for UTF-16 text saved without a byte-order mark (some
    systems' "Unicode text" export), else "". Such text has NUL bytes on one side of its
    character pairs only (the high byte of every digit, comma and line break); random binary
    has them on both sides alike."""
    pairs = head[: len(head) // 2 * 2]
    if len(pairs) < 8:
        return ""
    even, odd = pairs[0::2].count(0), pairs[1::2].count(0)
    for encoding, nuls, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if others == 0 and nuls * 10 >= len(pairs) // 2:
            try:
                text = pairs.decode(encoding)
            except UnicodeDecodeError:
                continue
            if not _looks_binary(text.encode("utf-8", "replace")):
                return encoding
    return ""


def _looks_binary(head: bytes) -> bool:
    """Text has no NUL and (almost) no control characters; random binary has many."""
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > max(2, len(head) // 100)


def _zip_kind(f: Any, filename: str | None) -> str:
    try:
        with zipfile.ZipFile(f) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRejected(MSG_CORRUPT.format(detail="压缩结构不完整，可能未上传完整")) from exc
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        raise _not_spreadsheet(_EXTENSION_HINTS["xlsb"])
    if "content.xml" in names and "mimetype" in names:
        raise _not_spreadsheet(_EXTENSION_HINTS["ods"])
    if any(n.startswith("word/") for n in names):
        raise _not_spreadsheet("这是Word文档")
    if any(n.startswith("ppt/") for n in names):
        raise _not_spreadsheet("这是PowerPoint文档")
    raise _not_spreadsheet(_extension_hint(filename) or "这是ZIP压缩包，请解压后上传其中的表格")


def _ole2_kind(f: Any, size: int, filename: str | None) -> str:
    try:
        names = _ole2_entry_names(f, size)
    except (struct.error, ValueError, OSError):
        return "xls"  # an unreadable directory: let the Excel reader decide (and report damage)
    if {"encryptedpackage", "encryptioninfo"} & names:
        raise FileRejected(MSG_ENCRYPTED)
    if {"workbook", "book"} & names:
        return "xls"
    if "worddocument" in names:
        raise _not_spreadsheet("这是Word文档")
    if "powerpoint document" in names:
        raise _not_spreadsheet("这是PowerPoint文档")
    raise _not_spreadsheet(_extension_hint(filename) or "这是Office文件，但不是Excel工作簿")


_ENDOFCHAIN = 0xFFFFFFFE
_MAX_DIR_SECTORS = 4096


def _ole2_entry_names(f: Any, size: int) -> set[str]:
    """The (lower-cased) names of the storages and streams of an OLE2 compound file.

    Encrypted .xlsx/.docx are OLE2 files holding "EncryptionInfo" and "EncryptedPackage"
    streams ([MS-OFFCRYPTO]); a .xls holds "Workbook" (or "Book" for BIFF5). Only the header,
    the FAT sectors on the directory's chain and the directory itself are read."""
    f.seek(0)
    header = f.read(512)
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        raise ValueError("bad sector size")
    sector_size = 1 << shift
    per_sector = sector_size // 4
    n_sectors = size // sector_size + 1

    def read_sector(n: int) -> bytes:
        if n >= n_sectors:
            raise ValueError("sector out of range")
        f.seek((n + 1) * sector_size)
        data: bytes = f.read(sector_size)
        if len(data) < 128:
            raise ValueError("short sector")
        return data

    difat: list[int] = list(struct.unpack_from("<109I", header, 0x4C))
    next_difat = struct.unpack_from("<I", header, 0x44)[0]
    difat_count = struct.unpack_from("<I", header, 0x48)[0]
    fat_cache: dict[int, tuple[int, ...]] = {}

    def fat_sector_number(index: int) -> int:
        nonlocal next_difat, difat_count
        while index >= len(difat) and difat_count and next_difat < _ENDOFCHAIN:
            entries = struct.unpack(f"<{per_sector}I", read_sector(next_difat))
            difat.extend(entries[:-1])
            next_difat = entries[-1]
            difat_count -= 1
        return int(difat[index])

    def next_sector(n: int) -> int:
        index = n // per_sector
        if index not in fat_cache:
            fat_cache[index] = struct.unpack(f"<{per_sector}I", read_sector(fat_sector_number(index)))
        return int(fat_cache[index][n % per_sector])

    names: set[str] = set()
    sector = struct.unpack_from("<I", header, 0x30)[0]
    for _ in range(_MAX_DIR_SECTORS):
        if sector >= _ENDOFCHAIN:
            break
        data = read_sector(sector)
        for offset in range(0, len(data) - 127, 128):
            entry = data[offset : offset + 128]
            name_len = struct.unpack_from("<H", entry, 64)[0]
            if entry[66] in (1, 2, 5) and 2 <= name_len <= 64:
                names.add(entry[: name_len - 2].decode("utf-16-le", "replace").lower())
        sector = next_sector(sector)
    return names


# --------------------------------------------------------------------------------------------
# Opening a table


def open_table(path: str | Path, *, filename: str | None = None) -> Table:
    """Find the header of the ledger at `path`, check the whole file and count its data rows.

    Raises FileRejected (an InvalidInput) with a Chinese message when the file cannot be used."""
    path = Path(path)
    kind = sniff_kind(path, filename=filename)
    if kind == "csv":
        return _open_csv(path)
    return _open_excel(path, kind)


# Header detection ---------------------------------------------------------------------------


@dataclass
class _Header:
    top: int  # 0-based index of the first header row
    two_rows: bool
    headers: list[str]
    keys: list[str | None]
    score: int  # number of recognised columns


@dataclass
class _Layout:
    data_start: int  # 0-based index of the first row after the header
    width: int
    id_col: int
    header_rows: list[tuple[int, str, tuple[str, ...]]]  # (probe column, probe text, signature)
    merge_starts: dict[int, list[tuple[int, int]]]  # row index → [(column, last row index)]


_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_BLANK = re.compile(rf"[\s{_INVISIBLE}]*")
_ID_LIKE = re.compile(r"\d{6,}")
_ID_DIGITS = re.compile(r"\d{14}")
_TOTAL = re.compile(r"\s*(?:合\s*计|总\s*计|小\s*计)|\s*共\s*计?\s*\d+\s*[人名]\s*[。.]?\s*$")


def _has_invisible(text: str) -> bool:
    # `in` is a fast C search; a regex character class is ten times slower per row
    return "\u200b" in text or "\ufeff" in text or "\u200c" in text or "\u200d" in text or "\u2060" in text


# Everything a blank row may consist of once its cells are joined with NUL.
_BLANK_CHARS = "\x00" + _INVISIBLE + "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def _is_blank_str(value: str) -> bool:
    return value.isspace() or _BLANK.fullmatch(value) is not None


def _text(value: object) -> str:
    """A cell as header text: stripped; "" when blank; 12.0 → "12"."""
    if isinstance(value, str):
        return "" if _is_blank_str(value) else value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _dedupe(keys: Iterable[str | None]) -> list[str | None]:
    """Two columns naming the same key: the first keeps it."""
    seen: set[str] = set()
    out: list[str | None] = []
    for key in keys:
        if key is None or key in seen:
            out.append(None)
        else:
            seen.add(key)
            out.append(key)
    return out


def _score(keys: Sequence[str | None]) -> int:
    return sum(1 for k in keys if k is not None)


def _valid(keys: Sequence[str | None]) -> bool:
    return _score(keys) >= 2 and "id_number" in keys


def _could_be_lower_header(row: Sequence[object]) -> bool:
    """A data row is not the second row of a header: it has numbers, dates or long digit runs."""
    for value in row:
        if isinstance(value, str):
            if _ID_LIKE.search(value):
                return False
        elif value is not None:
            return False
    return True


def _fill_merges(grid: list[list[object]], merges: Iterable[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    """Copy the value of each merged range's top-left cell into its other cells (within grid)."""
    for (r1, c1), (r2, c2) in merges:
        if r1 >= len(grid) or c1 >= len(grid[r1]):
            continue
        value = grid[r1][c1]
        for r in range(r1, min(r2, len(grid) - 1) + 1):
            row = grid[r]
            for c in range(c1, min(c2, len(row) - 1) + 1):
                if (r, c) != (r1, c1) and _text(row[c]) == "":
                    row[c] = value


def _fill_unmerged_groups(upper: list[str], lower: list[str]) -> list[str]:
    """A group title typed once over several sub-columns without merging (or from a CSV, which
    loses merges): "监护人 | | " over "姓名 | 关系 | 电话" — the blank upper cells take the
    title on their left while the lower cells continue the group."""
    out = list(upper)
    for c in range(1, len(out)):
        if not out[c] and lower[c] and out[c - 1] and lower[c - 1] and out[c - 1] != lower[c - 1]:
            out[c] = out[c - 1]
    return out


def _single(texts: list[str], top: int) -> _Header:
    keys = _dedupe(match_header(t) if t else None for t in texts)
    return _Header(top, False, list(texts), keys, _score(keys))


def _double(upper: list[str], lower: list[str], top: int) -> _Header:
    upper = _fill_unmerged_groups(upper, lower)
    headers: list[str] = []
    keys: list[str | None] = []
    for u, low in zip(upper, lower, strict=True):
        choices = [u + low] if u and low and u != low else []
        choices += [t for t in (low, u) if t]
        key = None
        text = u + low if u and low and u != low else (u or low)
        for choice in choices:
            key = match_header(choice)
            if key is not None:
                text = choice
                break
        headers.append(text)
        keys.append(key)
    keys = _dedupe(keys)
    return _Header(top, True, headers, keys, _score(keys))


def _find_header(
    rows: Sequence[Sequence[object]], merges: Iterable[tuple[tuple[int, int], tuple[int, int]]] = ()
) -> _Header | None:
    """The header among the first HEADER_SCAN_ROWS rows: the row (or pair of rows) whose cells
    name the most known columns, at least two of them and one being the ID number."""
    width = max((len(r) for r in rows), default=0)
    grid: list[list[object]] = [list(r) + [""] * (width - len(r)) for r in rows]
    _fill_merges(grid, merges)
    texts = [[_text(v) for v in row] for row in grid]
    singles = [_single(t, i) for i, t in enumerate(texts)]
    best: _Header | None = None
    for top in range(min(HEADER_SCAN_ROWS, len(grid))):
        candidate: _Header | None = singles[top] if _valid(singles[top].keys) else None
        if top + 1 < len(grid) and _could_be_lower_header(grid[top + 1]):
            double = _double(texts[top], texts[top + 1], top)
            # Two rows only when they name more columns than either row alone (a title row
            # above a one-row header names the same columns as the header row itself).
            if _valid(double.keys) and double.score > max(singles[top].score, singles[top + 1].score):
                candidate = double
        if candidate is not None and (best is None or candidate.score > best.score):
            best = candidate
    if best is None:
        return None
    # Up to the last named column, or the last column holding something below the header (a
    # column without a name is still read: `_count` names it, the batch page says it was not
    # imported); blank columns further right, which some files carry by the thousand, are not.
    width = max((i + 1 for i, h in enumerate(best.headers) if h), default=0)
    width = max(width, max((i + 1 for row in texts[best.top :] for i, t in enumerate(row) if t), default=0))
    best.headers = best.headers[:width] + [""] * (width - len(best.headers))
    best.keys = best.keys[:width] + [None] * (width - len(best.keys))
    return best


def _missing_required(keys: Sequence[str | None]) -> list[str]:
    return [c.label for c in COLUMNS if c.required and c.key not in keys]


def _signature(row: Sequence[object], width: int) -> tuple[str, ...]:
    texts = [_text(v) for v in row[:width]]
    while texts and not texts[-1]:
        texts.pop()
    return tuple(texts)


def _layout(
    header: _Header,
    raw_header_rows: Sequence[Sequence[object]],
    merges: Iterable[tuple[tuple[int, int], tuple[int, int]]] = (),
) -> _Layout:
    width = len(header.headers)
    data_start = header.top + (2 if header.two_rows else 1)
    probes = []
    id_col = header.keys.index("id_number")
    for raw in raw_header_rows:
        if _is_id_header(_text(raw[id_col] if id_col < len(raw) else "")):
            continue  # found by its ID-number header cell
        sig = _signature(raw, width)
        first = next((i for i, t in enumerate(sig) if t), None)
        if first is not None:
            probes.append((first, sig[first], sig))
    merge_starts: dict[int, list[tuple[int, int]]] = {}
    for (r1, c1), (r2, _c2) in merges:
        if r2 > r1 and r1 >= data_start and 0 <= c1 < width:
            merge_starts.setdefault(r1, []).append((c1, r2))
    return _Layout(
        data_start=data_start,
        width=width,
        id_col=id_col,
        header_rows=probes,
        merge_starts=merge_starts,
    )


# Data rows ----------------------------------------------------------------------------------


def _data_rows(
    raw_rows: Iterator[list[Any]], layout: _Layout, *, all_str: bool = False
) -> Iterator[tuple[int, list[object]]]:
    """The data rows after the header: blank rows, repeated header rows and total rows skipped,
    whitespace cells emptied, merged cells filled downwards; below a total row only rows with an
    ID number (a subtotal's next group) are read, not the footer lines.

    Hot loop (10⁵–10⁶ rows): each row is checked through one joined string with C-level string
    methods; the per-cell Python work only runs for the rare rows that need it. `all_str` says
    every cell is a str (CSV)."""
    width = layout.width
    id_col = layout.id_col
    probes = layout.header_rows
    merge_starts = layout.merge_starts
    fills: dict[int, tuple[int, object]] = {}  # column → (last row index, value)
    index = layout.data_start - 1
    below_total = False
    try:
        for index, raw in enumerate(islice(raw_rows, layout.data_start, None), start=layout.data_start):
            n = len(raw)
            # calamine and csv give a fresh list per row: it is ours to change
            row = raw if n == width else raw[:width] if n > width else [*raw, *([""] * (width - n))]
            strs = row if all_str else [v for v in row if v.__class__ is str]
            joined = "\x00".join(strs)
            if len(strs) == width and not joined.strip(_BLANK_CHARS):
                continue  # a blank row
            if any(map(str.isspace, strs)) or _has_invisible(joined):  # a cell of nothing but spaces
                for j, value in enumerate(row):
                    if value.__class__ is str and value and _is_blank_str(value):
                        row[j] = ""
            if ("计" in joined or "共" in joined) and _is_total_row(row, id_col):
                below_total = True
                continue
            if below_total:
                # A ledger grouped by town has a subtotal under each town and goes on with
                # children; below the grand total come signatures and notes. A row with an ID
                # number is a child, anything else below a total a footer line.
                if not _carries_id(row[id_col]):
                    continue
                below_total = False
            value = row[id_col]
            if value.__class__ is str and value and not value[0].isdigit() and _is_id_header(value):
                continue  # the header printed again
            if probes and _is_header_repeat(row, probes, width):
                continue
            if merge_starts and index in merge_starts:
                for col, last in merge_starts[index]:
                    fills[col] = (last, row[col])
            if fills:
                for col, (last, fill) in list(fills.items()):
                    if last < index:
                        del fills[col]
                    elif row[col] == "":
                        row[col] = fill
            yield index + 1, row
    except csv.Error as exc:
        raise FileRejected(MSG_CSV_BROKEN.format(row=index + 2, detail=exc)) from exc


def _is_total_row(row: list[object], id_col: int) -> bool:
    """A cell says 合计/总计/小计… or 共N人 — unless the row carries an ID number (a child whose
    note happens to start with such a word)."""
    if _ID_LIKE.search(str(row[id_col])):
        return False
    return any(isinstance(v, str) and _TOTAL.match(v) for v in row)


def _carries_id(value: object) -> bool:
    """Whether a cell holds something like an ID number: 14 digits or more (15 or 18, or one that
    lost digits, which the import then explains), also as an Excel number; not a phone number
    (11 digits) or a count."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value >= 1e13
    return _ID_DIGITS.search(str(value).replace(" ", "")) is not None


def _is_id_header(value: str) -> bool:
    return match_header(value) == "id_number"


def _is_header_repeat(row: list[object], probes: list[tuple[int, str, tuple[str, ...]]], width: int) -> bool:
    """A header row without the ID-number header (the lower row of a two-row header) printed
    again inside the data: printed ledgers repeat the header on every page."""
    for col, text, sig in probes:
        value = row[col]
        if (
            value.__class__ is str
            and text in value
            and value.strip() == text
            and _signature(row, width) == sig
        ):
            return True
    return False


# Excel --------------------------------------------------------------------------------------


class _ExcelReader:
    """Calamine failures turned into FileRejected. (A Rust panic reaches Python as a
    BaseException subclass, so it is caught here too.)"""

    def __enter__(self) -> _ExcelReader:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if exc is None or isinstance(exc, FileRejected):
            return False
        if isinstance(exc, PasswordError) or (
            isinstance(exc, CalamineError) and "password" in str(exc).lower()
        ):
            raise FileRejected(MSG_ENCRYPTED) from exc
        if isinstance(exc, CalamineError | OSError) or type(exc).__name__ == "PanicException":
            raise FileRejected(MSG_CORRUPT.format(detail=_short(exc))) from exc
        return False


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def _sheet_order(wb: CalamineWorkbook) -> list[int]:
    """Visible worksheets first, then hidden ones; chart and macro sheets never."""
    visible: list[int] = []
    hidden: list[int] = []
    for i, meta in enumerate(wb.sheets_metadata):
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        (visible if meta.visible == SheetVisibleEnum.Visible else hidden).append(i)
    return visible + hidden


def _relative_merges(sheet: Any, col0: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Merged ranges with columns counted from the first column calamine returns."""
    out = []
    for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or ():
        if c2 >= col0:
            out.append(((r1, max(c1, col0) - col0), (r2, c2 - col0)))
    return out


@contextmanager
def _open_workbook(path: Path, kind: str) -> Iterator[CalamineWorkbook]:
    """The workbook at `path`, read as `kind`. Calamine picks its reader by the extension (and
    its content-based fallback loses the password error of an encrypted .xls), while an .xls
    named .xlsx is common: a file whose extension disagrees is opened through a symlink named
    after its real kind."""
    if path.suffix.lower() == f".{kind}":
        wb = CalamineWorkbook.from_path(str(path))
    else:
        with tempfile.TemporaryDirectory(prefix="aixin-ledger-") as tmp:
            link = Path(tmp) / f"ledger.{kind}"
            try:
                os.symlink(path.resolve(), link)
            except OSError:  # no symlinks here: let calamine detect the format from the content
                with open(path, "rb") as f:
                    wb = CalamineWorkbook.from_filelike(f)
            else:
                wb = CalamineWorkbook.from_path(str(link))  # keeps the file open
    with wb:
        yield wb


def _excel_raw_rows(path: Path, kind: str, index: int, cache: list[Any]) -> Iterator[list[Any]]:
    """The sheet's rows from the sheet's first row (calamine pads the rows above the data with
    empty rows, so the n-th row yielded is row n of the sheet); columns start at the first
    column that has data. The sheet open_table already parsed is used once (`cache`)."""
    if cache:
        sheet = cache.pop()
        with _ExcelReader():
            yield from sheet.iter_rows()
        return
    with _ExcelReader(), _open_workbook(path, kind) as wb:
        yield from wb.get_sheet_by_index(index).iter_rows()


def _open_excel(path: Path, kind: str) -> Table:
    incomplete: list[str] | None = None
    header_only = False
    any_content = False
    found: list[_Found] = []
    unreadable: list[tuple[str, str]] = []  # visible sheets that hold children but cannot be read
    hidden: list[str] = []  # hidden sheets that hold children beside the visible lists
    with _ExcelReader(), _open_workbook(path, kind) as wb:
        for index in _sheet_order(wb):
            visible = wb.sheets_metadata[index].visible == SheetVisibleEnum.Visible
            sheet = wb.get_sheet_by_index(index)
            if sheet.start is None:
                continue
            if found and not visible:
                # A hidden sheet is read only when no visible sheet has a list; one that holds
                # children beside them is not left out unseen.
                if _holds_children(sheet):
                    hidden.append(sheet.name)
                continue
            col0 = sheet.start[1]
            merges = _relative_merges(sheet, col0)
            head = list(islice(sheet.iter_rows(), HEADER_SCAN_ROWS + 1))
            if sheet.height > len(head) or any(_text(v) for row in head for v in row):
                any_content = True
            header = _find_header(head, merges)
            if header is None:
                if visible and _holds_children(sheet):
                    unreadable.append((sheet.name, _WHY_NO_HEADER))
                continue
            missing = _missing_required(header.keys)
            if missing:
                incomplete = incomplete or missing
                if visible and _holds_children(sheet):
                    unreadable.append((sheet.name, MSG_MISSING.format(labels="、".join(missing))))
                continue
            layout = _layout(header, head[header.top : header.top + (2 if header.two_rows else 1)], merges)
            total = _count(_data_rows(sheet.iter_rows(), layout), header, first_column=col0)
            if total == 0:
                header_only = True
                continue
            found.append(_Found(sheet, header, layout, total, index))
            if not visible:
                break
    if not found:
        raise _no_table(incomplete, header_only, any_content)
    if unreadable:
        sheet_name, why = unreadable[0]
        raise FileRejected(MSG_SHEET_UNREADABLE.format(sheet=sheet_name, why=why))
    if hidden:
        raise FileRejected(
            MSG_HIDDEN_SHEET.format(
                hidden="、".join(f"“{h}”" for h in hidden),
                sheets="、".join(f"“{f.sheet.name}”" for f in found),
            )
        )
    first = found[0].header
    columns: list[tuple[int, ...] | None] = [None]
    if len(found) == 1:
        headers, keys = first.headers, first.keys
    else:
        _check_sheets_are_one_register(found)
        headers, keys, columns = _joined_columns([f.header for f in found])
    return Table(
        file_kind=kind,
        sheet=found[0].sheet.name,
        header_rows=tuple(first.top + 1 + i for i in range(2 if first.two_rows else 1)),
        headers=headers,
        keys=keys,
        total_rows=sum(f.total for f in found),
        encoding="",
        _parts=tuple(
            _Part(partial(_excel_raw_rows, path, kind, f.number, [f.sheet]), f.layout, columns[n])
            for n, f in enumerate(found)
        ),
        sheets=tuple(f.sheet.name for f in found) if len(found) > 1 else (),
    )


def _count(rows: Iterator[tuple[int, list[object]]], header: _Header, *, first_column: int = 0) -> int:
    """The number of data rows. A column without a header that holds something in a row is
    named after its place (（第F列，无列名）), so that the batch page can say it was not imported."""
    unnamed = [i for i, h in enumerate(header.headers) if not h and header.keys[i] is None]
    if not unnamed:
        return sum(1 for _ in rows)
    total = 0
    filled: set[int] = set()
    for _number, row in rows:
        total += 1
        if len(filled) < len(unnamed):
            filled.update(i for i in unnamed if i < len(row) and _text(row[i]))
    for i in filled:
        header.headers[i] = f"（第{get_column_letter(first_column + i + 1)}列，无列名）"
    return total


class _Found(NamedTuple):
    """A sheet with a list: the parsed sheet (read once more by the first `rows()`), its header,
    layout and number of data rows."""

    sheet: Any
    header: _Header
    layout: _Layout
    total: int
    number: int  # the sheet's index in the workbook


def _holds_children(sheet: Any) -> bool:
    """Whether the first rows of a sheet have ID numbers on two rows or more: a list of
    children (an instructions sheet has one example at most, a code sheet none)."""
    rows = 0
    for row in islice(sheet.iter_rows(), _CHILDREN_SCAN_ROWS):
        for value in row:
            if (isinstance(value, int | float) and not isinstance(value, bool) and value >= 1e16) or (
                isinstance(value, str) and _ID_CELL.search(value.replace(" ", ""))
            ):
                rows += 1
                break
        if rows >= 2:
            return True
    return False


def _check_sheets_are_one_register(found: Sequence[_Found]) -> None:
    """Lists on several sheets are imported together only when they are one register split by
    town. A sheet named as a list of children who left (已退出, 注销…), sheets of different
    years (2025年, 2026年), or two sheets sharing many children (last year's list, a 汇总 of the
    others) refuse the workbook, for a person to say which sheet to import. A few children on
    two sheets are typing mistakes: the import refuses those rows, naming the first."""
    names = "、".join(f"“{f.sheet.name}”" for f in found)
    for f in found:
        word = _NOT_A_REGISTER.search(f.sheet.name)
        if word:
            raise FileRejected(
                MSG_SHEET_NOT_A_REGISTER.format(sheets=names, sheet=f.sheet.name, word=word.group())
            )
    years = sorted({y for f in found for y in _YEAR.findall(f.sheet.name)})
    if len(years) > 1:
        raise FileRejected(MSG_SHEETS_YEARS.format(sheets=names, years="、".join(years)))
    seen: dict[str, tuple[int, int, str]] = {}  # ID number → (sheet, row, name) where first seen
    shared: dict[tuple[int, int], list[Any]] = {}  # (earlier sheet, sheet) → [count, example]
    for n, f in enumerate(found):
        name_col = f.header.keys.index("name") if "name" in f.header.keys else -1
        for row_number, row in _data_rows(f.sheet.iter_rows(), f.layout):
            number = _id_text(row[f.layout.id_col])
            if len(number) < 15:
                continue
            name = _text(row[name_col]) if name_col >= 0 else ""
            there = seen.setdefault(number, (n, row_number, name))
            if there[0] != n:
                pair = shared.setdefault((there[0], n), [0, (there[1], row_number, name)])
                pair[0] += 1
    for (a, b), (count, (row_a, row_b, name)) in shared.items():
        smaller = min(found[a].total, found[b].total)
        if count < 2 or count < _SHEETS_OVERLAP_SHARE * smaller:
            continue
        first, second = found[a].sheet.name, found[b].sheet.name
        summary = next((s for s in (first, second) if _SUMMARY.search(s)), None)
        if summary is not None:
            other = second if summary == first else first
            raise FileRejected(
                MSG_SHEETS_SUMMARY.format(sheets=names, summary=summary, other=other, count=count)
            )
        raise FileRejected(
            MSG_SHEETS_OVERLAP.format(
                sheets=names,
                first=first,
                second=second,
                count=count,
                row_a=row_a,
                row_b=row_b,
                who=f"的{name}" if name else "",
            )
        )


def _id_text(value: object) -> str:
    """An ID-number cell as text to compare (a number in a cell as its digits)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return idnumber.normalise(str(value))


def _joined_columns(
    headers: Sequence[_Header],
) -> tuple[list[str], list[str | None], list[tuple[int, ...] | None]]:
    """The columns of a table over several sheets: each recognised column once (by its key,
    under the first sheet's header text) and each other named column by its text, in the order
    first seen; and for each sheet, which of its columns fills each of them (-1: none),
    None when the sheet has exactly these columns."""
    position: dict[tuple[object, ...], int] = {}
    names: list[str] = []
    keys: list[str | None] = []
    taken: list[list[tuple[int, int]]] = []
    for header in headers:
        pairs = []
        seen: dict[str, int] = {}
        for i, (name, key) in enumerate(zip(header.headers, header.keys, strict=True)):
            if key is not None:
                ident: tuple[object, ...] = ("key", key)
            elif name:
                seen[name] = seen.get(name, 0) + 1
                ident = ("text", name, seen[name])
            else:
                continue  # an unnamed column of one sheet: nothing to carry it under
            j = position.get(ident)
            if j is None:
                j = position[ident] = len(names)
                names.append(name)
                keys.append(key)
            pairs.append((j, i))
        taken.append(pairs)
    width = len(names)
    columns: list[tuple[int, ...] | None] = []
    for header, pairs in zip(headers, taken, strict=True):
        fill = [-1] * width
        for j, i in pairs:
            fill[j] = i
        same = len(header.headers) == width and fill == list(range(width))
        columns.append(None if same else tuple(fill))
    return names, keys, columns


def _no_table(incomplete: list[str] | None, header_only: bool, any_content: bool) -> FileRejected:
    if incomplete:
        return FileRejected(MSG_MISSING.format(labels="、".join(incomplete)))
    if header_only:
        return FileRejected(MSG_EMPTY_BODY)
    if not any_content:
        return FileRejected(MSG_EMPTY)
    return FileRejected(MSG_NO_HEADER)


# CSV ----------------------------------------------------------------------------------------


_CSV_NOTHING = re.compile(rf"[\s,;\"{_INVISIBLE}]+")


def _csv_encodings(path: Path) -> list[str]:
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    if head.startswith(_UTF16_BOMS):
        return ["utf-16"]
    bare = _utf16_without_bom(head)
    if bare:
        return [bare]
    return ["utf-8-sig", "gb18030"]


def _is_big5(path: Path) -> bool:
    """Big5 (traditional characters) decodes as GB18030 without an error, into nonsense: a
    file that reads as Big5 with a header word in it is one."""
    with open(path, "rb") as f:
        head = f.read(_SNIFF_BYTES)
    try:
        text = head.decode("big5")
    except UnicodeDecodeError:
        try:
            text = head[:-1].decode("big5")  # the sample may end inside a character
        except UnicodeDecodeError:
            return False
    return "姓名" in text or "身份證" in text


def _csv_raw_rows(path: Path, encoding: str, delimiter: str) -> Iterator[list[Any]]:
    with open(path, encoding=encoding, errors="strict", newline="") as f:
        yield from csv.reader(f, delimiter=delimiter)


def _sniff_delimiter(sample: str) -> str | None:
    lines = "\n".join(sample.splitlines()[: HEADER_SCAN_ROWS + 1])
    try:
        return csv.Sniffer().sniff(lines, delimiters=",\t;").delimiter
    except csv.Error:
        return None


def _sample_rows(sample: str, delimiter: str, complete: bool) -> list[list[str]]:
    try:
        rows = list(islice(csv.reader(io.StringIO(sample), delimiter=delimiter), HEADER_SCAN_ROWS + 2))
    except csv.Error:
        return []
    if not complete and len(rows) <= HEADER_SCAN_ROWS + 1:
        rows = rows[:-1]  # the last row may be cut off by the end of the sample
    return rows[: HEADER_SCAN_ROWS + 1]


def _open_csv(path: Path) -> Table:
    no_table: FileRejected | None = None  # what the first encoding that decoded found
    for encoding in _csv_encodings(path):
        try:
            with open(path, encoding=encoding, errors="strict", newline="") as f:
                sample = f.read(_CSV_SAMPLE_CHARS)
                complete = f.read(1) == ""
            has_text = _CSV_NOTHING.sub("", sample) != ""
            if not has_text and complete:
                raise FileRejected(MSG_EMPTY)
            sniffed = _sniff_delimiter(sample)
            best: tuple[_Header, str, list[list[str]]] | None = None
            for delimiter in dict.fromkeys([*(d for d in [sniffed] if d), ",", "\t", ";"]):
                head = _sample_rows(sample, delimiter, complete)
                header = _find_header(head)
                if header is not None and (best is None or header.score > best[0].score):
                    best = (header, delimiter, head)
            if best is None:
                no_table = no_table or _no_table(None, False, has_text or not complete)
                continue  # decoded, but nothing like a header: perhaps another encoding
            header, delimiter, head = best
            missing = _missing_required(header.keys)
            if missing:
                raise _no_table(missing, False, True)
            layout = _layout(header, head[header.top : header.top + (2 if header.two_rows else 1)])
            total = _count(_data_rows(_csv_raw_rows(path, encoding, delimiter), layout, all_str=True), header)
        except UnicodeError:
            continue
        if total == 0:
            raise FileRejected(MSG_EMPTY_BODY)
        return Table(
            file_kind="csv",
            sheet="",
            header_rows=tuple(header.top + 1 + i for i in range(2 if header.two_rows else 1)),
            headers=header.headers,
            keys=header.keys,
            total_rows=total,
            encoding=encoding,
            _parts=(_Part(partial(_csv_raw_rows, path, encoding, delimiter), layout),),
        )
    if _is_big5(path):
        raise FileRejected(MSG_BIG5)
    raise no_table or FileRejected(MSG_ENCODING)


__all__ = [
    "MAX_FILE_BYTES",
    "SHEET_STRIDE",
    "FileRejected",
    "Table",
    "open_table",
    "place",
    "sniff_kind",
    "where",
]
