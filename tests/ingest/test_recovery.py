"""A file batch whose worker died (server restart) is started again and completes; one whose
file is gone is marked interrupted; the progress bar reads the queue's store."""

from __future__ import annotations

import datetime
import itertools

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


def test_the_progress_bar_moves_while_the_rows_are_written_and_ends_at_every_row(
    tree, users, tmp_path, monkeypatch
):
    from aixin.ingest import engine

    monkeypatch.setattr(engine, "CHUNK", 2)
    clock = {"now": 0.0}

    def ticking() -> float:  # each look at the clock: 0.3 s later
        clock["now"] += 0.3
        return clock["now"]

    stored: list[tuple[float, int, int]] = []
    real = services._put_progress

    def put(batch_id: int, done: int, total: int) -> None:
        stored.append((clock["now"], done, total))
        real(batch_id, done, total)

    monkeypatch.setattr(services, "_clock", ticking)
    monkeypatch.setattr(services, "_put_progress", put)
    path = write_csv(tmp_path / "a.csv", [row(i, tree.village_a1) for i in range(1, 10)])
    batch = services.start_file_import(actor=users["district_admin"], source="civil_affairs", upload=path)
    batch = services.run_batch(batch.pk)
    assert batch.status == BatchStatus.DONE and Child.objects.count() == 9
    during = [done for _at, done, _total in stored if 0 < done < 9]
    assert during and during == sorted(during), "the bar moved forward while the rows were written"
    assert stored[-1][1:] == (9, 9), "and ends at every row of the file"
    times = [at for at, done, _total in stored if 0 < done < 9]
    assert all(b - a >= services.PROGRESS_EVERY_SECONDS for a, b in itertools.pairwise(times))
    assert len(stored) < 1 + 5, "not a store for every chunk of two rows"
