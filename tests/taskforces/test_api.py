"""The task-force API: GET /api/v1/taskforces (scoped, filtered, paginated), GET /taskforces/{id}
(masked phones, plan, actions and notes), POST /taskforces/actions/{id}/notes and .../complete."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse

from aixin.audit.models import AuditEvent
from aixin.pairing.models import Pairing
from aixin.taskforces import services
from aixin.taskforces.models import ActionNote, ActionStatus, PlanAction, TaskForce
from tests.taskforces.helpers import TODAY, complete_taskforce, member_login, risky_child, taskforce_for

CLEAR_PHONE = "13912345678"  # the police officer's, as complete_taskforce adds him


def _post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def _list(client, **params):
    return client.get(reverse("api:taskforces_list"), params)


def _detail(client, taskforce):
    return client.get(reverse("api:taskforces_detail", args=[taskforce.pk]))


def _note_url(action):
    return reverse("api:taskforces_note_add", args=[action.pk])


def _complete_url(action):
    return reverse("api:taskforces_action_complete", args=[action.pk])


@pytest.fixture
def setup(tree, users):
    """赵小虎's complete task force in district A (the mother 钱妈妈 paired, teacher 孙老师 owning
    one open action, police officer 李警官 with a phone), and 外区县's task force in district B."""
    admin = users["district_admin"]
    child = risky_child(tree.village_a1, name="赵小虎")
    taskforce = complete_taskforce(child, admin)
    teacher = taskforce.members.get(role="teacher")
    police = taskforce.members.get(role="police")
    action = services.action_add(
        actor=admin, taskforce_id=taskforce.pk, title="学业辅导", owner_id=teacher.pk, due_on=TODAY
    )
    foreign = taskforce_for(risky_child(tree.village_b1, name="外区县"), users["district_b_admin"])
    return {
        "child": child,
        "taskforce": taskforce,
        "teacher": teacher,
        "police": police,
        "action": action,
        "foreign": foreign,
    }


# ---------------------------------------------------------------------------------------------
# The list


def test_a_district_admin_lists_only_the_task_forces_of_their_district(setup, users, login):
    data = _list(login(users["district_admin"])).json()

    assert data["count"] == 1
    assert [i["child_name"] for i in data["items"]] == ["赵小虎"]
    assert "外区县" not in json.dumps(data, ensure_ascii=False)


def test_the_city_lists_the_task_forces_of_every_district(setup, users, login):
    data = _list(login(users["city_admin"])).json()

    assert data["count"] == 2
    assert {i["child_name"] for i in data["items"]} == {"赵小虎", "外区县"}


def test_each_listed_task_force_shows_its_members_completeness_plan_date_and_action_counts(
    setup, users, login
):
    PlanAction.objects.filter(pk=setup["action"].pk).update(due_on=TODAY - datetime.timedelta(days=3))

    item = _list(login(users["district_admin"])).json()["items"][0]

    assert item["id"] == setup["taskforce"].pk and item["child_id"] == setup["child"].pk
    assert (item["status"], item["status_label"]) == ("active", "工作中")
    assert (item["member_count"], item["complete"], item["missing"]) == (2, True, [])
    assert (item["open_actions"], item["overdue_actions"]) == (1, 1)
    assert item["plan_updated_at"] is not None
    assert (item["district"], item["town"], item["village"]) == ("万州区", "万州1镇", "万州1镇1村")


def test_an_incomplete_task_force_is_listed_with_what_it_lacks(setup, tree, users, login):
    bare = taskforce_for(risky_child(tree.village_a2, name="周小川"), users["district_admin"])

    items = _list(login(users["district_admin"])).json()["items"]

    row = next(i for i in items if i["id"] == bare.pk)
    assert (row["member_count"], row["complete"]) == (0, False)
    assert "缺少民警" in row["missing"]


def test_the_list_filters_by_status_and_by_region(setup, tree, users, login):
    other = taskforce_for(risky_child(tree.village_a2, name="周小川"), users["district_admin"])
    TaskForce.objects.filter(pk=other.pk).update(status="stood_down")
    client = login(users["district_admin"])

    stood_down = _list(client, status="stood_down").json()
    assert [i["child_name"] for i in stood_down["items"]] == ["周小川"]
    assert stood_down["items"][0]["status_label"] == "已撤销（转为一对一）"
    assert [i["child_name"] for i in _list(client, status="active").json()["items"]] == ["赵小虎"]
    assert _list(client).json()["count"] == 2
    in_village = _list(client, region=tree.village_a2.code).json()
    assert [i["child_name"] for i in in_village["items"]] == ["周小川"]
    assert _list(client, region=tree.town_a1.code).json()["count"] == 1


def test_a_region_of_another_district_is_not_found_in_chinese(setup, tree, users, login):
    response = _list(login(users["district_admin"]), region=tree.district_b.code)

    assert response.status_code == 404
    assert response.json()["detail"] == "区划不存在或不在你的管辖范围内"


def test_an_unknown_status_is_refused_in_chinese_naming_the_field(setup, users, login):
    response = _list(login(users["district_admin"]), status="closed")

    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "status" and "状态“closed”无效" in body["detail"]


def test_pages_are_limited_and_an_offset_beyond_the_end_is_an_empty_page(setup, tree, users, login):
    for name in ("周小川", "吴小北"):
        taskforce_for(risky_child(tree.village_a2, name=name), users["district_admin"])
    client = login(users["district_admin"])

    first = _list(client, limit=2).json()
    second = _list(client, limit=2, offset=2).json()
    assert (first["count"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    assert _list(client, limit=100_000).json()["limit"] == 200
    beyond = _list(client, limit=10, offset=str(2**66))
    assert beyond.status_code == 200 and beyond.json()["items"] == []


def test_a_member_lists_only_the_task_forces_they_sit_on(setup, tree, users, login):
    taskforce_for(risky_child(tree.village_a1, name="钱小红"), users["district_admin"])
    client = login(member_login(setup["teacher"], users["district_admin"]))

    assert [i["child_name"] for i in _list(client).json()["items"]] == ["赵小虎"]


# ---------------------------------------------------------------------------------------------
# One task force


def test_the_detail_shows_masked_phones_and_never_the_clear_phone(setup, users, login):
    response = _detail(login(users["town_supervisor"]), setup["taskforce"])

    assert response.status_code == 200
    assert CLEAR_PHONE not in response.content.decode()
    police = next(m for m in response.json()["members"] if m["role"] == "police")
    assert police["phone_masked"] == "139****5678"
    assert (police["role_label"], police["name"], police["organisation"]) == ("民警", "李警官", "派出所")
    assert set(police) == {"id", "role", "role_label", "name", "organisation", "phone_masked", "has_login"}


def test_the_detail_shows_the_child_the_plan_and_the_actions(setup, users, login):
    data = _detail(login(users["district_admin"]), setup["taskforce"]).json()

    assert data["child"] == {"id": setup["child"].pk, "name": "赵小虎"}
    assert (data["status"], data["complete"], data["missing"]) == ("active", True, [])
    assert data["plan"]["updated_at"] is not None
    [action] = data["actions"]
    assert (action["title"], action["owner"]["name"], action["owner"]["role_label"]) == (
        "学业辅导",
        "孙老师",
        "教师",
    )
    assert (action["status"], action["status_label"], action["due_on"]) == (
        "open",
        "进行中",
        TODAY.isoformat(),
    )
    assert (action["can_complete"], action["notes"]) == (True, [])


def test_opening_a_task_force_through_the_api_is_audited(setup, users, login):
    _detail(login(users["town_supervisor"]), setup["taskforce"])

    assert AuditEvent.objects.filter(
        actor=users["town_supervisor"], action="view", object_type="child", object_id=str(setup["child"].pk)
    ).exists()


def test_someone_who_cannot_see_a_task_force_gets_not_found_on_the_detail_and_on_a_note(setup, users, login):
    client = login(users["district_b_admin"])

    detail = _detail(client, setup["taskforce"])
    note = _post(client, _note_url(setup["action"]), {"text": "外区县的人写的"})

    assert (detail.status_code, note.status_code) == (404, 404)
    assert detail.json()["detail"] == note.json()["detail"] == "记录不存在或不在你的管辖范围内"
    assert "赵小虎" not in detail.content.decode() + note.content.decode()
    assert not ActionNote.objects.exists()


def test_a_member_of_another_task_force_gets_not_found(setup, tree, users, login):
    admin = users["district_admin"]
    other = complete_taskforce(risky_child(tree.village_a1, name="钱小红"), admin)
    client = login(member_login(other.members.get(role="teacher"), admin))

    assert _detail(client, setup["taskforce"]).status_code == 404
    assert _post(client, _note_url(setup["action"]), {"text": "不是我的专班"}).status_code == 404
    assert not ActionNote.objects.exists()


# ---------------------------------------------------------------------------------------------
# Progress notes


def test_a_member_adds_a_note_and_it_appears_in_the_detail(setup, users, login):
    client = login(member_login(setup["teacher"], users["district_admin"]))

    response = _post(client, _note_url(setup["action"]), {"text": "周三辅导了数学"})

    assert response.status_code == 201
    note = response.json()
    assert (note["text"], note["author_label"], note["action_id"]) == (
        "周三辅导了数学",
        "孙老师（教师）",
        setup["action"].pk,
    )
    [action] = _detail(client, setup["taskforce"]).json()["actions"]
    assert [(n["id"], n["text"]) for n in action["notes"]] == [(note["id"], "周三辅导了数学")]


def test_the_loving_mother_sees_her_childs_task_force_and_adds_a_note(setup, users, login):
    mother = Pairing.objects.get(child=setup["child"], status="active").volunteer.user
    client = login(mother)

    assert [i["child_name"] for i in _list(client).json()["items"]] == ["赵小虎"]
    response = _post(client, _note_url(setup["action"]), {"text": "孩子这周情绪稳定"})

    assert response.status_code == 201
    assert response.json()["author_label"] == "钱妈妈（爱心妈妈）"


@pytest.mark.parametrize(
    ("text", "message"), [("   ", "请填写进展情况"), ("字" * 2001, "进展情况不超过2000字")]
)
def test_an_empty_or_too_long_note_is_refused_in_chinese_naming_the_field(setup, users, login, text, message):
    response = _post(login(users["district_admin"]), _note_url(setup["action"]), {"text": text})

    assert response.status_code == 400
    assert response.json() == {"detail": message, "code": "invalid", "field": "text"}
    assert not ActionNote.objects.exists()


# ---------------------------------------------------------------------------------------------
# Completing an action


def test_the_owner_marks_their_action_done(setup, users, login):
    client = login(member_login(setup["teacher"], users["district_admin"]))

    response = _post(client, _complete_url(setup["action"]))

    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["status_label"], data["done_on"]) == ("done", "已完成", TODAY.isoformat())
    assert data["can_complete"] is False
    setup["action"].refresh_from_db()
    assert setup["action"].status == ActionStatus.DONE


def test_a_district_admin_marks_an_action_done(setup, users, login):
    response = _post(login(users["district_admin"]), _complete_url(setup["action"]))

    assert response.status_code == 200
    assert PlanAction.objects.get(pk=setup["action"].pk).status == ActionStatus.DONE


def test_a_member_who_does_not_own_the_action_is_refused_in_chinese(setup, users, login):
    client = login(member_login(setup["police"], users["district_admin"]))

    [shown] = _detail(client, setup["taskforce"]).json()["actions"]
    response = _post(client, _complete_url(setup["action"]))

    assert shown["can_complete"] is False
    assert response.status_code == 403
    assert response.json()["detail"] == "只有该措施的负责人或区县妇联工作人员可以标记完成"
    assert PlanAction.objects.get(pk=setup["action"].pk).status == ActionStatus.OPEN


@pytest.mark.parametrize("who", ["village_director", "loving_mother"])
def test_a_village_director_or_the_loving_mother_cannot_mark_an_action_done(setup, users, login, who):
    user = (
        users["village_director"]
        if who == "village_director"
        else Pairing.objects.get(child=setup["child"], status="active").volunteer.user
    )

    response = _post(login(user), _complete_url(setup["action"]))

    assert response.status_code == 403
    assert response.json()["detail"] == "你的角色无权使用该接口"
    assert PlanAction.objects.get(pk=setup["action"].pk).status == ActionStatus.OPEN


def test_an_action_already_done_cannot_be_done_again(setup, users, login):
    client = login(users["district_admin"])
    _post(client, _complete_url(setup["action"]))

    response = _post(client, _complete_url(setup["action"]))

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict" and body["detail"] == "措施“学业辅导”已完成，不能再改"


def test_staff_of_another_district_cannot_complete_an_action(setup, users, login):
    response = _post(login(users["district_b_admin"]), _complete_url(setup["action"]))

    assert response.status_code == 404
    assert PlanAction.objects.get(pk=setup["action"].pk).status == ActionStatus.OPEN


# ---------------------------------------------------------------------------------------------
# The schema


def test_the_openapi_schema_lists_the_task_force_operations(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths["/api/v1/taskforces"]) == {"get"}
    assert set(paths["/api/v1/taskforces/{taskforce_id}"]) == {"get"}
    assert set(paths["/api/v1/taskforces/actions/{action_id}/notes"]) == {"post"}
    assert set(paths["/api/v1/taskforces/actions/{action_id}/complete"]) == {"post"}


def test_the_actions_still_to_do_come_first_by_due_date_then_the_finished_ones(setup, users, login):
    admin = users["district_admin"]
    teacher_id = setup["action"].owner_id
    later = services.action_add(
        actor=admin,
        taskforce_id=setup["taskforce"].pk,
        title="心理疏导",
        owner_id=teacher_id,
        due_on=TODAY + datetime.timedelta(days=7),
    )
    earlier = services.action_add(
        actor=admin,
        taskforce_id=setup["taskforce"].pk,
        title="家访",
        owner_id=teacher_id,
        due_on=TODAY + datetime.timedelta(days=1),
    )
    services.action_complete(actor=admin, action_id=earlier.pk)
    services.action_drop(actor=admin, action_id=later.pk, reason="已由学校安排")

    actions = _detail(login(admin), setup["taskforce"]).json()["actions"]

    assert [(a["title"], a["status"]) for a in actions] == [
        ("学业辅导", "open"),
        ("家访", "done"),
        ("心理疏导", "dropped"),
    ]


def test_the_city_admin_gives_a_reason_to_open_a_task_force_through_the_api(setup, users, login):
    city = users["city_admin"]
    client = login(city)

    refused = _detail(client, setup["taskforce"])
    assert refused.status_code == 403 and "reason" in refused.json()["detail"]
    assert "赵小虎" not in refused.content.decode()

    url = reverse("api:taskforces_detail", args=[setup["taskforce"].pk])
    opened = client.get(url, {"reason": "督导检查"})
    assert opened.status_code == 200 and opened.json()["child"]["name"] == "赵小虎"
    event = AuditEvent.objects.get(actor=city, action="view", object_id=str(setup["child"].pk))
    assert event.details == {"reason": "督导检查"}
