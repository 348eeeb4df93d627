"""Daily deletion of log-in attempts past their retention (aixin.accounts.lockout.purge_attempts).
Idempotent: a second run the same day finds nothing older than the cutoff."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_periodic_task

from aixin.accounts.lockout import purge_attempts
from aixin.lib.schedule import local_crontab

logger = logging.getLogger("aixin.accounts")


# 03:20 Chongqing time: outside working hours, before the 03:40 minimisation.
@db_periodic_task(local_crontab(hour="3", minute="20"))  # type: ignore[untyped-decorator]
def purge_login_attempts() -> int:
    deleted = purge_attempts()
    logger.info("log-in attempts: %s older than the retention deleted", deleted)
    return deleted
