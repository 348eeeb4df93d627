"""Background work for matching: a started run is computed in the task queue, so a large
district does not hold a web request. A run that fails is recorded on its row (status failed)."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

logger = logging.getLogger("aixin.matching")


@db_task()  # type: ignore[untyped-decorator]
def run_compute_task(run_id: int) -> int:
    from aixin.matching.services import run_compute

    try:
        run_compute(run_id)
    except Exception:
        logger.exception("matching run %s failed", run_id)
    return run_id
