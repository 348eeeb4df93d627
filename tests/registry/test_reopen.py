"""Putting a closed record back in the register: a child who moved away came back (the import
refuses their rows until a person does this), or a record closed by mistake."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aixin.audit.models import AuditEvent
from aixin.ingest import services as ingest
from aixin.lib.errors import Conflict, InvalidInput
from aixin.registry.models import Child, ChildChange, ChildStatus
from aixin.registry.services import child_close, child_reopen
from tests import factories
from tests.ingest.test_import_engine import ident, row, write_csv


@pytest.fixture
def admin_a(users):
    return users["district_admin"]


def test_a_child_who_came_back_is_restored_with_the_reason_in_the_history(tree, admin_a):
    child = factories.make_child(tree.village_a1, name="金龙")
    child_close(actor=admin_a, child_id=child.pk, reason="迁出本市")

    child_reopen(actor=admin_a, child_id=child.pk, reason="已随祖母回到本村居住")

    child.refresh_from_db()
    assert (child.status, child.closed_reason, child.closed_at) == (ChildStatus.ACTIVE, "", None)
    restored = ChildChange.objects.filter(child=child, reason="已随祖母回到本村居住")
    assert {(c.field, c.old_value, c.new_value) for c in restored} >= {
        ("status", "已退出", "在册"),
        ("closed_reason", "迁出本市", ""),
    }
    assert AuditEvent.objects.filter(object_id=str(child.pk), summary__contains="儿童恢复在册").exists()


def test_a_reopen_needs_a_reason_and_a_closed_record(tree, admin_a):
    child = factories.make_child(tree.village_a1)
    with pytest.raises(Conflict, match="只有已退出台账的档案可以恢复"):
        child_reopen(actor=admin_a, child_id=child.pk, reason="误操作")
    child_close(actor=admin_a, child_id=child.pk, reason="迁出")
    with pytest.raises(InvalidInput, match="请填写恢复原因"):
        child_reopen(actor=admin_a, child_id=child.pk, reason="  ")
    assert Child.objects.get(pk=child.pk).status == ChildStatus.CLOSED


def test_after_a_reopen_the_departments_rows_are_imported_again(tree, admin_a, tmp_path):
    ledger = write_csv(tmp_path / "a.csv", [row(3, tree.village_a1)])
    ingest.start_file_import(
        actor=admin_a, source="civil_affairs", upload=ledger, dry_run=False, run_now=True
    )
    child = Child.objects.get()
    child_close(actor=admin_a, child_id=child.pk, reason="迁出")
    changed = row(3, tree.village_a1, school="龙潭小学")
    refused = ingest.start_file_import(
        actor=admin_a, source="civil_affairs", upload=write_csv(tmp_path / "b.csv", [changed]), run_now=True
    )
    assert refused.counts["rejected"] == 1 and "请先在儿童档案中恢复" in refused.rejections.get().reason

    child_reopen(actor=admin_a, child_id=child.pk, reason="已回到本地")
    taken = ingest.start_file_import(
        actor=admin_a, source="civil_affairs", upload=write_csv(tmp_path / "c.csv", [changed]), run_now=True
    )
    assert taken.counts["updated"] == 1
    assert Child.objects.get(pk=child.pk).school == "龙潭小学"
    assert ident(3)  # the same child all along


def test_the_closed_file_offers_the_restore_button_to_its_district_only(tree, admin_a, users, login):
    child = factories.make_child(tree.village_a1)
    page = login(admin_a).get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    assert reverse("registry:child_reopen", args=[child.pk]) not in page
    child_close(actor=admin_a, child_id=child.pk, reason="迁出")
    page = login(admin_a).get(reverse("registry:child_detail", args=[child.pk])).content.decode()
    assert reverse("registry:child_reopen", args=[child.pk]) in page
    assert (
        login(users["district_b_admin"])
        .post(reverse("registry:child_reopen", args=[child.pk]), {"reason": "回来了"})
        .status_code
        == 404
    )
    response = login(admin_a).post(
        reverse("registry:child_reopen", args=[child.pk]), {"reason": "已回到本地"}
    )
    assert response.status_code == 302
    assert Child.objects.get(pk=child.pk).status == ChildStatus.ACTIVE
