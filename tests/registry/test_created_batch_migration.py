"""Migration registry 0009: an imported child's "created" history row becomes the stamp
Child.created_batch (and back)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.migration_helpers import migration_test, old_child

BEFORE = ("registry", "0008_child_source_hashes")
AFTER = ("registry", "0009_child_created_batch")
# The import batches of that time: later ingest migrations add columns the old models lack.
INGEST_THEN = ("ingest", "0003_source_hashes_on_child")


@migration_test
@pytest.mark.django_db(transaction=True)
def test_a_created_history_row_becomes_the_childs_batch_and_comes_back_on_reverse():
    from aixin.regions.models import Region, RegionLevel

    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE, INGEST_THEN])
    old = executor.loader.project_state([BEFORE, INGEST_THEN]).apps
    village = Region.objects.create(code="500101001001", name="红花村", level=RegionLevel.VILLAGE, path="x/")
    batch = old.get_model("ingest", "ImportBatch").objects.create(source="civil_affairs", scope_id=village.pk)
    old_model = old.get_model("registry", "Child")

    def child(n: int) -> int:
        return old_child(old_model, village, n)

    imported, manual = child(1), child(2)
    history = old.get_model("registry", "ChildChange").objects
    history.create(
        child_id=imported, field="created", new_value="新建档案（民政数据导入）", batch_id=batch.pk
    )
    history.create(child_id=imported, field="school", new_value="一小", batch_id=batch.pk)
    history.create(child_id=manual, field="name", new_value="王小花2", source="manual")

    executor = MigrationExecutor(connection)
    executor.migrate([AFTER, INGEST_THEN])
    then = executor.loader.project_state([AFTER, INGEST_THEN]).apps  # later migrations add columns
    Child, ChildChange = then.get_model("registry", "Child"), then.get_model("registry", "ChildChange")
    assert Child.objects.get(pk=imported).created_batch_id == batch.pk
    assert Child.objects.get(pk=manual).created_batch_id is None
    assert sorted(ChildChange.objects.values_list("field", flat=True)) == ["name", "school"]

    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    back = executor.loader.project_state([BEFORE]).apps.get_model("registry", "ChildChange")
    assert back.objects.filter(child_id=imported, field="created", batch_id=batch.pk).count() == 1
    assert not back.objects.filter(child_id=manual, field="created").exists()
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
