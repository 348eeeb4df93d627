"""The matching-review journey in a real browser (智能匹配): a district admin starts a run on her
district, follows it until the proposals appear, rejects one, accepts one, accepts the rest
with 全部采纳 and confirms; the accepted children get pairing proposals, the rejected child is
still waiting. And a mother marked 不宜结对 on a child's file is not proposed for that child by
the next run.

The task queue is handled as in the import journey (helpers.own_queue): Huey gets
a queue of this test only, the test executes the queued run as the consumer would, and the
page's progress polls are held by Playwright meanwhile, so the live server never uses the
test database connection while the run is computed (on SQLite both threads share it).

A decision on one proposal (采纳, 否决, 换人) is posted by htmx and the proposals' section is
swapped in place with the outcome; 全部采纳 and 确认发起结对 are plain forms (a POST and a
redirect back to the run's page, which shows the outcome); the progress box while the run
computes polls with htmx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import expect

from aixin.accounts.models import Role
from aixin.matching.models import MatchExclusion, MatchProposal, MatchRun, ProposalStatus, RunStatus
from aixin.matching.services import run_match
from aixin.pairing.models import Pairing, PairingStatus
from tests import factories
from tests.browser import helpers
from tests.browser.conftest import log_in

# Fixtures, by name: the live server with the append-only triggers lifted only for the flush,
# and the test's own task queue.
transactional_db = helpers.transactional_db
_restore_after_flush = helpers._restore_after_flush
browser_db = helpers.browser_db
shoot = helpers.shoot
own_queue = helpers.own_queue
run_queued_tasks = helpers.run_queued_tasks

NO_COORDINATES = "无坐标，按区划估算"


@dataclass
class ReviewWorld:
    tree: factories.Tree
    admin: Any
    children: dict[str, Any]  # name → child
    mothers: dict[str, Any]  # name → volunteer


def build_review_world() -> ReviewWorld:
    """万州区: three children needing one-to-one care, each in a different village with one
    loving mother (one free place) in the same village, so the run proposes each child her
    village's mother; a mother in 涪陵区 is never proposed."""
    tree = factories.make_tree()
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou_admin")
    children, mothers = {}, {}
    for child_name, mother_name, village in (
        ("王小红", "周美丽", tree.village_a1),
        ("李小军", "陈秀英", tree.village_a1b),
        ("张小芳", "刘桂兰", tree.village_a2),
    ):
        children[child_name] = factories.make_child(village, name=child_name, difficulty_life=True)
        mothers[mother_name] = factories.make_volunteer(village, name=mother_name, capacity=1)
    factories.make_volunteer(tree.village_b1, name="白秋月", capacity=2)
    assert {c.care_tier for c in children.values()} == {"one_to_one"}
    return ReviewWorld(tree=tree, admin=admin, children=children, mothers=mothers)


def start_run_and_wait(page: Any, queue: Any) -> MatchRun:
    """On 智能匹配, start a run on the admin's district (同区县), see it computing, run the
    queued task as the consumer would, and wait until the page reloads with the proposals."""
    gate = helpers.PollGate(page, r"/matching/\d+/progress/")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="智能匹配").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("智能匹配")
    # A district admin's district is fixed to her own.
    expect(page.get_by_label("区县")).to_be_disabled()
    expect(page.get_by_label("区县").locator("option:checked")).to_have_text("万州区")
    page.get_by_label("匹配范围").select_option(label="同区县")
    page.get_by_role("button", name="开始匹配").click()

    expect(page).to_have_url(re.compile(r"/matching/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("匹配已开始，正在后台计算")
    expect(page.locator("#run-progress")).to_contain_text("计算中")
    expect(page.locator("#proposals")).to_have_count(0)

    gate.hold()
    run = MatchRun.objects.order_by("-pk").first()
    assert run is not None and page.url.endswith(f"/matching/{run.pk}/")
    assert run.status == RunStatus.RUNNING and not run.proposals.exists()
    assert run_queued_tasks(queue) == 1
    gate.release()

    # The next poll finds the run done; htmx reloads the page with the proposals.
    expect(page.locator("#proposals")).to_be_visible()
    expect(page.locator("#run-progress")).to_contain_text("已完成")
    gate.remove()
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    return run


def proposal_row(page: Any, child_name: str) -> Any:
    return page.locator("#proposals tbody tr").filter(has=page.get_by_role("link", name=child_name))


def decide(page: Any, child_name: str, button: str) -> None:
    proposal_row(page, child_name).get_by_role("button", name=button, exact=True).click()


def test_a_district_worker_reviews_proposals_and_confirms_the_accepted_ones_into_pairings(
    browser_db: Any, desktop_page: Any, shoot: list[Any], own_queue: Any
) -> None:
    world = build_review_world()
    page = desktop_page
    shoot.append(page)

    log_in(page, browser_db, world.admin.username, factories.PASSWORD)
    run = start_run_and_wait(page, own_queue)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"匹配 #{run.pk} · 万州区")

    # The report: three children waiting, all three matched.
    report = page.locator("#run-report")
    expect(report.locator(".grid > div").filter(has_text="待结对儿童").locator(".kpi")).to_have_text("3")
    expect(report.locator(".grid > div").filter(has_text="匹配成功").locator(".kpi")).to_have_text("3")

    # Each child with her own village's mother, the reason and the pending state.
    rows = page.locator("#proposals tbody tr")
    expect(rows).to_have_count(3)
    for child_name, mother_name in (("王小红", "周美丽"), ("李小军", "陈秀英"), ("张小芳", "刘桂兰")):
        row = proposal_row(page, child_name)
        expect(row.locator("td").nth(3).locator("strong")).to_have_text(mother_name)
        expect(row.locator("td").nth(3)).to_contain_text(f"同村，{NO_COORDINATES}；当前结对 0/1")
        expect(row.locator("td").nth(2)).to_have_text("困难关爱（一对一）")
        expect(row.locator("td").nth(4)).to_have_text("待审核")
    expect(proposal_row(page, "王小红").locator("td").nth(1)).to_have_text("万州1镇1村")
    expect(page.locator("#proposals")).not_to_contain_text("白秋月")
    confirm = page.get_by_role("button", name=re.compile(r"^确认发起结对"))
    expect(confirm).to_have_text("确认发起结对（已采纳 0 条）")
    expect(confirm).to_be_disabled()

    # 否决 张小芳's proposal: the section says so in place (the page is not reloaded, so a worker
    # going down a long list keeps her place), her row rejected, no buttons left.
    page.evaluate("window.reviewPageMark = 1")
    decide(page, "张小芳", "否决")
    expect(page.locator("#review-feedback")).to_have_text("张小芳：已否决")
    assert page.evaluate("window.reviewPageMark") == 1
    rejected = proposal_row(page, "张小芳")
    expect(rejected.locator("td").nth(4)).to_have_text("已否决")
    expect(rejected.get_by_role("button")).to_have_count(0)
    expect(proposal_row(page, "王小红").locator("td").nth(4)).to_have_text("待审核")

    # 采纳 王小红's: accepted, it can still be rejected but no longer accepted.
    decide(page, "王小红", "采纳")
    expect(page.locator("#review-feedback")).to_have_text("王小红：已采纳")
    assert page.evaluate("window.reviewPageMark") == 1
    accepted = proposal_row(page, "王小红")
    expect(accepted.locator("td").nth(4)).to_have_text("已采纳")
    expect(accepted.get_by_role("button", name="采纳", exact=True)).to_have_count(0)
    expect(accepted.get_by_role("button", name="否决", exact=True)).to_be_visible()
    expect(confirm).to_have_text("确认发起结对（已采纳 1 条）")
    expect(confirm).to_be_enabled()

    # 全部采纳 takes the one still pending (李小军's), not the rejected one.
    page.get_by_role("button", name="全部采纳").click()
    expect(page.locator(".messages")).to_contain_text("已采纳 1 条建议")
    expect(proposal_row(page, "李小军").locator("td").nth(4)).to_have_text("已采纳")
    expect(proposal_row(page, "张小芳").locator("td").nth(4)).to_have_text("已否决")
    expect(page.get_by_role("button", name="全部采纳")).to_be_disabled()
    expect(confirm).to_have_text("确认发起结对（已采纳 2 条）")
    assert dict(MatchProposal.objects.filter(run=run).values_list("child__name", "status")) == {
        "王小红": ProposalStatus.ACCEPTED,
        "李小军": ProposalStatus.ACCEPTED,
        "张小芳": ProposalStatus.REJECTED,
    }
    assert not Pairing.objects.exists()  # nothing is paired before the confirmation

    # Confirm: two pairing proposals go to the mothers.
    confirm.click()
    expect(page.locator(".messages")).to_contain_text(
        "已发起结对 2 条：请通知爱心妈妈在手机上确认，再登记监护人同意。"
    )
    expect(page.locator(".messages .msg-warning")).to_have_count(0)  # nothing skipped
    for child_name in ("王小红", "李小军"):
        row = proposal_row(page, child_name)
        expect(row.locator("td").nth(4)).to_have_text("已发起结对")
        expect(row.get_by_role("button")).to_have_count(0)
    expect(proposal_row(page, "张小芳").locator("td").nth(4)).to_have_text("已否决")
    expect(confirm).to_have_text("确认发起结对（已采纳 0 条）")
    expect(confirm).to_be_disabled()

    # In the database: a pairing proposal for each accepted child with the proposed mother,
    # none for the rejected child; the proposals are marked confirmed.
    pairings = {p.child.name: p for p in Pairing.objects.select_related("child", "volunteer")}
    assert set(pairings) == {"王小红", "李小军"}
    assert pairings["王小红"].volunteer == world.mothers["周美丽"]
    assert pairings["李小军"].volunteer == world.mothers["陈秀英"]
    assert {p.status for p in pairings.values()} == {PairingStatus.PROPOSED}
    assert not Pairing.objects.filter(child=world.children["张小芳"]).exists()
    assert dict(MatchProposal.objects.filter(run=run).values_list("child__name", "status")) == {
        "王小红": ProposalStatus.CONFIRMED,
        "李小军": ProposalStatus.CONFIRMED,
        "张小芳": ProposalStatus.REJECTED,
    }

    # 王小红's file shows the pairing waiting for 周美丽 (from the review page's link).
    proposal_row(page, "王小红").get_by_role("link", name="王小红").click()
    expect(page).to_have_url(re.compile(rf"/children/{world.children['王小红'].pk}/$"))
    pairing_rows = page.locator("section.card").filter(has_text="结对记录").locator("tbody tr")
    expect(pairing_rows).to_have_count(1)
    expect(pairing_rows).to_contain_text("周美丽")
    expect(pairing_rows).to_contain_text("待爱心妈妈确认")

    # Only the rejected child is still waiting for a mother.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="待结对").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("待结对儿童")
    waiting = page.locator("tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("张小芳")


def test_a_mother_marked_unsuitable_on_the_childs_file_is_not_proposed_by_the_next_run(
    browser_db: Any, desktop_page: Any, shoot: list[Any], own_queue: Any
) -> None:
    tree = factories.make_tree()
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou_admin")
    child = factories.make_child(tree.village_a1, name="王小红", difficulty_life=True)
    aunt = factories.make_volunteer(tree.village_a1, name="周美丽", capacity=1)
    other = factories.make_volunteer(tree.village_a2, name="艾春花", capacity=1)
    # An earlier run (computed directly) proposed the same-village mother.
    first = run_match(actor=admin, district_code=tree.district_a.code)
    assert isinstance(first, MatchRun)
    assert MatchProposal.objects.get(run=first).volunteer == aunt
    page = desktop_page
    shoot.append(page)

    log_in(page, browser_db, admin.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/matching/{first.pk}/")
    expect(proposal_row(page, "王小红").locator("strong")).to_have_text("周美丽")

    # On the child's file (linked from the proposal), 周美丽 is 不宜结对: she is the child's aunt.
    proposal_row(page, "王小红").get_by_role("link", name="王小红").click()
    expect(page).to_have_url(re.compile(rf"/children/{child.pk}/$"))
    suggested = page.locator("#suggested-mothers ol > li")
    expect(suggested.first.locator("strong")).to_have_text("周美丽")
    aunt_item = suggested.filter(has_text="周美丽")
    aunt_item.get_by_text("不宜结对", exact=True).click()
    aunt_item.get_by_label("不宜结对原因").select_option(label="亲属关系")
    aunt_item.get_by_label("说明").fill("孩子的姨妈")
    aunt_item.get_by_role("button", name="确定").click()
    expect(page.locator(".messages")).to_contain_text("已设置周美丽与王小红不宜结对，今后匹配不再推荐")
    expect(page.locator("#match-exclusions")).to_contain_text("周美丽 · 亲属关系（孩子的姨妈）")
    expect(suggested.filter(has_text="周美丽")).to_have_count(0)
    expect(suggested.first.locator("strong")).to_have_text("艾春花")
    exclusion = MatchExclusion.objects.get()
    assert (exclusion.child_id, exclusion.volunteer_id, exclusion.reason) == (child.pk, aunt.pk, "relative")

    # The next run proposes the other mother; the earlier run can now only be read.
    second = start_run_and_wait(page, own_queue)
    row = proposal_row(page, "王小红")
    expect(row.locator("strong")).to_have_text("艾春花")
    expect(row).to_contain_text(f"同区县，{NO_COORDINATES}")
    expect(page.locator("#proposals")).not_to_contain_text("周美丽")
    proposal = MatchProposal.objects.get(run=second)
    assert proposal.volunteer == other
    assert aunt.pk not in {a["volunteer"] for a in proposal.alternatives}

    page.goto(f"{browser_db.url}/matching/{first.pk}/")
    expect(page.locator("#read-only")).to_have_text("本区县已有更新的匹配结果，本次结果只能查看。")
    expect(page.locator("#proposals").get_by_role("button")).to_have_count(0)
