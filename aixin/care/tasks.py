"""Background work for routine care. Notifications come later; for now the daily scan logs the
overdue counts per district. It only reads, so running it twice is harmless."""

from __future__ import annotations

import datetime
import logging

from django.utils import timezone
from huey.contrib.djhuey import db_periodic_task

from aixin.care.selectors import overdue_by_district
from aixin.lib.schedule import local_crontab
from aixin.pairing.models import Pairing

logger = logging.getLogger("aixin.care")


def overdue_scan(*, today: datetime.date | None = None) -> dict[int, int]:
    day = today or timezone.localdate()
    counts = overdue_by_district(Pairing.objects.all(), today=day)
    for district_id, n in sorted(counts.items()):
        logger.info("care overdue scan %s: district %s has %s overdue items", day, district_id, n)
    return counts


@db_periodic_task(local_crontab(hour="6", minute="15"))  # type: ignore[untyped-decorator]
def scan_overdue() -> dict[int, int]:
    return overdue_scan()
