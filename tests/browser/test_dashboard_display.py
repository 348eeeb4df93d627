"""What the dashboard's charts and the site header look like in a real browser: every name a chart
draws is drawn in full and apart from the others, bar charts list their items in the order of
the table beside them, and on a phone the header is one line of thumb-sized links.

The charts are canvases, so the texts are read from ECharts' own scene (zrender's display list:
each line of text it draws, with its box in pixels)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from aixin.accounts.models import Role
from aixin.regions.models import RegionLevel
from aixin.regions.tree import create_region
from tests import factories
from tests.browser import helpers
from tests.browser.conftest import log_in
from tests.dashboard.helpers import BOTH_AWAY, UNSUPPORTED, build_world

# Fixtures, by name: the live server with the append-only triggers lifted only for the flush.
transactional_db = helpers.transactional_db
_restore_after_flush = helpers._restore_after_flush
browser_db = helpers.browser_db
shoot = helpers.shoot
assert_fits_phone = helpers.assert_fits_phone

BIG_SCREEN = {"width": 1920, "height": 1080}

# Chongqing's other 38 districts and counties (万州区 and 涪陵区 are in the factory tree): 40 in all,
# the longest names ten characters.
DISTRICTS = [
    "渝中区", "大渡口区", "江北区", "沙坪坝区", "九龙坡区", "南岸区", "北碚区", "綦江区", "大足区",
    "渝北区", "巴南区", "黔江区", "长寿区", "江津区", "合川区", "永川区", "南川区", "璧山区", "铜梁区",
    "潼南区", "荣昌区", "开州区", "梁平区", "武隆区", "城口县", "丰都县", "垫江县", "忠县", "云阳县",
    "奉节县", "巫山县", "巫溪县", "石柱土家族自治县", "秀山土家族苗族自治县", "酉阳土家族苗族自治县",
    "彭水苗族土家族自治县", "两江新区", "西部科学城重庆高新区",
]  # fmt: skip
NO_MUST_COVER = "两江新区"  # only a left-behind child: no coverage to show

# Every line of text a chart draws, with its box in the chart's pixels.
CHART_TEXTS = """(selector) => {
  const chart = echarts.getInstanceByDom(document.querySelector(selector));
  const texts = [];
  chart.getZr().storage.getDisplayList(true).forEach((el) => {
    if (el.type !== "tspan" || el.invisible || el.ignore || !el.style.text) { return; }
    const box = el.getBoundingRect().clone();
    box.applyTransform(el.transform);
    texts.push({text: String(el.style.text), x: box.x, y: box.y, w: box.width, h: box.height});
  });
  return {width: chart.getWidth(), height: chart.getHeight(), texts: texts};
}"""

# The pixel at the middle of a category's band on the breakdown chart's y-axis.
SETTLED = """(selector) => {
  const chart = echarts.getInstanceByDom(document.querySelector(selector));
  return !!chart && chart.getZr().storage.getDisplayList(true).every((el) => !el.animators.length);
}"""

# The centre of a category's bar, once the bar has grown to its length (null until then).
BAR_CENTRE = """([selector, name]) => {
  const chart = echarts.getInstanceByDom(document.querySelector(selector));
  const index = chart.getOption().yAxis[0].data.indexOf(name);
  const bar = chart.getModel().getSeriesByIndex(0).getData().getItemGraphicEl(index);
  if (!bar || bar.animators.length) { return null; }
  return {x: bar.shape.x + bar.shape.width / 2, y: bar.shape.y + bar.shape.height / 2};
}"""


@dataclass
class CityWorld:
    tree: factories.Tree
    city_admin: Any
    district_admin: Any
    coverage: dict[str, float | None]  # district name → percent of must-cover children paired


def build_city() -> CityWorld:
    """The factory tree's two districts (with the dashboard helpers' data set) and 38 more, each
    with one town and village, 2–5 children to pair individually and 1 or more of them paired."""
    tree = factories.make_tree()
    city_admin = factories.make_user(Role.CITY_ADMIN, tree.city, "city")
    district_admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou")
    build_world(tree, admin=district_admin)
    coverage: dict[str, float | None] = {"万州区": 75.0, "涪陵区": 100.0}
    for n, name in enumerate(DISTRICTS, start=3):
        district = create_region(code=f"5001{n:02d}", name=name, level=RegionLevel.DISTRICT, parent=tree.city)
        town = create_region(
            code=f"{district.code}101", name=f"{name[:2]}镇", level=RegionLevel.TOWN, parent=district
        )
        village = create_region(
            code=f"{town.code}201", name=f"{name[:2]}村", level=RegionLevel.VILLAGE, parent=town
        )
        if name == NO_MUST_COVER:
            factories.make_child(village, name=f"留{n}", conditions=BOTH_AWAY)
            coverage[name] = None
            continue
        mother = factories.make_volunteer(village, name=f"妈妈{n}", capacity=9, with_user=False)
        total, paired = 2 + n % 4, 1 + (n * 3) % (2 + n % 4)
        for i in range(total):
            child = factories.make_child(village, name=f"童{n}{i}", conditions=UNSUPPORTED)
            if i < paired:
                factories.make_active_pairing(child, mother)
        coverage[name] = round(100 * paired / total, 1)
    return CityWorld(tree=tree, city_admin=city_admin, district_admin=district_admin, coverage=coverage)


def click_in_chart(page: Any, selector: str, x: float, y: float) -> None:
    """A click at (x, y) of a chart, scrolled to the middle of the window first: the city's chart
    is taller than a laptop's screen."""
    page.evaluate(
        """([selector, y]) => {
          const top = document.querySelector(selector).getBoundingClientRect().top;
          window.scrollBy(0, top + y - window.innerHeight / 2);
        }""",
        [selector, y],
    )
    box = page.locator(selector).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)


def chart_texts(page: Any, chart: str) -> dict[str, Any]:
    """The chart's texts once it has finished drawing (its bars grow in)."""
    page.wait_for_function(SETTLED, arg=f"[data-chart={chart}]")
    return page.evaluate(CHART_TEXTS, f"[data-chart={chart}]")


def overlapping(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def assert_legible(drawn: dict[str, Any]) -> None:
    """No text is cut short (ECharts ends a truncated one with ...), none sticks out of the chart,
    and no two overlap."""
    texts = drawn["texts"]
    assert texts
    for t in texts:
        assert not t["text"].endswith(("...", "…")), f"cut short: {t['text']}"
        inside = t["x"] >= 0 and t["y"] >= 0 and t["x"] + t["w"] <= drawn["width"] + 0.5
        assert inside and t["y"] + t["h"] <= drawn["height"] + 0.5, f"outside the chart: {t}"
    clashes = [
        (a["text"], b["text"]) for i, a in enumerate(texts) for b in texts[i + 1 :] if overlapping(a, b)
    ]
    assert not clashes, f"texts drawn over each other: {clashes[:5]}"


def top_down(drawn: dict[str, Any], names: list[str]) -> list[str]:
    """The given names as the chart draws them, from the top."""
    return [
        t["text"] for t in sorted((t for t in drawn["texts"] if t["text"] in names), key=lambda t: t["y"])
    ]


def table_column(page: Any, selector: str) -> list[str]:
    return [
        " ".join(t.split()) for t in page.locator(f"{selector} tbody tr td:first-child").all_inner_texts()
    ]


# --- 分区域情况 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("screen", ["laptop", "big screen"])
def test_city_dashboard_draws_forty_district_names_in_full_one_bar_each_lowest_coverage_first(
    browser_db: Any, desktop_page: Any, shoot: list[Any], screen: str
) -> None:
    world = build_city()
    page = desktop_page
    shoot.append(page)
    if screen == "big screen":
        page.set_viewport_size(BIG_SCREEN)
    log_in(page, browser_db, world.city_admin.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("重庆市工作看板")

    drawn = chart_texts(page, "chart-breakdown")
    assert_legible(drawn)
    names = list(world.coverage)
    assert len(names) == 40
    # Names run down the side, one per bar, with room for each: lowest coverage on top, the
    # district without a child to cover at the bottom.
    ranked = sorted(names, key=lambda n: (world.coverage[n] is None, world.coverage[n] or 0))
    assert top_down(drawn, names) == ranked
    assert drawn["height"] / len(names) >= 24
    labels = [t["text"] for t in drawn["texts"]]
    for name, percent in world.coverage.items():
        assert f"{percent:g}%" in labels if percent is not None else "—" in labels, name
    # The target line's label whole (it was cut to "目标 10(").
    assert "目标 100%" in labels


def test_clicking_a_district_name_on_the_city_chart_opens_that_districts_dashboard(
    browser_db: Any, desktop_page: Any, shoot: list[Any]
) -> None:
    world = build_city()
    page = desktop_page
    shoot.append(page)
    log_in(page, browser_db, world.city_admin.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/dashboard/")
    selector = "[data-chart=chart-breakdown]"

    # The bar of 彭水…, low in the ranking (75 %), then its name: each opens its dashboard.
    name = "彭水苗族土家族自治县"
    bar = page.wait_for_function(BAR_CENTRE, arg=[selector, name]).json_value()
    click_in_chart(page, selector, bar["x"], bar["y"])
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{name}工作看板")

    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_contain_text("重庆市工作看板")
    label = next(t for t in chart_texts(page, "chart-breakdown")["texts"] if t["text"] == name)
    click_in_chart(page, selector, label["x"] + label["w"] / 2, label["y"] + label["h"] / 2)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{name}工作看板")


def test_a_district_with_two_towns_gets_a_short_chart_of_two_thin_bars(
    browser_db: Any, desktop_page: Any, shoot: list[Any]
) -> None:
    world = build_city()
    page = desktop_page
    shoot.append(page)
    log_in(page, browser_db, world.district_admin.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("万州区工作看板")

    drawn = chart_texts(page, "chart-breakdown")
    assert_legible(drawn)
    assert top_down(drawn, ["万州1镇", "万州2镇"]) == ["万州1镇", "万州2镇"]  # 66.7 % above 100 %
    assert drawn["height"] <= 200


# --- 关爱类型, 结对覆盖目标, 6+1 ----------------------------------------------------------------------


@pytest.fixture
def district_world(browser_db: Any) -> Any:
    """District A of the dashboard helpers' data set, with the city's proportions of care types
    (about 1 : 17 : 20, many-to-one : one-to-one : group), where the one-to-one label was cut."""
    tree = factories.make_tree()
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou")
    build_world(tree, admin=admin)
    for i in range(14):
        factories.make_child(tree.village_a2, name=f"一{i}", conditions=UNSUPPORTED)
    for i in range(18):
        factories.make_child(tree.village_a2, name=f"团{i}", conditions=BOTH_AWAY)
    return admin


@pytest.mark.parametrize("screen", ["laptop", "phone"])
def test_care_type_donut_names_every_care_type_in_full(
    district_world: Any, browser_db: Any, desktop_page: Any, phone_page: Any, shoot: list[Any], screen: str
) -> None:
    page = desktop_page if screen == "laptop" else phone_page
    shoot.append(page)
    log_in(page, browser_db, district_world.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/dashboard/")
    expect(page.locator("#by-tier tbody tr")).to_have_count(3)

    drawn = chart_texts(page, "chart-tier")
    assert_legible(drawn)
    drawn_text = "".join(t["text"] for t in drawn["texts"])
    for name in table_column(page, "#by-tier"):
        # Each slice names its type (on two lines: 困难关爱 / （一对一）).
        assert drawn_text.count(name.split("（")[0]) >= 1, name
        assert re.sub(r"\s", "", name) in drawn_text, name


CHARTS = [
    "chart-category",
    "chart-tier",
    "chart-coverage",
    "chart-compliance",
    "chart-load",
    "chart-breakdown",
]


@pytest.mark.parametrize("screen", ["phone", "laptop", "big screen"])
def test_no_chart_on_a_district_dashboard_cuts_or_overlaps_its_texts(
    district_world: Any, browser_db: Any, desktop_page: Any, phone_page: Any, shoot: list[Any], screen: str
) -> None:
    page = phone_page if screen == "phone" else desktop_page
    shoot.append(page)
    if screen == "big screen":
        page.set_viewport_size(BIG_SCREEN)
    log_in(page, browser_db, district_world.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/dashboard/")
    expect(page.locator("#compliance tbody tr")).to_have_count(7)

    for chart in CHARTS:
        try:
            assert_legible(chart_texts(page, chart))
        except AssertionError as e:
            raise AssertionError(f"{chart}: {e}") from None


def test_coverage_and_six_plus_one_charts_list_items_top_down_in_the_order_of_their_tables(
    district_world: Any, browser_db: Any, desktop_page: Any, shoot: list[Any]
) -> None:
    page = desktop_page
    shoot.append(page)
    log_in(page, browser_db, district_world.username, factories.PASSWORD)
    page.goto(f"{browser_db.url}/dashboard/")
    expect(page.locator("#compliance tbody tr")).to_have_count(7)

    for chart, table in (("chart-compliance", "#compliance"), ("chart-coverage", "#coverage")):
        rows = table_column(page, table)
        drawn = chart_texts(page, chart)
        assert top_down(drawn, rows) == rows, chart
        assert_legible(drawn)


# --- the header ---------------------------------------------------------------------------------

PHONE_HEADER_ONE_LINE = 56  # px: one line of 44 px links and the bar's padding


def header_targets(page: Any) -> list[tuple[str, dict[str, float]]]:
    """Every link, button and menu summary visible in the header, with its box."""
    found = page.locator("header").locator("a:visible, button:visible, summary:visible").all()
    return [(" ".join(el.inner_text().split()), el.bounding_box()) for el in found]


def assert_thumb_sized(targets: list[tuple[str, dict[str, float]]]) -> None:
    small = [(name, box["width"], box["height"]) for name, box in targets if box["height"] < 40]
    assert not small, f"tap targets under 40 px tall: {small}"


def test_mothers_phone_header_is_one_line_of_thumb_sized_links_with_the_account_in_a_menu(
    browser_db: Any, phone_page: Any, shoot: list[Any]
) -> None:
    from aixin.notify.services import notify

    tree = factories.make_tree()
    mother = factories.make_volunteer(tree.village_a1, name="段莉")
    mother.user.display_name = "段莉"
    mother.user.save(update_fields=["display_name"])
    for n in range(12):  # a two-digit unread count beside 通知
        notify([mother.user], kind="general", title=f"通知{n}", dedupe_key=f"display-{n}")
    page = phone_page
    shoot.append(page)

    log_in(page, browser_db, mother.user.username, factories.PASSWORD)
    expect(page).to_have_url(re.compile(r"/care/mine/$"))
    header = page.locator("header")
    box = header.bounding_box()
    assert box is not None and box["height"] <= PHONE_HEADER_ONE_LINE, box
    targets = header_targets(page)
    assert [name for name, _ in targets] == ["❤ 渝好爱心妈妈", "我的孩子", "通知 未读 12", "账户"]
    assert_thumb_sized(targets)
    assert_fits_phone(page)
    unread = header.get_by_text("未读", exact=True).bounding_box()  # for screen readers only
    assert unread is not None and unread["width"] <= 1, unread

    # 修改密码, 动态验证码 and 退出 are in the 账户 menu, which opens over the page.
    expect(page.get_by_role("link", name="修改密码")).to_be_hidden()
    page.get_by_text("账户", exact=True).click()
    menu = page.locator(".account-panel")
    expect(menu).to_contain_text("段莉 · 爱心妈妈 · 万州1镇1村")
    assert_thumb_sized(header_targets(page))
    assert header.bounding_box() == box
    page.get_by_role("link", name="修改密码").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("修改密码")

    page.get_by_text("账户", exact=True).click()
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login/"))


def test_staff_phone_header_keeps_the_long_menu_on_one_line_that_scrolls_sideways(
    browser_db: Any, phone_page: Any, shoot: list[Any]
) -> None:
    tree = factories.make_tree()
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou")
    page = phone_page
    shoot.append(page)

    log_in(page, browser_db, admin.username, factories.PASSWORD)
    box = page.locator("header").bounding_box()
    assert box is not None and box["height"] <= 2 * PHONE_HEADER_ONE_LINE - 8, box
    assert_thumb_sized(header_targets(page))
    assert_fits_phone(page)
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.evaluate("el => el.scrollWidth > el.clientWidth")
    # A link off to the right is reached by scrolling the menu, not the page.
    nav.get_by_role("link", name="行政区划").click()
    expect(page).to_have_url(re.compile(r"/regions/"))


def test_desktop_header_still_shows_who_is_signed_in_and_the_account_links_in_a_row(
    browser_db: Any, desktop_page: Any, shoot: list[Any]
) -> None:
    tree = factories.make_tree()
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou")
    page = desktop_page
    shoot.append(page)

    log_in(page, browser_db, admin.username, factories.PASSWORD)
    header = page.locator("header")
    expect(header).to_contain_text("wanzhou · 区县妇联工作人员 · 万州区")
    for name in ("修改密码", "动态验证码"):
        expect(header.get_by_role("link", name=name)).to_be_visible()
    expect(header.get_by_role("button", name="退出")).to_be_visible()
    expect(header.get_by_text("账户", exact=True)).to_be_hidden()
    links = header.get_by_role("link", name="修改密码").bounding_box()
    assert links is not None and links["height"] < 30  # text links in a row, as before
