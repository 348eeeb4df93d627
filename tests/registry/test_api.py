"""GET /api/v1/children: staff schema with masked IDs; loving mothers get the minimal schema."""

from __future__ import annotations

from django.urls import reverse

from aixin.audit.models import AuditEvent
from tests import factories
from tests.registry.helpers import new_id

MINIMAL_KEYS = {
    "id",
    "name",
    "age",
    "sex",
    "school",
    "grade",
    "village",
    "guardian_name",
    "guardian_phone",
    "needs",
}


def test_volunteer_gets_only_her_children_with_the_minimal_schema(users, tree, login):
    number = new_id()
    mine = factories.make_child(
        tree.village_a1,
        name="张小明",
        id_number=number,
        school="万州一小",
        grade="三年级",
        guardian_phone="13800001234",
        difficulty_study=True,
    )
    factories.make_child(tree.village_a1, name="别人的孩子")
    volunteer = factories.make_volunteer(tree.village_a1)
    factories.make_active_pairing(mine, volunteer)
    response = login(volunteer.user).get(reverse("api:children_list"))
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    item = data["items"][0]
    assert set(item) == MINIMAL_KEYS
    assert item["name"] == "张小明"
    assert item["guardian_phone"] == "13800001234"
    assert item["guardian_name"] == "张奶奶"
    assert item["village"] == "万州1镇1村"
    assert item["needs"] == ["学习困难"]
    assert number[-4:] not in response.content.decode()


def test_volunteer_detail_is_minimal_audited_and_404_for_other_children(users, tree, login):
    mine = factories.make_child(tree.village_a1, name="张小明")
    other = factories.make_child(tree.village_a1, name="别人的孩子")
    volunteer = factories.make_volunteer(tree.village_a1)
    factories.make_active_pairing(mine, volunteer)
    client = login(volunteer.user)
    response = client.get(reverse("api:children_detail", args=[mine.pk]))
    assert response.status_code == 200
    assert set(response.json()) == MINIMAL_KEYS
    assert "id_number_masked" not in response.content.decode()
    assert AuditEvent.objects.filter(action="view", object_id=str(mine.pk)).count() == 1
    assert client.get(reverse("api:children_detail", args=[other.pk])).status_code == 404
    assert AuditEvent.objects.filter(action="view", object_id=str(other.pk)).count() == 0


def test_staff_get_masked_ids_filters_and_limit_offset(users, tree, login):
    for i in range(3):
        factories.make_child(tree.village_a1, name=f"儿童{i}", difficulty_life=True)
    factories.make_child(tree.village_a1, name="普通")
    factories.make_child(tree.village_b1, name="外区")
    client = login(users["district_admin"])
    data = client.get(reverse("api:children_list"), {"tier": "one_to_one", "limit": 2, "offset": 1}).json()
    assert data["count"] == 3
    assert [i["name"] for i in data["items"]] == ["儿童1", "儿童2"]
    assert data["items"][0]["id_number_masked"].startswith("500***")
    assert "guardian_phone" not in data["items"][0]


def test_staff_detail_out_of_scope_is_404(users, tree, login):
    child = factories.make_child(tree.village_b1)
    response = login(users["district_admin"]).get(reverse("api:children_detail", args=[child.pk]))
    assert response.status_code == 404
    assert AuditEvent.objects.count() == 0


def test_staff_detail_has_masked_guardian_phones(users, tree, login):
    child = factories.make_child(tree.village_a1, guardian_phone="13800001234")
    data = login(users["town_supervisor"]).get(reverse("api:children_detail", args=[child.pk])).json()
    assert data["guardians"][0]["phone_masked"] == "138****1234"
    assert data["id_number_masked"] == child.id_number_masked
