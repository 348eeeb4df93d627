"""Reads for the import pages. Everything starts from the scoping selectors of
`aixin.accounts.access` (`import_batches_visible_to`, `duplicate_suspects_visible_to`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from aixin.accounts.access import (
    children_visible_to,
    duplicate_suspects_visible_to,
    import_batches_visible_to,
)
from aixin.ingest.columns import NOT_DATA_HEADERS, SOURCE_LABELS, import_reason, match_header, shown_label
from aixin.ingest.models import (
    BatchKind,
    BatchStatus,
    DuplicateSuspect,
    ImportBatch,
    ImportRejection,
    SuspectStatus,
)
from aixin.registry.models import ChildChange

REJECTIONS_SHOWN = 200
ACTIVE_STATUSES = (BatchStatus.QUEUED, BatchStatus.RUNNING)

# Where a registry value came from: the departments, plus the registry's own entries.
OTHER_SOURCE_LABELS = {
    "manual": "手工录入",
    "demo": "演示数据",
    "rules": "规则认定",
}


def source_label(source: str | None) -> str:
    """The Chinese name of a data source (民政/教育/…/手工录入); unknown codes as they are."""
    if not source:
        return ""
    return SOURCE_LABELS.get(source) or OTHER_SOURCE_LABELS.get(source) or source


def source_choices() -> list[tuple[str, str]]:
    return list(SOURCE_LABELS.items())


def batch_list(*, user: Any) -> QuerySet[ImportBatch]:
    """The batches in the user's scope, newest first."""
    return (
        import_batches_visible_to(user)
        .select_related("created_by", "credential", "scope")
        .order_by("-created_at", "-id")
    )


def ignored_columns(batch: ImportBatch) -> list[str]:
    """The named columns of a batch's file that were not imported, shown on the batch page: not
    recognised (a column of the district's own), or a second column for a field an earlier
    column already fills (说明 after 备注: the first one is read)."""
    if batch.kind != BatchKind.FILE:
        return []
    taken: dict[str, str] = {}  # key → the header that fills it
    ignored = []
    for header in (str(h or "").strip() for h in batch.headers or []):
        if not header or header in NOT_DATA_HEADERS:
            continue
        key = match_header(header)
        if key is None:
            ignored.append(header)
        elif key in taken:
            ignored.append(f"{header}（与“{taken[key]}”重复，只读取了“{taken[key]}”）")
        else:
            taken[key] = header
    return list(dict.fromkeys(ignored))


def batch_rejections(batch: ImportBatch, *, limit: int = REJECTIONS_SHOWN) -> list[ImportRejection]:
    """The first `limit` rejected rows of a batch already read through the scope, in the order
    of the file; the column as the file's header names it (`columns.shown_label`)."""
    rows = list(batch.rejections.order_by("sheet_index", "row_number", "id")[:limit])
    for row in rows:
        row.column = shown_label(batch.kind, row.column)
    return rows


def _suspects(user: Any) -> QuerySet[DuplicateSuspect]:
    """Suspects in scope whose two records the user may both see."""
    children = children_visible_to(user)
    return (
        duplicate_suspects_visible_to(user)
        .filter(child__in=children, other__in=children)
        .select_related(
            "batch",
            "decided_by",
            "child__region",
            "child__town",
            "child__district",
            "other__region",
            "other__town",
            "other__district",
        )
        .prefetch_related("child__guardians", "other__guardians")
    )


def open_suspects(*, user: Any) -> QuerySet[DuplicateSuspect]:
    return _suspects(user).filter(status=SuspectStatus.OPEN).order_by("-created_at", "-id")


def batch_suspects(*, user: Any, batch: ImportBatch) -> QuerySet[DuplicateSuspect]:
    return _suspects(user).filter(batch=batch).order_by("-created_at", "-id")


@dataclass(frozen=True)
class SuspectSide:
    """One of the two records of a duplicate suspect, as shown side by side."""

    child: Any
    guardians: list[Any]
    source: str


def suspect_sides(suspect: DuplicateSuspect) -> tuple[SuspectSide, SuspectSide]:
    """(the newer record, the record it resembles)."""

    def side(child: Any) -> SuspectSide:
        return SuspectSide(
            child=child, guardians=list(child.guardians.all()), source=source_label(child.source)
        )

    return side(suspect.child), side(suspect.other)


def visible_batch_ids(user: Any, ids: Iterable[int | None]) -> set[int]:
    """Of these batch ids, the ones the user may open."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return set()
    return set(import_batches_visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True))


def child_history(user: Any, child: Any, changes: list[Any]) -> list[Any]:
    """The history lines of a child file: its ChildChange rows, newest first, then the child's
    creation by a department batch (kept on the child as `created_batch`); each with
    `source_label` and `batch_visible` (whether the user may open the batch)."""
    lines = list(changes)
    if child.created_batch_id is not None:
        reason = import_reason(child.source)
        lines.append(
            ChildChange(
                child=child,
                field="created",
                new_value=f"新建档案（{reason}）",
                source=child.source,
                reason=reason,
                batch_id=child.created_batch_id,
                changed_by_id=child.created_by_id,
                created_at=child.created_at,
            )
        )
    visible = visible_batch_ids(user, (c.batch_id for c in lines))
    for line in lines:
        line.source_label = source_label(line.source)
        line.batch_visible = line.batch_id in visible
    return lines


@dataclass(frozen=True)
class TemplateVillage:
    district: str
    town: str
    village: str
    code: str


def template_villages(user: Any) -> list[TemplateVillage]:
    """The current villages of the user's area, for the import template's code sheet."""
    from aixin.accounts.access import regions_visible_to
    from aixin.regions.models import RegionLevel

    rows = (
        regions_visible_to(user)
        .current()
        .filter(level=RegionLevel.VILLAGE)
        .order_by("code")
        .values_list("district__name", "town__name", "name", "code")
    )
    return [TemplateVillage(d or "", t or "", v, c) for d, t, v, c in rows]
