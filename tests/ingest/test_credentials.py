"""Department credentials of the push API: the system administrator creates, sees and revokes
them (the city administrator no longer: 三权分立); the secret is shown once and stored only encrypted."""

from __future__ import annotations

import base64
import re

import pytest
from django.urls import reverse

from aixin.audit.models import AuditEvent
from aixin.ingest import credentials
from aixin.ingest.models import DepartmentCredential
from aixin.lib import crypto
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from tests import factories

LIST = "ingest_credentials:credential_list"
CREATE = "ingest_credentials:credential_create"
REVOKE = "ingest_credentials:credential_revoke"


def _create(users, tree, **over):
    values = {"name": "市民政局困境儿童系统", "source": "civil_affairs", "region": tree.city}
    values.update(over)
    return credentials.credential_create(actor=users["system_admin"], **values)


def _secret_on(page: str) -> str:
    match = re.search(r'<code id="secret">([^<]+)</code>', page)
    assert match, "the page shows the secret"
    return match.group(1)


def test_system_admin_creates_a_credential_and_sees_its_secret_once(users, tree, login):
    client = login(users["system_admin"])
    response = client.post(
        reverse(CREATE), {"name": "万州区教委学籍系统", "source": "education", "region": tree.district_a.pk}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    credential = DepartmentCredential.objects.get()
    secret = _secret_on(page)
    assert credential.key_id in page and "/api/v1/ingest/education" in page
    assert "只在本页显示这一次" in page
    assert (credential.name, credential.source, credential.region) == (
        "万州区教委学籍系统",
        "education",
        tree.district_a,
    )
    assert credential.created_by == users["system_admin"]
    listing = client.get(reverse(LIST)).content.decode()
    assert "万州区教委学籍系统" in listing and credential.key_id in listing and "万州区" in listing
    assert secret not in listing
    assert secret not in client.get(reverse(REVOKE, args=[credential.pk])).content.decode()


def test_key_id_and_secret_have_the_agreed_shape(users, tree):
    credential, secret = _create(users, tree)
    assert re.fullmatch(r"ak_[A-Za-z0-9_-]{16}", credential.key_id)
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) == 32
    other, other_secret = _create(users, tree, name="另一个")
    assert other.key_id != credential.key_id and other_secret != secret


def test_secret_is_stored_encrypted_not_in_plaintext(users, tree):
    credential, secret = _create(users, tree)
    credential.refresh_from_db()
    row = (
        DepartmentCredential.objects.filter(pk=credential.pk).values_list("secret_encrypted", flat=True).get()
    )
    assert secret not in row
    assert crypto.decrypt(row, context="ingest.credential") == secret
    assert credentials.credential_secret(credential) == secret
    event = AuditEvent.objects.get(object_type="department_credential", action="create")
    assert secret not in event.summary and secret not in str(event.details)
    assert credential.key_id in event.summary


def test_form_errors_are_shown_beside_the_field_and_nothing_is_created(users, tree, login):
    client = login(users["system_admin"])
    response = client.post(reverse(CREATE), {"name": "", "source": "education", "region": tree.district_a.pk})
    assert response.status_code == 200
    assert "这个字段是必填项" in response.content.decode()
    response = client.post(
        reverse(CREATE), {"name": "某系统", "source": "education", "region": tree.town_a1.pk}
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not DepartmentCredential.objects.exists()


def test_scope_may_only_be_the_city_or_one_district(users, tree):
    with pytest.raises(InvalidInput) as exc:
        _create(users, tree, region=tree.town_a1)
    assert exc.value.field == "region"
    with pytest.raises(InvalidInput):
        _create(users, tree, source="tax_bureau")
    with pytest.raises(InvalidInput):
        _create(users, tree, name="  ")
    assert not DepartmentCredential.objects.exists()


def test_revoking_asks_for_confirmation_then_revokes_and_is_audited(users, tree, login):
    credential, _secret = _create(users, tree)
    client = login(users["system_admin"])
    confirm = client.get(reverse(REVOKE, args=[credential.pk]))
    assert confirm.status_code == 200 and "确认吊销" in confirm.content.decode()
    credential.refresh_from_db()
    assert credential.revoked_at is None
    response = client.post(reverse(REVOKE, args=[credential.pk]), follow=True)
    assert "已吊销凭据" in response.content.decode()
    credential.refresh_from_db()
    assert credential.revoked_at is not None and credential.revoked_by == users["system_admin"]
    assert AuditEvent.objects.filter(
        object_type="department_credential", object_id=str(credential.pk), action="transition"
    ).exists()
    assert "已吊销" in client.get(reverse(LIST)).content.decode()


def test_revoking_twice_says_it_is_already_revoked_and_keeps_the_first_time(users, tree, login):
    credential, _secret = _create(users, tree)
    credentials.credential_revoke(actor=users["system_admin"], credential_id=credential.pk)
    credential.refresh_from_db()
    first = credential.revoked_at
    with pytest.raises(Conflict):
        credentials.credential_revoke(actor=users["system_admin"], credential_id=credential.pk)
    response = login(users["system_admin"]).post(reverse(REVOKE, args=[credential.pk]), follow=True)
    assert "已于" in response.content.decode()
    credential.refresh_from_db()
    assert credential.revoked_at == first


def test_revoking_a_credential_that_does_not_exist_is_not_found(users, login):
    assert login(users["system_admin"]).post(reverse(REVOKE, args=[999999])).status_code == 404


@pytest.mark.parametrize(
    "role",
    [
        "city_admin",
        "district_admin",
        "town_supervisor",
        "village_director",
        "volunteer",
        "security_admin",
        "audit_admin",
    ],
)
def test_only_the_system_admin_sees_creates_or_revokes_credentials(role, users, tree, login):
    credential, _secret = _create(users, tree)
    if role == "volunteer":
        user = factories.make_volunteer(tree.village_a1).user
    elif role in users:
        user = users[role]
    else:
        user = factories.make_user(role, tree.city)
    client = login(user)
    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(reverse(CREATE)).status_code == 403
    response = client.post(
        reverse(CREATE), {"name": "x", "source": "education", "region": tree.district_a.pk}
    )
    assert response.status_code == 403
    assert client.post(reverse(REVOKE, args=[credential.pk])).status_code == 403
    credential.refresh_from_db()
    assert credential.revoked_at is None
    assert DepartmentCredential.objects.count() == 1


def test_an_anonymous_visitor_is_sent_to_log_in(tree, client):
    response = client.get(reverse(LIST))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_services_refuse_anyone_but_the_system_admin_even_the_city_admin(users, tree):
    for role in ("city_admin", "district_admin"):
        with pytest.raises(NotAllowed):
            credentials.credential_create(
                actor=users[role], name="x", source="education", region=tree.district_a
            )
    credential, _secret = _create(users, tree)
    for role in ("city_admin", "district_admin"):
        with pytest.raises(NotAllowed):
            credentials.credential_revoke(actor=users[role], credential_id=credential.pk)
    credential.refresh_from_db()
    assert credential.revoked_at is None
    assert DepartmentCredential.objects.count() == 1
