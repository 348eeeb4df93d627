"""Reads for the separated administrators' pages: the security administrator's account list
(through `users_visible_to`) and the system administrator's status page (no personal data)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from aixin.accounts.access import users_visible_to
from aixin.accounts.models import LockKind, LoginLock, TotpDevice


def user_list(*, user: Any, role: str = "", region: str = "", active: str = "") -> QuerySet[Any]:
    """The accounts the security administrator sees, with `locked` and `totp_enrolled`
    annotated. `region` is a region code (its subtree), `active` "1" or "0"."""
    now = timezone.now()
    locks = LoginLock.objects.filter(
        kind=LockKind.ACCOUNT, key=OuterRef("username_lower"), locked_until__gt=now
    )
    devices = TotpDevice.objects.filter(user=OuterRef("pk"), confirmed_at__isnull=False)
    users: QuerySet[Any] = (
        users_visible_to(user)
        .select_related("region")
        .annotate(username_lower=Lower("username"))
        .annotate(locked=Exists(locks), totp_enrolled=Exists(devices))
    )
    if role:
        users = users.filter(role=role)
    if region:
        users = users.filter(region__path__startswith=_region_path(region))
    if active in ("1", "0"):
        users = users.filter(is_active=active == "1")
    return users.order_by("role", "region__code", "username")


def _region_path(code: str) -> str:
    from aixin.regions.models import Region

    found = Region.objects.filter(code=code).values_list("path", flat=True).first()
    return found if found is not None else "\x00none"


@dataclass
class Backup:
    directory: str
    newest_name: str = ""
    newest_at: datetime.datetime | None = None


@dataclass
class SystemStatus:
    database_vendor: str
    database_name: str
    migrations: list[tuple[str, str, int]] = field(default_factory=list)  # app, latest, count
    unapplied: int = 0
    queue_mode: str = ""
    pending_tasks: int | None = None
    last_seal_at: datetime.datetime | None = None
    sealed_count: int = 0
    field_key_id: int | None = None
    field_key_algorithm: str = ""
    backup: Backup | None = None


def _migrations() -> tuple[list[tuple[str, str, int]], int]:
    """The latest applied migration of each app, and how many known migrations are not applied."""
    from django.db.migrations.loader import MigrationLoader

    applied = MigrationRecorder(connection).applied_migrations()
    latest: dict[str, tuple[str, int]] = {}
    for app, name in sorted(applied):
        count = latest.get(app, ("", 0))[1] + 1
        latest[app] = (name, count)
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    unapplied = len(set(loader.disk_migrations) - set(applied))
    return [(app, name, count) for app, (name, count) in sorted(latest.items())], unapplied


def _pending_tasks() -> int | None:
    try:
        from huey.contrib.djhuey import HUEY

        return int(HUEY.pending_count())
    except Exception:  # the queue is down or unreachable: the page still shows the rest
        return None


def _backup() -> Backup:
    directory = (
        Path(settings.AIXIN_BACKUP_DIR) if settings.AIXIN_BACKUP_DIR else Path(settings.DATA_DIR) / "backups"
    )
    found = Backup(directory=str(directory))
    try:
        files = [p for p in directory.iterdir() if p.is_file()]
    except OSError:
        return found
    if files:
        newest = max(files, key=lambda p: p.stat().st_mtime)
        found.newest_name = newest.name
        found.newest_at = datetime.datetime.fromtimestamp(newest.stat().st_mtime, tz=datetime.UTC)
    return found


def system_status() -> SystemStatus:
    """What the system administrator checks: database and migrations, the task queue, the audit
    seal, the field key in use (its id, never the key) and the newest backup."""
    from aixin.audit.models import AuditSeal
    from aixin.lib import crypto

    migrations, unapplied = _migrations()
    last_seal = AuditSeal.objects.order_by("-seq").values_list("sealed_at", flat=True).first()
    ring = crypto.keyring()
    return SystemStatus(
        database_vendor=connection.vendor,
        database_name=str(connection.settings_dict.get("NAME", "")),
        migrations=migrations,
        unapplied=unapplied,
        queue_mode=str(getattr(settings, "HUEY_MODE", "")),
        pending_tasks=_pending_tasks(),
        last_seal_at=last_seal,
        sealed_count=AuditSeal.objects.count(),
        field_key_id=ring.current.id,
        field_key_algorithm=ring.current.algorithm,
        backup=_backup(),
    )
