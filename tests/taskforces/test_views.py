"""The task-force pages through HTTP: the page, htmx notes and completion, the member's home,
the missing list, the child-file panel, and 404 for staff of another district."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aixin.audit.models import AuditEvent
from aixin.taskforces import services
from aixin.taskforces.models import ActionNote, ActionStatus, CarePlan, TaskForce, TaskForceMember
from tests.taskforces.helpers import (
    TODAY,
    complete_taskforce,
    member_login,
    risky_child,
    taskforce_for,
)


@pytest.fixture
def setup(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1, name="赵小虎")
    taskforce = complete_taskforce(child, admin)
    teacher = taskforce.members.get(role="teacher")
    action = services.action_add(
        actor=admin, taskforce_id=taskforce.pk, title="学业辅导", owner_id=teacher.pk, due_on=TODAY
    )
    return {"child": child, "taskforce": taskforce, "teacher": teacher, "action": action}


def test_staff_in_scope_open_the_task_force_page_and_the_view_is_audited(setup, users, login):
    client = login(users["town_supervisor"])

    response = client.get(reverse("taskforces:taskforce_detail", args=[setup["taskforce"].pk]))

    text = response.content.decode()
    assert response.status_code == 200
    assert "赵小虎的工作专班" in text and "孙老师" in text and "学业辅导" in text
    assert AuditEvent.objects.filter(
        actor=users["town_supervisor"], action="view", object_type="child", object_id=str(setup["child"].pk)
    ).exists()


def test_the_city_admin_says_why_before_the_task_force_page_shows_and_the_reason_is_audited(
    setup, users, login
):
    """The page shows the child's file; the city supervises and owns no case (R-12.5)."""
    city = users["city_admin"]
    client = login(city)
    url = reverse("taskforces:taskforce_detail", args=[setup["taskforce"].pk])

    asked = client.get(url)
    assert asked.status_code == 200
    assert "查看原因" in asked.content.decode() and "孙老师" not in asked.content.decode()
    assert not AuditEvent.objects.filter(actor=city, action="view").exists()

    given = client.post(url, {"choice": "督导检查"})
    assert given.status_code == 302 and given["Location"] == url
    page = client.get(url).content.decode()
    assert "赵小虎的工作专班" in page and "孙老师" in page
    event = AuditEvent.objects.get(actor=city, action="view", object_id=str(setup["child"].pk))
    assert event.details == {"reason": "督导检查"}


def test_the_district_that_owns_the_case_opens_the_task_force_page_without_a_reason(setup, users, login):
    page = login(users["district_admin"]).get(
        reverse("taskforces:taskforce_detail", args=[setup["taskforce"].pk])
    )

    assert "孙老师" in page.content.decode() and "查看原因" not in page.content.decode()


def test_staff_of_another_district_get_not_found_and_change_nothing(setup, users, login):
    client = login(users["district_b_admin"])
    tf, action, teacher = setup["taskforce"], setup["action"], setup["teacher"]

    assert client.get(reverse("taskforces:taskforce_detail", args=[tf.pk])).status_code == 404
    assert client.post(reverse("taskforces:note_add", args=[action.pk]), {"text": "x"}).status_code == 404
    assert client.post(reverse("taskforces:action_complete", args=[action.pk])).status_code == 404
    assert client.post(reverse("taskforces:member_remove", args=[teacher.pk])).status_code == 404
    assert client.post(reverse("taskforces:step_down", args=[tf.pk]), {"reason": "x"}).status_code == 404
    assert (
        client.post(
            reverse("taskforces:member_add", args=[tf.pk]), {"role": "doctor", "name": "外人"}
        ).status_code
        == 404
    )

    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN
    assert not ActionNote.objects.exists()
    assert TaskForceMember.objects.filter(taskforce=tf, removed_at__isnull=True).count() == 2
    assert TaskForce.objects.get(pk=tf.pk).status == "active"


def test_a_member_adds_a_note_with_htmx_and_gets_the_updated_action(setup, users, login):
    user = member_login(setup["teacher"], users["district_admin"])
    client = login(user)

    response = client.post(
        reverse("taskforces:note_add", args=[setup["action"].pk]),
        {"text": "周三辅导了数学"},
        HTTP_HX_REQUEST="true",
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert text.startswith('<li id="action-') and "周三辅导了数学" in text and "孙老师（教师）" in text


def test_an_empty_note_shows_the_reason_in_the_fragment(setup, users, login):
    client = login(users["district_admin"])

    response = client.post(
        reverse("taskforces:note_add", args=[setup["action"].pk]), {"text": " "}, HTTP_HX_REQUEST="true"
    )

    assert "请填写进展情况" in response.content.decode()
    assert not ActionNote.objects.exists()


def test_the_owner_completes_the_action_with_htmx(setup, users, login):
    user = member_login(setup["teacher"], users["district_admin"])
    client = login(user)

    response = client.post(
        reverse("taskforces:action_complete", args=[setup["action"].pk]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200 and "已完成" in response.content.decode()
    setup["action"].refresh_from_db()
    assert setup["action"].status == ActionStatus.DONE


def test_a_member_opens_only_their_own_task_force(setup, tree, users, login):
    admin = users["district_admin"]
    other = taskforce_for(risky_child(tree.village_a1, name="钱小红"), admin)
    user = member_login(setup["teacher"], admin)
    client = login(user)

    assert client.get(reverse("taskforces:taskforce_detail", args=[setup["taskforce"].pk])).status_code == 200
    assert client.get(reverse("taskforces:taskforce_detail", args=[other.pk])).status_code == 404
    home = client.get(reverse("taskforces:mine")).content.decode()
    assert "赵小虎" in home and "钱小红" not in home


def test_a_member_cannot_manage_the_task_force(setup, users, login):
    user = member_login(setup["teacher"], users["district_admin"])
    client = login(user)

    response = client.post(
        reverse("taskforces:member_add", args=[setup["taskforce"].pk]), {"role": "doctor", "name": "王医生"}
    )

    assert response.status_code == 403
    assert not TaskForceMember.objects.filter(name="王医生").exists()


def test_the_child_file_offers_a_task_force_to_a_many_to_one_child_without_one(tree, users, login):
    child = risky_child(tree.village_a1, name="周小川")
    client = login(users["district_admin"])

    page = client.get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    assert "未建立工作专班" in page and reverse("taskforces:taskforce_create", args=[child.pk]) in page

    response = client.post(reverse("taskforces:taskforce_create", args=[child.pk]))

    taskforce = TaskForce.objects.get(child=child)
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("taskforces:taskforce_detail", args=[taskforce.pk])
    )


def test_the_missing_list_shows_what_each_child_lacks(setup, tree, users, login):
    risky_child(tree.village_a2, name="周小川")
    risky_child(tree.village_b1, name="外区县")
    client = login(users["district_admin"])

    text = client.get(reverse("taskforces:missing_list")).content.decode()

    assert "周小川" in text and "未建立工作专班" in text
    assert "赵小虎" not in text and "外区县" not in text


def test_the_missing_list_of_another_district_is_not_found(users, login):
    client = login(users["district_admin"])

    assert client.get(reverse("taskforces:missing_list") + "?region=500102").status_code == 404


def test_the_missing_panel_renders_for_the_staff_home(setup, tree, users, rf):
    from django.template import Context, Template

    risky_child(tree.village_a2, name="周小川")
    request = rf.get("/")
    request.user = users["district_admin"]

    html = Template("{% load taskforces %}{% taskforce_missing_panel region %}").render(
        Context({"request": request, "region": tree.district_a})
    )

    assert "周小川" in html and "未建立工作专班" in html and 'data-count="1"' in html


def test_step_down_page_refuses_while_risk_flags_are_set(setup, users, login):
    client = login(users["district_admin"])

    response = client.post(
        reverse("taskforces:step_down", args=[setup["taskforce"].pk]), {"reason": "表现良好"}
    )

    assert response.status_code == 200
    assert "仍有风险标记" in response.content.decode()
    assert TaskForce.objects.get(pk=setup["taskforce"].pk).status == "active"


def test_a_member_log_in_is_shown_once_and_not_cached(setup, users, login):
    client = login(users["district_admin"])
    police = setup["taskforce"].members.get(role="police")

    response = client.post(reverse("taskforces:member_login_create", args=[police.pk]))

    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    police.refresh_from_db()
    assert police.user.username in response.content.decode()


def test_a_plan_edited_from_a_stale_page_shows_the_conflict(setup, users, login):
    client = login(users["district_admin"])
    url = reverse("taskforces:plan_edit", args=[setup["taskforce"].pk])
    client.post(url, {"goals": "第一版", "version": 1})

    response = client.post(url, {"goals": "旧页面上的修改", "version": 1})

    assert response.status_code == 200 and "已被他人修改" in response.content.decode()
    assert CarePlan.objects.get(taskforce=setup["taskforce"]).goals == "第一版"


def test_an_admin_adds_a_member_and_gives_them_an_action_from_the_page(setup, users, login):
    client = login(users["district_admin"])
    taskforce = setup["taskforce"]
    page = client.get(reverse("taskforces:taskforce_detail", args=[taskforce.pk])).content.decode()
    assert "添加成员" in page and "新增措施" in page and "转为一对一关爱" in page

    client.post(
        reverse("taskforces:member_add", args=[taskforce.pk]),
        {"role": "doctor", "name": "王医生", "organisation": "镇卫生院", "phone": "13700001111"},
    )
    doctor = TaskForceMember.objects.get(taskforce=taskforce, name="王医生")
    client.post(
        reverse("taskforces:action_add", args=[taskforce.pk]),
        {"title": "健康检查", "owner": doctor.pk, "due_on": TODAY.isoformat()},
    )

    page = client.get(reverse("taskforces:taskforce_detail", args=[taskforce.pk])).content.decode()
    assert "王医生" in page and "137****1111" in page and "13700001111" not in page
    assert taskforce.plan.actions.get(title="健康检查").owner == doctor


def test_a_member_sees_the_plan_but_no_management_forms(setup, users, login):
    client = login(member_login(setup["teacher"], users["district_admin"]))

    page = client.get(reverse("taskforces:taskforce_detail", args=[setup["taskforce"].pk])).content.decode()

    assert "学业辅导" in page and "添加进展" in page and "标记完成" in page
    assert "添加成员" not in page and "转为一对一关爱" not in page and "撤销措施" not in page
