"""Re-encrypting every encrypted column under the current field key (`aixin rotate-keys`).

The system keeps serving meanwhile: the old keys stay in the keyring until rotation ends, so
every token opens whichever key sealed it, and whatever the application writes meanwhile is
already under the current key. Each batch is its own short transaction; on PostgreSQL its rows
are taken with `FOR UPDATE SKIP LOCKED` (a row someone is editing is left for the next run), and
every row is written only if its token is still the one read (compare-and-set), so a value
edited meanwhile is never overwritten with an older one. A run selects the tokens that do not
start with the current prefix, so running it again continues where an interrupted run stopped.

Blind indexes are not touched: their key is separate and never rotated, so ID-number look-up
and duplicate detection work the same before, during and after rotation.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib import crypto
from aixin.ops import datakeys


@dataclass
class ColumnRotation:
    model: str
    field: str
    installed: bool = True
    pending_before: int = 0
    by_key: dict[str, int] = dataclasses.field(default_factory=dict)  # dry run: pending tokens per key
    rotated: int = 0
    batches: int = 0
    failed: list[int] = dataclasses.field(default_factory=list)  # primary keys whose token does not open
    error: str = ""  # why the first of them does not open
    remaining: int = 0

    @property
    def label(self) -> str:
        return f"{self.model}.{self.field}"


@dataclass
class RotationReport:
    current: str
    dry_run: bool
    batch_size: int
    columns: list[ColumnRotation] = dataclasses.field(default_factory=list)
    interrupted: bool = False  # stopped by max_batches
    seconds: float = 0.0

    @property
    def rotated(self) -> int:
        return sum(c.rotated for c in self.columns)

    @property
    def remaining(self) -> int:
        return sum(c.remaining for c in self.columns)

    @property
    def complete(self) -> bool:
        """Every token of every column is under the current key: old keys may be retired
        (once no backup that still needs them is kept)."""
        return not self.dry_run and not self.interrupted and self.remaining == 0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(rotated=self.rotated, remaining=self.remaining, complete=self.complete)
        return out


# What else a re-encryption writes, by context: a data key re-wrapped under the new key is
# retired, so that what is sealed after the rotation is under a fresh one.
_ALSO: dict[str, dict[str, Any]] = {datakeys.WRAP_CONTEXT: datakeys.REWRAP_ALSO}


def _pending(model: type[models.Model], name: str, prefix: str) -> models.QuerySet[Any]:
    return model._default_manager.exclude(**{name: ""}).exclude(**{f"{name}__startswith": prefix})


def _key_label(token: str) -> str:
    try:
        key_id, algorithm = crypto.token_key(token)
    except crypto.DecryptionError:
        return "invalid"
    return f"k{key_id}:{algorithm}"


def _rotate_batch(
    model: type[models.Model],
    spec: crypto.EncryptedField,
    ring: crypto.Keyring,
    *,
    after_pk: Any,
    batch_size: int,
    result: ColumnRotation,
) -> Any:
    """One batch in its own transaction; returns the last primary key read (None: no rows left)."""
    manager = model._default_manager
    with transaction.atomic():
        rows = _pending(model, spec.field, ring.prefix).filter(pk__gt=after_pk).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        batch = list(rows.values_list("pk", spec.field)[:batch_size])
        for pk, token in batch:
            try:
                fresh = crypto.reencrypt(token, context=spec.context, ring=ring)
            except crypto.DecryptionError as exc:
                result.failed.append(pk)
                result.error = result.error or str(exc)
                continue
            changes = {spec.field: fresh, **_ALSO.get(spec.context, {})}
            result.rotated += manager.filter(pk=pk, **{spec.field: token}).update(**changes)
    return batch[-1][0] if batch else None


def field_keys_rotate(
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    max_batches: int | None = None,
    fields: Iterable[crypto.EncryptedField] = crypto.ENCRYPTED_FIELDS,
    progress: Callable[[ColumnRotation], None] | None = None,
) -> RotationReport:
    """Re-encrypt every token not under the current key (dry run: count them per key).
    `max_batches` stops after that many batches in all (the next run continues)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.monotonic()
    crypto.forget_key_file_state()
    ring = crypto.keyring()
    report = RotationReport(current=ring.prefix.rstrip(":"), dry_run=dry_run, batch_size=batch_size)
    batches = 0
    for spec in fields:
        result = ColumnRotation(model=spec.model, field=spec.field)
        report.columns.append(result)
        try:
            model = apps.get_model(spec.model)
        except LookupError:
            result.installed = False
            continue
        pending = _pending(model, spec.field, ring.prefix)
        if dry_run:
            tokens = pending.values_list(spec.field, flat=True).iterator(chunk_size=2000)
            result.by_key = dict(Counter(_key_label(t) for t in tokens))
            result.pending_before = result.remaining = sum(result.by_key.values())
            if progress:
                progress(result)
            continue
        result.pending_before = pending.count()
        after_pk: Any = 0
        while result.pending_before and not report.interrupted:
            if max_batches is not None and batches >= max_batches:
                report.interrupted = True
                break
            after_pk = _rotate_batch(
                model, spec, ring, after_pk=after_pk, batch_size=batch_size, result=result
            )
            if after_pk is None:
                break
            batches += 1
            result.batches += 1
            if progress:
                progress(result)
        result.remaining = pending.count()
    report.seconds = round(time.monotonic() - started, 3)
    if not dry_run:
        audit_log(
            actor=None,
            action=AuditAction.UPDATE,
            object_type="field_keys",
            object_id=report.current,
            summary=(
                f"字段加密密钥轮换至 {report.current}：重新加密 {report.rotated} 项，"
                f"尚余 {report.remaining} 项{'（已中断，可再次运行继续）' if report.interrupted else ''}"
            ),
            details={
                "columns": {
                    c.label: {"rotated": c.rotated, "remaining": c.remaining, "failed": len(c.failed)}
                    for c in report.columns
                    if c.installed
                }
            },
        )
    return report
