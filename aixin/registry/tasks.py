"""Daily jobs of the registry: minimisation of records past the retention period
(aixin.registry.retention), and the category rules applied again where time alone changes their
answer (a 16th or 18th birthday, a parent condition's time limits). Both idempotent: a second
run the same day does nothing."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_periodic_task

from aixin.lib.schedule import local_crontab
from aixin.registry.retention import children_minimise
from aixin.registry.services import children_rederive_by_time

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


# 06:10 Chongqing time: before the alert scan (06:30), which then sees the new tiers (a child
# newly one-to-one gets an unpaired alert the same morning).
@db_periodic_task(local_crontab(hour="6", minute="10"))  # type: ignore[untyped-decorator]
def rederive_by_time() -> int:
    changed = children_rederive_by_time()
    logger.info("rules applied again as time passed: %s children changed", len(changed))
    return len(changed)
