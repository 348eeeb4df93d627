"""Civil affairs' system reads the pairing status back with the credential it pushes with
(R-4.6): GET /api/v1/ingest/civil_affairs/pairings, signed over the query string, scoped to the
credential's region; the ID numbers it matches on are audited like the export."""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.urls import reverse

from aixin.audit.models import AuditAction, AuditEvent
from aixin.ingest import credentials, signing
from aixin.registry import derive
from tests import factories
from tests.pairing.helpers import activate, needy_child

URL = reverse("api:ingest_pairings", kwargs={"source": "civil_affairs"})


def read(client: Any, key: tuple[Any, str], query: str = "", *, signed_query: str | None = None) -> Any:
    credential, secret = key
    headers = signing.signed_headers(
        key_id=credential.key_id,
        secret=secret,
        body=(query if signed_query is None else signed_query).encode(),
    )
    return client.get(f"{URL}?{query}" if query else URL, headers=headers)


def district_key(users: Any, tree: Any, source: str = "civil_affairs") -> tuple[Any, str]:
    return credentials.credential_create(
        actor=users["system_admin"], name="万州区民政局系统", source=source, region=tree.district_a
    )


def test_civil_affairs_reads_the_pairings_of_its_region_with_its_push_credential(client, tree, users):
    admin_a, admin_b = users["district_admin"], users["district_b_admin"]
    ours = needy_child(tree.village_a1, name="万州娃")
    activate(admin_a, ours, factories.make_volunteer(tree.village_a1))
    activate(admin_b, needy_child(tree.village_b1, name="涪陵娃"), factories.make_volunteer(tree.village_b1))

    response = read(client, district_key(users, tree), "changed_since=2020-01-01")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["child_name"] for item in body["items"]] == ["万州娃"]
    assert body["items"][0]["status"] == "active" and body["items"][0]["id_number"] is None


def test_the_id_numbers_are_given_when_asked_and_each_answer_is_audited(client, tree, users, city_key):
    child = needy_child(tree.village_a1, name="万州娃")
    activate(users["district_admin"], child, factories.make_volunteer(tree.village_a1))

    (item,) = read(client, city_key, "with_id_number=true").json()["items"]

    assert item["id_number"] == derive.reveal_id_number(child)
    (event,) = AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="pairing_status")
    assert event.actor is None and event.details["credential"] == city_key[0].key_id
    assert "市民政局困境儿童系统" in event.summary and "含完整身份证号" in event.summary


def test_a_query_changed_after_signing_is_refused(client, tree, users, city_key):
    response = read(client, city_key, "with_id_number=true", signed_query="")
    assert response.status_code == 401 and "签名不正确" in response.json()["detail"]
    assert not AuditEvent.objects.filter(object_type="pairing_status").exists()


def test_the_same_signed_request_twice_is_refused_the_second_time(client, tree, users, city_key):
    credential, secret = city_key
    headers = signing.signed_headers(
        key_id=credential.key_id, secret=secret, body=b"", timestamp=int(time.time())
    )
    assert client.get(URL, headers=headers).status_code == 200
    again = client.get(URL, headers=headers)
    assert again.status_code == 401 and "重复的请求" in again.json()["detail"]


def test_other_departments_and_revoked_keys_are_refused(client, tree, users, city_key):
    education = district_key(users, tree, source="education")
    url = reverse("api:ingest_pairings", kwargs={"source": "education"})
    headers = signing.signed_headers(key_id=education[0].key_id, secret=education[1], body=b"")
    refused = client.get(url, headers=headers)
    assert refused.status_code == 403 and "只向民政部门共享" in refused.json()["detail"]

    credentials.credential_revoke(actor=users["system_admin"], credential_id=city_key[0].pk)
    revoked = read(client, city_key)
    assert revoked.status_code == 401 and "已被吊销" in revoked.json()["detail"]


def test_an_education_credential_is_told_the_status_is_for_civil_affairs_whatever_the_address(
    client, tree, users
):
    education = district_key(users, tree, source="education")
    headers = signing.signed_headers(key_id=education[0].key_id, secret=education[1], body=b"")
    refused = client.get(URL, headers=headers)  # the civil-affairs address
    assert refused.status_code == 403 and "只向民政部门共享" in refused.json()["detail"]


def test_an_unknown_filter_value_is_refused_not_ignored(client, tree, city_key):
    response = read(client, city_key, "tier=one-to-one")
    assert response.status_code == 400
    assert response.json()["field"] == "tier" and "one_to_one" in response.json()["detail"]
    assert read(client, city_key, "status=foo").json()["field"] == "status"
    assert read(client, city_key, "tier=one_to_one&status=open").status_code == 200


def test_an_unsigned_read_is_told_in_chinese_how_to_sign(client, tree):
    response = client.get(URL)
    assert response.status_code == 401 and "缺少请求头" in response.json()["detail"]
    # The personal-token address says where department systems go instead.
    detail = client.get("/api/v1/pairings").json()["detail"]
    assert "/api/v1/ingest/civil_affairs/pairings" in detail


def test_a_malformed_parameter_is_refused_in_chinese(client, tree, city_key):
    response = read(client, city_key, "limit=abc")
    assert response.status_code == 422 and response.json()["detail"] == "参数有误：limit 应为整数"
    assert response.json()["field"] == "limit"
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert read(client, city_key, f"changed_since={later}").json()["count"] == 0


def test_the_page_of_a_new_civil_affairs_credential_gives_the_read_back_address(tree, users, login):
    client = login(users["system_admin"])
    create = reverse("ingest_credentials:credential_create")
    page = client.post(
        create, {"name": "市民政局", "source": "civil_affairs", "region": tree.city.pk}
    ).content.decode()
    assert "/api/v1/ingest/civil_affairs/pairings?changed_since=" in page
    other = client.post(
        create, {"name": "市教委", "source": "education", "region": tree.city.pk}
    ).content.decode()
    assert "/pairings" not in other
