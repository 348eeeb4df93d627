"""Registry pages: list, detail, reveal, edit, export, and who may open them."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aixin.audit.models import AuditEvent
from aixin.registry.models import Child
from tests import factories
from tests.downloads import post_export, workbook_in
from tests.registry.helpers import new_id


def test_list_shows_masked_ids_and_unpaired_marker_and_links_admins_to_pairing(users, tree, login):
    child = factories.make_child(tree.village_a1, name="张小明", difficulty_life=True)
    factories.make_child(tree.village_b1, name="外区儿童")
    response = login(users["district_admin"]).get(reverse("registry:child_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "张小明" in body
    assert "外区儿童" not in body
    assert child.id_number_masked in body
    assert "未结对" in body
    assert reverse("pairing:propose", args=[child.pk]) in body


def test_town_supervisor_sees_the_list_without_write_links(users, tree, login):
    child = factories.make_child(tree.village_a1, name="张小明", difficulty_life=True)
    body = login(users["town_supervisor"]).get(reverse("registry:child_list")).content.decode()
    assert "张小明" in body
    assert reverse("pairing:propose", args=[child.pk]) not in body
    assert reverse("registry:child_create") not in body


def test_list_paginates_fifty_per_page(users, tree, login):
    for i in range(51):
        factories.make_child(tree.village_a1, name=f"儿童{i:02d}")
    client = login(users["district_admin"])
    first = client.get(reverse("registry:child_list")).content.decode()
    second = client.get(reverse("registry:child_list") + "?page=2").content.decode()
    assert first.count('<tr>\n    <td><a href="/children/') == 50
    assert "第 1 / 2 页，共 51 条" in first
    assert second.count('<tr>\n    <td><a href="/children/') == 1


def test_volunteer_cannot_open_the_registry(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    response = login(volunteer.user).get(reverse("registry:child_list"))
    assert response.status_code == 403


def test_detail_is_audited_and_out_of_scope_answers_404(users, tree, login):
    child = factories.make_child(tree.village_a1, name="张小明")
    client = login(users["district_admin"])
    response = client.get(reverse("registry:child_detail", args=[child.pk]))
    assert response.status_code == 200
    assert "查看完整号码" in response.content.decode()
    assert AuditEvent.objects.filter(action="view", object_id=str(child.pk)).count() == 1
    other = login(users["district_b_admin"]).get(reverse("registry:child_detail", args=[child.pk]))
    assert other.status_code == 404
    assert AuditEvent.objects.filter(action="view", object_id=str(child.pk)).count() == 1


def test_town_supervisor_detail_has_no_reveal_button(users, tree, login):
    child = factories.make_child(tree.village_a1)
    body = (
        login(users["town_supervisor"])
        .get(reverse("registry:child_detail", args=[child.pk]))
        .content.decode()
    )
    assert "查看完整号码" not in body
    assert child.id_number_masked in body


def test_admin_reveal_swaps_in_the_full_number_and_is_audited(users, tree, login):
    number = new_id()
    child = factories.make_child(tree.village_a1, id_number=number)
    response = login(users["district_admin"]).post(
        reverse("registry:child_reveal_id", args=[child.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert number in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="reveal", object_id=str(child.pk)).count() == 1


@pytest.mark.parametrize("role", ["town_supervisor", "village_director"])
def test_reveal_is_refused_below_district_and_nothing_is_written(users, tree, login, role):
    number = new_id()
    child = factories.make_child(tree.village_a1, id_number=number)
    response = login(users[role]).post(reverse("registry:child_reveal_id", args=[child.pk]))
    assert response.status_code in (403, 404)
    assert number not in response.content.decode()
    assert AuditEvent.objects.count() == 0


def test_reveal_by_get_is_not_allowed(users, tree, login):
    child = factories.make_child(tree.village_a1)
    response = login(users["district_admin"]).get(reverse("registry:child_reveal_id", args=[child.pk]))
    assert response.status_code == 405
    assert AuditEvent.objects.filter(action="reveal").count() == 0


def _edit_post(child, **changes):
    data = {
        "name": child.name,
        "village": child.region_id,
        "household_type": "rural",
        "ethnicity": "汉族",
        "full_time_student": "on",
        "version": child.version,
        "school": "",
    }
    data.update(changes)
    return data


def test_stale_edit_page_shows_the_error_and_keeps_what_was_typed(users, tree, login):
    child = factories.make_child(tree.village_a1, name="张小明")
    Child.objects.filter(pk=child.pk).update(version=2, school="别人改的")
    client = login(users["district_admin"])
    response = client.post(
        reverse("registry:child_edit", args=[child.pk]), _edit_post(child, school="我刚输入的学校")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "该儿童档案已被他人修改" in body
    assert 'value="我刚输入的学校"' in body
    child.refresh_from_db()
    assert (child.school, child.version) == ("别人改的", 2)


def test_edit_saves_and_redirects_to_the_file(users, tree, login):
    child = factories.make_child(tree.village_a1, name="张小明")
    response = login(users["district_admin"]).post(
        reverse("registry:child_edit", args=[child.pk]), _edit_post(child, school="万州一小")
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.school, child.version) == ("万州一小", 2)


def test_create_page_shows_the_id_error_beside_the_field(users, tree, login):
    number = new_id()
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    response = login(users["district_admin"]).post(
        reverse("registry:child_create"),
        {
            "name": "王小花",
            "id_number": bad,
            "village": tree.village_a1.pk,
            "household_type": "rural",
            "guardian_name": "王奶奶",
            "guardian_relation": "祖母",
            "guardianship_type": "entrusted",
        },
    )
    assert response.status_code == 200
    assert "身份证号校验位不正确，请核对是否有数字录错" in response.content.decode()
    assert Child.objects.count() == 0


def test_create_page_creates_the_child(users, tree, login):
    response = login(users["district_admin"]).post(
        reverse("registry:child_create"),
        {
            "name": "王小花",
            "id_number": new_id(),
            "village": tree.village_a1.pk,
            "household_type": "rural",
            "guardian_name": "王奶奶",
            "guardian_relation": "祖母",
            "guardian_phone": "13912345678",
            "guardianship_type": "entrusted",
            "father_kind": "working_away",
            "mother_kind": "working_away",
        },
    )
    child = Child.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:child_detail", args=[child.pk])
    assert child.is_left_behind is True


def test_town_supervisor_cannot_open_write_pages(users, tree, login):
    child = factories.make_child(tree.village_a1)
    client = login(users["town_supervisor"])
    for name in ("child_edit", "child_tier_override", "child_close", "guardian_create", "condition_create"):
        assert client.get(reverse(f"registry:{name}", args=[child.pk])).status_code == 403
    assert client.post(reverse("registry:child_close", args=[child.pk]), {"reason": "x"}).status_code == 403
    child.refresh_from_db()
    assert child.status == "active"


def test_tier_override_page_requires_a_reason(users, tree, login):
    child = factories.make_child(tree.village_a1)
    client = login(users["district_admin"])
    url = reverse("registry:child_tier_override", args=[child.pk])
    response = client.post(url, {"tier": "one_to_one", "reason": ""})
    assert response.status_code == 200
    child.refresh_from_db()
    assert child.care_tier == "group"
    response = client.post(url, {"tier": "one_to_one", "reason": "监护人长期患病"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.care_tier, child.tier_override_reason) == ("one_to_one", "监护人长期患病")


def test_export_neutralises_formula_names_masks_ids_and_is_audited(users, tree, login):
    number = new_id()
    factories.make_child(tree.village_a1, name="=cmd|' /C calc'!A0", id_number=number)
    response = post_export(login(users["town_supervisor"]), reverse("registry:child_export"))
    sheet = load_workbook(io.BytesIO(workbook_in(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0].startswith("导出人：town_a1（")
    assert rows[3][1] == "'=cmd|' /C calc'!A0"
    assert rows[3][5] == number[:3] + "*" * 11 + number[-4:]
    assert all(number not in str(cell) for row in rows for cell in row)
    event = AuditEvent.objects.get(action="export")
    assert event.details["rows"] == 1
    assert event.actor == users["town_supervisor"]


def test_detail_shows_the_active_mother_history_and_conditions_explained(users, tree, login):
    from aixin.registry.rules import Condition

    away = [Condition("father", "working_away"), Condition("mother", "working_away")]
    child = factories.make_child(tree.village_a1, name="张小明", conditions=away)
    factories.make_active_pairing(child, factories.make_volunteer(tree.village_a1, name="李爱华"))
    body = (
        login(users["district_admin"]).get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    )
    assert "李爱华" in body
    assert "农村留守儿童：是。未满16周岁、农业户口，父亲：外出务工；母亲：外出务工" in body
    assert "138****1234" in body


def test_list_query_count_does_not_grow_with_rows(users, tree, login, django_assert_max_num_queries):
    for i in range(30):
        child = factories.make_child(tree.village_a1, name=f"儿童{i:02d}")
        if i % 3 == 0:
            factories.make_active_pairing(child, factories.make_volunteer(tree.village_a1))
    client = login(users["district_admin"])
    with django_assert_max_num_queries(12):
        assert client.get(reverse("registry:child_list")).status_code == 200


def test_edit_page_is_prefilled_without_the_full_id_number(users, tree, login):
    number = new_id()
    child = factories.make_child(tree.village_a1, name="张小明", id_number=number, school="万州一小")
    body = (
        login(users["district_admin"]).get(reverse("registry:child_edit", args=[child.pk])).content.decode()
    )
    assert 'value="张小明"' in body
    assert 'value="万州一小"' in body
    assert f'name="version" value="{child.version}"' in body
    assert number not in body


def test_a_dead_parent_has_no_end_form_on_the_file(users, tree, login):
    from aixin.registry.rules import Condition

    conditions = [Condition("father", "dead"), Condition("mother", "working_away")]
    child = factories.make_child(tree.village_a1, conditions=conditions)
    dead = child.parent_conditions.get(parent="father")
    away = child.parent_conditions.get(parent="mother")
    body = (
        login(users["district_admin"]).get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    )
    assert "死亡" in body
    assert reverse("registry:condition_end", args=[child.pk, dead.pk]) not in body
    assert reverse("registry:condition_end", args=[child.pk, away.pk]) in body


def test_ending_a_death_anyway_is_refused_and_it_stays_open(users, tree, login):
    from aixin.registry.rules import Condition

    child = factories.make_child(tree.village_a1, conditions=[Condition("father", "dead")])
    dead = child.parent_conditions.get(parent="father")
    response = login(users["district_admin"]).post(
        reverse("registry:condition_end", args=[child.pk, dead.pk]), {"ended_on": ""}, follow=True
    )
    assert "父亲死亡是永久情形，不能结束" in response.content.decode()
    dead.refresh_from_db()
    assert dead.ended_on is None


def test_ending_a_condition_from_the_file_rederives_the_categories(users, tree, login):
    from aixin.registry.rules import Condition

    away = [Condition("father", "working_away"), Condition("mother", "working_away")]
    child = factories.make_child(tree.village_a1, conditions=away)
    condition = child.parent_conditions.get(parent="father")
    response = login(users["district_admin"]).post(
        reverse("registry:condition_end", args=[child.pk, condition.pk]), {"ended_on": ""}
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.is_left_behind is False
