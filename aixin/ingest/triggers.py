"""Alerts raised by what a department batch did to the registry (R-4.5).

`after_batch` is called by the import engine inside the batch's transaction, after every row is
written. It reads what the batch did from the children it created (Child.created_batch), the
batch's ChildChange rows (one per changed tracked field of the others) and the children as they
now are, and opens alerts with set-based queries: a handful of queries per alert kind plus
one per few thousand alerts written, whatever the size of the batch. It never changes a child.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from aixin.alerts.models import AlertKind
from aixin.alerts.services import raise_alerts, raise_handover_alerts, resolve_satisfied, unpaired_message
from aixin.ingest.columns import SOURCE_LABELS, Source
from aixin.ingest.models import ImportBatch
from aixin.pairing.services import awaiting_loving_mother
from aixin.registry.models import Child, ChildChange, ChildStatus, SchoolStage

# Sources whose every record asks for a risk review (court and procuratorate data).
JUSTICE_SOURCES = (Source.COURT, Source.PROCURATORATE)
# What a 儿童状态 change may say that asks for leaving the register: (words or keys, as said).
STATUS_CLOSE_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("迁出", "moved_away"), "已迁出"),
    (("死亡", "已故", "dead"), "已死亡"),
    (("不再符合条件", "not_eligible"), "不再符合条件"),
)
CHILD_FIELDS = ("pk", "region_id", "town_id", "district_id")


def _changed(changes: QuerySet[Any], *fields: str, **extra: Any) -> Exists:
    """The child (OuterRef pk) has a change of one of `fields` in the batch."""
    return Exists(changes.filter(child=OuterRef("pk"), field__in=fields, **extra))


def _created_or_changed(batch: ImportBatch, changes: QuerySet[Any], field: str) -> Q:
    """The child is new in the batch, or the batch changed `field`."""
    return Q(created_batch=batch) | Q(_changed(changes, field))


def _unpaired(
    batch: ImportBatch, children: QuerySet[Any], changes: QuerySet[Any], today: datetime.date
) -> int:
    qs = children.filter(awaiting_loving_mother(today))
    newly = _created_or_changed(batch, changes, "care_tier")
    return raise_alerts(AlertKind.UNPAIRED, qs, unpaired_message(newly), batch=batch)


def _retiered(batch: ImportBatch, children: QuerySet[Any], changes: QuerySet[Any]) -> int:
    tier_changes = changes.filter(child=OuterRef("pk"), field="care_tier")
    qs = (
        children.filter(Exists(tier_changes))
        .exclude(created_batch=batch)
        .annotate(
            tier_from=Subquery(tier_changes.order_by("pk").values("old_value")[:1]),
            tier_to=Subquery(tier_changes.order_by("-pk").values("new_value")[:1]),
        )
        # Changed there and back within the batch: nothing to review.
        .exclude(tier_from=F("tier_to"))
        .only(*CHILD_FIELDS)
    )

    def message(child: Any) -> str:
        if child.tier_from:
            return f"关爱类型由{child.tier_from}调整为{child.tier_to}"
        return f"关爱类型调整为{child.tier_to}"

    return raise_alerts(AlertKind.RETIERED, qs, message, batch=batch)


def _risk_review(batch: ImportBatch, children: QuerySet[Any], changes: QuerySet[Any]) -> int:
    # A change to the field (or a new child) and the value the child now has: no reliance on
    # the display words of the history.
    dropped = Q(school_stage=SchoolStage.DROPPED_OUT) & _created_or_changed(batch, changes, "school_stage")
    justice = Q(is_justice_involved=True) & _created_or_changed(batch, changes, "is_justice_involved")
    from_justice = batch.source in JUSTICE_SOURCES
    qs = children if from_justice else children.filter(dropped | justice)
    qs = qs.annotate(dropped=dropped, justice=justice).only(*CHILD_FIELDS)
    source_label = SOURCE_LABELS.get(batch.source, batch.source)

    def message(child: Any) -> str:
        reasons = []
        if child.dropped:
            reasons.append("就学情况变为辍学")
        if child.justice:
            reasons.append("被标记为涉案未成年人")
        if from_justice:
            reasons.append(f"{source_label}报送了该儿童的信息")
        return "；".join(reasons) + "，请复核风险并跟进关爱"

    return raise_alerts(AlertKind.RISK_REVIEW, qs, message, batch=batch)


def _close_proposals(batch: ImportBatch, children: QuerySet[Any], changes: QuerySet[Any]) -> int:
    source_label = SOURCE_LABELS.get(batch.source, batch.source)

    # 1. The department says the child moved away, died or is no longer eligible.
    status_changes = changes.filter(child=OuterRef("pk"), field="child_status")
    says = Q()
    for words, _said in STATUS_CLOSE_REASONS:
        for word in words:
            says |= Q(status_said__contains=word)
    qs = (
        children.filter(Exists(status_changes))
        .annotate(status_said=Subquery(status_changes.order_by("-pk").values("new_value")[:1]))
        .filter(says)
        .only(*CHILD_FIELDS)
    )

    def status_message(child: Any) -> str:
        said = next(
            (text for words, text in STATUS_CLOSE_REASONS if any(w in child.status_said for w in words)),
            child.status_said,
        )
        return f"{source_label}数据显示该儿童{said}，建议核实后退出台账"

    created = raise_alerts(AlertKind.CLOSE_PROPOSAL, qs, status_message, batch=batch)

    # 2. No longer left behind (parents back home) and in no other category of the program.
    returned = (
        children.filter(
            is_left_behind=False,
            is_scattered_orphan=False,
            is_de_facto_unsupported=False,
            is_other_difficulty=False,
            is_justice_involved=False,
        )
        .filter(_changed(changes, "is_left_behind", old_value="是"))
        .only(*CHILD_FIELDS)
    )
    created += raise_alerts(
        AlertKind.CLOSE_PROPOSAL,
        returned,
        lambda child: "父母已返乡，不再符合留守儿童条件，建议退出台账",
        batch=batch,
    )
    return created


def after_batch(batch: ImportBatch, *, today: datetime.date) -> dict[str, int]:
    """Open the alerts the batch calls for; returns how many were opened, per alert kind."""
    changes = ChildChange.objects.filter(batch=batch)
    changed = changes.order_by().values("child_id")
    # A union, not an OR: each half by its own index, whatever the size of the registry.
    touched = changed.union(Child.objects.filter(created_batch=batch).order_by().values("pk"))
    children = Child.objects.filter(pk__in=touched, status=ChildStatus.ACTIVE)

    # What the batch settled (a tier no longer individual, say) closes before new alerts open
    # (a child the batch created has no alert yet).
    resolve_satisfied(children=changed)
    return {
        AlertKind.UNPAIRED.value: _unpaired(batch, children, changes, today),
        AlertKind.RETIERED.value: _retiered(batch, children, changes),
        AlertKind.HANDOVER.value: raise_handover_alerts(children, today=today, batch=batch),
        AlertKind.RISK_REVIEW.value: _risk_review(batch, children, changes),
        AlertKind.CLOSE_PROPOSAL.value: _close_proposals(batch, children, changes),
    }
