"""The task-force journey in a real browser (工作专班): a district admin sets up the task force of
a child in many-to-one care from the child's file, adds the members the page says are missing
until it is complete, writes the plan's goals and gives a member an action; a member given a
log-in on the task-force page signs in on her phone, adds a progress note and marks her action
done.

Member, plan and action forms are plain forms (a POST and a redirect back to the task-force
page, which shows the outcome); a progress note and 标记完成 are posted by htmx and the action's
`<li id="action-N">` is swapped in place.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from playwright.sync_api import expect

from aixin.accounts.models import Role
from aixin.registry.models import CareTier
from aixin.taskforces import selectors, services
from aixin.taskforces.models import ActionNote, ActionStatus, MemberRole, PlanAction, TaskForce
from tests import factories
from tests.browser import helpers
from tests.browser.conftest import log_in
from tests.taskforces.helpers import TODAY, complete_taskforce, risky_child

# Fixtures, by name: the live server with the append-only triggers lifted only for the flush.
transactional_db = helpers.transactional_db
_restore_after_flush = helpers._restore_after_flush
browser_db = helpers.browser_db
shoot = helpers.shoot

NEW_PASSWORD = "Xin-mima-2026!"


def add_member(page: Any, role: str, name: str, organisation: str = "", phone: str = "") -> None:
    """Fill 添加成员 on the task-force page and submit it."""
    members = page.locator("#members")
    members.get_by_text("+ 添加成员").click()
    form = members.locator("form").filter(has=page.get_by_role("button", name="添加", exact=True))
    form.get_by_label("专班角色").select_option(label=role)
    form.get_by_label("姓名", exact=True).fill(name)
    form.get_by_label("工作单位").fill(organisation)
    form.get_by_label("联系电话").fill(phone)
    form.get_by_role("button", name="添加", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"已添加成员{name}")


def member_row(page: Any, name: str) -> Any:
    return page.locator("#members tbody tr").filter(has_text=name)


def test_a_district_admin_sets_up_the_task_force_from_the_childs_file_until_it_is_complete_with_a_plan(
    browser_db: Any, desktop_page: Any, shoot: list[Any]
) -> None:
    tree = factories.make_tree()
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou_admin")
    child = risky_child(tree.village_a1, name="赵小虎")
    assert child.care_tier == CareTier.MANY_TO_ONE
    # What the page below asks for: a loving mother, a teacher or social worker, a police officer.
    assert selectors.required_groups() == [("loving_mother",), ("teacher", "social_worker"), ("police",)]
    due = TODAY + datetime.timedelta(days=14)
    page = desktop_page
    shoot.append(page)

    # 工作专班 lists the child as lacking a task force; her file offers to set one up.
    log_in(page, browser_db, admin.username, factories.PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作专班").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("万州区 · 专班缺失/不完整")
    listed = page.locator("#missing-taskforces tbody tr").filter(has_text="赵小虎")
    expect(listed.locator("td.error")).to_have_text("未建立工作专班")
    listed.get_by_role("link", name="赵小虎").click()
    expect(page).to_have_url(re.compile(rf"/children/{child.pk}/$"))
    panel = page.locator("#taskforce-panel")
    expect(panel.locator("[data-missing]")).to_have_text("未建立工作专班")
    panel.get_by_role("button", name="建立工作专班").click()

    # The new task force's page: incomplete, nobody in it yet, no plan.
    expect(page).to_have_url(re.compile(r"/taskforces/\d+/$"))
    taskforce = TaskForce.objects.get(child=child)
    assert page.url.endswith(f"/taskforces/{taskforce.pk}/")
    expect(page.locator(".messages")).to_contain_text("已建立工作专班，请添加成员并制定帮扶方案")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("赵小虎的工作专班")
    expect(heading.locator(".badge")).to_have_text("不完整")
    missing = page.locator("#taskforce-missing")
    expect(missing).to_have_text("缺少爱心妈妈；缺少教师或社会工作者；缺少民警")
    expect(page.locator("#members tbody tr")).to_have_text(["尚未添加成员"])
    plan = page.locator("#plan")
    expect(plan).to_contain_text("尚未填写帮扶目标")
    expect(plan.locator("ul.taskforce-actions")).to_have_text("尚未制定帮扶措施")
    expect(plan.get_by_text("请先添加专班成员，再为其分配帮扶措施。")).to_be_visible()
    expect(plan.get_by_text("+ 新增措施")).to_have_count(0)

    # Each member added takes their group off the missing message, until none is left.
    add_member(page, "教师", "孙老师", organisation="镇中心小学")
    expect(missing).to_have_text("缺少爱心妈妈；缺少民警")
    expect(heading.locator(".badge")).to_have_text("不完整")
    add_member(page, "民警", "李警官", organisation="派出所", phone="13912345678")
    expect(missing).to_have_text("缺少爱心妈妈")
    add_member(page, "爱心妈妈", "钱妈妈")
    expect(missing).to_have_count(0)
    expect(heading.locator(".badge")).to_have_text("完整")

    # The member list: role, name, organisation, the phone masked.
    expect(page.locator("#members tbody tr")).to_have_count(3)
    # In the order the roles are listed, not by their codes.
    expect(page.locator("#members tbody tr td:first-child")).to_have_text(["教师", "民警", "爱心妈妈"])
    for name, cells in (
        ("孙老师", ["教师", "孙老师", "镇中心小学", "—"]),
        ("李警官", ["民警", "李警官", "派出所", "139****5678"]),
        ("钱妈妈", ["爱心妈妈", "钱妈妈", "—", "—"]),
    ):
        expect(member_row(page, name).locator("td").nth(0)).to_have_text(cells[0])
        expect(member_row(page, name).locator("td").nth(1)).to_have_text(cells[1])
        expect(member_row(page, name).locator("td").nth(2)).to_have_text(cells[2])
        expect(member_row(page, name).locator("td").nth(3)).to_have_text(cells[3])
    expect(page.locator("#members")).not_to_contain_text("13912345678")

    # The plan's goals.
    plan.get_by_role("link", name="编辑帮扶方案").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("编辑帮扶方案")
    page.get_by_label("帮扶目标与措施概要").fill("每周家访一次，稳定情绪\n学业跟上同龄人")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("帮扶方案已保存")
    expect(plan.locator(".plan-goals")).to_contain_text("每周家访一次，稳定情绪")
    expect(plan.locator(".plan-goals")).to_contain_text("学业跟上同龄人")
    expect(plan).not_to_contain_text("尚未填写帮扶目标")

    # An action for the teacher, chosen among the members, with its due date.
    plan.get_by_text("+ 新增措施").click()
    owner = plan.get_by_label("负责人")
    expect(owner.locator("option")).to_have_text(["孙老师（教师）", "李警官（民警）", "钱妈妈（爱心妈妈）"])
    plan.get_by_label("帮扶措施", exact=True).fill("每周两次学业辅导")
    owner.select_option(label="孙老师（教师）")
    plan.get_by_label("完成期限").fill(due.isoformat())
    plan.get_by_role("button", name="新增", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已新增帮扶措施")
    actions = plan.locator("li.taskforce-action")
    expect(actions).to_have_count(1)
    expect(actions.locator("strong")).to_have_text("每周两次学业辅导")
    expect(actions.locator(".badge")).to_have_text("进行中")
    expect(actions.locator(".muted").first).to_have_text(f"负责人：孙老师（教师） · 期限 {due.isoformat()}")

    action = PlanAction.objects.get(plan__taskforce=taskforce)
    assert (action.title, action.owner.name, action.due_on, action.status) == (
        "每周两次学业辅导",
        "孙老师",
        due,
        ActionStatus.OPEN,
    )
    assert sorted(taskforce.members.values_list("role", flat=True)) == sorted(
        [MemberRole.TEACHER, MemberRole.POLICE, MemberRole.LOVING_MOTHER]
    )

    # Back on the child's file: the task force is complete, no longer offered to be set up.
    page.get_by_role("link", name="← 儿童档案").click()
    expect(page).to_have_url(re.compile(rf"/children/{child.pk}/$"))
    expect(panel.locator("h2 .badge")).to_have_text("完整")
    expect(panel.locator("[data-missing]")).to_have_count(0)
    expect(panel.get_by_role("button", name="建立工作专班")).to_have_count(0)
    expect(panel.get_by_role("link", name="查看专班与帮扶方案")).to_be_visible()


def test_a_member_given_a_log_in_adds_a_note_and_completes_her_own_action_in_place(
    browser_db: Any, desktop_page: Any, phone_page: Any, shoot: list[Any]
) -> None:
    tree = factories.make_tree()
    admin = factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "wanzhou_admin")
    child = risky_child(tree.village_a1, name="赵小虎")
    taskforce = complete_taskforce(child, admin)  # 钱妈妈 (pairing), 孙老师 (teacher), 李警官 (police)
    teacher = taskforce.members.get(role=MemberRole.TEACHER)
    police = taskforce.members.get(role=MemberRole.POLICE)
    tutoring = services.action_add(
        actor=admin,
        taskforce_id=taskforce.pk,
        title="每周两次学业辅导",
        owner_id=teacher.pk,
        due_on=TODAY + datetime.timedelta(days=7),
    )
    safety = services.action_add(
        actor=admin,
        taskforce_id=taskforce.pk,
        title="安全教育讲座",
        owner_id=police.pk,
        due_on=TODAY + datetime.timedelta(days=10),
    )
    shoot.extend([desktop_page, phone_page])
    taskforce_url = f"{browser_db.url}/taskforces/{taskforce.pk}/"

    # The admin opens a log-in for the teacher: shown once, with a temporary password.
    log_in(desktop_page, browser_db, admin.username, factories.PASSWORD)
    desktop_page.goto(taskforce_url)
    member_row(desktop_page, "孙老师").get_by_role("button", name="开通账号").click()
    expect(desktop_page.get_by_role("heading", level=1)).to_have_text("已开通登录账号")
    account = desktop_page.locator("dl.facts dd strong")
    username, password = account.nth(0).inner_text(), account.nth(1).inner_text()
    teacher.refresh_from_db()
    assert teacher.user is not None and teacher.user.username == username
    assert teacher.user.role == Role.TASKFORCE_MEMBER and teacher.user.must_change_password
    assert len(password) == 10
    desktop_page.get_by_role("link", name="返回工作专班").click()
    expect(member_row(desktop_page, "孙老师")).to_contain_text("已开通账号")
    expect(member_row(desktop_page, "孙老师").get_by_role("button", name="开通账号")).to_have_count(0)
    expect(member_row(desktop_page, "李警官").get_by_role("button", name="开通账号")).to_be_visible()
    expect(desktop_page.locator("body")).not_to_contain_text(password)

    # The teacher signs in on her phone, sets her own password, lands on 我参与的专班.
    log_in(phone_page, browser_db, username, password)
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("修改密码")
    expect(phone_page.get_by_role("alert")).to_contain_text("你正在使用管理员设置的初始密码")
    phone_page.get_by_label("原密码").fill(password)
    phone_page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    phone_page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    phone_page.get_by_role("button", name="保存新密码").click()
    expect(phone_page).to_have_url(re.compile(r"/taskforces/mine/$"))
    expect(phone_page.locator(".messages")).to_contain_text("密码已修改")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("我参与的专班")
    mine = phone_page.locator("#my-taskforces tbody tr")
    expect(mine).to_have_count(1)
    expect(mine.locator("td")).to_have_text(["赵小虎", "万州1镇 万州1镇1村", "2", "0"])

    # Her task force: she may write notes, not manage it; 标记完成 only on the action she owns.
    mine.get_by_role("link", name="赵小虎").click()
    expect(phone_page).to_have_url(re.compile(rf"/taskforces/{taskforce.pk}/$"))
    expect(phone_page.get_by_role("heading", level=1)).to_contain_text("赵小虎的工作专班")
    expect(phone_page.get_by_text("+ 添加成员")).to_have_count(0)
    expect(phone_page.get_by_role("link", name="编辑帮扶方案")).to_have_count(0)
    own = phone_page.locator(f"#action-{tutoring.pk}")
    others = phone_page.locator(f"#action-{safety.pk}")
    expect(others).to_contain_text("负责人：李警官（民警）")
    expect(others.get_by_role("button", name="添加进展")).to_be_visible()
    expect(others.get_by_role("button", name="标记完成")).to_have_count(0)
    expect(own.get_by_role("button", name="标记完成")).to_be_visible()

    # A progress note: the action is swapped in place, the page is not reloaded.
    phone_page.evaluate("window.journeyMark = 1")
    expect(own.locator("ol.notes > li")).to_have_count(0)
    own.get_by_label("填写进展").fill("周三放学后辅导了数学，作业已补齐")
    own.get_by_role("button", name="添加进展").click()
    notes = own.locator("ol.notes > li")
    expect(notes).to_have_count(1)
    expect(notes).to_contain_text("孙老师（教师）")
    expect(notes).to_contain_text("周三放学后辅导了数学，作业已补齐")
    expect(own.get_by_label("填写进展")).to_have_value("")
    assert phone_page.evaluate("window.journeyMark") == 1

    # 标记完成: the badge says so, in place; the button is gone, the note stays.
    own.get_by_role("button", name="标记完成").click()
    expect(own.locator(".badge")).to_have_text("已完成")
    expect(own).to_contain_text(f"完成于 {TODAY.isoformat()}")
    expect(own.get_by_role("button", name="标记完成")).to_have_count(0)
    expect(own.locator("ol.notes > li")).to_have_count(1)
    expect(others.locator(".badge")).to_have_text("进行中")
    assert phone_page.evaluate("window.journeyMark") == 1

    tutoring.refresh_from_db()
    assert (tutoring.status, tutoring.done_on, tutoring.closed_by_id) == (
        ActionStatus.DONE,
        TODAY,
        teacher.user.pk,
    )
    note = ActionNote.objects.get()
    assert (note.action_id, note.author_id) == (tutoring.pk, teacher.user.pk)
    assert note.author_label == "孙老师（教师）"
    safety.refresh_from_db()
    assert safety.status == ActionStatus.OPEN

    # The admin's page, reloaded, shows the same: the open action first, then the done one.
    desktop_page.reload()
    listed = desktop_page.locator("li.taskforce-action")
    expect(listed).to_have_count(2)
    expect(listed.nth(0).locator("strong")).to_have_text("安全教育讲座")
    expect(listed.nth(1).locator("strong")).to_have_text("每周两次学业辅导")
    expect(listed.nth(1).locator(".badge")).to_have_text("已完成")
    expect(listed.nth(1).locator("ol.notes")).to_contain_text("周三放学后辅导了数学，作业已补齐")
