"""The signed push API for department systems (R-4.4): POST /api/v1/ingest/{source}."""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

import pytest
from django.test import RequestFactory
from django.urls import reverse

from aixin.ingest import credentials, signing
from aixin.ingest.models import BatchKind, BatchStatus, DepartmentCredential, ImportBatch, IngestNonce
from aixin.registry.models import Child
from tests import factories


@pytest.fixture
def district_key(users, tree) -> tuple[DepartmentCredential, str]:
    """万州区 (district A)'s education bureau."""
    return credentials.credential_create(
        actor=users["system_admin"], name="万州区教委学籍系统", source="education", region=tree.district_a
    )


def _record(village: Any, *, name: str = "王小花", number: str | None = None, **extra: Any) -> dict[str, Any]:
    birth = datetime.date.today().replace(year=datetime.date.today().year - 9, day=1)
    record: dict[str, Any] = {
        "id_number": number or factories.id_number(birth, female=True),
        "name": name,
        "region_code": village.code,
        "categories": "农村留守儿童",
        "father_situation": "外出务工",
        "mother_situation": "外出务工",
        "guardian_name": "王奶奶",
        "guardian_relation": "祖母",
        "guardian_phone": "13800001234",
        "school": "万州区第一小学",
    }
    record.update(extra)
    return record


def _body(records: list[dict[str, Any]], batch_id: str = "2026-11-28-001") -> bytes:
    return json.dumps({"batch_id": batch_id, "records": records}, ensure_ascii=False).encode()


def push(
    client: Any,
    key: tuple[DepartmentCredential, str],
    body: bytes,
    *,
    source: str | None = None,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    credential, secret = key
    signed = signing.signed_headers(key_id=credential.key_id, secret=secret, body=body, timestamp=timestamp)
    signed.update(headers or {})
    url = reverse("api:ingest_push", kwargs={"source": source or credential.source})
    return client.post(url, data=body, content_type="application/json", headers=signed)


def _refused(response: Any, status: int, fragment: str) -> None:
    assert response.status_code == status, response.content.decode()
    data = response.json()
    assert set(data) == {"detail", "code", "field"}
    assert fragment in data["detail"], data["detail"]


def _nothing_written() -> None:
    assert not ImportBatch.objects.exists()
    assert not Child.objects.exists()


# --- the happy path -----------------------------------------------------------------------------


def test_a_signed_push_creates_the_children_and_reports_each_record(client, tree, city_key):
    body = _body([_record(tree.village_a1, name="王小花"), _record(tree.village_b1, name="李小军")])
    response = push(client, city_key, body)
    assert response.status_code == 200, response.content.decode()
    data = response.json()
    batch = ImportBatch.objects.get()
    assert data["batch"] == batch.pk and data["batch_id"] == "2026-11-28-001"
    assert data["status"] == "done"
    assert data["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0, "suspects": 0}
    assert [r["status"] for r in data["results"]] == ["created", "created"]
    child = Child.objects.get(name="王小花")
    assert data["results"][0]["child_id"] == child.pk
    assert child.region == tree.village_a1
    assert (batch.kind, batch.credential, batch.scope) == ("push", city_key[0], tree.city)


def test_a_district_credential_cannot_push_a_child_of_another_district(client, tree, district_key):
    body = _body([_record(tree.village_a1, name="王小花"), _record(tree.village_b1, name="李小军")])
    response = push(client, district_key, body)
    assert response.status_code == 200, response.content.decode()
    data = response.json()
    assert data["counts"]["created"] == 1 and data["counts"]["rejected"] == 1
    rejected = data["results"][1]
    assert rejected["status"] == "rejected" and rejected["child_id"] is None
    assert rejected["errors"] and "管辖范围" in rejected["errors"][0]["reason"]
    assert list(Child.objects.values_list("name", flat=True)) == ["王小花"]


def test_pushing_the_same_batch_id_again_returns_the_first_result_and_writes_nothing(client, tree, city_key):
    record = _record(tree.village_a1)
    first = push(client, city_key, _body([record]))
    assert first.status_code == 200
    child = Child.objects.get()
    changed = dict(record, name="王大花", school="别的学校")
    again = push(
        client,
        city_key,
        _body([changed, _record(tree.village_a2, name="新来的")]),
        timestamp=int(time.time()) + 1,
    )
    assert again.status_code == 200, again.content.decode()
    assert again.json() == first.json()
    assert ImportBatch.objects.count() == 1
    assert list(Child.objects.values_list("pk", "name", "school")) == [(child.pk, "王小花", "万州区第一小学")]


def test_a_batch_id_whose_first_push_is_still_running_is_refused_as_a_conflict(client, tree, city_key):
    credential, _secret = city_key
    ImportBatch.objects.create(
        source=credential.source,
        kind=BatchKind.PUSH,
        status=BatchStatus.RUNNING,
        credential=credential,
        scope=credential.region,
        external_id="2026-11-28-001",
    )
    response = push(client, city_key, _body([_record(tree.village_a1)]))
    _refused(response, 409, "该批次正在处理中")
    assert not Child.objects.exists()


@pytest.mark.parametrize("status", [BatchStatus.DONE, BatchStatus.RUNNING])
def test_a_batch_id_pushed_twice_at_the_same_moment_gets_the_first_push_or_a_conflict(
    tree, city_key, monkeypatch, status
):
    """Both pushes looked before either wrote: the second one's insert meets the unique batch
    id, and answers from the first (inside a transaction too, as here)."""
    from django.db.models import QuerySet

    from aixin.ingest import services
    from aixin.lib.errors import Conflict

    credential, _secret = city_key
    first = ImportBatch.objects.create(
        source=credential.source,
        kind=BatchKind.PUSH,
        status=status,
        credential=credential,
        scope=credential.region,
        external_id="2026-11-28-001",
    )
    real_first = QuerySet.first
    looked: list[bool] = []

    def not_yet_there(qs):  # the look-up ran before the other push wrote its batch
        if qs.model is ImportBatch and not looked:
            looked.append(True)
            return None
        return real_first(qs)

    monkeypatch.setattr(QuerySet, "first", not_yet_there)
    records = [_record(tree.village_a1)]
    if status == BatchStatus.RUNNING:
        with pytest.raises(Conflict, match="该批次正在处理中"):
            services.ingest_records(credential=credential, external_id="2026-11-28-001", records=records)
    else:
        again = services.ingest_records(credential=credential, external_id="2026-11-28-001", records=records)
        assert again.pk == first.pk
    assert looked and not Child.objects.exists()
    assert ImportBatch.objects.count() == 1


def test_a_later_batch_with_the_same_record_reports_it_unchanged(client, tree, city_key):
    record = _record(tree.village_a1)
    push(client, city_key, _body([record], "b-1"))
    data = push(client, city_key, _body([record], "b-2")).json()
    assert data["counts"] == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0, "suspects": 0}
    assert Child.objects.count() == 1


def test_a_push_marks_the_credential_as_used(client, tree, city_key):
    assert city_key[0].last_used_at is None
    push(client, city_key, _body([_record(tree.village_a1)]))
    city_key[0].refresh_from_db()
    assert city_key[0].last_used_at is not None


def test_list_values_are_accepted_for_list_columns(client, tree, city_key):
    body = _body([_record(tree.village_a1, categories=["农村留守儿童"], difficulties=["学习困难"])])
    data = push(client, city_key, body).json()
    assert data["counts"]["created"] == 1, data
    assert Child.objects.get().difficulty_study is True


# --- signatures ----------------------------------------------------------------------------------


def test_a_request_without_the_signature_headers_is_refused(client, tree, city_key):
    response = client.post(
        reverse("api:ingest_push", kwargs={"source": "civil_affairs"}),
        data=_body([_record(tree.village_a1)]),
        content_type="application/json",
    )
    _refused(response, 401, "缺少请求头 X-Aixin-Key、X-Aixin-Timestamp、X-Aixin-Signature")
    _nothing_written()


def test_a_logged_in_administrator_without_a_signature_is_refused(client, users, tree, city_key):
    client.force_login(users["city_admin"])
    response = client.post(
        reverse("api:ingest_push", kwargs={"source": "civil_affairs"}),
        data=_body([_record(tree.village_a1)]),
        content_type="application/json",
    )
    _refused(response, 401, "缺少请求头")
    _nothing_written()


def test_a_wrong_signature_is_refused(client, tree, city_key):
    credential, _secret = city_key
    response = push(client, (credential, "not-the-secret"), _body([_record(tree.village_a1)]))
    _refused(response, 401, "签名不正确")
    assert response.json()["field"] == "X-Aixin-Signature"
    _nothing_written()


def test_a_body_changed_after_signing_is_refused(client, tree, city_key):
    credential, secret = city_key
    signed = signing.signed_headers(
        key_id=credential.key_id, secret=secret, body=_body([_record(tree.village_a1)])
    )
    response = client.post(
        reverse("api:ingest_push", kwargs={"source": "civil_affairs"}),
        data=_body([_record(tree.village_a2)]),
        content_type="application/json",
        headers=signed,
    )
    _refused(response, 401, "签名不正确")
    _nothing_written()


# The server's clock in the skew tests, pinned so that a clock tick cannot move a boundary.
SERVER_NOW = 1_795_000_000


@pytest.fixture
def pinned_clock(monkeypatch):
    """The signature check reads a clock that stands still at SERVER_NOW."""
    monkeypatch.setattr(signing, "time", type("PinnedClock", (), {"time": staticmethod(lambda: SERVER_NOW)}))


def test_an_expired_timestamp_is_refused(client, tree, city_key, pinned_clock):
    response = push(client, city_key, _body([_record(tree.village_a1)]), timestamp=SERVER_NOW - 301)
    _refused(response, 401, "请求已过期")
    assert response.json()["field"] == "X-Aixin-Timestamp"
    _nothing_written()


def test_a_timestamp_five_minutes_old_is_still_accepted(client, tree, city_key, pinned_clock):
    response = push(client, city_key, _body([_record(tree.village_a1)]), timestamp=SERVER_NOW - 300)
    assert response.status_code == 200, response.content.decode()


def test_a_timestamp_too_far_in_the_future_is_refused(client, tree, city_key, pinned_clock):
    response = push(client, city_key, _body([_record(tree.village_a1)]), timestamp=SERVER_NOW + 301)
    _refused(response, 401, "比服务器时间晚 301 秒")
    _nothing_written()


def test_a_timestamp_five_minutes_ahead_is_still_accepted(client, tree, city_key, pinned_clock):
    response = push(client, city_key, _body([_record(tree.village_a1)]), timestamp=SERVER_NOW + 300)
    assert response.status_code == 200, response.content.decode()


def test_a_timestamp_that_is_not_a_number_is_refused(client, tree, city_key):
    response = push(
        client, city_key, _body([_record(tree.village_a1)]), headers={"X-Aixin-Timestamp": "2026-11-28"}
    )
    _refused(response, 401, "Unix 时间戳")
    _nothing_written()


def test_a_replayed_request_is_refused(client, tree, city_key):
    credential, secret = city_key
    body = _body([_record(tree.village_a1)])
    signed = signing.signed_headers(key_id=credential.key_id, secret=secret, body=body)
    url = reverse("api:ingest_push", kwargs={"source": "civil_affairs"})
    assert client.post(url, data=body, content_type="application/json", headers=signed).status_code == 200
    replay = client.post(url, data=body, content_type="application/json", headers=signed)
    _refused(replay, 401, "重复的请求（签名已使用），已拒绝")
    assert ImportBatch.objects.count() == 1


def test_an_unknown_key_is_refused(client, tree, city_key):
    _credential, secret = city_key
    stranger = DepartmentCredential(key_id="ak_doesnotexist00", source="civil_affairs")
    response = push(client, (stranger, secret), _body([_record(tree.village_a1)]))
    _refused(response, 401, "不存在")
    assert response.json()["field"] == "X-Aixin-Key"
    _nothing_written()


def test_a_revoked_key_is_refused(client, users, tree, city_key):
    credentials.credential_revoke(actor=users["system_admin"], credential_id=city_key[0].pk)
    response = push(client, city_key, _body([_record(tree.village_a1)]))
    _refused(response, 401, "已被吊销")
    _nothing_written()


def test_a_credential_pushes_only_its_own_departments_data(client, tree, district_key):
    response = push(client, district_key, _body([_record(tree.village_a1)]), source="civil_affairs")
    _refused(response, 403, "该凭据只能推送教育数据")
    assert response.json()["code"] == "not_allowed"
    response = push(client, district_key, _body([_record(tree.village_a1)]), source="tax")
    _refused(response, 403, "该凭据只能推送教育数据")
    _nothing_written()


# --- limits --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"records": [{"name": "x"}]}, "batch_id", "缺少批次号"),
        ({"batch_id": "", "records": [{"name": "x"}]}, "batch_id", "缺少批次号"),
        ({"batch_id": 20261128, "records": [{"name": "x"}]}, "batch_id", "缺少批次号"),
        ({"batch_id": "x" * 101, "records": [{"name": "x"}]}, "batch_id", "不能超过100个字符"),
        ({"batch_id": "b"}, "records", "缺少记录列表"),
        ({"batch_id": "b", "records": []}, "records", "至少推送 1 条"),
        (
            {"batch_id": "b", "records": [{"name": "x"}] * 5001},
            "records",
            "最多推送 5000 条记录，本批有 5001 条",
        ),
        (
            {"batch_id": "b", "records": [{"name": "x"}, {"name": {"a": 1}}]},
            "records",
            "第2条的 name 应为文字",
        ),
        ({"batch_id": "b", "records": [{"categories": [["留守"]]}]}, "records", "不能是对象或嵌套数组"),
    ],
)
def test_a_malformed_batch_is_refused_with_the_field_named(client, tree, city_key, payload, field, fragment):
    response = push(client, city_key, json.dumps(payload).encode())
    _refused(response, 400, fragment)
    assert response.json()["field"] == field
    _nothing_written()


def test_a_body_that_is_not_json_is_refused(client, city_key):
    _refused(push(client, city_key, b"batch_id=1"), 400, "不是有效的 JSON")
    _refused(push(client, city_key, b"[1, 2]"), 400, "应为 JSON 对象")
    _nothing_written()


def test_a_body_over_20_mb_is_refused_as_too_large(client, tree, city_key):
    body = _body([_record(tree.village_a1)]) + b" " * (20 * 1024 * 1024)
    response = push(client, city_key, body)
    _refused(response, 413, "超过 20 MB")
    _nothing_written()


def test_a_body_over_the_form_limit_but_under_20_mb_is_accepted(client, tree, city_key, settings):
    body = _body([_record(tree.village_a1)]) + b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    response = push(client, city_key, body)
    assert response.status_code == 200, response.content.decode()[:300]
    assert Child.objects.count() == 1


def test_five_thousand_records_is_not_refused_for_its_size(client, tree, city_key):
    # Only the count is checked here: records with unknown fields are rejected one by one.
    response = push(client, city_key, _body([{"unknown_field": i} for i in range(5000)]))
    assert response.status_code == 200, response.content.decode()[:300]
    assert response.json()["counts"]["rejected"] == 5000
    assert not Child.objects.exists()


# --- verify() on its own ------------------------------------------------------------------------


def _request(key: tuple[DepartmentCredential, str], body: bytes = b"{}", **over: str) -> Any:
    credential, secret = key
    headers = signing.signed_headers(key_id=credential.key_id, secret=secret, body=body)
    headers.update(over)
    return RequestFactory().post(
        "/api/v1/ingest/x", data=body, content_type="application/json", headers=headers
    )


def test_verify_returns_the_credential_and_remembers_the_signature(city_key):
    request = _request(city_key)
    assert signing.verify(request) == city_key[0]
    assert IngestNonce.objects.filter(
        credential=city_key[0], signature=request.headers["X-Aixin-Signature"]
    ).exists()
    # The very same request again (same timestamp and signature, as a replay would be).
    replay = {
        "X-Aixin-Timestamp": request.headers["X-Aixin-Timestamp"],
        "X-Aixin-Signature": request.headers["X-Aixin-Signature"],
    }
    with pytest.raises(signing.SignatureRejected, match="重复的请求"):
        signing.verify(_request(city_key, **replay))


def test_signatures_older_than_ten_minutes_are_forgotten(city_key, monkeypatch):
    from django.utils import timezone

    old = IngestNonce.objects.create(credential=city_key[0], signature="a" * 64)
    recent = IngestNonce.objects.create(credential=city_key[0], signature="b" * 64)
    IngestNonce.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    IngestNonce.objects.filter(pk=recent.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=9))
    monkeypatch.setattr(signing, "PURGE_EVERY", 1)
    signing.verify(_request(city_key))
    assert not IngestNonce.objects.filter(pk=old.pk).exists()
    assert IngestNonce.objects.filter(pk=recent.pk).exists()
    assert IngestNonce.objects.count() == 2


def test_sign_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"1764300000.{}", hashlib.sha256).hexdigest()
    assert signing.sign("s3cret", 1764300000, b"{}") == expected
    assert signing.sign("s3cret", "1764300000", b"{}") == expected
    assert expected == expected.lower() and len(expected) == 64
