"""Follow-ups of the push API found by walking it as a department programmer and a district
worker would: the rejected records download as a file that imports again once fixed, the batch
page names columns in Chinese, results number records as the page does, the answer counts
duplicate suspects, every record field is documented (openapi.json, /api/v1/docs,
docs/integration.md), a revoked key names who can issue a new one, and civil affairs can match
the pairing status it polls on the ID number, under the rule of the 结对状态 export."""

from __future__ import annotations

import datetime
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from aixin.audit.models import AuditAction, AuditEvent
from aixin.ingest import credentials, signing, workbooks
from aixin.ingest.columns import COLUMNS
from aixin.ingest.models import BatchKind, ImportBatch, ImportRejection
from aixin.registry import derive
from aixin.registry.models import Child
from tests import factories
from tests.downloads import post_export, workbook_in
from tests.pairing.helpers import activate, needy_child

BIRTH = datetime.date(2016, 5, 1)
DOC = Path(__file__).resolve().parents[2] / "docs" / "integration.md"


@pytest.fixture
def queue_runs_now(django_capture_on_commit_callbacks: Any) -> Any:
    """Huey in immediate mode: the import queued by an upload runs inside the test."""
    from huey.contrib.djhuey import HUEY

    before = HUEY.immediate
    HUEY.immediate = True
    yield lambda: django_capture_on_commit_callbacks(execute=True)
    HUEY.immediate = before


def ident(seq: int, birth: datetime.date = BIRTH) -> str:
    return factories.id_number(birth, seq=seq)


def wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def record(village: Any, name: str, number: str, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": name,
        "id_number": number,
        "region_code": village.code,
        "guardian_name": "王奶奶",
        "guardian_phone": "13800001234",
        "categories": ["其他困境儿童"],
        "other_difficulty_reasons": ["家庭贫困"],
        "is_scattered_orphan": False,
    }
    found.update(extra)
    return found


def push(client: Any, key: tuple[Any, str], records: list[Any], batch_id: str = "b-1") -> Any:
    credential, secret = key
    body = json.dumps({"batch_id": batch_id, "records": records}, ensure_ascii=False).encode()
    headers = signing.signed_headers(key_id=credential.key_id, secret=secret, body=body)
    url = reverse("api:ingest_push", kwargs={"source": credential.source})
    return client.post(url, data=body, content_type="application/json", headers=headers)


def pushed(client: Any, key: tuple[Any, str], records: list[Any], batch_id: str = "b-1") -> dict[str, Any]:
    response = push(client, key, records, batch_id)
    assert response.status_code == 200, response.content.decode()
    return dict(response.json())


def sheet_rows(content: bytes) -> list[list[Any]]:
    ws = load_workbook(io.BytesIO(content)).active
    assert ws is not None
    return [list(row) for row in ws.iter_rows(values_only=True)]


def rejection_table(page: str) -> list[list[str]]:
    """The rows (行号, 列, 原因) of the batch page's table of rejected rows, as text."""
    section = page[page.index('id="rejections"') : page.index('id="suspects"')]
    body = section[section.index("<tbody") :]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def header_row(rows: list[list[Any]]) -> int:
    """The index of the header (below the exporter's watermark)."""
    return next(i for i, row in enumerate(rows) if row and row[0] == "行号")


# --- 1. the rejected records re-import as a file ------------------------------------------------


def test_rejected_records_of_a_push_download_with_the_templates_headers_and_import_again_once_fixed(
    client, tree, users, city_key, login, queue_runs_now
):
    good, bad = ident(1), ident(2)
    data = pushed(
        client,
        city_key,
        [
            record(tree.village_a1, "张好好", good),
            record(tree.village_a1, "李错号", wrong_check(bad), is_left_behind=False),
        ],
    )
    assert data["counts"]["created"] == 1 and data["counts"]["rejected"] == 1
    batch = ImportBatch.objects.get(kind=BatchKind.PUSH)

    admin = login(users["city_admin"])
    content = workbook_in(post_export(admin, reverse("ingest:batch_rejections", args=[batch.pk])))
    rows = sheet_rows(content)
    top = header_row(rows)
    header = rows[top]
    labels = {c.key: c.label for c in COLUMNS}
    assert header[0] == "行号" and header[-2:] == ["出错列", "原因"]
    assert "身份证号" in header and "姓名" in header and "村(社区)代码" in header
    assert not {"name", "id_number", "region_code"} & set(header)
    assert header[1:-2] == [labels[k] for k in labels if labels[k] in header[1:-2]]  # template order
    (line,) = rows[top + 1 :]
    assert line[0] == 2 and line[header.index("出错列")] == "身份证号"
    assert line[header.index("姓名")] == "李错号" and line[header.index("是否农村留守儿童")] == "否"

    # The district worker corrects the ID number and uploads the same file.
    wb = load_workbook(io.BytesIO(content))
    ws = wb.active
    assert ws is not None
    ws.cell(row=top + 2, column=header.index("身份证号") + 1, value=bad)
    fixed = io.BytesIO()
    wb.save(fixed)
    upload = SimpleUploadedFile("导入拒绝行_修正.xlsx", fixed.getvalue())
    with queue_runs_now():
        response = admin.post(reverse("ingest:batch_list"), {"source": "civil_affairs", "file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    again = ImportBatch.objects.get(kind=BatchKind.FILE)
    assert (again.status, again.created_count, again.rejected_count) == ("done", 1, 0)
    child = Child.objects.get(name="李错号")
    assert derive.reveal_id_number(child) == bad and child.region == tree.village_a1


def test_a_push_batch_stored_with_field_keys_still_shows_and_downloads_in_chinese(tree, users, login):
    # Batches pushed before the fix kept the field keys as their header and column names.
    batch = ImportBatch.objects.create(
        source="civil_affairs",
        kind=BatchKind.PUSH,
        status="done",
        scope=tree.city,
        external_id="old",
        headers=["name", "id_number", "region_code"],
        total_rows=1,
        rejected_count=1,
    )
    ImportRejection.objects.create(
        batch=batch, row_number=1, column="id_number", reason="身份证号校验码错误", cells=["甲", "1", "2"]
    )
    rows = sheet_rows(workbooks.rejections_workbook(batch))
    assert rows[0] == ["行号", "姓名", "身份证号", "村(社区)代码", "出错列", "原因"]
    assert rows[1][-2] == "身份证号"
    page = login(users["city_admin"]).get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    table = page[page.index('id="rejection-rows"') :]
    assert ">身份证号</td>" in table and "id_number" not in table


# --- 2. the batch page names columns in Chinese -------------------------------------------------


def test_the_batch_page_names_the_column_in_error_by_its_chinese_name(client, tree, users, city_key, login):
    pushed(client, city_key, [record(tree.village_a1, "李错号", wrong_check(ident(3)))])
    batch = ImportBatch.objects.get()
    page = login(users["city_admin"]).get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    ((_row, column, _reason),) = rejection_table(page)
    assert column == "身份证号"
    assert "id_number" not in page[page.index('id="rejections"') :]


# --- 3. numbering, non-objects, suspects --------------------------------------------------------


def test_results_carry_the_row_number_the_batch_page_shows_and_the_field_key(
    client, tree, users, city_key, login
):
    data = pushed(
        client,
        city_key,
        [record(tree.village_a1, "甲", ident(4)), record(tree.village_a1, "乙", wrong_check(ident(5)))],
    )
    assert [(r["index"], r["row"]) for r in data["results"]] == [(0, 1), (1, 2)]
    rejected = data["results"][1]
    assert rejected["status"] == "rejected" and rejected["errors"][0]["field"] == "id_number"
    batch = ImportBatch.objects.get()
    assert list(batch.rejections.values_list("row_number", flat=True)) == [rejected["row"]]
    page = login(users["city_admin"]).get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    assert [row[:2] for row in rejection_table(page)] == [[str(rejected["row"]), "身份证号"]]


def test_a_record_that_is_not_an_object_is_rejected_saying_so(client, tree, city_key):
    data = pushed(client, city_key, [record(tree.village_a1, "甲", ident(6)), "乙,500101…", 42])
    assert data["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 2, "suspects": 0}
    second, third = data["results"][1:]
    assert second["row"] == 2 and second["errors"] == [
        {"field": "", "reason": "第2条记录不是JSON对象：每条记录应为以字段键为键的对象"}
    ]
    assert third["errors"][0]["reason"].startswith("第3条记录不是JSON对象")
    assert "(不是对象)" not in json.dumps(data, ensure_ascii=False)


def test_an_unknown_field_names_the_field_and_keeps_the_known_cells_for_the_download(
    client, tree, users, city_key
):
    data = pushed(client, city_key, [record(tree.village_a1, "丙", ident(7), nickname="小丙")])
    (result,) = data["results"]
    assert result["errors"][0]["field"] == "nickname"
    assert result["errors"][0]["reason"].startswith("未知字段：nickname")
    rows = sheet_rows(workbooks.rejections_workbook(ImportBatch.objects.get()))
    assert rows[1][rows[0].index("姓名")] == "丙"


def test_the_counts_include_duplicate_suspects_as_a_file_import_reports_them(client, tree, city_key):
    # Same name, birth date and village, two ID numbers: created, and listed for a person.
    twins = [record(tree.village_a1, "王小花", ident(8)), record(tree.village_a1, "王小花", ident(9))]
    data = pushed(client, city_key, twins)
    assert data["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0, "suspects": 1}
    assert ImportBatch.objects.get().suspect_count == 1


# --- 4. documentation -----------------------------------------------------------------------


def _openapi(client: Any) -> dict[str, Any]:
    return dict(client.get("/api/v1/openapi.json").json())


def test_openapi_documents_every_record_field_with_its_label_type_values_and_whether_required(client, db):
    spec = _openapi(client)
    body = spec["paths"]["/api/v1/ingest/{source}"]["post"]["requestBody"]["content"]["application/json"]
    item = body["schema"]["properties"]["records"]["items"]
    assert "columns.py" not in json.dumps(item, ensure_ascii=False)
    assert item["required"] == [c.key for c in COLUMNS if c.required] == ["name", "id_number"]
    assert list(item["properties"]) == [c.key for c in COLUMNS]
    for column in COLUMNS:
        field = item["properties"][column.key]
        assert field["title"] == column.label
        assert column.label in field["description"]
        if column.kind in ("choice", "sex"):
            assert field["enum"] == workbooks.list_words(column), column.key
        if column.kind == "bool":
            assert {"type": "boolean"} in field["anyOf"], column.key
        if column.kind == "list":
            assert field["anyOf"][0]["items"]["enum"] == workbooks.list_words(column), column.key
    assert item["properties"]["birth_date"]["format"] == "date"
    assert item["properties"]["region_code"]["pattern"] == "^[0-9]{12}$"
    assert "农村留守儿童" in item["properties"]["categories"]["anyOf"][0]["items"]["enum"]


def test_openapi_documents_the_answer_with_row_numbers_and_suspects(client, db):
    schemas = _openapi(client)["components"]["schemas"]
    assert set(schemas["PushCounts"]["properties"]) == {
        "created",
        "updated",
        "unchanged",
        "rejected",
        "suspects",
    }
    result = schemas["PushResult"]["properties"]
    assert {"index", "row", "status", "child_id", "errors"} <= set(result)
    assert "从 0 开始" in result["index"]["description"] and "从 1 开始" in result["row"]["description"]


def test_the_docs_page_lists_every_field_needs_no_login_and_loads_nothing_from_elsewhere(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    for column in COLUMNS:
        assert f'id="field-{column.key}"' in page and column.label in page
    assert "/api/v1/openapi.json" in page and "with_id_number" in page
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert loaded and all(url.startswith("/") for url in loaded), loaded
    assert "<script>" not in page and "swagger" not in page.lower()
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_integration_doc_lists_every_record_field_with_its_label():
    text = DOC.read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"| `{column.key}` | {column.label} |" in text, column.key
    assert "/api/v1/docs" in text and "with_id_number" in text and "suspects" in text


def test_the_page_after_creating_a_credential_links_to_the_field_documentation(users, tree, login):
    page = (
        login(users["system_admin"])
        .post(
            reverse("ingest_credentials:credential_create"),
            {"name": "万州区教委学籍系统", "source": "education", "region": tree.district_a.pk},
        )
        .content.decode()
    )
    assert 'href="http://testserver/api/v1/docs"' in page
    assert 'href="http://testserver/api/v1/openapi.json"' in page


# --- 5. a revoked key names the system administrator ------------------------------------------


def test_a_revoked_key_tells_the_department_to_ask_the_system_administrator(client, tree, users, city_key):
    credentials.credential_revoke(actor=users["system_admin"], credential_id=city_key[0].pk)
    response = push(client, city_key, [record(tree.village_a1, "甲", ident(10))])
    assert response.status_code == 401
    detail = response.json()["detail"]
    assert "已被吊销" in detail and "系统管理员" in detail
    assert "市级管理员" not in detail


# --- 6. pairing status with the ID number for civil affairs -----------------------------------

PAIRINGS = "/api/v1/pairings"


def _shared_exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="pairing_status"))


def test_an_administrator_gets_the_id_number_when_asking_and_the_answer_is_audited(tree, users, login):
    admin = users["district_admin"]
    child = needy_child(tree.village_a1, name="万州娃")
    activate(admin, child, factories.make_volunteer(tree.village_a1))
    client = login(admin)

    plain = client.get(PAIRINGS, {"changed_since": "2020-01-01"}).json()
    assert plain["items"][0]["id_number"] is None
    assert _shared_exports() == []

    shared = client.get(PAIRINGS, {"changed_since": "2020-01-01", "with_id_number": "true"}).json()
    (item,) = shared["items"]
    assert item["child_id"] == child.pk and item["id_number"] == derive.reveal_id_number(child)
    (event,) = _shared_exports()
    assert event.actor == admin and event.details["rows"] == 1 and event.details["full_id_numbers"]
    assert event.details["kind"] == "pairing_status" and event.details["via"] == "api"
    assert "含完整身份证号" in event.summary

    # A poll that returns nothing discloses nothing and is not audited.
    later = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    assert client.get(PAIRINGS, {"changed_since": later, "with_id_number": "true"}).json()["count"] == 0
    assert len(_shared_exports()) == 1


@pytest.mark.parametrize("role", ["town_supervisor", "village_director"])
def test_roles_that_may_not_export_the_pairing_status_are_refused_the_id_number(role, tree, users, login):
    activate(users["district_admin"], needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1))
    client = login(users[role])
    response = client.get(PAIRINGS, {"with_id_number": "true"})
    assert response.status_code == 403
    body = response.json()
    assert body["field"] == "with_id_number" and "结对状态（共享民政）" in body["detail"]
    assert client.get(PAIRINGS).json()["items"][0]["id_number"] is None
    assert _shared_exports() == []


def test_a_loving_mother_is_refused_the_id_number(tree, users, login):
    mine = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    activate(users["district_admin"], needy_child(tree.village_a1), mine)
    assert login(mine.user).get(PAIRINGS, {"with_id_number": "true"}).status_code == 403
