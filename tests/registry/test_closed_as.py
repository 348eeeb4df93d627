"""退出类型: a record leaves the register as one of a few kinds (moved away, parents returned,
no longer eligible, died, duplicate, other) with the reason in words; the import weighs a
department's row against the kind, not against words in the reason."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from aixin.ingest import services as ingest
from aixin.lib.errors import InvalidInput
from aixin.registry import derive
from aixin.registry.models import Child, ChildStatus, ClosedAs
from aixin.registry.services import child_close, child_reopen
from tests import factories
from tests.ingest.test_import_engine import HEADER, ident, row, write_csv
from tests.migration_helpers import migration_test, old_child


@pytest.fixture
def admin_a(users):
    return users["district_admin"]


def test_the_close_form_asks_for_the_kind_and_the_kind_alone_is_enough(tree, admin_a, login):
    child = factories.make_child(tree.village_a1, name="金龙")
    client = login(admin_a)
    url = reverse("registry:child_close", args=[child.pk])

    missing = client.post(url, {"reason": "去外地了"})
    assert missing.status_code == 200 and "退出类型" in missing.content.decode()
    assert Child.objects.get(pk=child.pk).status == ChildStatus.ACTIVE

    client.post(url, {"closed_as": ClosedAs.MOVED_AWAY, "reason": ""})
    child.refresh_from_db()
    assert (child.status, child.closed_as, child.closed_reason) == (
        ChildStatus.CLOSED,
        "moved_away",
        "迁出本地",
    )
    page = client.get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    shown = page[page.index('id="closed-as"') :]
    assert shown.index("迁出本地") < shown.index("</dd>")


def test_other_needs_the_reason_in_words(tree, admin_a, login):
    child = factories.make_child(tree.village_a1)
    response = login(admin_a).post(
        reverse("registry:child_close", args=[child.pk]), {"closed_as": ClosedAs.OTHER, "reason": " "}
    )
    assert "退出类型为“其他”时，请写明退出原因" in response.content.decode()
    assert Child.objects.get(pk=child.pk).status == ChildStatus.ACTIVE


def test_a_caller_giving_only_a_reason_gets_the_kind_the_reason_states(tree, admin_a):
    moved, other = factories.make_child(tree.village_a1), factories.make_child(tree.village_a1)
    child_close(actor=admin_a, child_id=moved.pk, reason="随父母迁往成都市")
    child_close(actor=admin_a, child_id=other.pk, reason="监护人要求")
    assert Child.objects.get(pk=moved.pk).closed_as == ClosedAs.MOVED_AWAY
    assert Child.objects.get(pk=other.pk).closed_as == ClosedAs.OTHER
    # A word said not to be so does not count.
    returned = factories.make_child(tree.village_a1)
    child_close(actor=admin_a, child_id=returned.pk, reason="经核实非重复录入，未迁出，父母已返乡")
    assert Child.objects.get(pk=returned.pk).closed_as == ClosedAs.PARENTS_RETURNED
    with pytest.raises(InvalidInput, match="退出类型无效"):
        child_close(actor=admin_a, child_id=factories.make_child(tree.village_a1).pk, closed_as="gone")


def test_a_reopened_record_has_no_kind_left(tree, admin_a):
    child = factories.make_child(tree.village_a1)
    child_close(actor=admin_a, child_id=child.pk, closed_as=ClosedAs.PARENTS_RETURNED)
    child_reopen(actor=admin_a, child_id=child.pk, reason="父母再次外出务工")
    child.refresh_from_db()
    assert (child.status, child.closed_as) == (ChildStatus.ACTIVE, "")


def test_a_row_stating_the_kind_is_taken_whatever_the_reason_says(tree, admin_a, tmp_path):
    """The reason in words need not contain 迁出: the kind says it."""
    header = [*HEADER, "儿童状态"]
    ingest.start_file_import(
        actor=admin_a,
        source="civil_affairs",
        upload=write_csv(tmp_path / "a.csv", [row(8, tree.village_a1)]),
        run_now=True,
    )
    child = Child.objects.get(id_number_index=derive.id_number_index(ident(8)))
    child_close(actor=admin_a, child_id=child.pk, closed_as=ClosedAs.MOVED_AWAY, reason="随母亲去广东读书")
    moved = [*row(8, tree.village_a1), "迁出"]
    moved[5] = "13600002222"
    batch = ingest.start_file_import(
        actor=admin_a,
        source="civil_affairs",
        upload=write_csv(tmp_path / "b.csv", [moved], header=header),
        run_now=True,
    )
    assert (batch.counts["updated"], batch.counts["rejected"]) == (1, 0)


def test_a_duplicate_closed_by_hand_is_known_by_its_kind(tree, admin_a, tmp_path):
    ingest.start_file_import(
        actor=admin_a,
        source="civil_affairs",
        upload=write_csv(tmp_path / "a.csv", [row(9, tree.village_a1)]),
        run_now=True,
    )
    child = Child.objects.get()
    child_close(actor=admin_a, child_id=child.pk, closed_as=ClosedAs.DUPLICATE, reason="建了两份档案")
    batch = ingest.start_file_import(
        actor=admin_a,
        source="civil_affairs",
        upload=write_csv(tmp_path / "b.csv", [row(9, tree.village_a1, school="城关小学")]),
        run_now=True,
    )
    reason = batch.rejections.get().reason
    assert "作为重复记录退出台账" in reason and "没有记录保留的是哪一份档案" in reason


BEFORE = ("registry", "0009_child_created_batch")
AFTER = ("registry", "0010_child_closed_as")


@migration_test
@pytest.mark.django_db(transaction=True)
def test_records_closed_before_the_kind_was_asked_get_the_kind_their_reason_states():
    from aixin.regions.models import Region, RegionLevel

    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps.get_model("registry", "Child")
    village = Region.objects.create(code="500101001001", name="红花村", level=RegionLevel.VILLAGE, path="x/")

    def child(n: int, status: str, reason: str) -> int:
        return old_child(old, village, n, status=status, closed_reason=reason)

    made = {
        "duplicate": child(1, "closed", "与王小花（500***）为同一儿童（重复记录）：迁出前建档"),
        "moved_away": child(2, "closed", "随父母迁往成都"),
        "parents_returned": child(3, "closed", "父母返乡"),
        "other": child(4, "closed", "家长要求"),
        "not_eligible": child(6, "closed", "经核实非重复录入，未迁出，不再符合条件"),
        "": child(5, "active", ""),
    }

    executor = MigrationExecutor(connection)
    executor.migrate([AFTER])
    new = executor.loader.project_state([AFTER]).apps.get_model("registry", "Child")
    assert {kind: new.objects.get(pk=pk).closed_as for kind, pk in made.items()} == {k: k for k in made}
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
