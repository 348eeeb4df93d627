"""The department-import journey in a real browser: a district admin uploads a civil-affairs CSV
on 数据导入, follows the batch while the task queue runs it, reads why a row was rejected,
downloads the rejected rows as Excel and finds the new child in 儿童台账.

The task queue: the live server uses the configured Huey (SQLite storage under DATA_DIR, not
immediate), so an upload only queues the import, as in production. The test gives Huey a storage
of its own (nothing else can take the task, and no earlier task leaks in) and then does what the
consumer does: takes the task from the queue and executes it. While it runs, the page's progress
requests are held by Playwright (a route handler only runs while the test is inside a Playwright
call), so the live server never shares the test database connection with the running import
(on SQLite both threads use one in-memory connection); released afterwards, the next poll finds
the batch done and htmx reloads the page with the results.
"""

from __future__ import annotations

import csv
import datetime
import re
from pathlib import Path
from typing import Any

import pyzipper
from openpyxl import load_workbook
from playwright.sync_api import expect

from aixin.accounts.models import Role
from aixin.ingest.models import BatchStatus, ImportBatch
from aixin.registry.derive import reveal_id_number
from aixin.registry.models import Child
from tests import factories
from tests.browser import helpers
from tests.browser.conftest import log_in
from tests.downloads import PASSWORD

# Fixtures, by name: the live server with the audit triggers lifted only for the flush.
transactional_db = helpers.transactional_db
_restore_after_flush = helpers._restore_after_flush
browser_db = helpers.browser_db
shoot = helpers.shoot
own_queue = helpers.own_queue
run_queued_tasks = helpers.run_queued_tasks

HEADER = [
    "序号",
    "姓名",
    "公民身份号码",
    "乡镇(街道)",
    "村(社区)",
    "儿童类别",
    "父亲情况",
    "母亲情况",
    "监护人",
    "联系电话",
]


def ledger_csv(path: Path, tree: factories.Tree) -> list[str]:
    """Three good rows in the tree's villages and one with a mistyped ID number; returns the
    ID numbers of the good rows."""
    today = datetime.date.today()
    births = [today.replace(year=today.year - age, day=1) for age in (7, 9, 11, 8)]
    numbers = [factories.id_number(b, region_code="500101", seq=700 + i) for i, b in enumerate(births)]
    wrong = numbers[3][:17] + ("0" if numbers[3][17] != "0" else "1")
    rows = [
        [
            1,
            "向小梅",
            numbers[0],
            "万州1镇",
            "万州1镇1村",
            "农村留守儿童",
            "外出务工",
            "外出务工",
            "向奶奶",
            "13800001111",
        ],
        [
            2,
            "田大山",
            numbers[1],
            "万州1",
            "万州1镇2村",
            "农村留守儿童",
            "外出务工",
            "外出务工",
            "田爷爷",
            "13800002222",
        ],
        [3, "冉秋菊", numbers[2], "万州2镇", "万州2镇1村", "其他困境儿童", "", "", "冉妈妈", "13800003333"],
        [
            4,
            "错号娃",
            wrong,
            "万州1镇",
            "万州1镇1村",
            "农村留守儿童",
            "外出务工",
            "外出务工",
            "错奶奶",
            "13800004444",
        ],
    ]
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return numbers[:3]


def kpi(page: Any, label: str) -> Any:
    return page.locator("#batch-counts .grid > div").filter(has_text=label).locator(".kpi")


def test_a_district_admin_uploads_a_ledger_follows_it_and_finds_the_new_children(
    browser_db: Any, desktop_page: Any, shoot: list[Any], own_queue: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path / "data"
    tree = factories.make_tree()
    factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou_admin")
    ledger = tmp_path / "万州区民政台账.csv"
    good_numbers = ledger_csv(ledger, tree)
    page = desktop_page
    shoot.append(page)
    # Progress polls are held while the import runs, and let through afterwards.
    gate = helpers.PollGate(page, r"/imports/\d+/progress/")

    log_in(page, browser_db, "wanzhou_admin", factories.PASSWORD)
    page.get_by_role("link", name="数据导入").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("数据导入")
    page.get_by_label("数据来源").select_option(label="民政")
    page.set_input_files("input[type=file]", str(ledger))
    page.get_by_role("button", name="开始导入").click()

    # The batch page: queued, nothing processed yet, polling.
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    batch = ImportBatch.objects.get()
    assert page.url.endswith(f"/imports/{batch.pk}/")
    expect(page.locator(".messages")).to_contain_text("文件已提交导入")
    progress = page.locator("#batch-progress")
    expect(progress).to_contain_text("排队中")
    expect(progress).to_contain_text("已处理 0 / 共 4 行")
    assert batch.status == BatchStatus.QUEUED and not Child.objects.exists()

    gate.hold()
    assert run_queued_tasks(own_queue) == 1
    gate.release()

    # The next poll finds the batch done; htmx reloads the page with the results.
    expect(page.locator("#batch-counts")).to_be_visible()
    expect(page.locator("#batch-progress")).to_contain_text("已完成")
    expect(page.locator("#batch-progress")).to_contain_text("已处理 4 / 共 4 行")
    expect(kpi(page, "新增")).to_have_text("3")
    expect(kpi(page, "拒绝")).to_have_text("1")
    rejected = page.locator("#rejections tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.locator("td").first).to_have_text("5")  # the file's row 5 (row 1 is the header)
    expect(rejected).to_contain_text("公民身份号码")
    expect(rejected).to_contain_text("身份证号校验位不正确")

    # The rejected rows as Excel: the original cells with the reason, ready to fix and re-upload.
    # They hold personal data, so they come in a password-protected archive.
    page.get_by_role("link", name="下载全部拒绝行（Excel）").click()
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_confirm]", PASSWORD)
    with page.expect_download() as info:
        page.get_by_role("button", name="下载加密压缩包").click()
    download = info.value
    assert download.suggested_filename.endswith(".zip")
    archive_path = tmp_path / "rejected.zip"
    download.save_as(archive_path)
    with pyzipper.AESZipFile(archive_path) as archive:
        archive.setpassword(PASSWORD.encode())
        (inner,) = archive.namelist()
        saved = tmp_path / "rejected.xlsx"
        saved.write_bytes(archive.read(inner))
    sheet = load_workbook(saved).active
    assert sheet is not None
    rows = [[str(c) if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0].startswith("导出人：")  # the watermark: who exported it, and when
    assert rows[1][0] == "行号" and rows[1][-2:] == ["出错列", "原因"]
    assert len(rows) == 3 and "错号娃" in rows[2] and "校验位不正确" in rows[2][-1]

    # The new children are in the register (back from the export's password page).
    page.get_by_role("link", name="返回").click()
    page.get_by_role("link", name="查看儿童台账").click()
    expect(page).to_have_url(re.compile(r"/children/"))
    for name in ("向小梅", "田大山", "冉秋菊"):
        expect(page.locator("main")).to_contain_text(name)
    expect(page.locator("main")).not_to_contain_text("错号娃")
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, batch.rejected_count) == (BatchStatus.DONE, 3, 1)
    assert Child.objects.filter(district=tree.district_a).count() == 3
    assert {reveal_id_number(c) for c in Child.objects.all()} == set(good_numbers)
