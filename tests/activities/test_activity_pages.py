"""Recording group activities from the interface (R-8.1): the form, the activity's page and
adding children afterwards, scoped and audited."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from aixin.activities.models import Activity, ActivityParticipation
from aixin.activities.services import activity_create
from aixin.audit.models import AuditEvent
from aixin.dashboard.selectors import overview
from aixin.registry.derive import reveal_id_number
from tests import factories

CREATE = reverse("activities:activity_create")


@pytest.fixture
def kids(tree):
    return {
        "a1": factories.make_child(tree.village_a1, name="甲一"),
        "a1_too": factories.make_child(tree.village_a1, name="甲四"),
        "a1b": factories.make_child(tree.village_a1b, name="甲二"),
        "a2": factories.make_child(tree.village_a2, name="甲三"),
        "b1": factories.make_child(tree.village_b1, name="乙一"),
    }


def form_data(region, **overrides):
    data = {
        "name": "集体生日会",
        "kind": "birthday",
        "held_on": timezone.localdate().isoformat(),
        "venue": "渝好空间",
        "region": str(region.pk),
        "children": [],
        "participant_lines": "",
    }
    data.update(overrides)
    return data


def group_reach(user, region):
    coverage = {c.key: c for c in overview(user=user, region=region).coverage}
    return coverage["group_reach"].done


def errors_of(response, field):
    return list(response.context["form"].errors.get(field, []))


def nothing_written():
    return (
        Activity.objects.count() == 0
        and ActivityParticipation.objects.count() == 0
        and not AuditEvent.objects.filter(object_type="activity").exists()
    )


def test_recording_an_activity_with_ticked_children_raises_the_group_care_reach(tree, users, kids, login):
    admin = users["district_admin"]
    assert group_reach(admin, tree.district_a) == 0

    response = login(admin).post(
        CREATE, form_data(tree.village_a1, children=[kids["a1"].pk, kids["a1_too"].pk])
    )

    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:activity_detail", args=[activity.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "已登记团体活动“集体生日会”，参加儿童 2 名"
    ]
    assert activity.region_id == tree.village_a1.pk
    assert activity.venue == "渝好空间"
    assert sorted(activity.participations.values_list("child_id", flat=True)) == sorted(
        [kids["a1"].pk, kids["a1_too"].pk]
    )
    assert group_reach(admin, tree.district_a) == 2
    event = AuditEvent.objects.get(object_type="activity", object_id=str(activity.pk))
    assert event.action == "create"
    assert event.actor_id == admin.pk


def test_the_stats_api_counts_children_reached_by_a_recorded_activity(tree, users, kids, login):
    client = login(users["district_admin"])
    client.post(CREATE, form_data(tree.town_a1, children=[kids["a1"].pk, kids["a1b"].pk]))

    data = client.get(reverse("api:stats_overview")).json()

    reach = next(c for c in data["coverage"] if c["key"] == "group_reach")
    assert reach["done"] == 2


def test_pasted_names_in_the_place_and_id_numbers_elsewhere_in_scope_are_attached(tree, users, kids, login):
    lines = f"甲一\n\n  {reveal_id_number(kids['a2'])}  \n甲三 {reveal_id_number(kids['a2'])}\n"

    response = login(users["district_admin"]).post(
        CREATE, form_data(tree.village_a1, children=[kids["a1"].pk], participant_lines=lines)
    )

    assert response.status_code == 302
    activity = Activity.objects.get()
    assert sorted(activity.participations.values_list("child_id", flat=True)) == sorted(
        [kids["a1"].pk, kids["a2"].pk]
    )


def test_pasted_unknown_names_are_reported_with_their_line_numbers_and_nothing_is_saved(
    tree, users, kids, login
):
    factories.make_child(tree.village_a1, name="甲四")  # a second 甲四 in the village
    lines = "甲一\n王小虎\n\n甲四\n500101201501010012\n乙一"

    response = login(users["district_admin"]).post(
        CREATE, form_data(tree.village_a1, participant_lines=lines)
    )

    assert response.status_code == 400
    assert errors_of(response, "participant_lines") == [
        "粘贴的名单中有 4 行未能识别，活动未保存，请修改后重新提交",
        "第2行“王小虎”：万州1镇1村没有登记这名儿童，请核对姓名；外地儿童请填写身份证号",
        "第4行“甲四”：万州1镇1村有 2 名同名儿童，请改填身份证号",
        "第5行“500101201501010012”：身份证号校验位不正确，请核对是否有数字录错",
        "第6行“乙一”：万州1镇1村没有登记这名儿童，请核对姓名；外地儿童请填写身份证号",
    ]
    html = response.content.decode()
    assert "第2行“王小虎”" in html
    assert 'value="集体生日会"' in html
    assert nothing_written()


def test_an_activity_dated_in_the_future_is_refused_and_nothing_is_written(tree, users, kids, login):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = login(users["district_admin"]).post(
        CREATE, form_data(tree.village_a1, held_on=tomorrow.isoformat(), children=[kids["a1"].pk])
    )

    assert response.status_code == 400
    assert errors_of(response, "held_on") == ["活动日期不能晚于今天：请在活动举办后再登记参加的儿童"]
    assert nothing_written()


def test_district_admin_cannot_attach_another_districts_child(tree, users, kids, login):
    client = login(users["district_admin"])

    ticked = client.post(CREATE, form_data(tree.village_a1, children=[kids["a1"].pk, kids["b1"].pk]))
    pasted = client.post(CREATE, form_data(tree.village_a1, participant_lines=reveal_id_number(kids["b1"])))

    assert ticked.status_code == 400
    assert errors_of(ticked, "children") == [
        f"以下儿童不存在或不在你的管辖范围内（编号 {kids['b1'].pk}），请核对参加名单"
    ]
    assert pasted.status_code == 400
    assert errors_of(pasted, "participant_lines")[1].startswith("第1行：身份证号 500")
    assert errors_of(pasted, "participant_lines")[1].endswith("的儿童不存在或不在你的管辖范围内")
    assert "乙一" not in ticked.content.decode() + pasted.content.decode()
    assert nothing_written()


def test_district_admin_cannot_hold_an_activity_in_another_district(tree, users, kids, login):
    client = login(users["district_admin"])

    form_page = client.get(CREATE).content.decode()
    response = client.post(CREATE, form_data(tree.village_b1, children=[kids["a1"].pk]))

    assert "万州1镇1村" in form_page
    assert "涪陵" not in form_page
    assert response.status_code == 400
    assert errors_of(response, "region") == ["举办地须为你管辖范围内的乡镇或村(社区)，请从列表中选择"]
    assert nothing_written()


def test_choosing_a_place_lists_only_its_visible_children(tree, users, kids, login):
    client = login(users["district_admin"])

    town = client.get(CREATE, {"region": tree.town_a1.pk}, headers={"HX-Request": "true"})
    foreign = client.get(CREATE, {"region": tree.village_b1.pk}, headers={"HX-Request": "true"})

    assert town.status_code == 200
    assert [c.name for c in town.context["children"]] == ["甲四", "甲一", "甲二"]
    html = town.content.decode()
    assert html.startswith('<div id="participants"')
    assert "data-select-all" in html
    assert "甲三" not in html
    assert foreign.context["children"] == []
    assert "乙一" not in foreign.content.decode()


@pytest.fixture
def activity_a(tree, users, kids):
    return activity_create(
        actor=users["district_admin"],
        name="读书会",
        kind="reading",
        held_on=timezone.localdate(),
        venue="家长学校",
        region=tree.town_a1,
        child_ids=[kids["a1"].pk, kids["a2"].pk],
    )


@pytest.fixture
def activity_b(tree, users, kids):
    return activity_create(
        actor=users["district_b_admin"],
        name="乙区欢跑",
        kind="running",
        held_on=timezone.localdate(),
        region=tree.village_b1,
        child_ids=[kids["b1"].pk],
    )


def test_detail_lists_participants_with_age_village_and_tier(users, kids, activity_a, login):
    response = login(users["district_admin"]).get(reverse("activities:activity_detail", args=[activity_a.pk]))

    assert response.status_code == 200
    rows = [(c.name, c.age, c.region.name) for c in response.context["participants"]]
    assert rows == [("甲一", 10, "万州1镇1村"), ("甲三", 10, "万州2镇1村")]
    html = response.content.decode()
    assert "10岁" in html
    assert kids["a1"].get_care_tier_display() in html
    assert "读书会" in html and "家长学校" in html
    assert reverse("registry:child_detail", args=[kids["a1"].pk]) in html
    assert "添加参加儿童" in html


def test_town_supervisor_sees_only_the_participants_in_their_town(users, kids, activity_a, login):
    response = login(users["town_supervisor"]).get(
        reverse("activities:activity_detail", args=[activity_a.pk])
    )

    assert response.status_code == 200
    assert [c.name for c in response.context["participants"]] == ["甲一"]
    html = response.content.decode()
    assert "甲三" not in html
    assert "另有 1 名不在你的管辖范围内，未列出" in html
    assert "添加参加儿童" not in html


def test_district_admin_cannot_open_or_change_another_districts_activity(users, kids, activity_b, login):
    client = login(users["district_admin"])

    detail = client.get(reverse("activities:activity_detail", args=[activity_b.pk]))
    add = client.post(
        reverse("activities:participants_add", args=[activity_b.pk]), {"children": [kids["a1"].pk]}
    )

    assert detail.status_code == 404
    assert add.status_code == 404
    assert "乙区欢跑" not in detail.content.decode()
    assert list(activity_b.participations.values_list("child_id", flat=True)) == [kids["b1"].pk]


def test_town_supervisor_can_view_but_not_record_activities(tree, users, kids, activity_a, login):
    client = login(users["town_supervisor"])
    audit_before = AuditEvent.objects.count()

    listing = client.get(reverse("activities:activity_list")).content.decode()
    form = client.get(CREATE)
    create = client.post(CREATE, form_data(tree.village_a1, children=[kids["a1"].pk]))
    add = client.post(
        reverse("activities:participants_add", args=[activity_a.pk]), {"children": [kids["a1_too"].pk]}
    )

    assert reverse("activities:activity_detail", args=[activity_a.pk]) in listing
    assert "新增团体活动" not in listing
    assert (form.status_code, create.status_code, add.status_code) == (403, 403, 403)
    assert Activity.objects.count() == 1
    assert activity_a.participations.count() == 2
    assert AuditEvent.objects.count() == audit_before


def test_list_offers_admins_the_new_activity_link_and_links_each_row(users, activity_a, login):
    html = login(users["district_admin"]).get(reverse("activities:activity_list")).content.decode()

    assert f'href="{CREATE}"' in html
    assert "新增团体活动" in html
    assert reverse("activities:activity_detail", args=[activity_a.pk]) in html


def test_adding_participants_is_idempotent_and_audited(users, kids, activity_a, login):
    client = login(users["district_admin"])
    url = reverse("activities:participants_add", args=[activity_a.pk])

    first = client.post(url, {"children": [kids["a1"].pk, kids["a1_too"].pk]})
    again = client.post(url, {"children": [kids["a1_too"].pk], "participant_lines": "甲一"})

    assert first.status_code == 302
    assert first["Location"] == reverse("activities:activity_detail", args=[activity_a.pk])
    assert [str(m) for m in get_messages(again.wsgi_request)] == [
        "已添加 1 名儿童；1 名已在参加名单中，未重复添加",
        "已添加 0 名儿童；2 名已在参加名单中，未重复添加",
    ]
    assert sorted(activity_a.participations.values_list("child_id", flat=True)) == sorted(
        [kids["a1"].pk, kids["a2"].pk, kids["a1_too"].pk]
    )
    held = set(activity_a.participations.values_list("held_on", flat=True))
    assert held == {activity_a.held_on}
    updates = AuditEvent.objects.filter(object_type="activity", object_id=str(activity_a.pk), action="update")
    assert [e.details["added_child_ids"] for e in updates] == [[kids["a1_too"].pk]]


def test_adding_an_unknown_or_foreign_child_adds_nobody(users, kids, activity_a, login):
    client = login(users["district_admin"])
    url = reverse("activities:participants_add", args=[activity_a.pk])

    unknown = client.post(url, {"children": [kids["a1_too"].pk], "participant_lines": "甲一\n李四"})
    foreign = client.post(url, {"children": [kids["a1_too"].pk, kids["b1"].pk]})

    assert unknown.status_code == 400
    assert errors_of(unknown, "participant_lines") == [
        "粘贴的名单中有 1 行未能识别，未添加任何儿童，请修改后重新提交",
        "第2行“李四”：万州1镇没有登记这名儿童，请核对姓名；外地儿童请填写身份证号",
    ]
    assert foreign.status_code == 400
    assert activity_a.participations.count() == 2
    assert not AuditEvent.objects.filter(object_type="activity", action="update").exists()
