"""A file batch whose worker died (server restart) is started again and completes; one whose
file is gone is marked interrupted; the progress bar reads the queue's store."""

from __future__ import annotations

import datetime

from django.utils import timezone

from aixin.ingest import services, tasks
from aixin.ingest.models import BatchStatus, ImportBatch
from aixin.registry.models import Child
from tests.ingest.test_import_engine import row, write_csv


def _stale_running(batch: ImportBatch) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.RUNNING, started_at=timezone.now() - datetime.timedelta(minutes=10)
    )


def test_a_batch_whose_worker_died_is_started_again_and_completes(tree, users, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "a.csv", [row(i, tree.village_a1) for i in range(1, 4)])
    batch = services.start_file_import(actor=users["district_admin"], source="civil_affairs", upload=path)
    _stale_running(batch)  # the server died while it ran: nothing of it was committed
    monkeypatch.setattr(tasks, "run_import", lambda batch_id: services.run_batch(batch_id))
    assert services.batch_progress(ImportBatch.objects.get(pk=batch.pk))["stale"]

    assert services.requeue_stale_batches() == [batch.pk]
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DONE and batch.created_count == 3
    assert Child.objects.count() == 3


def test_a_running_batch_with_recent_progress_is_left_alone(tree, users, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "a.csv", [row(1, tree.village_a1)])
    batch = services.start_file_import(actor=users["district_admin"], source="civil_affairs", upload=path)
    _stale_running(batch)
    services._put_progress(batch.pk, 0, 1)  # the worker reported just now
    monkeypatch.setattr(tasks, "run_import", lambda batch_id: services.run_batch(batch_id))
    assert services.requeue_stale_batches() == []
    assert ImportBatch.objects.get(pk=batch.pk).status == BatchStatus.RUNNING


def test_a_dead_batch_whose_file_is_gone_is_marked_interrupted(tree, users, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "a.csv", [row(1, tree.village_a1)])
    batch = services.start_file_import(actor=users["district_admin"], source="civil_affairs", upload=path)
    _stale_running(batch)
    path.unlink()
    monkeypatch.setattr(tasks, "run_import", lambda batch_id: services.run_batch(batch_id))
    assert services.requeue_stale_batches() == []
    batch.refresh_from_db()
    assert batch.status == BatchStatus.INTERRUPTED and "未写入任何数据" in batch.error


def test_the_progress_bar_shows_rows_done_of_total_while_running(tree, users, tmp_path):
    path = write_csv(tmp_path / "a.csv", [row(i, tree.village_a1) for i in range(1, 5)])
    batch = services.start_file_import(actor=users["district_admin"], source="civil_affairs", upload=path)
    ImportBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.RUNNING, started_at=timezone.now())
    services._put_progress(batch.pk, 3, 4)
    progress = services.batch_progress(ImportBatch.objects.get(pk=batch.pk))
    assert (progress["done"], progress["total"], progress["percent"], progress["stale"]) == (3, 4, 75, False)
