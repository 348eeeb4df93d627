"""Registry services: validation, duplicates, encryption, tier override, versions, closing."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from aixin.audit.models import AuditEvent
from aixin.lib import crypto
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from aixin.lib.idnumber import check_character
from aixin.registry import services
from aixin.registry.models import Child, ChildChange
from aixin.registry.services import ConditionData
from tests import factories
from tests.registry.helpers import both_parents_away, child_data, grandma, new_id, years_ago


def create(users, tree, conditions=None, **overrides):
    return services.child_create(
        actor=users["district_admin"],
        data=child_data(tree.village_a1, **overrides),
        guardians=[grandma()],
        conditions=conditions or [],
    )


def test_district_admin_creates_a_left_behind_child_with_derived_fields_history_and_audit(users, tree):
    number = new_id(years_ago(9), female=True)
    child = services.child_create(
        actor=users["district_admin"],
        data=child_data(tree.village_a1, id_number=number),
        guardians=[grandma()],
        conditions=both_parents_away(),
    )
    assert child.sex == "F"
    assert child.is_left_behind is True
    assert child.parents_both_away is True
    assert child.care_tier == "group"
    assert child.id_number_masked == number[:3] + "*" * 11 + number[-4:]
    assert child.name_pinyin == "wangxiaohua wxh"
    assert child.guardians.get().phone_masked == "139****5678"
    assert child.parent_conditions.count() == 2
    assert set(ChildChange.objects.filter(child=child).values_list("field", flat=True)) >= {
        "name",
        "id_number_masked",
        "region",
        "is_left_behind",
        "care_tier",
    }
    event = AuditEvent.objects.get(action="create", object_id=str(child.pk))
    assert event.district_id == tree.district_a.id


def test_id_number_is_encrypted_at_rest_and_the_raw_column_never_holds_it(users, tree):
    number = new_id()
    child = create(users, tree, id_number=number)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number_encrypted, id_number_index, id_number_masked FROM registry_child WHERE id = %s",
            [child.pk],
        )
        row = cursor.fetchone()
    assert all(number not in str(value) for value in row)
    assert row[0].startswith(crypto.keyring().prefix)


def test_bad_checksum_is_refused_with_the_parsers_message(users, tree):
    number = new_id()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidInput) as exc:
        create(users, tree, id_number=wrong)
    assert exc.value.message == "身份证号校验位不正确，请核对是否有数字录错"
    assert exc.value.field == "id_number"
    assert Child.objects.count() == 0


def test_lower_case_x_check_character_is_accepted():
    for seq in range(1, 400):
        first17 = f"500101{years_ago(8):%Y%m%d}{seq:03d}"
        if check_character(first17) == "X":
            break
    number = first17 + "x"
    info = services._parse_id(number)
    assert info.number == first17 + "X"


def test_abolished_district_code_500105_is_accepted(users, tree):
    number = factories.id_number(years_ago(7), region_code="500105")
    child = create(users, tree, id_number=number)
    assert child.id_number_masked.startswith("500")


def test_birth_date_in_the_future_is_refused(users, tree):
    future = datetime.date.today() + datetime.timedelta(days=30)
    with pytest.raises(InvalidInput) as exc:
        create(users, tree, id_number=factories.id_number(future))
    assert exc.value.message == f"身份证号中的出生日期{future.isoformat()}晚于今天"
    assert Child.objects.count() == 0


def test_duplicate_id_in_scope_names_where_the_child_is(users, tree):
    number = new_id()
    create(users, tree, id_number=number)
    with pytest.raises(Conflict) as exc:
        create(users, tree, id_number=number, name="另一个")
    assert exc.value.message == "该身份证号的儿童已在台账中（所在：万州区万州1镇万州1镇1村）"
    assert Child.objects.count() == 1


def test_duplicate_id_out_of_scope_does_not_reveal_the_location(users, tree):
    number = new_id()
    factories.make_child(tree.village_b1, id_number=number)
    with pytest.raises(Conflict) as exc:
        create(users, tree, id_number=number)
    assert "涪陵" not in exc.value.message
    assert exc.value.message == "该身份证号的儿童已在其他地区的台账中，请联系市妇联核实"
    assert Child.objects.count() == 1


def test_village_outside_the_admins_district_is_refused(users, tree):
    with pytest.raises(NotAllowed):
        services.child_create(
            actor=users["district_admin"], data=child_data(tree.village_b1), guardians=[], conditions=[]
        )
    assert Child.objects.count() == 0


def test_town_is_not_a_village(users, tree):
    with pytest.raises(InvalidInput) as exc:
        services.child_create(
            actor=users["district_admin"], data=child_data(tree.town_a1), guardians=[], conditions=[]
        )
    assert exc.value.field == "village"


def test_town_supervisor_may_not_write(users, tree):
    with pytest.raises(NotAllowed):
        services.child_create(
            actor=users["town_supervisor"], data=child_data(tree.village_a1), guardians=[], conditions=[]
        )
    assert Child.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_update_records_each_changed_field_and_rederives_the_tier(users, tree):
    child = create(users, tree)
    data = child_data(
        tree.village_a1, id_number="", name=child.name, difficulty_study=True, school="万州一小"
    )
    updated = services.child_update(actor=users["district_admin"], child_id=child.pk, version=1, data=data)
    assert updated.version == 2
    assert updated.care_tier == "one_to_one"
    changes = {
        c.field: (c.old_value, c.new_value) for c in ChildChange.objects.filter(child=child, reason="")
    }
    assert changes == {
        "school": ("", "万州一小"),
        "difficulty_study": ("否", "是"),
        "derived_tier": ("团体关爱（多对多）", "困难关爱（一对一）"),
        "care_tier": ("团体关爱（多对多）", "困难关爱（一对一）"),
    }
    assert AuditEvent.objects.filter(action="update", object_id=str(child.pk)).count() == 1


def test_stale_edit_is_refused_names_who_changed_it_and_changes_nothing(users, tree):
    child = create(users, tree)
    services.child_update(
        actor=users["city_admin"],
        child_id=child.pk,
        version=1,
        data=child_data(tree.village_a1, id_number="", name=child.name, school="第一次"),
    )
    with pytest.raises(StaleEdit) as exc:
        services.child_update(
            actor=users["district_admin"],
            child_id=child.pk,
            version=1,
            data=child_data(tree.village_a1, id_number="", name=child.name, school="第二次"),
        )
    assert exc.value.message.startswith("该儿童档案已被他人修改（city 于 ")
    assert exc.value.message.endswith("），请刷新后重新编辑")
    child.refresh_from_db()
    assert (child.school, child.version) == ("第一次", 2)


def test_tier_override_needs_a_reason_and_clearing_returns_to_the_derived_tier(users, tree):
    child = create(users, tree)
    admin = users["district_admin"]
    with pytest.raises(InvalidInput) as exc:
        services.child_override_tier(actor=admin, child_id=child.pk, tier="one_to_one", reason=" ")
    assert exc.value.message == "请填写调整关爱类型的理由"
    child.refresh_from_db()
    assert (child.care_tier, child.tier_override, child.version) == ("group", "", 1)

    child = services.child_override_tier(
        actor=admin, child_id=child.pk, tier="one_to_one", reason="家访发现独自在家"
    )
    assert (child.care_tier, child.derived_tier, child.tier_override) == ("one_to_one", "group", "one_to_one")
    assert child.tier_override_reason == "家访发现独自在家"
    assert child.tier_override_by == admin
    change = ChildChange.objects.get(child=child, field="tier_override")
    assert (change.new_value, change.reason) == ("困难关爱（一对一）", "家访发现独自在家")

    child = services.child_override_tier(actor=admin, child_id=child.pk, tier="", reason="情况已改善")
    assert (child.care_tier, child.tier_override, child.tier_override_reason) == ("group", "", "")


def test_override_survives_rederivation_when_a_condition_is_added(users, tree):
    child = create(users, tree)
    admin = users["district_admin"]
    services.child_override_tier(actor=admin, child_id=child.pk, tier="many_to_one", reason="专班建议")
    services.condition_add(actor=admin, child_id=child.pk, data=ConditionData(parent="father", kind="dead"))
    services.condition_add(
        actor=admin, child_id=child.pk, data=ConditionData(parent="mother", kind="serious_illness")
    )
    child.refresh_from_db()
    assert child.is_de_facto_unsupported is True
    assert (child.derived_tier, child.care_tier) == ("one_to_one", "many_to_one")
    assert ChildChange.objects.filter(
        child=child, field="derived_tier", new_value="困难关爱（一对一）"
    ).exists()


def test_ending_a_condition_rederives_and_records_the_tier_change(users, tree):
    admin = users["district_admin"]
    child = services.child_create(
        actor=admin,
        data=child_data(tree.village_a1),
        guardians=[grandma()],
        conditions=[
            ConditionData(parent="father", kind="dead"),
            ConditionData(parent="mother", kind="imprisoned", term_months=36),
        ],
    )
    assert child.care_tier == "one_to_one"
    prison = child.parent_conditions.get(kind="imprisoned")
    services.condition_end(actor=admin, condition_id=prison.pk, ended_on=datetime.date.today())
    child.refresh_from_db()
    assert (child.is_de_facto_unsupported, child.care_tier) == (False, "group")
    change = ChildChange.objects.get(child=child, field="care_tier", old_value="困难关爱（一对一）")
    assert change.new_value == "团体关爱（多对多）"
    assert change.changed_by == admin


def test_a_death_cannot_be_ended(users, tree):
    admin = users["district_admin"]
    child = services.child_create(
        actor=admin,
        data=child_data(tree.village_a1),
        guardians=[grandma()],
        conditions=[ConditionData(parent="father", kind="dead")],
    )
    dead = child.parent_conditions.get()
    with pytest.raises(InvalidInput) as exc:
        services.condition_end(actor=admin, condition_id=dead.pk, ended_on=datetime.date.today())
    assert exc.value.message == "父亲死亡是永久情形，不能结束"
    dead.refresh_from_db()
    assert dead.ended_on is None


def test_a_death_cannot_be_recorded_with_an_end_date(users, tree):
    admin = users["district_admin"]
    child = services.child_create(
        actor=admin, data=child_data(tree.village_a1), guardians=[grandma()], conditions=[]
    )
    with pytest.raises(InvalidInput) as exc:
        services.condition_add(
            actor=admin,
            child_id=child.pk,
            data=ConditionData(parent="mother", kind="dead", ended_on=datetime.date.today()),
        )
    assert exc.value.message == "死亡是永久情形，不能填写结束日期"
    assert not child.parent_conditions.exists()


def test_closing_keeps_the_record_with_its_reason(users, tree):
    child = create(users, tree)
    services.child_close(actor=users["district_admin"], child_id=child.pk, reason="随父母迁出本市")
    child.refresh_from_db()
    assert (child.status, child.closed_reason) == ("closed", "随父母迁出本市")
    assert Child.objects.filter(pk=child.pk).exists()


def test_closing_a_paired_child_is_refused_until_the_pairing_ends(users, tree):
    child = create(users, tree)
    factories.make_active_pairing(child, factories.make_volunteer(tree.village_a1, name="李爱华"))
    with pytest.raises(Conflict) as exc:
        services.child_close(actor=users["district_admin"], child_id=child.pk, reason="迁出")
    assert exc.value.message == "该儿童仍与爱心妈妈李爱华结对（结对中），请先解除或撤销结对再退出台账"
    child.refresh_from_db()
    assert child.status == "active"


def test_admin_of_another_district_cannot_update_the_child(users, tree):
    from django.http import Http404

    child = create(users, tree)
    with pytest.raises(Http404):
        services.child_update(
            actor=users["district_b_admin"],
            child_id=child.pk,
            version=1,
            data=child_data(tree.village_a1, id_number="", name="改名"),
        )
    child.refresh_from_db()
    assert (child.name, child.version) == ("王小花", 1)


def test_reveal_returns_the_number_and_is_audited(users, tree):
    number = new_id()
    child = create(users, tree, id_number=number)
    assert services.child_reveal_id_number(actor=users["district_admin"], child_id=child.pk) == number
    assert AuditEvent.objects.filter(action="reveal", object_id=str(child.pk)).count() == 1


def test_reveal_is_refused_for_a_town_supervisor_and_nothing_is_written(users, tree):
    child = create(users, tree)
    before = AuditEvent.objects.count()
    with pytest.raises(NotAllowed):
        services.child_reveal_id_number(actor=users["town_supervisor"], child_id=child.pk)
    assert AuditEvent.objects.count() == before
