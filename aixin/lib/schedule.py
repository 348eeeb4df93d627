"""Schedules of periodic tasks in Chongqing time.

Huey matches periodic schedules against UTC by default (its `utc` option), so a plain
`crontab(hour="6")` would run at 14:00 in Chongqing. `local_crontab` reads the fields in
settings.TIME_ZONE instead; every periodic task with a time of day uses it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import HUEY


def local_crontab(**fields: str) -> Callable[[datetime.datetime], bool]:
    """A huey crontab read in settings.TIME_ZONE rather than in the queue's clock (UTC)."""
    matches = crontab(**fields)

    def validate(moment: datetime.datetime) -> bool:
        if HUEY.utc:
            moment = (
                moment.replace(tzinfo=datetime.UTC)
                .astimezone(ZoneInfo(settings.TIME_ZONE))
                .replace(tzinfo=None)
            )
        return bool(matches(moment))

    return validate
