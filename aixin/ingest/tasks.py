"""Background work for department data: file imports run in the task queue, and a periodic
check restarts imports whose worker died (a server restart), which wrote nothing."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from aixin.ingest import services


@db_task()  # type: ignore[untyped-decorator]
def run_import(batch_id: int) -> None:
    services.run_batch(batch_id)


@db_periodic_task(crontab(minute="*/2"))  # type: ignore[untyped-decorator]
def requeue_stale_imports() -> list[int]:
    return services.requeue_stale_batches()
