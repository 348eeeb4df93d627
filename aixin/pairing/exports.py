"""The pairing status shared back with civil affairs (R-4.6): one row per child in the register,
in the user's scope, with the full ID number (civil affairs match on it) and where the child
stands — paired, waiting for confirmation, or not paired.

Built for a whole city (100,000 children): one query, streamed with `.iterator()`, the open
pairing reached through a filtered join (at most one open pairing per child, held by the
database), and the workbook written as a stream (see `aixin.lib.xlsx_stream`).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from django.db.models import F, FilteredRelation, Q
from django.utils.translation import gettext as _

from aixin.accounts.access import children_visible_to
from aixin.lib import crypto
from aixin.pairing.models import OPEN_STATUSES, PairingStatus
from aixin.pairing.selectors import child_categories
from aixin.registry import derive
from aixin.registry.models import CareTier, ChildStatus

STATUS_HEADERS: tuple[str, ...] = (
    "区县",
    "乡镇(街道)",
    "村(社区)",
    "姓名",
    "身份证号",
    "儿童类别",
    "关爱类型",
    "结对状态",
    "爱心妈妈",
    "爱心妈妈电话",
    "结对日期",
    "最近一次关爱日期",
)
STATUS_TITLE = "结对状态（共享民政）"
_CATEGORY_FIELDS = (
    "is_scattered_orphan",
    "is_de_facto_unsupported",
    "is_left_behind",
    "is_other_difficulty",
    "is_justice_involved",
)
STATUS_WIDTHS = (10, 14, 14, 10, 22, 24, 12, 10, 10, 16, 12, 16)


def pairing_state(status: str | None) -> str:
    """已结对 / 待确认 / 未结对 from the status of the child's open pairing (if any)."""
    if status == PairingStatus.ACTIVE:
        return _("已结对")
    if status in OPEN_STATUSES:
        return _("待确认")
    return _("未结对")


def _status_queryset(user: Any) -> Any:
    return (
        children_visible_to(user)
        .filter(status=ChildStatus.ACTIVE)
        .annotate(open_pairing=FilteredRelation("pairings", condition=Q(pairings__status__in=OPEN_STATUSES)))
        .annotate(
            pairing_status=F("open_pairing__status"),
            mother_name=F("open_pairing__volunteer__name"),
            mother_phone=F("open_pairing__volunteer__phone_masked"),
            paired_on=F("open_pairing__start_date"),
        )
        .order_by("district__code", "town__code", "region__code", "name_pinyin", "pk")
        .values(
            "district__name",
            "town__name",
            "region__name",
            "name",
            "id_number_encrypted",
            "care_tier",
            "last_contact_on",
            "pairing_status",
            "mother_name",
            "mother_phone",
            "paired_on",
            *_CATEGORY_FIELDS,
        )
    )


def pairing_status_rows(user: Any, *, chunk_size: int = 2000) -> Iterator[list[Any]]:
    """Rows of the share-back file (STATUS_HEADERS) for every child in the register in the
    user's scope, streamed. The caller must be an administrator (full ID numbers)."""
    tiers = dict(CareTier.choices)
    for row in _status_queryset(user).iterator(chunk_size=chunk_size):
        flags = SimpleNamespace(**{f: row[f] for f in _CATEGORY_FIELDS})
        paired_on = row["paired_on"]
        last = row["last_contact_on"]
        yield [
            row["district__name"],
            row["town__name"],
            row["region__name"],
            row["name"],
            crypto.decrypt(row["id_number_encrypted"], context=derive.ID_CONTEXT),
            child_categories(flags),
            str(tiers.get(row["care_tier"], row["care_tier"])),
            pairing_state(row["pairing_status"]),
            row["mother_name"] or "",
            row["mother_phone"] or "",
            paired_on.isoformat() if paired_on else "",
            last.isoformat() if last else "",
        ]
