"""What the care app empties when the registry minimises closed records (R-12.3: retention and
minimisation; `aixin.registry.retention`)."""

from __future__ import annotations

import datetime
from contextlib import suppress
from typing import Any

from django.db import transaction

from aixin.care.models import CareRecord


def minimise_care_records(*, child_ids: list[int], now: datetime.datetime, **_: Any) -> None:
    """The notes and photos of the children's care records go; the record (date, kind, rules,
    services) stays for the compliance figures. Photo files are deleted once the run commits."""
    records = CareRecord.objects.filter(child_id__in=child_ids)
    photos = [name for name in records.exclude(photo="").values_list("photo", flat=True) if name]
    records.exclude(notes_encrypted="", photo="").update(notes_encrypted="", photo="", updated_at=now)
    if photos:
        storage = CareRecord._meta.get_field("photo").storage

        def delete_files() -> None:
            for name in photos:
                with suppress(OSError):
                    storage.delete(name)

        transaction.on_commit(delete_files)


def connect() -> None:
    from aixin.registry.signals import children_minimised

    children_minimised.connect(minimise_care_records, dispatch_uid="care.minimise_care_records")
