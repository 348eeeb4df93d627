"""The pairing journey in a real browser: a district admin proposes the nearest loving mother for
a child, the mother accepts on her phone, the admin records the guardian's consent, and the
pairing is active."""

from __future__ import annotations

import re
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect

from aixin.accounts.models import Role
from aixin.volunteers.models import Volunteer
from tests import factories
from tests.browser import helpers
from tests.browser.conftest import log_in

# Fixtures, by name: the live server with the audit triggers lifted only for the flush.
transactional_db = helpers.transactional_db
_restore_after_flush = helpers._restore_after_flush
browser_db = helpers.browser_db
shoot = helpers.shoot


def candidate_rows(page: Any) -> Any:
    return page.locator("table tbody tr").filter(has=page.get_by_role("button", name="提议结对"))


def test_admin_pairs_child_with_nearest_mother_who_accepts_and_guardian_consent_activates_it(
    browser_db: Any, desktop_page: Any, phone_page: Any, shoot: list[Any]
) -> None:
    tree = factories.make_tree()
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou_admin")
    child = factories.make_child(tree.village_a1, name="王小红", difficulty_life=True)
    assert child.care_tier == "one_to_one"
    # Same village, already caring for one child (1/3).
    near_user = factories.make_user(Role.VOLUNTEER, tree.village_a1, "mama_zhou")
    near = factories.make_volunteer(tree.village_a1, name="周美丽", capacity=3, user=near_user)
    Volunteer.objects.filter(pk=near.pk).update(load=1)
    # Same district, other town, idle and first by name: still listed after the neighbour.
    far = factories.make_volunteer(tree.village_a2, name="艾春花", capacity=2)
    # Another district: never a candidate.
    factories.make_volunteer(tree.village_b1, name="白秋月", capacity=2)
    shoot.extend([desktop_page, phone_page])

    # The admin finds the child in the unpaired list (reached from the pairing ledger).
    log_in(desktop_page, browser_db, admin.username, factories.PASSWORD)
    desktop_page.goto(f"{browser_db.url}/pairings/")
    desktop_page.get_by_role("link", name=re.compile(r"待结对儿童 1 人")).click()
    expect(desktop_page).to_have_url(re.compile(r"/pairings/unpaired/$"))
    child_row = desktop_page.locator("tbody tr").filter(has_text="王小红")
    expect(child_row).to_contain_text("一对一")
    child_row.get_by_role("link", name="结对").click()
    expect(desktop_page).to_have_url(re.compile(rf"/pairings/propose/{child.pk}/$"))
    expect(desktop_page.get_by_role("heading", level=1)).to_have_text("为王小红选择爱心妈妈")

    # Nearest first: the same-village mother, then the same-district one; nobody from 涪陵区.
    rows = candidate_rows(desktop_page)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("周美丽")
    expect(rows.nth(0)).to_contain_text("同村")
    expect(rows.nth(0)).to_contain_text("1/3")
    expect(rows.nth(1)).to_contain_text("艾春花")
    expect(rows.nth(1)).to_contain_text("同区县")
    expect(desktop_page.get_by_text("白秋月")).to_have_count(0)

    rows.nth(0).get_by_role("button", name="提议结对").click()
    expect(desktop_page).to_have_url(re.compile(r"/pairings/\d+/$"))
    pairing_url = desktop_page.url
    expect(desktop_page.locator(".messages")).to_contain_text("已向爱心妈妈周美丽发出结对邀请，等待她确认")
    expect(desktop_page.get_by_role("heading", level=1)).to_contain_text("待爱心妈妈确认")

    from aixin.pairing.models import Pairing

    pairing = Pairing.objects.get(child=child)
    assert (pairing.volunteer_id, pairing.status) == (near.pk, "proposed")
    assert pairing_url.endswith(f"/pairings/{pairing.pk}/")

    # The mother sees the invitation on her phone and accepts it.
    log_in(phone_page, browser_db, near_user.username, factories.PASSWORD)
    expect(phone_page).to_have_url(re.compile(r"/care/mine/$"))
    invitations = phone_page.locator("section").filter(has_text="待我确认的结对邀请")
    invitations.get_by_role("link", name=re.compile("王小红")).click()
    expect(phone_page.get_by_role("heading", name="结对邀请")).to_be_visible()
    expect(phone_page.locator("dl.facts")).to_contain_text("王小红")
    expect(phone_page.locator("dl.facts")).to_contain_text("生活困难")
    phone_page.get_by_role("button", name="接受", exact=True).click()
    expect(phone_page.locator(".messages")).to_contain_text("谢谢您！已接受与王小红结对")
    expect(phone_page.get_by_text("您已接受结对。妇联正在征得孩子监护人的同意")).to_be_visible()
    pairing.refresh_from_db()
    assert pairing.status == "awaiting_consent"

    # The admin records the grandmother's written consent; the pairing becomes active.
    desktop_page.goto(pairing_url)
    expect(desktop_page.get_by_role("heading", level=1)).to_contain_text("待监护人同意")
    today = timezone.localdate()
    desktop_page.get_by_label("表示同意的监护人").select_option(label="王奶奶（祖母）")
    desktop_page.get_by_label("同意方式").select_option(label="书面签字")
    desktop_page.get_by_label("同意日期").fill(today.isoformat())
    desktop_page.get_by_label("证明材料说明").fill("签字同意书已存村委会档案")
    desktop_page.get_by_role("button", name="登记同意并启动结对").click()
    expect(desktop_page.locator(".messages")).to_contain_text("已登记监护人同意，结对已生效")
    expect(desktop_page.get_by_role("heading", level=1)).to_contain_text("结对中")
    consents = desktop_page.locator(".card").filter(has_text="监护人同意记录")
    expect(consents.locator("tbody tr")).to_have_count(1)
    expect(consents.locator("tbody tr")).to_contain_text("王奶奶")
    expect(consents.locator("tbody tr")).to_contain_text("书面签字")
    expect(consents.locator("tbody tr")).to_contain_text(today.isoformat())

    pairing.refresh_from_db()
    near.refresh_from_db()
    assert (pairing.status, pairing.start_date) == ("active", today)
    assert near.load == 2

    # The child has left the unpaired list.
    desktop_page.goto(f"{browser_db.url}/pairings/unpaired/")
    expect(desktop_page.locator("tbody")).not_to_contain_text("王小红")
    expect(desktop_page.get_by_text("所有需要结对的儿童都已结对或在办理中。")).to_be_visible()

    # And the mother now finds the child under "my children", ready for care.
    phone_page.goto(f"{browser_db.url}/care/mine/")
    expect(phone_page.locator("ul.children")).to_contain_text("王小红")
    far.refresh_from_db()
    assert far.load == 0
