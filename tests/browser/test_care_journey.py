"""The routine-care journey in a real browser: a loving mother records this week's contact on
her phone in three taps, and the district's dashboard shows it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import expect

from aixin.accounts.models import Role
from tests import factories
from tests.browser import helpers
from tests.browser.conftest import log_in

# Fixtures, by name: the live server with the audit triggers lifted only for the flush.
transactional_db = helpers.transactional_db
_restore_after_flush = helpers._restore_after_flush
browser_db = helpers.browser_db
shoot = helpers.shoot
assert_fits_phone = helpers.assert_fits_phone

WEEKLY = "每周与孩子联系一次"


@dataclass
class CareWorld:
    tree: factories.Tree
    admin: Any
    mother_user: Any
    child: Any
    pairing: Any


def build_care_world() -> CareWorld:
    tree = factories.make_tree()
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou_admin")
    mother_user = factories.make_user(Role.VOLUNTEER, tree.village_a1, "mama_li")
    mother = factories.make_volunteer(tree.village_a1, name="李爱华", user=mother_user)
    child = factories.make_child(tree.village_a1, name="王小红", difficulty_life=True)
    pairing = factories.make_active_pairing(child, mother)
    return CareWorld(tree=tree, admin=admin, mother_user=mother_user, child=child, pairing=pairing)


def weekly_row(page: Any) -> Any:
    return page.locator("#compliance tr[data-key=weekly_contact]")


def weekly_cells(page: Any) -> list[str]:
    """[条目, 应完成, 已完成, 逾期, 完成率] of the weekly-contact row on the dashboard."""
    return [" ".join(t.split()) for t in weekly_row(page).locator("td").all_inner_texts()]


def assert_thumb_sized(locator: Any) -> None:
    box = locator.bounding_box()
    assert box is not None and box["height"] >= 40, f"tap target too small: {box}"


def checklist_item(page: Any, rule_name: str) -> Any:
    return page.locator("ul.care-items > li").filter(has_text=rule_name)


def test_mother_records_weekly_contact_in_three_taps_and_district_dashboard_shows_it(
    browser_db: Any, phone_page: Any, desktop_page: Any, shoot: list[Any]
) -> None:
    world = build_care_world()
    district = world.tree.district_a.code
    shoot.extend([phone_page, desktop_page])

    # Before: the district admin sees the child's weekly contact not done (and overdue).
    log_in(desktop_page, browser_db, world.admin.username, factories.PASSWORD)
    desktop_page.goto(f"{browser_db.url}/dashboard/?region={district}")
    expect(desktop_page.get_by_role("heading", level=1)).to_contain_text("万州区工作看板")
    expect(weekly_row(desktop_page)).to_be_visible()
    before = weekly_cells(desktop_page)
    assert before[:4] == [WEEKLY, "1", "0", "1"]
    assert re.fullmatch(r"0(\.0)?%", before[4])

    # The mother, on her phone, lands on "my children" after logging in.
    log_in(phone_page, browser_db, world.mother_user.username, factories.PASSWORD)
    expect(phone_page).to_have_url(re.compile(r"/care/mine/$"))
    expect(phone_page.get_by_role("heading", name="我的孩子")).to_be_visible()
    assert_fits_phone(phone_page)

    # Tap 1: the child.
    phone_page.get_by_role("link", name=re.compile("王小红")).click()
    expect(phone_page).to_have_url(re.compile(rf"/care/pairings/{world.pairing.pk}/$"))
    item = checklist_item(phone_page, WEEKLY)
    # Paired 90 days ago and never contacted: last week was missed, so the item is overdue.
    expect(item.locator(".badge")).to_have_text("已逾期")
    assert_fits_phone(phone_page)
    assert_thumb_sized(item.get_by_role("link", name="记录"))

    # Tap 2: 记录 on the weekly-contact item; the form arrives with that item ticked.
    item.get_by_role("link", name="记录").click()
    expect(phone_page).to_have_url(
        re.compile(rf"/care/pairings/{world.pairing.pk}/record/\?rule=weekly_contact$")
    )
    expect(phone_page.get_by_role("checkbox", name="每周联系")).to_be_checked()
    expect(phone_page.get_by_role("radio", name="电话")).to_be_checked()
    assert_fits_phone(phone_page)
    assert_thumb_sized(phone_page.get_by_role("button", name="保存"))

    # Tap 3: 保存.
    phone_page.get_by_role("button", name="保存").click()
    expect(phone_page).to_have_url(re.compile(rf"/care/pairings/{world.pairing.pk}/\?saved=1$"))
    expect(phone_page.locator(".messages")).to_contain_text("已保存关爱记录：每周联系 已完成")
    expect(checklist_item(phone_page, WEEKLY).locator(".badge")).to_have_text("已完成")
    expect(checklist_item(phone_page, WEEKLY).get_by_role("link", name="记录")).to_have_count(0)
    # The other items are untouched.
    expect(checklist_item(phone_page, "每月与监护人交流一次").locator(".badge")).not_to_have_text("已完成")

    # After: the same dashboard shows the district's weekly contact done, 1 of 1.
    desktop_page.reload()
    after = weekly_cells(desktop_page)
    assert after[:4] == [WEEKLY, "1", "1", "0"]
    assert re.fullmatch(r"100(\.0)?%", after[4])


def test_mothers_unsent_notes_are_restored_when_she_comes_back_to_the_record_form(
    browser_db: Any, phone_page: Any, shoot: list[Any]
) -> None:
    world = build_care_world()
    shoot.append(phone_page)
    notes = "孩子说这周数学考了90分，想要一本字典。"

    log_in(phone_page, browser_db, world.mother_user.username, factories.PASSWORD)
    phone_page.get_by_role("link", name=re.compile("王小红")).click()
    checklist_item(phone_page, WEEKLY).get_by_role("link", name="记录").click()
    notes_box = phone_page.get_by_label("情况记录（保密）")
    expect(phone_page.locator("[data-draft-note]")).to_be_hidden()
    notes_box.fill(notes)
    phone_page.get_by_role("radio", name="视频").check()

    # Interrupted: she leaves for "my children" without saving.
    phone_page.get_by_role("link", name="我的孩子").click()
    expect(phone_page).to_have_url(re.compile(r"/care/mine/$"))

    # Coming back, the form has her notes and choices, and says it restored a draft.
    phone_page.get_by_role("link", name=re.compile("王小红")).click()
    checklist_item(phone_page, WEEKLY).get_by_role("link", name="记录").click()
    expect(phone_page.get_by_label("情况记录（保密）")).to_have_value(notes)
    expect(phone_page.get_by_role("radio", name="视频")).to_be_checked()
    expect(phone_page.get_by_role("checkbox", name="每周联系")).to_be_checked()
    expect(phone_page.locator("[data-draft-note]")).to_be_visible()
    expect(phone_page.locator("[data-draft-note]")).to_have_text("已恢复上次未提交的草稿。")

    # Saving clears the draft: the next new record starts empty.
    phone_page.get_by_role("button", name="保存").click()
    expect(phone_page).to_have_url(re.compile(r"\?saved=1$"))
    phone_page.get_by_role("link", name="＋ 记录其他关爱").click()
    expect(phone_page.get_by_label("情况记录（保密）")).to_have_value("")
    expect(phone_page.locator("[data-draft-note]")).to_be_hidden()

    from aixin.care.models import CareRecord

    record = CareRecord.objects.get(pairing=world.pairing)
    assert record.kind == "video"
    assert record.notes == notes
