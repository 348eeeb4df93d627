"""The address, notes and parents' disability details are encrypted at rest (issue 6): never in
clear in the database or the change history, masked for staff who may not reveal, and read back
unchanged by every writer (services, imports, the data migration)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from aixin.lib import crypto
from aixin.registry import services
from aixin.registry.models import Child, ChildChange, ParentCondition
from aixin.registry.services import ConditionData
from tests.ingest.test_import_engine import ident, run, write_csv
from tests.migration_helpers import migration_test, old_child
from tests.registry.helpers import child_data, grandma, years_ago

ADDRESS = "红花村3组12号"
NOTES = "父亲长期服药 孩子有轻度听力障碍"


def disabled_father_dead_mother() -> list[ConditionData]:
    return [
        ConditionData(
            parent="father",
            kind="severe_disability",
            started_on=years_ago(3),
            disability_grade=2,
            disability_category=4,
            evidence="残疾人证",
        ),
        ConditionData(parent="mother", kind="dead", started_on=years_ago(2), evidence="死亡证明"),
    ]


def create_child(users, tree) -> Child:
    return services.child_create(
        actor=users["district_admin"],
        data=child_data(tree.village_a1, address=ADDRESS, notes=NOTES),
        guardians=[grandma()],
        conditions=disabled_father_dead_mother(),
    )


def raw_row(table: str, pk: int) -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def test_address_notes_and_disability_details_are_never_stored_in_clear(users, tree):
    child = create_child(users, tree)
    row = raw_row("registry_child", child.pk)
    assert "address" not in row and "notes" not in row
    assert all(ADDRESS not in str(v) and NOTES not in str(v) and "红花村" not in str(v) for v in row.values())
    assert str(row["address_encrypted"]).startswith(crypto.keyring().prefix)
    assert str(row["notes_encrypted"]).startswith(crypto.keyring().prefix)
    father = ParentCondition.objects.get(child=child, parent="father")
    cond = raw_row("registry_parentcondition", father.pk)
    assert "disability_grade" not in cond and "disability_category" not in cond
    assert str(cond["disability_grade_encrypted"]).startswith(crypto.keyring().prefix)
    assert str(cond["disability_category_encrypted"]).startswith(crypto.keyring().prefix)
    history = list(ChildChange.objects.filter(child=child).values_list("old_value", "new_value"))
    assert history
    assert all(NOTES not in v and "3组12号" not in v for pair in history for v in pair)


def test_the_child_reads_back_its_address_notes_and_disability_and_the_rules_use_them(users, tree):
    child = Child.objects.get(pk=create_child(users, tree).pk)
    assert child.address == ADDRESS
    assert child.notes == NOTES
    father = child.parent_conditions.get(parent="father")
    assert (father.disability_grade, father.disability_category) == (2, 4)
    assert child.parent_conditions.get(parent="mother").disability_grade is None
    # A grade-2 disabled father and a dead mother: de-facto unsupported — read decrypted.
    assert child.is_de_facto_unsupported


def test_an_address_change_is_in_the_history_without_the_address(users, tree):
    child = create_child(users, tree)
    data = child_data(tree.village_a1, id_number="", address="红花村5组1号", notes=NOTES)
    services.child_update(actor=users["district_admin"], child_id=child.pk, version=child.version, data=data)
    change = ChildChange.objects.get(child=child, field="address", reason="")
    assert (change.old_value, change.new_value) == ("红花村****", "红花村****")
    assert Child.objects.get(pk=child.pk).address == "红花村5组1号"


def test_an_unchanged_edit_changes_nothing_although_tokens_differ_each_time(users, tree):
    child = create_child(users, tree)
    data = child_data(tree.village_a1, id_number="", address=ADDRESS, notes=NOTES)
    services.child_update(actor=users["district_admin"], child_id=child.pk, version=child.version, data=data)
    assert Child.objects.get(pk=child.pk).version == child.version


@pytest.mark.parametrize(("role", "full"), [("district_admin", True), ("town_supervisor", False)])
def test_the_full_address_is_only_for_staff_who_may_reveal(users, tree, login, role, full):
    child = create_child(users, tree)
    client = login(users[role])
    page = client.get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    api = client.get(reverse("api:children_detail", args=[child.pk])).json()
    assert (ADDRESS in page) is full
    assert "红花村****" in page  # the masked form (and always in the history)
    assert api["address"] == (ADDRESS if full else "红花村****")


def test_an_imported_ledger_stores_address_and_notes_encrypted_and_masks_a_later_change(
    tree, users, tmp_path: Path
):
    header = ["姓名", "身份证号码", "村(社区)代码", "儿童类别", "父亲情况", "母亲情况", "详细地址", "备注"]
    line = ["王一娃", ident(1), tree.village_a1.code, "农村留守儿童", "外出务工", "外出务工"]
    run(write_csv(tmp_path / "a.csv", [[*line, ADDRESS, NOTES]], header), actor=users["district_admin"])
    child = Child.objects.get(name="王一娃")
    assert (child.address, child.notes) == (ADDRESS, NOTES)
    assert ADDRESS not in str(raw_row("registry_child", child.pk).values())
    run(
        write_csv(tmp_path / "b.csv", [[*line, "红花村7组2号", NOTES]], header), actor=users["district_admin"]
    )
    assert Child.objects.get(pk=child.pk).address == "红花村7组2号"
    change = ChildChange.objects.get(
        child=child, field="address", batch__isnull=False, old_value="红花村****"
    )
    assert change.new_value == "红花村****"


@migration_test
@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_values_and_its_reverse_decrypts_them():
    from django.db.migrations.executor import MigrationExecutor

    from aixin.regions.models import Region, RegionLevel

    before, after = (
        ("registry", "0002_import_provenance"),
        ("registry", "0005_drop_plaintext_sensitive_columns"),
    )
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    village = Region.objects.create(code="500101001001", name="红花村", level=RegionLevel.VILLAGE, path="x/")
    child_pk = old_child(
        old.get_model("registry", "Child"),
        village,
        1,
        name="王小花",
        id_number_encrypted=crypto.encrypt("x", context="child.id_number"),
        address=ADDRESS,
        notes=NOTES,
    )
    old.get_model("registry", "ParentCondition").objects.create(
        child_id=child_pk,
        parent="father",
        kind="severe_disability",
        disability_grade=1,
        disability_category=7,
    )
    old.get_model("registry", "ChildChange").objects.create(
        child_id=child_pk, field="address", old_value="", new_value=ADDRESS
    )

    executor = MigrationExecutor(connection)
    executor.migrate([after])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the current models' columns
    fresh = Child.objects.get(pk=child_pk)
    assert (fresh.address, fresh.notes) == (ADDRESS, NOTES)
    cond = fresh.parent_conditions.get()
    assert (cond.disability_grade, cond.disability_category) == (1, 7)
    assert ADDRESS not in str(raw_row("registry_child", child_pk).values())
    assert ChildChange.objects.get(child=fresh).new_value == "红花村****"

    executor = MigrationExecutor(connection)
    executor.migrate([before])
    back = executor.loader.project_state([before]).apps
    row = back.get_model("registry", "Child").objects.get(pk=child_pk)
    assert (row.address, row.notes) == (ADDRESS, NOTES)
    cond = back.get_model("registry", "ParentCondition").objects.get(child_id=child_pk)
    assert (cond.disability_grade, cond.disability_category) == (1, 7)
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
