"""Log-in with the second factor on, in a real browser: a town supervisor signs in for the first
time on her phone, adds the key shown to her authenticator, and the next time gives its code."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from aixin.accounts import totp
from aixin.accounts.models import Role
from tests import factories
from tests.browser import helpers
from tests.browser.conftest import log_in

transactional_db = helpers.transactional_db
_restore_after_flush = helpers._restore_after_flush
browser_db = helpers.browser_db
shoot = helpers.shoot


@pytest.fixture
def totp_on(settings: Any) -> None:
    settings.AIXIN_TOTP_ENFORCED = True


def test_supervisor_enrols_an_authenticator_on_first_log_in_then_signs_in_with_its_code(
    totp_on: None, browser_db: Any, phone_page: Any, shoot: list[Any]
) -> None:
    shoot.append(phone_page)
    tree = factories.make_tree()
    user = factories.make_user(Role.TOWN_SUPERVISOR, tree.town_a1, "zhen_wang")
    page = phone_page

    log_in(page, browser_db, user.username, factories.PASSWORD)
    expect(page).to_have_url(re.compile(r"/login/otp/enrol/$"))
    expect(page.get_by_role("heading", name="绑定动态验证码")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    # Nothing else opens while only the password has passed.
    page.goto(f"{browser_db.url}/children/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))

    page.goto(f"{browser_db.url}/login/otp/enrol/")
    page.fill("#id_code", totp.current_code(secret))
    page.click("button[type=submit]")
    # Signed in: on the phone, 退出 is in the header's 账户 menu.
    expect(page.get_by_text("账户", exact=True)).to_be_visible()
    assert "/login" not in page.url

    page.get_by_text("账户", exact=True).click()
    page.get_by_role("button", name="退出").click()
    log_in(page, browser_db, user.username, factories.PASSWORD)
    expect(page.get_by_role("heading", name="请输入动态验证码")).to_be_visible()
    page.fill("#id_code", "000000")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("动态验证码不正确")

    # The authenticator's next code (the one used to enrol cannot be used twice).
    page.fill("#id_code", totp.current_code(secret, at=time.time() + 30))
    page.click("button[type=submit]")
    expect(page.get_by_text("账户", exact=True)).to_be_visible()
    assert "/login" not in page.url
