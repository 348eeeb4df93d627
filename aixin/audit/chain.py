"""The tamper-evident audit log (issue 6 §1, 等保 安全审计 / 数据完整性).

Every event is sealed into a hash chain right after its transaction commits (and by a periodic
task for any left over): seal n holds HMAC-SHA256(key, hash of seal n−1 ‖ the event's canonical
content). The key (settings.AIXIN_AUDIT_KEY, else derived from SECRET_KEY) is never in the
database, so someone who can write to the database cannot rebuild a chain they broke. Each
sealing run also appends the chain's head (seq, hash) to an anchor file outside the database
(DATA_DIR/audit-anchor.log), which is how cutting off the newest events is detected.

`verify()` walks the chain and reports the first problem: an altered event, a missing (deleted)
event, an event inserted out of order or never sealed, a chain shorter than its anchor.

Sealing happens after commit and not inside the writer's transaction so that a long transaction
(an import of 500,000 rows) never holds up every other request's auditing; the price is that an
event exists unsealed for a moment — `verify` flags events left unsealed longer than
AIXIN_AUDIT_SEAL_GRACE_SECONDS.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aixin.audit.models import AuditEvent, AuditSeal

GENESIS = "0" * 64
FIELDS = (
    "pk",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "summary",
    "details",
    "region_id",
    "district_id",
    "ip_address",
    "user_agent",
    "path",
    "created_at",
)


@lru_cache(maxsize=2)
def _key(configured: str, secret: str) -> bytes:
    if configured:
        return base64.urlsafe_b64decode(configured)
    return hashlib.sha256(b"aixin-audit-chain:" + secret.encode()).digest()


def audit_key() -> bytes:
    return _key(getattr(settings, "AIXIN_AUDIT_KEY", ""), settings.SECRET_KEY)


def _canonical(row: tuple[Any, ...]) -> bytes:
    values = dict(zip(FIELDS, row, strict=True))
    created = values["created_at"]
    if isinstance(created, datetime.datetime):
        values["created_at"] = created.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    values["ip_address"] = str(values["ip_address"] or "")
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def seal_hash(prev_hash: str, row: tuple[Any, ...]) -> str:
    return hmac.new(audit_key(), prev_hash.encode() + _canonical(row), hashlib.sha256).hexdigest()


def anchor_path() -> Path:
    """Where the chain's head is written: AIXIN_AUDIT_ANCHOR_FILE, else DATA_DIR/audit-anchor.log
    (a deployment puts it on another disk or ships it to the log server)."""
    configured = getattr(settings, "AIXIN_AUDIT_ANCHOR_FILE", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit-anchor.log"


def seal_pending(*, limit: int = 5000) -> int:
    """Seal the events not sealed yet, oldest first; answers how many. Safe to run at any time
    and from several processes at once (the chain's head is locked; a seal per event is unique)."""
    total = 0
    while True:
        try:
            sealed = _seal_batch(limit)
        except IntegrityError:  # another process sealed the same events meanwhile
            continue
        total += sealed
        if sealed < limit:
            return total


def _seal_batch(limit: int) -> int:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # one sealer at a time (SQLite: IMMEDIATE already)
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x41495849])
        rows = list(AuditEvent.objects.filter(seal__isnull=True).order_by("pk").values_list(*FIELDS)[:limit])
        if not rows:
            return 0
        last = AuditSeal.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev = last if last else (0, GENESIS)
        seals = []
        for row in rows:
            seq += 1
            digest = seal_hash(prev, row)
            seals.append(AuditSeal(seq=seq, event_id=row[0], prev_hash=prev, hash=digest))
            prev = digest
        AuditSeal.objects.bulk_create(seals)
        _anchor(seq, prev)
    return len(rows)


def _anchor(seq: int, digest: str) -> None:
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{timezone.now().isoformat()} {seq} {digest}\n")


def seal_after_commit() -> None:
    """Called by `audit_log`: seal once the writer's transaction has committed."""
    transaction.on_commit(_seal_quietly)


def _seal_quietly() -> None:
    try:
        seal_pending()
    except Exception:  # the periodic task seals what is left; auditing never breaks a request
        import logging

        logging.getLogger("aixin.audit").exception("sealing the audit log failed")


@dataclass
class Verdict:
    ok: bool
    sealed: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "sealed": self.sealed, "problems": self.problems}


def verify(*, grace_seconds: int | None = None) -> Verdict:
    """Walk the chain; the first problem of each kind, in Chinese (see the module's docstring)."""
    grace = grace_seconds if grace_seconds is not None else settings.AIXIN_AUDIT_SEAL_GRACE_SECONDS
    problems: list[str] = []
    prev, expected_seq, count = GENESIS, 1, 0
    seals = AuditSeal.objects.order_by("seq").values_list("seq", "event_id", "prev_hash", "hash", "sealed_at")
    late = datetime.timedelta(seconds=grace)
    events = AuditEvent.objects.filter(seal__isnull=False).order_by("seal__seq").values_list(*FIELDS)
    for (seq, event_id, prev_hash, digest, sealed_at), row in zip(
        seals.iterator(chunk_size=5000), events.iterator(chunk_size=5000), strict=False
    ):
        count += 1
        if seq != expected_seq:
            problems.append(f"审计日志第 {expected_seq} 条至第 {seq - 1} 条缺失（被删除）")
            break
        if row[0] != event_id:
            problems.append(f"审计日志第 {seq} 条对应的事件 #{event_id} 缺失（被删除）")
            break
        if prev_hash != prev:
            problems.append(f"审计日志第 {seq} 条（事件 #{event_id}）与前一条不衔接（链被改动或插入）")
            break
        if not hmac.compare_digest(seal_hash(prev, row), digest):
            problems.append(f"审计日志第 {seq} 条（事件 #{event_id}）的内容被改动")
            break
        if sealed_at - row[-1] > late:
            problems.append(
                f"审计日志第 {seq} 条（事件 #{event_id}）记录于 {row[-1]:%Y-%m-%d %H:%M}，"
                f"却到 {sealed_at:%Y-%m-%d %H:%M} 才封存：可能是事后插入"
            )
            break
        prev, expected_seq = digest, seq + 1
    else:
        total_seals = seals.count()
        if count < total_seals:
            problems.append(f"审计日志第 {count + 1} 条对应的事件缺失（被删除）")
    cutoff = timezone.now() - datetime.timedelta(seconds=grace)
    stray = AuditEvent.objects.filter(seal__isnull=True, created_at__lt=cutoff).order_by("pk").first()
    if stray is not None:
        problems.append(
            f"事件 #{stray.pk}（{stray.created_at:%Y-%m-%d %H:%M}）未封存：可能是绕过系统直接写入"
        )
    head = _last_anchor()
    if head is not None and not problems:
        seq, digest = head
        found = AuditSeal.objects.filter(seq=seq).values_list("hash", flat=True).first()
        if found is None:
            problems.append(f"审计日志链尾被截断：锚点记录到第 {seq} 条，数据库中只有 {count} 条")
        elif found != digest:
            problems.append(f"审计日志第 {seq} 条与锚点记录不符（链被重建）")
    return Verdict(ok=not problems, sealed=count, problems=problems)


def _last_anchor() -> tuple[int, str] | None:
    path = anchor_path()
    if not path.exists():
        return None
    last = ""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                last = line
    if not last:
        return None
    _when, seq, digest = last.split()
    return int(seq), digest
