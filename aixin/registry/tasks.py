"""Daily minimisation of records past the retention period (aixin.registry.retention).
Idempotent: a minimised child is never picked again, so a second run the same day does nothing."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_periodic_task

from aixin.lib.schedule import local_crontab
from aixin.registry.retention import children_minimise

logger = logging.getLogger("aixin.registry")


# 03:40 Chongqing time: outside working hours and away from the 06:00–08:00 jobs.
@db_periodic_task(local_crontab(hour="3", minute="40"))  # type: ignore[untyped-decorator]
def minimise_closed_records() -> int:
    result = children_minimise()
    logger.info(
        "minimisation: %s children minimised (ended before %s, retention %s years)",
        result.count,
        result.cutoff.isoformat(),
        result.retention_years,
    )
    return result.count
