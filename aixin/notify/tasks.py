"""Periodic notification jobs on the task queue: thin wrappers around aixin.notify.jobs and
services.deliver_pending. Each job is idempotent (dedupe keys), so a run repeated after a crash
or on two consumers sends nothing twice.

Times are Chongqing time (settings.TIME_ZONE, see aixin.lib.schedule).
"""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from aixin.lib.schedule import local_crontab
from aixin.notify import jobs
from aixin.notify.services import deliver_pending

logger = logging.getLogger("aixin.notify")


@db_periodic_task(local_crontab(day_of_week="1", hour="7", minute="0"))  # type: ignore[untyped-decorator]
def send_weekly_mother_summaries() -> int:
    n = jobs.weekly_mother_summaries(today=timezone.localdate())
    logger.info("weekly summaries: %s new", n)
    return n


@db_periodic_task(local_crontab(hour="8", minute="0"))  # type: ignore[untyped-decorator]
def send_mother_overdue_reminders() -> int:
    n = jobs.mother_overdue_reminders(today=timezone.localdate())
    logger.info("overdue reminders to loving mothers: %s new", n)
    return n


@db_periodic_task(local_crontab(hour="7", minute="15"))  # type: ignore[untyped-decorator]
def send_staff_alerts() -> int:
    n = jobs.staff_alerts(today=timezone.localdate())
    logger.info("staff alerts: %s new", n)
    return n


@db_periodic_task(local_crontab(day_of_week="1", hour="7", minute="30"))  # type: ignore[untyped-decorator]
def send_district_digests() -> int:
    n = jobs.district_digests(today=timezone.localdate())
    logger.info("district digests: %s new", n)
    return n


@db_periodic_task(crontab(minute="*/5"))  # type: ignore[untyped-decorator]
def deliver_notifications() -> dict[str, int]:
    return deliver_pending()
