"""Daily alert scan: HANDOVER alerts city-wide for active children who turn 18 within 90 days,
UNPAIRED alerts for children who need a loving mother and have none (however they came to),
and the automatic closing of alerts whose cause has gone. Idempotent: running it twice opens
nothing new (one open alert per child and kind)."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from huey.contrib.djhuey import db_periodic_task

from aixin.alerts.services import raise_handover_alerts, raise_unpaired_alerts, resolve_satisfied
from aixin.lib.schedule import local_crontab
from aixin.registry.models import Child

logger = logging.getLogger("aixin.alerts")

HANDOVER_NOTICE_DAYS = 90


def daily_alert_scan(*, today: datetime.date | None = None) -> dict[str, int]:
    day = today or timezone.localdate()
    with transaction.atomic():
        closed = resolve_satisfied()
        opened = raise_handover_alerts(Child.objects.all(), today=day, days=HANDOVER_NOTICE_DAYS)
        unpaired = raise_unpaired_alerts(today=day)
    logger.info(
        "alert scan %s: %s handover and %s unpaired alerts opened, %s alerts closed automatically",
        day,
        opened,
        unpaired,
        sum(closed.values()),
    )
    return {
        "handover_opened": opened,
        "unpaired_opened": unpaired,
        **{f"{k}_closed": n for k, n in closed.items()},
    }


@db_periodic_task(local_crontab(hour="6", minute="30"))  # type: ignore[untyped-decorator]
def scan_alerts() -> dict[str, int]:
    return daily_alert_scan()
