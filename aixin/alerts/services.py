"""Writes for alerts (R-4.5): raise them in bulk, close them by hand, close them automatically.

Raising is set-based and idempotent: the database holds at most one open alert per child and
kind (a partial unique index), `raise_alerts` skips children that already have one and writes the
rest in chunks (or with one INSERT … SELECT), so a department batch touching half a million children costs a
few queries per thousand children, never one per child.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, Expression, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Left
from django.http import HttpRequest
from django.utils import timezone

from aixin.accounts.access import STAFF, alerts_visible_to, get_visible
from aixin.alerts.models import Alert, AlertKind, AlertStatus
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.lib.idnumber import eighteenth_birthday, latest_birth_date_turning_18_by
from aixin.pairing.services import PAIRABLE_TIERS as INDIVIDUAL_TIERS
from aixin.pairing.services import awaiting_loving_mother

CHUNK = 2000

DueOn = datetime.date | Callable[[Any], datetime.date | None] | None


def _open_alert_exists(kind: str) -> Exists:
    return Exists(Alert.objects.filter(child=OuterRef("pk"), kind=kind, status=AlertStatus.OPEN))


def _iter_children(children: Iterable[Any] | QuerySet[Any], kind: str) -> Iterator[Any]:
    if isinstance(children, QuerySet):
        # Skip children that already have an open alert of this kind in the same query, and
        # stream the rest (a server-side cursor on PostgreSQL).
        qs = children.exclude(_open_alert_exists(kind)).order_by("pk")
        yield from qs.iterator(chunk_size=CHUNK)
        return
    yield from children


def raise_alerts(
    kind: str,
    children: Iterable[Any] | QuerySet[Any],
    message_for: Callable[[Any], str] | Expression,
    batch: Any = None,
    due_on: DueOn = None,
) -> int:
    """Open an alert of `kind` for each child that has no open alert of that kind yet; returns
    how many were opened. `due_on` is a date or a function of the child. The message is a
    function of the child, or, for a queryset, an expression over it: then the alerts are
    written by one INSERT … SELECT, without reading the children at all (an import can open a
    hundred thousand)."""
    if kind not in AlertKind.values:
        raise ValueError(f"unknown alert kind {kind!r}")
    batch_id = getattr(batch, "pk", batch)
    if isinstance(message_for, Expression):
        if not isinstance(children, QuerySet) or callable(due_on):
            raise TypeError("a message expression needs a queryset of children and a fixed due date")
        return _insert_open_from(kind, children, message_for, batch_id, due_on)
    assert callable(message_for)
    created = 0
    seen: set[int] = set()
    pending: list[tuple[Any, ...]] = []
    now = timezone.now()
    for child in _iter_children(children, kind):
        if child.pk in seen:
            continue
        seen.add(child.pk)
        due = due_on(child) if callable(due_on) else due_on
        pending.append(
            (
                child.pk,
                child.region_id,
                child.town_id,
                child.district_id,
                message_for(child)[:300],
                due,
            )
        )
        if len(pending) >= CHUNK:
            created += _insert_open(kind, pending, batch_id, now)
            pending = []
    created += _insert_open(kind, pending, batch_id, now)
    return created


_COLUMNS = ("child_id", "region_id", "town_id", "district_id", "message", "due_on")
_FIXED = ("kind", "status", "batch_id", "created_at", "resolution")


def _insert_into() -> str:
    """The head of an INSERT of open alerts: the columns of _COLUMNS, then _FIXED."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in (*_COLUMNS, *_FIXED))
    return f"INSERT INTO {quote(Alert._meta.db_table)} ({names}) "


def _insert_open(kind: str, rows: list[tuple[Any, ...]], batch_id: int | None, now: datetime.datetime) -> int:
    """Insert open alerts, skipping children that have one of `kind` open already (a plain list
    was not filtered by the database, and a concurrent batch may have opened the same alert
    meanwhile: the partial unique index keeps one and this insert skips the other instead of
    failing the batch). One statement per chunk, no model instances: an import raises tens of
    thousands at once. Returns how many were opened."""
    if not rows:
        return 0
    fixed = [kind, AlertStatus.OPEN, batch_id, connection.ops.adapt_datetimefield_value(now), ""]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = list(zip(*rows, strict=True))
            cursor.execute(
                _insert_into() + "SELECT u.*, %s, %s, %s::bigint, %s::timestamptz, %s "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::text[], "
                "%s::date[]) u "
                "ON CONFLICT DO NOTHING",
                [*fixed, *(list(c) for c in columns)],
            )
            return max(int(cursor.rowcount), 0)
        placeholders = ", ".join(["%s"] * (len(_COLUMNS) + len(_FIXED)))
        cursor.executemany(  # SQLite sums the rows each statement inserted
            _insert_into() + f"VALUES ({placeholders}) ON CONFLICT DO NOTHING",
            [[*row[:5], connection.ops.adapt_datefield_value(row[5]), *fixed] for row in rows],
        )
        return max(int(cursor.rowcount), 0)


def _insert_open_from(
    kind: str,
    children: QuerySet[Any],
    message: Expression,
    batch_id: int | None,
    due_on: datetime.date | None,
) -> int:
    """`_insert_open` straight from a query of the children (message computed by the database)."""
    qs = (
        children.exclude(_open_alert_exists(kind))
        .annotate(alert_message=Left(message, 300))
        .values_list("pk", "region_id", "town_id", "district_id", "alert_message")
        .order_by()
    )
    select, params = qs.query.sql_with_params()
    ops = connection.ops
    fixed = [ops.adapt_datefield_value(due_on), kind, AlertStatus.OPEN, batch_id]
    fixed += [ops.adapt_datetimefield_value(timezone.now()), ""]
    cast = ("::date", "::bigint", "::timestamptz") if connection.vendor == "postgresql" else ("", "", "")
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_into()  # noqa: S608 — the select is Django's, the values are parameters
            + f"SELECT s.*, %s{cast[0]}, %s, %s, %s{cast[1]}, %s{cast[2]}, %s FROM ({select}) s "  # noqa: S608
            # WHERE: SQLite would read ON as a join condition of the SELECT.
            "WHERE true ON CONFLICT DO NOTHING",
            [*fixed, *params],
        )
        return max(int(cursor.rowcount), 0)


# ---------------------------------------------------------------------------------------------
# Closing by hand


def _require_staff(actor: Any) -> None:
    if not getattr(actor, "is_authenticated", False) or getattr(actor, "role", None) not in STAFF:
        raise NotAllowed("只有妇联工作人员可以处理预警")


def _close(
    *, actor: Any, alert_id: Any, status: str, text: str, request: HttpRequest | None, verb: str
) -> Alert:
    _require_staff(actor)
    text = (text or "").strip()
    alert: Alert = get_visible(
        alerts_visible_to(actor).select_for_update(of=("self",)).select_related("child"), alert_id
    )
    if not text:
        raise InvalidInput(f"请填写{verb}说明（如已电话核实、已结对、已上报）", field="resolution")
    if alert.status != AlertStatus.OPEN:
        raise Conflict(f"该预警{alert.get_status_display()}，无需重复操作")
    alert.status = status
    alert.resolution = text[:300]
    alert.resolved_by = actor
    alert.resolved_at = timezone.now()
    alert.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    audit_log(
        actor=actor,
        action=AuditAction.TRANSITION,
        object_type="alert",
        object_id=alert.pk,
        region=alert.region,
        summary=f"{verb}预警（{alert.get_kind_display()}）：儿童{alert.child.name}，{text}",
        details={"kind": alert.kind, "child_id": alert.child_id, "status": status},
        request=request,
    )
    return alert


@transaction.atomic
def resolve(*, actor: Any, alert_id: Any, resolution: str, request: HttpRequest | None = None) -> Alert:
    """Mark an alert as handled, with what was done. Out of the actor's scope → 404."""
    return _close(
        actor=actor,
        alert_id=alert_id,
        status=AlertStatus.RESOLVED,
        text=resolution,
        request=request,
        verb="处理",
    )


@transaction.atomic
def dismiss(*, actor: Any, alert_id: Any, reason: str, request: HttpRequest | None = None) -> Alert:
    """Dismiss an alert that needs no action, with the reason. Out of the actor's scope → 404."""
    return _close(
        actor=actor,
        alert_id=alert_id,
        status=AlertStatus.DISMISSED,
        text=reason,
        request=request,
        verb="忽略",
    )


# ---------------------------------------------------------------------------------------------
# Closing automatically


def resolve_satisfied(*, children: Any = None) -> dict[str, int]:
    """Close the open alerts whose cause has gone: an UNPAIRED child now has an open pairing, is
    no longer in an individual tier or no longer in the register; a HANDOVER or CLOSE_PROPOSAL
    child has been handed over, archived or closed. `children` (ids or a values() queryset)
    limits the sweep. Set-based: a few UPDATEs whatever the number of alerts."""
    from aixin.pairing.models import OPEN_STATUSES, Pairing
    from aixin.registry.models import ChildStatus

    now = timezone.now()
    base = Alert.objects.filter(status=AlertStatus.OPEN)
    if children is not None:
        base = base.filter(child_id__in=children)
    open_pairing = Exists(Pairing.objects.filter(child=OuterRef("child_id"), status__in=OPEN_STATUSES))
    not_in_register = ~Q(child__status=ChildStatus.ACTIVE)

    def close(kind: str, condition: Q | Exists, resolution: str) -> int:
        return base.filter(condition, kind=kind).update(
            status=AlertStatus.RESOLVED, resolution=resolution, resolved_at=now
        )

    unpaired = close(AlertKind.UNPAIRED, not_in_register, "儿童已不在册，自动关闭")
    unpaired += close(AlertKind.UNPAIRED, open_pairing, "已为儿童提议或建立结对，自动关闭")
    unpaired += close(
        AlertKind.UNPAIRED, ~Q(child__care_tier__in=INDIVIDUAL_TIERS), "关爱类型已不需一对一结对，自动关闭"
    )
    adult = Q(child__birth_date__lte=latest_birth_date_turning_18_by(timezone.localdate()))
    unpaired += close(AlertKind.UNPAIRED, adult, "已年满18周岁，转为移交成长爱护人，自动关闭")
    handover = close(
        AlertKind.HANDOVER, Q(child__status=ChildStatus.HANDED_OVER), "已移交成长爱护人，自动关闭"
    )
    handover += close(AlertKind.HANDOVER, not_in_register, "儿童已不在册，自动关闭")
    proposal = close(AlertKind.CLOSE_PROPOSAL, not_in_register, "儿童已退出台账，自动关闭")
    return {
        AlertKind.UNPAIRED.value: unpaired,
        AlertKind.HANDOVER.value: handover,
        AlertKind.CLOSE_PROPOSAL.value: proposal,
    }


def unpaired_message(newly: Q | None = None) -> Case:
    """The message of an UNPAIRED alert, worded by the database (an import can leave a hundred
    thousand children unpaired): "新纳入…" for the children `newly` selects, "需…" for the rest."""
    from aixin.registry.models import CareTier

    cases = ((newly, "新纳入"), (~newly, "需")) if newly is not None else ((Q(), "需"),)
    return Case(
        *(
            When(Q(care_tier=tier) & when, then=Value(f"{prefix}{label}关爱，尚未结对爱心妈妈"))
            for tier, label in ((CareTier.ONE_TO_ONE, "一对一"), (CareTier.MANY_TO_ONE, "多对一"))
            for when, prefix in cases
        ),
        output_field=CharField(),
    )


def raise_unpaired_alerts(*, today: datetime.date) -> int:
    """UNPAIRED alerts for every child who needs a loving mother (`needs_loving_mother`) and has
    no open pairing — whichever way they came to need one (entered by hand, re-tiered, a pairing
    ended) — so that the alerts agree with the list of children to pair. A child whose alert
    staff dismissed gets none again until a pairing has been proposed for them since."""
    from aixin.pairing.models import Pairing
    from aixin.registry.models import Child

    proposed_since = Pairing.objects.filter(
        child=OuterRef("child_id"), proposed_at__gt=OuterRef("resolved_at")
    )
    dismissed = Alert.objects.filter(
        child=OuterRef("pk"), kind=AlertKind.UNPAIRED, status=AlertStatus.DISMISSED
    ).exclude(Exists(proposed_since))
    children = Child.objects.filter(awaiting_loving_mother(today)).exclude(Exists(dismissed))
    return raise_alerts(AlertKind.UNPAIRED, children, unpaired_message())


def raise_handover_alerts(
    children: QuerySet[Any], *, today: datetime.date, batch: Any = None, days: int = 90
) -> int:
    """HANDOVER alerts for the active children of `children` who turn 18 within `days` of
    `today` (or already have), due on the 18th birthday."""
    from aixin.registry.models import ChildStatus

    cutoff = latest_birth_date_turning_18_by(today + datetime.timedelta(days=days))
    qs = children.filter(status=ChildStatus.ACTIVE, birth_date__lte=cutoff).only(
        "pk", "region_id", "town_id", "district_id", "birth_date"
    )

    def message(child: Any) -> str:
        day = eighteenth_birthday(child.birth_date)
        when = f"{day.year}年{day.month}月{day.day}日"
        if day > today:
            return f"将于{when}年满18周岁，请提前做好移交成长爱护人的准备"
        return f"已于{when}年满18周岁，请办理移交成长爱护人"

    return raise_alerts(
        AlertKind.HANDOVER,
        qs,
        message,
        batch=batch,
        due_on=lambda child: eighteenth_birthday(child.birth_date),
    )
