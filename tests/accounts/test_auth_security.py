"""Authentication to 等保 level 3 (身份鉴别): password policy, lockout, second factor, idle timeout,
forced password change. Each rule is exercised through the log-in pages as people meet it."""

from __future__ import annotations

import datetime
import io
import re
import time
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from aixin.accounts import lockout, signin, totp
from aixin.accounts.models import LoginAttempt, LoginLock, Role, TotpDevice, User
from aixin.audit.models import AuditEvent
from aixin.registry import derive
from tests import factories
from tests.factories import PASSWORD

LOCK_MESSAGE = "密码错误次数过多，账号已锁定，请 15 分钟后再试或联系管理员解锁"
IP_MESSAGE = "该网络地址登录失败次数过多"
BAD_LOGIN = "用户名或密码不正确，请重新输入。"
IDLE_MESSAGE = "长时间未操作，已自动退出，请重新登录"


def post_login(client: Any, username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def signed_in(client: Any) -> bool:
    return SESSION_KEY in client.session


def page(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def totp_on(settings: Any) -> None:
    settings.AIXIN_TOTP_ENFORCED = True


@pytest.fixture
def staff(users: dict[str, User]) -> User:
    return users["district_admin"]


def travel(monkeypatch: pytest.MonkeyPatch, minutes: float) -> None:
    """Move the clock of the lockout (timezone.now) this many minutes ahead."""
    later = timezone.now() + datetime.timedelta(minutes=minutes)
    monkeypatch.setattr(timezone, "now", lambda: later)


# ---------------------------------------------------------------------------------------------
# Password policy


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab3-xyzq", "密码长度太短"),
        ("abcdefgh12", "至少 3 类，当前只有 2 类"),
        ("QWERTYUIOPA", "至少 3 类，当前只有 1 类"),
        ("Aa123456789", "这个密码太常见"),
        ("Qwer1234!@#$", "这个密码太常见"),
        ("Woaini1314...", "这个密码太常见"),
        ("Password123!", "这个密码太常见"),
    ],
)
def test_weak_passwords_are_refused_with_a_chinese_reason(tree: Any, password: str, message: str) -> None:
    user = factories.make_user(Role.TOWN_SUPERVISOR, tree.town_a1, "zhou")
    with pytest.raises(ValidationError) as exc:
        validate_password(password, user)
    assert any(message in m for m in exc.value.messages), exc.value.messages


def test_a_password_with_three_classes_and_ten_characters_is_accepted(tree: Any) -> None:
    user = factories.make_user(Role.TOWN_SUPERVISOR, tree.town_a1, "zhou")
    validate_password("Qiao-mai-2026", user)  # upper, lower, digit, symbol
    validate_password("hongyan2026wl!", user)  # lower, digit, symbol


def test_a_password_containing_the_user_name_is_refused(tree: Any) -> None:
    user = factories.make_user(Role.TOWN_SUPERVISOR, tree.town_a1, "zhoulan")
    with pytest.raises(ValidationError, match="不能包含本人的用户名"):
        validate_password("X9!zhoulan2026", user)


def test_a_loving_mothers_password_may_not_contain_her_id_number_or_phone(tree: Any) -> None:
    number = factories.id_number(datetime.date(1980, 5, 17), female=True)
    mother = factories.make_volunteer(tree.village_a1)
    derive.set_volunteer_id_number(mother, number)
    derive.set_volunteer_phone(mother, "13912345678")
    mother.save()

    with pytest.raises(ValidationError, match="不能包含本人的身份证号"):
        validate_password(f"Ma-{number.lower()}", mother.user)
    with pytest.raises(ValidationError, match="不能包含本人的手机号"):
        validate_password("Mama!13912345678", mother.user)
    validate_password("Mama!13800001111x", mother.user)


# ---------------------------------------------------------------------------------------------
# Lockout


def test_the_fifth_wrong_password_locks_the_account_with_a_clear_message(staff: User, client: Any) -> None:
    for _i in range(4):
        assert BAD_LOGIN in page(post_login(client, staff.username, "wrong-Pass-1"))

    response = post_login(client, staff.username, "wrong-Pass-1")

    assert LOCK_MESSAGE in page(response)
    assert LoginLock.objects.filter(kind="account", key=staff.username).count() == 1
    assert AuditEvent.objects.filter(action="login_failed", summary__contains="已锁定 15 分钟").count() == 1


def test_a_locked_account_is_refused_even_with_the_right_password(staff: User, client: Any) -> None:
    for _i in range(5):
        post_login(client, staff.username, "wrong-Pass-1")

    response = post_login(client, staff.username, PASSWORD)

    assert LOCK_MESSAGE in page(response)
    assert not signed_in(client)
    assert LoginAttempt.objects.filter(username=staff.username, outcome="refused").count() == 1


def test_the_lock_ends_after_fifteen_minutes(
    staff: User, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _i in range(5):
        post_login(client, staff.username, "wrong-Pass-1")
    travel(monkeypatch, 14)
    assert "请 1 分钟后再试" in page(post_login(client, staff.username, PASSWORD))

    travel(monkeypatch, 15.1)
    response = post_login(client, staff.username, PASSWORD)

    assert response.status_code == 302 and signed_in(client)


def test_after_a_lock_runs_out_one_more_failure_does_not_lock_again(
    staff: User, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _i in range(5):
        post_login(client, staff.username, "wrong-Pass-1")
    travel(monkeypatch, 15.1)

    assert BAD_LOGIN in page(post_login(client, staff.username, "wrong-Pass-1"))
    assert LoginLock.objects.count() == 1


def test_log_in_attempts_are_kept_180_days_and_then_deleted_by_the_daily_job(
    staff: User, client: Any, settings: Any
) -> None:
    from aixin.accounts.tasks import purge_login_attempts

    now = timezone.now()
    for days in (181, 179, 0):
        LoginAttempt.objects.create(
            username=f"old{days}", ip="10.0.0.9", outcome="failure", at=now - datetime.timedelta(days=days)
        )
    assert settings.AIXIN_LOGIN_ATTEMPT_RETENTION_DAYS == 180

    assert purge_login_attempts.call_local() == 1
    assert sorted(LoginAttempt.objects.values_list("username", flat=True)) == ["old0", "old179"]
    assert purge_login_attempts.call_local() == 0  # a second run the same day deletes nothing

    # A deployment may keep them longer; recent failures still count toward a lock.
    settings.AIXIN_LOGIN_ATTEMPT_RETENTION_DAYS = 365
    LoginAttempt.objects.create(username="old200", outcome="failure", at=now - datetime.timedelta(days=200))
    assert lockout.purge_attempts() == 0
    for _i in range(5):
        post_login(client, staff.username, "wrong-Pass-1")
    assert lockout.purge_attempts() == 0
    assert "账号已锁定" in page(post_login(client, staff.username, PASSWORD))


def test_failures_older_than_the_window_do_not_count(
    staff: User, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _i in range(4):
        post_login(client, staff.username, "wrong-Pass-1")
    travel(monkeypatch, 16)

    assert BAD_LOGIN in page(post_login(client, staff.username, "wrong-Pass-1"))
    assert not LoginLock.objects.exists()


def test_a_successful_log_in_starts_the_count_again(staff: User, client: Any) -> None:
    for _i in range(4):
        post_login(client, staff.username, "wrong-Pass-1")
    post_login(client, staff.username, PASSWORD)
    client.post(reverse("accounts:logout"))

    for _i in range(4):
        assert BAD_LOGIN in page(post_login(client, staff.username, "wrong-Pass-1"))
    assert not LoginLock.objects.exists()


def test_an_unknown_name_is_locked_like_a_real_one_so_nothing_tells_which_exist(db: Any, client: Any) -> None:
    for _i in range(4):
        assert BAD_LOGIN in page(post_login(client, "Nobody", "wrong-Pass-1"))
    # Case does not open a fresh count.
    assert LOCK_MESSAGE in page(post_login(client, "nobody", "wrong-Pass-1"))


def test_twenty_failures_from_one_address_refuse_that_address_only(
    users: dict[str, User], client: Any
) -> None:
    for i in range(20):
        post_login(client, f"guess{i}", "wrong-Pass-1", ip="10.9.9.9")

    refused = post_login(client, users["town_supervisor"].username, PASSWORD, ip="10.9.9.9")
    assert IP_MESSAGE in page(refused) and not signed_in(client)

    allowed = post_login(client, users["town_supervisor"].username, PASSWORD, ip="10.1.1.1")
    assert allowed.status_code == 302 and signed_in(client)
    assert AuditEvent.objects.filter(object_type="ip", object_id="10.9.9.9").count() == 1


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(rf: Any, settings: Any) -> None:
    settings.AIXIN_BEHIND_PROXY = True
    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.7", REMOTE_ADDR="127.0.0.1")
    assert lockout.client_ip(request) == "10.0.0.7"
    settings.AIXIN_BEHIND_PROXY = False
    assert lockout.client_ip(request) == "127.0.0.1"


def test_unlock_user_lets_a_locked_user_log_in_at_once(staff: User, client: Any) -> None:
    for _i in range(5):
        post_login(client, staff.username, "wrong-Pass-1")
    out = io.StringIO()

    call_command("unlock-user", staff.username, stdout=out)

    assert "已解除 dist_a 的登录锁定" in out.getvalue()
    assert post_login(client, staff.username, PASSWORD).status_code == 302 and signed_in(client)
    assert AuditEvent.objects.filter(action="update", summary__contains="解除 dist_a 的登录锁定").exists()


# ---------------------------------------------------------------------------------------------
# Second factor (TOTP)


def test_every_role_but_the_loving_mother_must_use_a_second_factor(settings: Any) -> None:
    assert set(settings.AIXIN_TOTP_REQUIRED_ROLES) == {r.value for r in Role} - {Role.VOLUNTEER}


def test_staff_without_an_authenticator_enrol_before_any_page_opens(
    totp_on: None, staff: User, client: Any
) -> None:
    response = post_login(client, staff.username, PASSWORD)
    assert response["Location"] == reverse("accounts:otp_enrol")
    assert not signed_in(client)
    assert "/login/" in client.get(reverse("registry:child_list"))["Location"]

    enrol = client.get(reverse("accounts:otp_enrol"))
    secret = totp.secret_of(TotpDevice.objects.get(user=staff))
    assert totp.grouped(secret) in page(enrol)
    assert "otpauth://totp/" in page(enrol)

    done = client.post(reverse("accounts:otp_enrol"), {"code": totp.current_code(secret)})

    assert done["Location"] == reverse("accounts:home")
    assert signed_in(client) and client.session[totp.OTP_VERIFIED_KEY] is True
    assert client.get(reverse("registry:child_list")).status_code == 200
    assert TotpDevice.objects.get(user=staff).confirmed_at is not None
    assert AuditEvent.objects.filter(action="update", summary__contains="绑定了动态验证码").count() == 1


def test_staff_with_an_authenticator_must_give_the_current_code(
    totp_on: None, staff: User, client: Any
) -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    totp.device_install(user=staff, secret=secret)
    assert post_login(client, staff.username, PASSWORD)["Location"] == reverse("accounts:otp_verify")

    wrong = client.post(reverse("accounts:otp_verify"), {"code": "000000"})
    assert "动态验证码不正确" in page(wrong) and not signed_in(client)
    assert AuditEvent.objects.filter(action="login_failed", summary__contains="动态验证码错误").count() == 1

    right = client.post(reverse("accounts:otp_verify"), {"code": totp.current_code(secret)})
    assert right["Location"] == reverse("accounts:home") and signed_in(client)


def test_the_same_code_is_refused_the_second_time(totp_on: None, staff: User, client: Any) -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    totp.device_install(user=staff, secret=secret)
    code = totp.current_code(secret)
    post_login(client, staff.username, PASSWORD)
    client.post(reverse("accounts:otp_verify"), {"code": code})
    client.post(reverse("accounts:logout"))

    post_login(client, staff.username, PASSWORD)
    replay = client.post(reverse("accounts:otp_verify"), {"code": code})

    assert "已使用过" in page(replay) and not signed_in(client)


def test_a_code_one_step_either_side_is_accepted_but_not_two() -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    now = 1_800_000_000.0
    step = int(now // 30)
    for offset in (-1, 0, 1):
        assert (
            totp.matching_step(secret, totp.current_code(secret, at=now + 30 * offset), at=now)
            == step + offset
        )
    for offset in (-2, 2):
        assert totp.matching_step(secret, totp.current_code(secret, at=now + 30 * offset), at=now) is None
    assert totp.matching_step(secret, "12345", at=now) is None


def test_wrong_codes_count_toward_the_lockout(totp_on: None, staff: User, client: Any) -> None:
    totp.device_install(user=staff, secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    post_login(client, staff.username, PASSWORD)
    for _i in range(4):
        client.post(reverse("accounts:otp_verify"), {"code": "000000"})

    locked = client.post(reverse("accounts:otp_verify"), {"code": "000000"})

    assert LOCK_MESSAGE in page(locked)
    assert totp.PENDING_KEY not in client.session
    assert LOCK_MESSAGE in page(post_login(client, staff.username, PASSWORD))


def test_wrong_codes_while_enrolling_count_toward_the_lockout_too(
    totp_on: None, staff: User, client: Any
) -> None:
    post_login(client, staff.username, PASSWORD)
    for _i in range(4):
        assert "验证码不正确" in page(client.post(reverse("accounts:otp_enrol"), {"code": "000000"}))

    locked = client.post(reverse("accounts:otp_enrol"), {"code": "000000"})

    assert LOCK_MESSAGE in page(locked) and not signed_in(client)
    assert TotpDevice.objects.get(user=staff).confirmed_at is None


def test_the_code_page_expires_five_minutes_after_the_password(
    totp_on: None, staff: User, client: Any
) -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    totp.device_install(user=staff, secret=secret)
    post_login(client, staff.username, PASSWORD)
    session = client.session
    session[totp.PENDING_KEY] = {**session[totp.PENDING_KEY], "at": int(time.time()) - 301}
    session.save()

    response = client.post(reverse("accounts:otp_verify"), {"code": totp.current_code(secret)})

    assert "登录已超时" in page(response) and not signed_in(client)


def test_the_code_pages_opened_directly_send_people_to_the_log_in(db: Any, client: Any) -> None:
    for name in ("accounts:otp_verify", "accounts:otp_enrol"):
        response = client.get(reverse(name))
        assert response.status_code == 200 and "重新登录" in page(response)


def test_a_staff_session_that_never_passed_the_code_is_signed_out(
    totp_on: None, staff: User, client: Any
) -> None:
    client.force_login(staff)

    response = client.get(reverse("registry:child_list"))

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(reverse("api:children_list")).status_code == 401


def test_a_loving_mother_logs_in_without_a_code_and_may_set_one_up(
    totp_on: None, tree: Any, client: Any
) -> None:
    mother = factories.make_volunteer(tree.village_a1).user
    assert post_login(client, mother.username, PASSWORD)["Location"] == reverse("accounts:home")

    client.get(reverse("accounts:otp_setup"))
    secret = totp.secret_of(TotpDevice.objects.get(user=mother))
    client.post(reverse("accounts:otp_setup"), {"code": totp.current_code(secret)})
    client.post(reverse("accounts:logout"))

    assert post_login(client, mother.username, PASSWORD)["Location"] == reverse("accounts:otp_verify")


def test_the_authenticator_key_is_encrypted_at_rest(staff: User) -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    device = totp.device_install(user=staff, secret=secret)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM accounts_totpdevice WHERE id = %s", [device.pk])
        raw = cursor.fetchone()[0]
    assert secret not in raw and raw.startswith("k")


def test_unlock_user_reset_totp_makes_the_user_enrol_again(totp_on: None, staff: User, client: Any) -> None:
    totp.device_install(user=staff, secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")

    call_command("unlock-user", staff.username, "--reset-totp", stdout=io.StringIO())

    assert not TotpDevice.objects.filter(user=staff).exists()
    assert post_login(client, staff.username, PASSWORD)["Location"] == reverse("accounts:otp_enrol")


def test_demo_staff_have_fixed_keys_that_demo_logins_prints(totp_on: None, tree: Any, client: Any) -> None:
    from aixin.demo.seed import demo_totp_secret, enrol_demo_authenticators

    factories.make_user(Role.CITY_ADMIN, tree.city, "city")
    factories.make_volunteer(
        tree.village_a1, user=factories.make_user(Role.VOLUNTEER, tree.village_a1, "mama")
    )

    enrolled = enrol_demo_authenticators()
    out = io.StringIO()
    call_command("demo-logins", stdout=out)

    assert [u.username for u in enrolled] == ["city"]
    key = re.search(r"city\s+密钥 ([A-Z2-7 ]+?)\s+当前验证码", out.getvalue()).group(1)
    assert key.replace(" ", "") == demo_totp_secret("city")
    post_login(client, "city", PASSWORD)
    done = client.post(reverse("accounts:otp_verify"), {"code": totp.current_code(key.replace(" ", ""))})
    assert done["Location"] == reverse("accounts:home")


# ---------------------------------------------------------------------------------------------
# Idle timeout


def _idle(client: Any, minutes: float) -> None:
    session = client.session
    session[signin.LAST_ACTIVITY_KEY] = int(time.time() - minutes * 60)
    session.save()


def test_staff_are_signed_out_after_thirty_minutes_without_a_request(staff: User, client: Any) -> None:
    client.force_login(staff)
    _idle(client, 31)

    response = client.get(reverse("registry:child_list"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert IDLE_MESSAGE in page(response)
    assert not signed_in(client)
    assert AuditEvent.objects.filter(action="logout", summary__contains="长时间未操作").count() == 1


def test_staff_active_within_thirty_minutes_stay_signed_in(staff: User, client: Any) -> None:
    client.force_login(staff)
    _idle(client, 29)

    assert client.get(reverse("registry:child_list")).status_code == 200
    assert int(time.time()) - client.session[signin.LAST_ACTIVITY_KEY] < 5


def test_a_loving_mother_on_her_phone_stays_signed_in_for_twelve_hours(tree: Any, client: Any) -> None:
    mother = factories.make_volunteer(tree.village_a1).user
    client.force_login(mother)
    _idle(client, 11 * 60)
    assert client.get(reverse("care:my_children")).status_code == 200

    _idle(client, 12 * 60 + 1)
    assert client.get(reverse("care:my_children")).status_code == 302


# ---------------------------------------------------------------------------------------------
# Forced password change


def test_create_user_generate_makes_the_user_change_the_password_at_first_log_in(tree: Any) -> None:
    call_command(
        "create-user",
        "town9",
        "--role",
        "town_supervisor",
        "--region",
        tree.town_a1.code,
        "--generate",
        stdout=io.StringIO(),
    )
    assert User.objects.get(username="town9").must_change_password is True


def test_a_temporary_password_leads_to_the_change_page_first(staff: User, client: Any) -> None:
    User.objects.filter(pk=staff.pk).update(must_change_password=True)

    response = post_login(client, staff.username, PASSWORD)

    assert response["Location"] == reverse("accounts:password_change")


def test_every_page_leads_to_the_change_page_until_the_password_is_changed(staff: User, client: Any) -> None:
    User.objects.filter(pk=staff.pk).update(must_change_password=True)
    client.force_login(staff)

    assert client.get(reverse("registry:child_list"))["Location"] == reverse("accounts:password_change")
    api = client.get(reverse("api:children_list"))
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    assert "初始密码" in page(client.get(reverse("accounts:password_change")))
    assert client.post(reverse("accounts:logout")).status_code == 302


def test_the_new_password_must_follow_the_policy_and_differ_from_the_old(staff: User, client: Any) -> None:
    User.objects.filter(pk=staff.pk).update(must_change_password=True)
    client.force_login(staff)
    url = reverse("accounts:password_change")

    same = client.post(url, {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD})
    assert "新密码不能与原密码相同" in page(same)
    weak = client.post(
        url, {"old_password": PASSWORD, "new_password1": "Aa123456789", "new_password2": "Aa123456789"}
    )
    assert "这个密码太常见" in page(weak)
    staff.refresh_from_db()
    assert staff.must_change_password and staff.check_password(PASSWORD)

    good = client.post(
        url, {"old_password": PASSWORD, "new_password1": "Hong-yan-2027", "new_password2": "Hong-yan-2027"}
    )

    assert good["Location"] == reverse("accounts:home")
    staff.refresh_from_db()
    assert not staff.must_change_password and staff.check_password("Hong-yan-2027")
    assert client.get(reverse("registry:child_list")).status_code == 200  # still signed in
    assert AuditEvent.objects.filter(action="update", summary__contains="修改了登录密码").count() == 1
