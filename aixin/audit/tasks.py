"""Seal any audit events left unsealed (a crash between commit and sealing) every minute."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from aixin.audit.chain import seal_pending


@db_periodic_task(crontab(minute="*"))  # type: ignore[untyped-decorator]
def seal_audit_log() -> int:
    return seal_pending()
