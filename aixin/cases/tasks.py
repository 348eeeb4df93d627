"""The case deadline scan (R-10.2): every 15 minutes, cases and referrals past their deadline are
escalated (district, then city). Idempotent: a second run escalates nothing more."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_periodic_task

from aixin.cases.services import escalate_overdue
from aixin.lib.schedule import local_crontab

logger = logging.getLogger("aixin.cases")


@db_periodic_task(local_crontab(minute="*/15"))  # type: ignore[untyped-decorator]
def escalate_case_deadlines() -> dict[str, int]:
    counts = escalate_overdue()
    if any(counts.values()):
        logger.info("case deadlines: %(cases)s cases and %(referrals)s referrals escalated", counts)
    return counts
