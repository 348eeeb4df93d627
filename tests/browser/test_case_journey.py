"""The journey of one risk case in a real browser (issue 5): a loving mother reports a concern on
her phone, the district accepts it and refers it to public security, the police liaison signs
for it, records what was done and finishes it, and the district resolves and closes it after
verifying; the district's dashboard counts the case while it is open and as closed afterwards."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from aixin.accounts.models import Role
from tests import factories
from tests.browser import helpers
from tests.browser.conftest import DESKTOP, log_in
from tests.cases import helpers as case_helpers

# Fixtures, by name: the live server with the append-only triggers lifted only for the flush.
transactional_db = helpers.transactional_db
_restore_after_flush = helpers._restore_after_flush
browser_db = helpers.browser_db
shoot = helpers.shoot
assert_fits_phone = helpers.assert_fits_phone

DISTRICT = "500101"  # 万州区, district A of the factory tree


@pytest.fixture
def liaison_page(chromium: Any) -> Iterator[Any]:
    """A third browser (the police liaison's), beside the mother's phone and the district's."""
    context = chromium.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@dataclass
class CaseWorld:
    admin: Any
    mother_user: Any
    police: Any
    child: Any


def _named(user: Any, display_name: str) -> Any:
    user.display_name = display_name
    user.save(update_fields=["display_name"])
    return user


def build_case_world() -> CaseWorld:
    """District A with a child paired with a loving mother, the district's federation staff and
    a public-security liaison, and two earlier cases (one closed, one still open) so that the
    dashboard has a closure row and open cases before the journey starts."""
    tree = factories.make_tree()
    admin = _named(factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou_admin"), "张敏")
    mother_user = _named(factories.make_user(Role.VOLUNTEER, tree.village_a1, "mama_li"), "李爱华")
    mother = factories.make_volunteer(tree.village_a1, name="李爱华", user=mother_user)
    child = factories.make_child(tree.village_a1, name="王小红", difficulty_life=True)
    factories.make_active_pairing(child, mother)
    police = _named(case_helpers.liaison(tree.district_a, "public_security", "gongan_wanzhou"), "刘警官")

    other = factories.make_child(tree.village_a2, name="陈小明")
    earlier = case_helpers.report(admin, other, category="dropout", severity="medium")
    case_helpers.act(admin, earlier, "accept")
    case_helpers.act(admin, earlier, "resolve", note="已劝返入学")
    case_helpers.act(admin, earlier, "close", note="回访核实，已正常上学")
    case_helpers.report(admin, other, category="neglect", severity="low")
    return CaseWorld(admin=admin, mother_user=mother_user, police=police, child=child)


# ---------------------------------------------------------------------------------------------
# Reading the pages


def case_counts(page: Any) -> dict[str, int]:
    """The case panel's counts on the dashboard: open, overdue cases, overdue referrals."""
    panel = page.locator("#case-panel")
    return {
        key: int(panel.locator(f"[data-count={key}]").inner_text())
        for key in ("open", "overdue-cases", "overdue-referrals")
    }


def closure_row(page: Any) -> list[str]:
    """[区县, 报告, 核实办结, 办结率, 办结用时中位数] of district A in the closure table."""
    row = page.locator(f"#closure-by-district tr[data-code='{DISTRICT}']")
    return [" ".join(t.split()) for t in row.locator("td").all_inner_texts()]


def read_dashboard(page: Any, live_server: Any) -> tuple[dict[str, int], list[str]]:
    page.goto(f"{live_server.url}{reverse('dashboard:overview')}?region={DISTRICT}")
    expect(page.locator("#case-panel")).to_be_visible()
    return case_counts(page), closure_row(page)


def take(scope: Any, action: str, *, note: str = "", button: str) -> None:
    """Open the action's fold (<details data-action=...>), write the note, press its button."""
    fold = scope.locator(f"details[data-action='{action}']")
    fold.locator("summary").click()
    if note:
        fold.locator("textarea[name=note]").fill(note)
    fold.get_by_role("button", name=button, exact=True).click()


def case_state(page: Any, state: str) -> None:
    expect(page.locator("#case-state")).to_have_attribute("data-state", state)
    expect(page.locator(".messages")).to_contain_text("已保存")


def timeline(page: Any) -> list[tuple[str, str]]:
    """(event code, who) for every step on the case page's timeline, oldest first."""
    items = page.locator("#timeline li[data-action]")
    return [
        (items.nth(i).get_attribute("data-action") or "", items.nth(i).locator("strong").inner_text())
        for i in range(items.count())
    ]


# ---------------------------------------------------------------------------------------------


def test_mothers_phone_report_is_accepted_referred_to_police_done_and_closed_and_the_dashboard_counts_it(
    browser_db: Any, phone_page: Any, desktop_page: Any, liaison_page: Any, shoot: list[Any]
) -> None:
    world = build_case_world()
    shoot.extend([phone_page, desktop_page, liaison_page])
    url = browser_db.url

    # Before: the district's dashboard — one open case, one of two cases closed.
    log_in(desktop_page, browser_db, world.admin.username, factories.PASSWORD)
    before, closure_before = read_dashboard(desktop_page, browser_db)
    assert before == {"open": 1, "overdue-cases": 0, "overdue-referrals": 0}
    assert closure_before[:3] == ["万州区", "2", "1"]

    # The mother, on her phone: "my children" → 报告风险 for 王小红.
    log_in(phone_page, browser_db, world.mother_user.username, factories.PASSWORD)
    expect(phone_page).to_have_url(re.compile(r"/care/mine/$"))
    assert_fits_phone(phone_page)
    child_row = phone_page.locator("ul.children > li").filter(has_text="王小红")
    child_row.get_by_role("link", name="报告风险").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("报告王小红的风险")
    assert_fits_phone(phone_page)

    # What, how serious, what she saw, when and where; bullying is not a mandatory report.
    seen_at = timezone.localtime() - datetime.timedelta(hours=2)
    phone_page.get_by_role("radio", name="校园欺凌").check()
    phone_page.get_by_role("radio", name="高", exact=True).check()
    phone_page.get_by_label("看到或听到的情况").fill(
        "孩子说放学路上被高年级同学拦住要钱，还被推倒，膝盖擦伤。"
    )
    phone_page.get_by_label("发现时间").fill(seen_at.strftime("%Y-%m-%dT%H:%M"))
    phone_page.get_by_label("发现地点").fill("万州1镇1村小学门口")
    assert_fits_phone(phone_page)
    phone_page.get_by_role("button", name="提交报告").click()

    # Confirmation: back on "my children", with the case number.
    expect(phone_page).to_have_url(re.compile(r"/care/mine/$"))
    confirmation = phone_page.locator(".messages")
    expect(confirmation).to_contain_text("风险报告已提交")
    expect(confirmation).to_contain_text("区县将尽快受理")
    found = re.search(r"编号 (\S+?)）", confirmation.inner_text())
    assert found, confirmation.inner_text()
    number = found.group(1)
    assert_fits_phone(phone_page)

    # The dashboard counts the new case as open.
    during, _ = read_dashboard(desktop_page, browser_db)
    assert during["open"] == before["open"] + 1

    # The district: the case list → the case → 受理 → 转办 公安.
    desktop_page.goto(f"{url}{reverse('cases:case_list')}")
    row = desktop_page.locator("#cases tr[data-case]").filter(has_text=number)
    expect(row).to_contain_text("王小红")
    expect(row).to_contain_text("校园欺凌")
    expect(row).to_contain_text("已报告")
    row.get_by_role("link", name=number).click()
    expect(desktop_page.locator("#case-state")).to_have_attribute("data-state", "reported")
    expect(desktop_page.locator("#report")).to_contain_text("李爱华")
    take(desktop_page.locator("#actions"), "accept", button="受理")
    case_state(desktop_page, "accepted")

    refer = desktop_page.locator("#referrals details[data-action='refer']")
    refer.locator("summary").click()
    refer.get_by_role("checkbox", name="公安").check()
    refer.get_by_label("转办说明").fill("涉嫌勒索、殴打，请公安核查处理")
    refer.get_by_role("button", name="转办", exact=True).click()
    case_state(desktop_page, "referred")
    expect(desktop_page.locator("#referrals tbody tr[data-referral]")).to_contain_text("待签收")

    # The police liaison: the inbox → the referral → 签收 → 记录办理情况 → 办结.
    log_in(liaison_page, browser_db, world.police.username, factories.PASSWORD)
    liaison_page.goto(f"{url}{reverse('cases:liaison_inbox')}")
    expect(liaison_page.get_by_role("heading", level=1)).to_have_text("公安转办事项")
    referral_row = liaison_page.locator("#referrals tr[data-referral]").filter(has_text=number)
    expect(referral_row).to_contain_text("待签收")
    referral_row.get_by_role("link", name=number).click()
    mine = liaison_page.locator("#referrals tr[data-referral]")
    take(mine, "accept", button="签收")
    case_state(liaison_page, "in_progress")
    expect(mine).to_contain_text("已签收")
    take(mine, "act", note="已约谈涉事学生及家长，责令退还财物", button="记录办理情况")
    expect(mine).to_contain_text("办理中")
    take(mine, "done", note="涉事学生已书面道歉，学校加强放学路段巡查", button="办结")
    expect(liaison_page.locator(".messages")).to_contain_text("已保存")
    expect(mine).to_contain_text("已办结")

    # The district: 办结, then 核实结案 with what the verification found.
    desktop_page.reload()
    expect(desktop_page.locator("#case-state")).to_have_attribute("data-state", "in_progress")
    take(desktop_page.locator("#actions"), "resolve", note="公安已处理，欺凌已制止", button="办结")
    case_state(desktop_page, "resolved")
    verified = "电话回访监护人和孩子，孩子已正常上学"
    take(desktop_page.locator("#actions"), "close", note=verified, button="核实结案")
    case_state(desktop_page, "closed")
    expect(desktop_page.locator("#case-state")).to_have_text("已核实结案")

    # Every step, in order, with who took it.
    assert timeline(desktop_page) == [
        ("report", "李爱华"),
        ("accept", "张敏"),
        ("refer", "张敏"),
        ("referral_sent", "张敏"),
        ("referral_accept", "刘警官"),
        ("follow", "刘警官"),
        ("referral_act", "刘警官"),
        ("referral_done", "刘警官"),
        ("resolve", "张敏"),
        ("close", "张敏"),
    ]
    steps = desktop_page.locator("#timeline")
    expect(steps.locator("li[data-action=referral_sent]")).to_contain_text("公安")
    expect(steps.locator("li[data-action=referral_act]")).to_contain_text("已约谈涉事学生及家长")
    expect(steps.locator("li[data-action=close]")).to_contain_text("核实结案")
    expect(steps.locator("li[data-action=close]")).to_contain_text(verified)

    # After: the open count is back where it was, and the district has one more closed case.
    after, closure_after = read_dashboard(desktop_page, browser_db)
    assert after == before
    assert closure_after[:3] == ["万州区", "3", "2"]
