"""The daily reminder of overdue task-force actions (Chongqing time, see aixin.lib.schedule).
Idempotent: a reminder's dedupe key is the action and its due date, so a repeated run after a
crash, or on two consumers, sends nothing twice."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey.contrib.djhuey import db_periodic_task

from aixin.lib.schedule import local_crontab
from aixin.taskforces.services import overdue_action_reminders

logger = logging.getLogger("aixin.taskforces")


@db_periodic_task(local_crontab(hour="7", minute="45"))  # type: ignore[untyped-decorator]
def remind_overdue_actions() -> int:
    n = overdue_action_reminders(today=timezone.localdate())
    logger.info("overdue task-force action reminders: %s new", n)
    return n
