"""Exports (issue 6, item 7; R-1.3, R-12.3): every export asks permission, is audited, carries
the exporter's watermark, writes formula-looking text as text, and a file with personal data
comes as an AES-256 zip that opens with the password its exporter chose — and not without."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pyzipper
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aixin.accounts.models import ALL_ROLES, Role
from aixin.audit.exports import EXPORT_KINDS, may_export
from aixin.audit.models import AuditEvent
from aixin.lib.excel import neutralise
from aixin.lib.exports import encrypted_zip
from tests import factories

PASSWORD = "Kq7!route-42"
FORMULA = '=HYPERLINK("http://evil.example","点我")'


@dataclass
class World:
    users: dict[str, Any]
    batch_a: Any
    mother_user: Any
    liaison: Any


@pytest.fixture
def world(tree: Any, users: dict[str, Any]) -> World:
    from aixin.ingest.models import ImportBatch, ImportRejection

    child = factories.make_child(tree.village_a1, name=FORMULA, difficulty_life=True)
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    factories.make_active_pairing(child, mother)
    factories.make_child(tree.village_a1, name="甲童", difficulty_life=True)
    foreign = factories.make_child(tree.village_b1, name="丙童", difficulty_life=True)
    factories.make_active_pairing(foreign, factories.make_volunteer(tree.village_b1, name="丙妈妈"))
    batch = ImportBatch.objects.create(
        source="civil_affairs",
        status="done",
        created_by=users["district_admin"],
        scope=tree.district_a,
        file_name="民政台账.xlsx",
        headers=["姓名", "身份证号"],
        total_rows=2,
        created_count=1,
        rejected_count=1,
    )
    ImportRejection.objects.create(
        batch=batch, row_number=3, column="身份证号", reason="身份证号校验位不正确", cells=[FORMULA, "1"]
    )
    from aixin.accounts.models import User

    liaison = User.objects.create_user(
        username="gongan_a",
        password=factories.PASSWORD,
        role=Role.DEPARTMENT_LIAISON,
        region=tree.district_a,
        department="public_security",
        display_name="gongan_a",
    )
    return World(users=users, batch_a=batch, mother_user=mother.user, liaison=liaison)


@dataclass(frozen=True)
class ExportUrl:
    name: str
    kind: str
    url: Callable[[World], str]
    object_type: str


EXPORTS = [
    ExportUrl("registry:child_export", "children", lambda w: reverse("registry:child_export"), "child"),
    ExportUrl(
        "pairing:ledger_export", "pairing_ledger", lambda w: reverse("pairing:ledger_export"), "pairing"
    ),
    ExportUrl(
        "pairing:status_export",
        "pairing_status",
        lambda w: reverse("pairing:status_export"),
        "pairing_status",
    ),
    ExportUrl(
        "ingest:batch_rejections",
        "import_rejections",
        lambda w: reverse("ingest:batch_rejections", args=[w.batch_a.pk]),
        "import_batch",
    ),
]
IDS = [e.name for e in EXPORTS]


def _post(client: Any, url: str, password: str = PASSWORD, confirm: str | None = None) -> Any:
    return client.post(
        url, {"password": password, "password_confirm": password if confirm is None else confirm}
    )


def _archive(response: Any) -> pyzipper.AESZipFile:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "no-store"
    assert ".zip" in response["Content-Disposition"]
    return pyzipper.AESZipFile(io.BytesIO(response.content))


def _rows(response: Any, password: str = PASSWORD) -> list[tuple[Any, ...]]:
    with _archive(response) as archive:
        archive.setpassword(password.encode())
        (name,) = archive.namelist()
        assert name.endswith(".xlsx")
        content = archive.read(name)
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def _text(rows: list[tuple[Any, ...]]) -> str:
    return " ".join(str(cell) for row in rows for cell in row if cell is not None)


def _exports() -> int:
    return AuditEvent.objects.filter(action="export").count()


# --- who may export ---------------------------------------------------------------------------


def test_no_role_outside_the_federations_staff_may_export_any_kind() -> None:
    staff = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWN_SUPERVISOR, Role.VILLAGE_DIRECTOR}

    class Someone:
        is_authenticated = True

        def __init__(self, role: str) -> None:
            self.role = role

    for kind in EXPORT_KINDS:
        allowed = {role for role in ALL_ROLES if may_export(Someone(role), kind)}
        assert Role.CITY_ADMIN in allowed and allowed <= staff, kind
        assert not may_export(Someone(Role.VOLUNTEER), kind)
    assert not may_export(Someone(Role.CITY_ADMIN), "no_such_export")


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
@pytest.mark.parametrize("who", ["mother", "liaison"])
def test_a_loving_mother_or_a_liaison_is_refused_every_export_and_nothing_is_logged(
    world: World, client: Any, export: ExportUrl, who: str
) -> None:
    client.force_login(world.mother_user if who == "mother" else world.liaison)
    url = export.url(world)
    assert client.get(url).status_code in (403, 404)
    response = _post(client, url)
    assert response.status_code in (403, 404)
    assert response.get("Content-Type", "").split(";")[0] not in ("application/zip",)
    assert _exports() == 0


@pytest.mark.parametrize("role", ["town_supervisor", "village_director"])
@pytest.mark.parametrize("export", [e for e in EXPORTS if e.kind in ("pairing_status", "import_rejections")])
def test_town_and_village_staff_cannot_export_what_only_administrators_may(
    world: World, client: Any, role: str, export: ExportUrl
) -> None:
    client.force_login(world.users[role])
    assert _post(client, export.url(world)).status_code in (403, 404)
    assert _exports() == 0


# --- the archive password -----------------------------------------------------------------------


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_opening_an_export_asks_for_the_archive_password_and_exports_nothing_yet(
    world: World, client: Any, export: ExportUrl
) -> None:
    client.force_login(world.users["district_admin"])
    response = client.get(export.url(world))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'type="password"' in page and "解压密码" in page and "AES-256" in page
    assert "甲童" not in page
    assert _exports() == 0


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("short1!", "short1!", "至少"),
        (PASSWORD, PASSWORD + "x", "两次输入的密码不一致"),
        ("爱心妈妈密码12345", "爱心妈妈密码12345", "只能包含英文字母、数字和符号"),
        ("with space 123", "with space 123", "只能包含英文字母、数字和符号"),
    ],
)
def test_a_weak_mistyped_or_chinese_password_is_refused_with_a_message(
    world: World, client: Any, password: str, confirm: str, message: str
) -> None:
    client.force_login(world.users["district_admin"])
    response = _post(client, reverse("registry:child_export"), password, confirm)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert message in page
    assert password not in page  # the password is never echoed back
    assert _exports() == 0


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_a_personal_export_is_an_aes_256_zip_that_opens_with_the_password_and_not_without(
    world: World, client: Any, export: ExportUrl
) -> None:
    client.force_login(world.users["city_admin"])
    response = _post(client, export.url(world))
    with _archive(response) as archive:
        (info,) = archive.infolist()
        assert info.flag_bits & 0x1, "the entry must be encrypted"
        assert info.wz_aes_strength == 3, "AES-256"  # 1: AES-128, 2: AES-192, 3: AES-256
        with pytest.raises(RuntimeError):
            archive.read(info.filename)  # no password
        archive.setpassword(b"wrong-password")
        with pytest.raises(RuntimeError):
            archive.read(info.filename)
    with zipfile.ZipFile(io.BytesIO(response.content)) as plain:
        assert plain.infolist()[0].compress_type == 99  # the WinZip AES marker
        with pytest.raises((RuntimeError, NotImplementedError)):
            plain.read(info.filename)
    assert _rows(response)  # and with the password it opens as a workbook
    assert PASSWORD.encode() not in response.content


def test_an_export_opened_with_the_password_shows_only_the_users_district(world: World, client: Any) -> None:
    client.force_login(world.users["district_admin"])
    for export in EXPORTS:
        text = _text(_rows(_post(client, export.url(world))))
        assert "丙童" not in text and "丙妈妈" not in text, export.name
    client.force_login(world.users["city_admin"])
    assert "丙童" in _text(_rows(_post(client, reverse("registry:child_export"))))


# --- watermark, formulas, audit -------------------------------------------------------------------


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_every_export_carries_the_exporter_and_the_time_of_export(
    world: World, client: Any, export: ExportUrl
) -> None:
    client.force_login(world.users["district_admin"])
    before = timezone.localtime().strftime("%Y-%m-%d")
    rows = _rows(_post(client, export.url(world)))
    marks = [str(row[0]) for row in rows[:3] if row and str(row[0]).startswith("导出人")]
    assert len(marks) == 1, rows[:3]
    assert marks[0].startswith("导出人：dist_a（区县妇联工作人员，万州区） 导出时间：")
    assert re.search(r"导出时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2}", marks[0])
    assert before in marks[0] or timezone.localtime().strftime("%Y-%m-%d") in marks[0]


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_a_child_named_like_a_formula_comes_out_as_text(world: World, client: Any, export: ExportUrl) -> None:
    client.force_login(world.users["district_admin"])
    cells = [cell for row in _rows(_post(client, export.url(world))) for cell in row if isinstance(cell, str)]
    assert "'" + FORMULA in cells
    assert FORMULA not in cells


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_prefix_is_neutralised_and_other_text_is_left_alone(prefix: str) -> None:
    assert neutralise(prefix + "1+1") == "'" + prefix + "1+1"
    assert neutralise("张" + prefix) == "张" + prefix
    assert neutralise(-5) == -5


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_every_export_writes_one_audit_event_with_the_row_count_and_never_the_password(
    world: World, client: Any, export: ExportUrl
) -> None:
    admin = world.users["district_admin"]
    client.force_login(admin)
    rows = _rows(_post(client, export.url(world)))
    event = AuditEvent.objects.get(action="export")
    assert event.actor == admin and event.object_type == export.object_type
    assert event.details["kind"] == export.kind and event.details["encrypted"] is True
    assert event.details["rows"] >= 1 and str(event.details["rows"]) in event.summary
    assert event.details["rows"] <= len(rows)
    assert "filters" in event.details
    stored = " ".join([event.summary, str(event.details), event.path, event.user_agent])
    assert PASSWORD not in stored


def test_the_childrens_export_logs_its_filters(world: World, client: Any) -> None:
    client.force_login(world.users["district_admin"])
    _rows(_post(client, reverse("registry:child_export") + "?q=甲童"))
    event = AuditEvent.objects.get(action="export")
    assert event.details["rows"] == 1
    assert event.details["filters"].get("q") == "甲童"


def test_the_rejected_rows_file_with_its_watermark_is_still_read_by_the_importer(
    world: World, client: Any, tmp_path: Path
) -> None:
    from aixin.ingest.reading import open_table

    client.force_login(world.users["district_admin"])
    response = _post(client, reverse("ingest:batch_rejections", args=[world.batch_a.pk]))
    with _archive(response) as archive:
        archive.setpassword(PASSWORD.encode())
        path = tmp_path / "未导入的行.xlsx"
        path.write_bytes(archive.read(archive.namelist()[0]))
    table = open_table(path)
    assert table.header_rows == (2,)  # the watermark above is skipped like a title row
    rows = [cells for _, cells in table.rows()]
    assert len(rows) == 1
    assert rows[0][1:3] == ["'" + FORMULA, "1"]  # normalising takes the apostrophe off again


def test_an_archive_needs_a_password_of_eight_characters_or_more() -> None:
    with pytest.raises(ValueError):
        encrypted_zip(name="a.xlsx", content=b"x", password="1234567")


def test_no_view_answers_a_workbook_except_through_the_export_helper() -> None:
    """Every export goes through aixin.audit.exports; the only other workbook download is the
    blank import template, which holds no records."""
    root = Path(__file__).resolve().parents[2] / "aixin"
    callers = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if "lib" in parts[:1] or path.name == "exports.py" or "management" in parts:
            continue  # the helpers themselves; commands write files, they answer no request
        text = path.read_text(encoding="utf-8")
        for name in ("xlsx_response(", "attachment_response(", "encrypted_zip("):
            if name in text:
                callers[str(path.relative_to(root))] = text.count(name)
    assert callers == {"ingest/views.py": 1}
