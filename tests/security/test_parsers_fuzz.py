"""Property-based fuzzing of every parser of outside input (issue 6, item 10): ID numbers,
dates and ledger rows, spreadsheet files, uploaded files and signed push requests.

Each parser either succeeds or refuses with its own exception and a message; no input makes it
raise anything else (which would be a 500 or a crashed import). Existing round-trip properties
live in tests/ingest/test_normalise.py and test_reading.py; these add the hostile inputs.
"""

from __future__ import annotations

import datetime
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aixin.ingest import columns as cols
from aixin.ingest.normalise import (
    ChildRow,
    RegionResolver,
    RowRejected,
    VillageRef,
    normalise_id,
    parse_date,
    parse_row,
)
from aixin.ingest.reading import FileRejected, open_table
from aixin.lib import idnumber
from aixin.lib.uploads import EVIDENCE_KINDS, UploadRejected, check_upload
from tests import factories

TODAY = datetime.date(2026, 3, 1)
FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Cells as departments' files and systems deliver them.
cells = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.sampled_from(["", " ", "\u3000", "/", "=1+1", "是", "否", "男", "2015/2/30", "5.00101E+17"]),
)


def _valid_id(birth: datetime.date, order: int) -> str:
    first17 = f"500101{birth:%Y%m%d}{order:03d}"
    return first17 + idnumber.check_character(first17)


# ---------------------------------------------------------------------------------------------
# ID numbers


@FUZZ
@given(st.text(max_size=40) | st.sampled_from(["500101201503041234", "50010120150304123x", "E+17"]))
def test_any_text_as_an_id_number_is_parsed_or_refused_with_a_reason(raw: str) -> None:
    try:
        info = idnumber.parse(raw, today=TODAY)
    except idnumber.IdNumberError as exc:
        assert str(exc), "a refusal says why"
    else:
        assert len(info.number) == 18 and info.birth_date <= TODAY and info.sex in ("M", "F")


@FUZZ
@given(
    st.dates(min_value=datetime.date(1950, 1, 1), max_value=datetime.date(2025, 12, 31)),
    st.integers(min_value=0, max_value=999),
    st.integers(min_value=0, max_value=17),
    st.sampled_from("0123456789X"),
)
def test_an_id_number_with_any_one_character_changed_is_refused(
    birth: datetime.date, order: int, at: int, replacement: str
) -> None:
    number = _valid_id(birth, order)
    changed = number[:at] + replacement + number[at + 1 :]
    if changed == number:
        return
    with pytest.raises(idnumber.IdNumberError):
        idnumber.parse(changed, today=TODAY)


@FUZZ
@given(
    st.dates(min_value=datetime.date(1950, 1, 1), max_value=datetime.date(2025, 12, 31)),
    st.integers(min_value=0, max_value=999),
    st.integers(min_value=0, max_value=16),
)
def test_an_id_number_with_two_neighbouring_digits_swapped_is_refused(
    birth: datetime.date, order: int, at: int
) -> None:
    number = _valid_id(birth, order)
    swapped = number[:at] + number[at + 1] + number[at] + number[at + 2 :]
    if swapped == number:
        return
    with pytest.raises(idnumber.IdNumberError):
        idnumber.parse(swapped, today=TODAY)


@FUZZ
@given(st.text(max_size=30))
def test_a_masked_id_number_shows_at_most_seven_characters(raw: str) -> None:
    masked = idnumber.mask(raw)
    assert len(masked) == len(raw)
    assert sum(ch != "*" for ch in masked) <= min(7, len(raw))


@FUZZ
@given(cells)
def test_any_cell_as_an_id_number_is_normalised_or_refused_with_a_reason(value: object) -> None:
    try:
        number = normalise_id(value)
    except ValueError as exc:
        assert str(exc)
    else:
        assert idnumber.is_valid(number)


# ---------------------------------------------------------------------------------------------
# Dates


@FUZZ
@given(cells)
@example("2015年2月30日")
@example(10**30)
@example(float("inf"))
@example(-1)
@example("９９９９９９９９")
def test_any_cell_as_a_date_is_a_date_or_refused_with_a_reason(value: object) -> None:
    try:
        day = parse_date(value)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(day, datetime.date)


# ---------------------------------------------------------------------------------------------
# Ledger rows

RESOLVER = RegionResolver(
    [
        VillageRef(1, "500101101201", "万州1镇1村", "500101101", "万州1镇", "500101", "万州区"),
        VillageRef(2, "500101101202", "万州1镇2村", "500101101", "万州1镇", "500101", "万州区"),
    ]
)
KEYS = [c.key for c in cols.COLUMNS]


@FUZZ
@given(
    st.lists(st.sampled_from(KEYS), min_size=1, max_size=12, unique=True),
    st.lists(cells, max_size=14),
    st.booleans(),
)
def test_any_ledger_row_becomes_a_child_row_or_a_rejection_naming_the_row(
    keys: list[str], row: list[object], valid_identity: bool
) -> None:
    """Any cells under any header, including a valid name and ID number so that the other
    columns are reached."""
    keys = ["name", "id_number", *[k for k in keys if k not in ("name", "id_number")]]
    if valid_identity:
        row = ["王小花", _valid_id(datetime.date(2015, 3, 4), 123), *row[2:]]
    headers = [cols.COLUMNS_BY_KEY[k].label for k in keys]
    try:
        parsed = parse_row(7, row, keys, headers, RESOLVER, today=TODAY)
    except RowRejected as exc:
        assert exc.row_number == 7 and exc.reason
    else:
        assert isinstance(parsed, ChildRow) and idnumber.is_valid(parsed.id_number)


# ---------------------------------------------------------------------------------------------
# Spreadsheet files

HEADER = "姓名,身份证号,村(社区)代码\n"


def _read_all(path: Path, filename: str | None = None) -> None:
    try:
        table = open_table(path, filename=filename)
        list(table.rows())
    except FileRejected as exc:
        assert exc.message


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_uploaded_as_a_ledger_are_read_or_refused_with_a_reason(
    tmp_path: Path, data: bytes
) -> None:
    for name in ("fuzz.csv", "fuzz.xlsx"):
        path = tmp_path / name
        path.write_bytes(data)
        _read_all(path, filename=name)


@FUZZ
@given(
    st.lists(st.lists(st.text(max_size=8), max_size=5), max_size=6),
    st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
    st.sampled_from([",", "\t", ";", '"']),
    st.binary(max_size=20),
)
def test_any_csv_under_a_real_header_is_read_or_refused_with_a_reason(
    tmp_path: Path, rows: list[list[str]], encoding: str, delimiter: str, junk: bytes
) -> None:
    body = HEADER + "\n".join(delimiter.join(r) for r in rows)
    path = tmp_path / "fuzz.csv"
    path.write_bytes(body.encode(encoding, "replace") + junk)
    _read_all(path)


def _xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号", "村(社区)代码"])
    ws.append(["王小花", _valid_id(datetime.date(2015, 3, 4), 123), "500101101201"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XLSX = _xlsx_bytes()


@FUZZ
@given(
    st.integers(min_value=0, max_value=len(XLSX) - 1),
    st.binary(min_size=1, max_size=8),
    st.booleans(),
)
def test_a_damaged_xlsx_is_read_or_refused_with_a_reason(
    tmp_path: Path, at: int, patch: bytes, truncate: bool
) -> None:
    data = XLSX[:at] if truncate else XLSX[:at] + patch + XLSX[at + len(patch) :]
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(data)
    _read_all(path)


@FUZZ
@given(st.dictionaries(st.sampled_from(["[Content_Types].xml", "xl/workbook.xml", "x/../../a"]), st.binary()))
def test_any_zip_named_xlsx_is_read_or_refused_with_a_reason(
    tmp_path: Path, members: dict[str, bytes]
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    path = tmp_path / "zip.xlsx"
    path.write_bytes(out.getvalue())
    _read_all(path)


# ---------------------------------------------------------------------------------------------
# Uploaded photos and evidence


class _Upload(io.BytesIO):
    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name
        self.size = len(data)


@FUZZ
@given(
    st.text(max_size=30) | st.sampled_from(["../../a.jpg", "a.JPEG", "x.pdf", "a\x00.png", ".jpg"]),
    st.binary(max_size=40) | st.sampled_from([b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"%PDF-1.4"]),
)
def test_any_upload_is_accepted_only_when_its_name_and_bytes_agree(name: str, data: bytes) -> None:
    try:
        ext = check_upload(_Upload(data, name), kinds=EVIDENCE_KINDS)
    except UploadRejected as exc:
        assert exc.message and exc.reason in {"type", "size", "content", "empty"}
    else:
        assert ext in EVIDENCE_KINDS
        assert data.startswith({"jpg": b"\xff\xd8\xff", "png": b"\x89PNG", "pdf": b"%PDF-"}[ext])


# ---------------------------------------------------------------------------------------------
# Signed push requests


@pytest.fixture
def key(users: dict[str, Any], tree: Any) -> tuple[Any, str]:
    from aixin.ingest import credentials

    return credentials.credential_create(
        actor=factories.make_user("system_admin", tree.city, "sysadmin"),
        name="市民政局困境儿童系统",
        source="civil_affairs",
        region=tree.city,
    )


def _push(client: Any, body: bytes, headers: dict[str, str], source: str = "civil_affairs") -> Any:
    url = reverse("api:ingest_push", kwargs={"source": source})
    return client.post(url, data=body, content_type="application/json", headers=headers)


header_values = st.text(max_size=70) | st.sampled_from(["", "ak_", "0" * 64, "9" * 13, "-1", "1e9"])


@settings(FUZZ, max_examples=60)
@given(
    key_id=header_values,
    timestamp=header_values,
    signature=header_values,
    body=st.binary(max_size=200),
    use_real_key=st.booleans(),
    use_now=st.booleans(),
)
def test_any_unsigned_or_badly_signed_push_is_refused_as_unauthorised(
    client: Any,
    key: tuple[Any, str],
    key_id: str,
    timestamp: str,
    signature: str,
    body: bytes,
    use_real_key: bool,
    use_now: bool,
) -> None:
    from aixin.ingest.models import ImportBatch

    credential, _secret = key
    headers = {
        "X-Aixin-Key": credential.key_id if use_real_key else key_id,
        "X-Aixin-Timestamp": str(int(time.time())) if use_now else timestamp,
        "X-Aixin-Signature": signature,
    }
    # Header values the HTTP layer cannot carry are not a request anyone can send.
    headers = {k: v for k, v in headers.items() if v.isprintable() and v.isascii()}
    response = _push(client, body, headers)
    assert response.status_code == 401, (headers, response.status_code, response.content[:200])
    assert set(response.json()) == {"detail", "code", "field"}
    assert not ImportBatch.objects.exists()


_SIGNED: set[tuple[int, bytes]] = set()  # (timestamp, body) pairs already sent


def _signed_body() -> bytes:
    record = {
        "id_number": _valid_id(datetime.date(2016, 5, 6), 124),
        "name": "王小花",
        "region_code": "500101101201",
    }
    return json.dumps({"batch_id": "fuzz-1", "records": [record]}, ensure_ascii=False).encode()


@settings(FUZZ, max_examples=40)
@given(
    part=st.sampled_from(["body", "timestamp", "signature"]),
    at=st.integers(min_value=0),
    bit=st.integers(0, 7),
)
def test_a_signed_push_with_any_one_byte_changed_is_refused(
    client: Any, key: tuple[Any, str], part: str, at: int, bit: int
) -> None:
    from aixin.ingest import signing
    from aixin.ingest.models import ImportBatch, IngestNonce

    credential, secret = key
    body = _signed_body()
    headers = signing.signed_headers(key_id=credential.key_id, secret=secret, body=body)
    if part == "body":
        i = at % len(body)
        body = body[:i] + bytes([body[i] ^ (1 << bit)]) + body[i + 1 :]
    else:
        name = signing.HEADER_TIMESTAMP if part == "timestamp" else signing.HEADER_SIGNATURE
        value = headers[name]
        i = at % len(value)
        digits = "0123456789abcdef" if part == "signature" else "0123456789"
        changed = digits[(digits.index(value[i]) + 1 + bit) % len(digits)]
        headers[name] = value[:i] + changed + value[i + 1 :]
    nonces = IngestNonce.objects.count()
    response = _push(client, body, headers)
    assert response.status_code == 401, response.content.decode()
    assert not ImportBatch.objects.exists()
    assert IngestNonce.objects.count() == nonces


@settings(FUZZ, max_examples=40)
@given(
    body=st.binary(max_size=300)
    | st.builds(
        lambda v: json.dumps(v).encode(),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["batch_id", "records", "name", "id_number", "x"]), inner, max_size=3
                )
            ),
            max_leaves=8,
        ),
    )
)
def test_any_correctly_signed_body_is_accepted_or_refused_with_a_client_error(
    client: Any, key: tuple[Any, str], body: bytes
) -> None:
    from aixin.ingest import signing

    credential, secret = key
    # A timestamp this body was not yet signed with: the same body at the same second is a
    # replay (401). (Counting down from the clock alone repeats a pair when the clock ticks.)
    now = int(time.time())
    stamp = next(now - k for k in range(250) if (now - k, body) not in _SIGNED)
    _SIGNED.add((stamp, body))
    headers = signing.signed_headers(key_id=credential.key_id, secret=secret, body=body, timestamp=stamp)
    response = _push(client, body, headers)
    assert response.status_code in (200, 400, 403, 409, 413, 422), (body[:200], response.status_code)
    if response.status_code != 200:
        assert response.json()["detail"]
