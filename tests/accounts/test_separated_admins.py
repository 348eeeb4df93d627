"""The separated administrators (issue 6 §2, 三权分立): the system administrator runs the
installation and the department keys, the security administrator the accounts, the audit
administrator reads the audit log; none can do another's work or see a child's file."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aixin.accounts import lockout, totp
from aixin.accounts.models import LockKind, LoginLock, TotpDevice, User
from aixin.audit import chain
from aixin.audit.models import AuditEvent
from aixin.audit.services import audit_log
from aixin.ingest.models import DepartmentCredential
from tests import factories
from tests.audit.test_chain import triggers_off

SYSTEM, SECURITY, AUDIT = "system_admin", "security_admin", "audit_admin"

OWN_PAGES = {
    SYSTEM: [
        "accounts:system_status",
        "ingest_credentials:credential_list",
        "ingest_credentials:credential_create",
    ],
    SECURITY: ["accounts:user_list", "accounts:user_create"],
    AUDIT: ["audit:event_list", "audit:chain_status"],
}
# The care programme's pages and lists: refused to every separated administrator.
CARE_PAGES = [
    "dashboard:overview",
    "registry:child_list",
    "registry:child_create",
    "volunteers:volunteer_list",
    "pairing:ledger",
    "pairing:unpaired",
    "care:record_list",
    "cases:case_list",
    "alerts:alert_list",
    "taskforces:missing_list",
    "ingest:batch_list",
    "matching:run_list",
    "regions:region_list",
    "care:config",
    "notify:inbox",
]
CARE_API = ["api:children_list", "api:volunteers_list", "api:pairings_list", "api:stats_overview"]


@pytest.fixture
def admins(tree):
    return {
        SYSTEM: factories.make_user(SYSTEM, tree.city, "xitong"),
        SECURITY: factories.make_user(SECURITY, tree.city, "anquan"),
        AUDIT: factories.make_user(AUDIT, tree.city, "shenji"),
    }


@pytest.fixture
def child(tree):
    return factories.make_child(tree.village_a1, name="甲童")


@pytest.mark.parametrize(
    ("role", "home"),
    [(SYSTEM, "accounts:system_status"), (SECURITY, "accounts:user_list"), (AUDIT, "audit:event_list")],
)
def test_each_administrator_lands_on_their_own_page(role, home, admins, login):
    response = login(admins[role]).get(reverse("accounts:home"))
    assert response.status_code == 302 and response["Location"] == reverse(home)


@pytest.mark.parametrize("role", [SYSTEM, SECURITY, AUDIT])
def test_each_administrator_opens_their_own_pages_and_is_refused_the_others_and_every_childs(
    role, admins, child, login
):
    client = login(admins[role])
    for name in OWN_PAGES[role]:
        assert client.get(reverse(name)).status_code == 200, name
    others = [name for other, names in OWN_PAGES.items() if other != role for name in names]
    for name in [*others, *CARE_PAGES, *CARE_API]:
        assert client.get(reverse(name)).status_code in (403, 404), f"{role} entered {name}"
    assert client.get(reverse("registry:child_detail", args=[child.pk])).status_code in (403, 404)
    assert client.get(reverse("api:children_detail", args=[child.pk])).status_code in (403, 404)
    assert client.get(reverse("accounts:user_edit", args=[admins[SECURITY].pk])).status_code in (
        (200,) if role == SECURITY else (403, 404)
    )


@pytest.mark.parametrize("role", ["city_admin", "district_admin", "town_supervisor", "village_director"])
def test_nobody_but_the_security_administrator_uses_the_accounts_pages(role, users, admins, login):
    client = login(users[role])
    target = users["district_admin"]
    assert client.get(reverse("accounts:user_list")).status_code == 403
    assert client.post(reverse("accounts:user_create"), _new_user_form(target.region.code)).status_code == 403
    response = client.post(
        reverse("accounts:user_edit", args=[target.pk]), _edit_form(target, is_active=False)
    )
    assert response.status_code == 403
    assert client.post(reverse("accounts:user_unlock", args=[target.pk])).status_code == 403
    assert client.post(reverse("accounts:user_reset_totp", args=[target.pk])).status_code == 403
    assert client.get(reverse("accounts:system_status")).status_code == 403
    assert client.get(reverse("audit:chain_status")).status_code == 403
    target.refresh_from_db()
    assert target.is_active and not User.objects.filter(username="xin_yonghu").exists()


def _new_user_form(region_code: str, **over: str) -> dict[str, str]:
    data = {
        "username": "xin_yonghu",
        "display_name": "新用户",
        "role": "district_admin",
        "region": region_code,
        "department": "",
    }
    data.update(over)
    return data


def _edit_form(user: User, **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "role": user.role,
        "region": user.region.code,
        "department": user.department,
        "display_name": user.display_name,
        "is_active": "on" if user.is_active else "",
    }
    data.update(over)
    if data["is_active"] is False:
        data.pop("is_active")
    return data


def test_security_admin_creates_a_user_who_must_change_the_temporary_password(tree, admins, login):
    response = login(admins[SECURITY]).post(
        reverse("accounts:user_create"), _new_user_form(tree.district_a.code)
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = re.search(r'<code id="password">([^<]+)</code>', response.content.decode()).group(1)
    user = User.objects.get(username="xin_yonghu")
    assert (user.role, user.region, user.display_name) == ("district_admin", tree.district_a, "新用户")
    assert user.must_change_password and user.check_password(password)
    event = AuditEvent.objects.get(object_type="user", object_id=str(user.pk), action="create")
    assert event.actor == admins[SECURITY] and password not in event.summary
    assert password not in login(admins[SECURITY]).get(reverse("accounts:user_list")).content.decode()

    newcomer = Client()
    assert newcomer.login(username="xin_yonghu", password=password)
    page = newcomer.get(reverse("dashboard:overview"))
    assert page.status_code == 302 and page["Location"] == reverse("accounts:password_change")


def test_creating_a_user_at_the_wrong_level_says_why_and_creates_nothing(tree, admins, login):
    response = login(admins[SECURITY]).post(
        reverse("accounts:user_create"), _new_user_form(tree.town_a1.code, role="district_admin")
    )
    assert response.status_code == 200
    assert "必须设在区县一级" in response.content.decode()
    assert not User.objects.filter(username="xin_yonghu").exists()


def test_security_admin_cannot_change_their_own_role(tree, admins, login):
    me = admins[SECURITY]
    response = login(me).post(reverse("accounts:user_edit", args=[me.pk]), _edit_form(me, role="city_admin"))
    assert response.status_code == 200
    assert "不能修改自己的角色" in response.content.decode()
    me.refresh_from_db()
    assert me.role == SECURITY


def test_security_admin_changes_a_role_and_region_and_it_is_audited(tree, users, admins, login):
    target = users["town_supervisor"]
    form = _edit_form(target, role="village_director", region=tree.village_a1.code)
    response = login(admins[SECURITY]).post(reverse("accounts:user_edit", args=[target.pk]), form)
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.role, target.region) == ("village_director", tree.village_a1)
    event = AuditEvent.objects.get(object_type="user", object_id=str(target.pk), action="update")
    assert event.actor == admins[SECURITY]
    assert event.details["changed"]["role"] == ["town_supervisor", "village_director"]


def test_deactivating_a_user_signs_them_out(users, admins, login, django_capture_on_commit_callbacks):
    target = users["district_admin"]
    their_browser = Client()
    their_browser.force_login(target)
    assert their_browser.get(reverse("dashboard:overview")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admins[SECURITY]).post(
            reverse("accounts:user_edit", args=[target.pk]), _edit_form(target, is_active=False)
        )
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert not any(str(s.get_decoded().get("_auth_user_id")) == str(target.pk) for s in Session.objects.all())
    page = their_browser.get(reverse("dashboard:overview"))
    assert page.status_code == 302 and "/login/" in page["Location"]


def test_unlock_lifts_a_lock_and_is_audited(users, admins, login):
    target = users["district_admin"]
    LoginLock.objects.create(
        kind=LockKind.ACCOUNT,
        key=target.username,
        locked_until=timezone.now() + datetime.timedelta(minutes=30),
    )
    client = login(admins[SECURITY])
    listing = client.get(reverse("accounts:user_list"), {"role": "district_admin"}).content.decode()
    assert re.search(rf'data-user="{target.pk}">.*?已锁定', listing, re.S)
    response = client.post(reverse("accounts:user_unlock", args=[target.pk]), follow=True)
    assert "已解除" in response.content.decode()
    assert lockout.refusal(username=target.username, ip=None) is None
    assert AuditEvent.objects.filter(
        object_type="user", object_id=str(target.pk), actor=admins[SECURITY], summary__contains="解除"
    ).exists()


def test_reset_totp_makes_the_user_enrol_again_and_is_audited(users, admins, login, settings):
    target = users["district_admin"]
    totp.device_install(user=target, secret="JBSWY3DPEHPK3PXP")
    response = login(admins[SECURITY]).post(
        reverse("accounts:user_reset_totp", args=[target.pk]), follow=True
    )
    assert "已重置" in response.content.decode()
    assert not TotpDevice.objects.filter(user=target).exists()
    settings.AIXIN_TOTP_ENFORCED = True
    assert totp.second_factor_step(target) == "enrol"
    assert AuditEvent.objects.filter(
        object_type="user", object_id=str(target.pk), actor=admins[SECURITY], summary__contains="动态验证码"
    ).exists()


def test_user_list_filters_by_role_region_and_state(tree, users, admins, login):
    users["village_director"].is_active = False
    users["village_director"].save()
    client = login(admins[SECURITY])
    page = client.get(reverse("accounts:user_list"), {"region": tree.district_b.code}).content.decode()
    assert "dist_b" in page and "dist_a" not in page
    page = client.get(reverse("accounts:user_list"), {"active": "0"}).content.decode()
    assert "village_a1" in page and "dist_a" not in page
    page = client.get(reverse("accounts:user_list"), {"role": "town_supervisor"}).content.decode()
    assert "town_a1" in page and "village_a1" not in page


def test_audit_admin_reads_every_districts_events(tree, users, admins, login):
    audit_log(actor=users["district_admin"], action="view", region=tree.village_a1, summary="查看甲童档案")
    audit_log(actor=users["district_b_admin"], action="view", region=tree.village_b1, summary="查看丙童档案")
    page = login(admins[AUDIT]).get(reverse("audit:event_list")).content.decode()
    assert "查看甲童档案" in page and "查看丙童档案" in page


def test_audit_admin_changes_nothing(tree, users, admins, child, login):
    client = login(admins[AUDIT])
    before = (User.objects.count(), DepartmentCredential.objects.count(), users["district_admin"].is_active)
    assert (
        client.post(reverse("accounts:user_create"), _new_user_form(tree.district_a.code)).status_code == 403
    )
    target = users["district_admin"]
    edit = client.post(reverse("accounts:user_edit", args=[target.pk]), _edit_form(target, is_active=False))
    assert edit.status_code == 403
    assert client.post(reverse("registry:child_close", args=[child.pk])).status_code in (403, 404)
    assert client.post(reverse("ingest_credentials:credential_create"), {"name": "x"}).status_code == 403
    target.refresh_from_db()
    assert (User.objects.count(), DepartmentCredential.objects.count(), target.is_active) == before


def test_chain_status_shows_the_verdict_and_a_tampered_event(users, admins, login):
    for i in range(3):
        audit_log(
            actor=users["district_admin"],
            action="view",
            object_type="child",
            object_id=i,
            summary=f"查看 {i}",
        )
    chain.seal_pending()
    client = login(admins[AUDIT])
    sealed = chain.verify().sealed
    page = client.get(reverse("audit:chain_status")).content.decode()
    assert "完整" in page and f"已封存 {sealed} 条" in page
    from django.db import connection

    victim = AuditEvent.objects.filter(summary="查看 1").get()
    with triggers_off("audit_auditevent"), connection.cursor() as c:
        c.execute("UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["改过", victim.pk])
    page = client.get(reverse("audit:chain_status")).content.decode()
    assert "发现问题" in page and f"（事件 #{victim.pk}）的内容被改动" in page


def test_system_status_shows_the_installation_and_no_personal_data(tmp_path, settings, admins, child, login):
    settings.AIXIN_BACKUP_DIR = str(tmp_path)
    (tmp_path / "aixin-20261101-020000.aixbak").write_bytes(b"x")
    chain.seal_pending()
    page = login(admins[SYSTEM]).get(reverse("accounts:system_status")).content.decode()
    from django.db import connection

    from aixin.lib import crypto

    assert connection.vendor in page
    assert "accounts" in page and "0001_initial" in page
    assert settings.HUEY_MODE in page
    assert f"编号 {crypto.keyring().current.id}" in page
    assert str(tmp_path) in page and "aixin-20261101-020000.aixbak" in page
    assert "甲童" not in page
