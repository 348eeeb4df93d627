"""Minimisation of closed records after the retention period (SPEC §data protection, R-12.3,
R-12.5; issue 6 item 8).

A child whose record has been closed (已退出), handed over (已移交成长爱护人) or archived (已归档)
for longer than `settings.AIXIN_RETENTION_YEARS` keeps only what the program's statistics need.
Exactly these fields change (everything else stays):

Child
- name → the first character (the surname) and "*" ("张*"); name_pinyin follows it;
- the ID number → gone: the encrypted number and the mask are emptied and the blind index is
  replaced by "minimised-<pk>" (unique, not derived from the number, so the record can no
  longer be found by the ID number; a department row with that number makes a new record);
- birth_date → 1 January of the birth year (the birth year is kept);
- region and town → the district (the village and town are dropped; the district is kept);
- address (encrypted) → empty; latitude, longitude → empty;
- school, grade, ethnicity → empty;
- free text: notes (encrypted), closed_reason, tier_override_reason → empty;
- dedupe_key (a hash of name, birth date and village) and source_hashes (hashes of the
  departments' rows about the child) → empty;
- minimised_at → the time of the run.
Kept for statistics: sex, household type, school stage, full-time student, the categories, the
coded difficulty reasons, difficulties, risk flags, tiers, status, dates of closing and contact.

Guardian: name → empty; phone (encrypted, blind index, mask) → empty. Relation and guardianship
type are kept.
ParentCondition: evidence (free text) and the disability grade and category (health data,
encrypted) → empty. Parent, kind, dates and term are kept.
ChildChange (the history): reason → empty on every row; old and new values → "（已最小化）" on
every row whose field is not one of the coded statistics fields in HISTORY_KEPT_FIELDS.

Other apps empty what they keep through the `signals.children_minimised` signal, in the same
transaction: care records lose their notes (encrypted) and photos (the files are deleted after
the commit; date, kind, rules and services stay for the compliance figures). Cases, task forces
and consent evidence are not touched.

Idempotent: a minimised child (minimised_at set) is never picked again. Each run that minimises
writes one audit event with the count.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.registry import derive
from aixin.registry.models import Child, ChildChange, ChildStatus, Guardian, ParentCondition
from aixin.registry.signals import children_minimised

ENDED_STATUSES = (ChildStatus.CLOSED, ChildStatus.HANDED_OVER, ChildStatus.ARCHIVED)
MASKED = "（已最小化）"
# History rows of these fields hold only coded values (是/否, a tier, a status): kept as they are.
HISTORY_KEPT_FIELDS = frozenset(
    {
        "sex",
        "household_type",
        "school_stage",
        "full_time_student",
        "is_left_behind",
        "is_scattered_orphan",
        "is_de_facto_unsupported",
        "is_other_difficulty",
        "other_difficulty_reasons",
        "is_justice_involved",
        "parents_both_away",
        "difficulty_life",
        "difficulty_study",
        "difficulty_physical",
        "difficulty_mental",
        "risk_psych_behaviour",
        "risk_harm_others",
        "risk_being_harmed",
        "derived_tier",
        "care_tier",
        "status",
        "minimised",
    }
)
BATCH_SIZE = 500


@dataclass
class MinimiseResult:
    cutoff: datetime.datetime
    retention_years: int
    dry_run: bool
    child_ids: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.child_ids)


def retention_cutoff(now: datetime.datetime, years: int) -> datetime.datetime:
    """`years` before `now` (29 February falls back to 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def children_due_for_minimising(*, cutoff: datetime.datetime) -> QuerySet[Child]:
    """Ended records not yet minimised, ended before `cutoff`. Children closed through the
    registry carry closed_at; handed-over and archived ones may not, and for them the last
    change (updated_at, never earlier than the end) stands in: minimising late, never early."""
    from aixin.pairing.models import OPEN_STATUSES

    return (
        Child.objects.filter(status__in=ENDED_STATUSES, minimised_at__isnull=True)
        .alias(ended_at=Coalesce("closed_at", "updated_at"))
        .filter(ended_at__lt=cutoff)
        .exclude(pk__in=_open_pairing_child_ids(OPEN_STATUSES))
        .order_by("pk")
    )


def _open_pairing_child_ids(statuses: Any) -> Any:
    from aixin.pairing.models import Pairing

    return Pairing.objects.filter(status__in=statuses).values("child_id")


def children_minimise(
    *, now: datetime.datetime | None = None, dry_run: bool = False, years: int | None = None
) -> MinimiseResult:
    """Minimise every child due (see the module docstring); `dry_run` only counts them."""
    now = now or timezone.now()
    years = settings.AIXIN_RETENTION_YEARS if years is None else years
    cutoff = retention_cutoff(now, years)
    result = MinimiseResult(cutoff=cutoff, retention_years=years, dry_run=dry_run)
    due = children_due_for_minimising(cutoff=cutoff)
    if dry_run:
        result.child_ids = list(due.values_list("pk", flat=True))
        return result
    with transaction.atomic():
        ids = list(due.select_for_update().values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH_SIZE):
            for child in Child.objects.filter(pk__in=ids[start : start + BATCH_SIZE]).select_related(
                "district"
            ):
                _minimise_child(child, now=now)
        result.child_ids = ids
        if ids:
            children_minimised.send(sender=Child, child_ids=ids, now=now)
            audit_log(
                actor=None,
                action=AuditAction.UPDATE,
                object_type="retention",
                summary=f"个人信息最小化：{len(ids)} 名儿童（退出、移交或归档满 {years} 年）",
                details={
                    "count": len(ids),
                    "retention_years": years,
                    "cutoff": cutoff.isoformat(),
                    "child_ids": ids,
                },
            )
    return result


def _minimise_child(child: Child, *, now: datetime.datetime) -> None:
    derive.set_name(child, f"{child.name[:1]}*" if child.name else "*")
    child.id_number_encrypted = ""
    child.id_number_masked = ""
    child.id_number_index = f"minimised-{child.pk}"
    child.birth_date = child.birth_date.replace(month=1, day=1)
    child.region_id = child.district_id
    child.town_id = child.district_id
    # Empty, not an encrypted empty string: "" is what decrypts to "" and what key rotation skips.
    child.address_encrypted = ""
    child.latitude = None
    child.longitude = None
    child.school = ""
    child.grade = ""
    child.ethnicity = ""
    child.notes_encrypted = ""
    child.closed_reason = ""
    child.tier_override_reason = ""
    child.dedupe_key = ""
    child.source_hashes = {}
    child.minimised_at = now
    child.version = F("version") + 1
    child.save()

    for guardian in Guardian.objects.filter(child_id=child.pk):
        guardian.name = ""
        guardian.phone_encrypted = ""
        guardian.phone_index = ""
        guardian.phone_masked = ""
        guardian.save(update_fields=["name", "phone_encrypted", "phone_index", "phone_masked", "updated_at"])
    for condition in ParentCondition.objects.filter(child_id=child.pk):
        condition.evidence = ""
        condition.disability_grade_encrypted = ""
        condition.disability_category_encrypted = ""
        condition.save(
            update_fields=[
                "evidence",
                "disability_grade_encrypted",
                "disability_category_encrypted",
                "updated_at",
            ]
        )
    history = ChildChange.objects.filter(child_id=child.pk)
    history.update(reason="", updated_at=now)
    history.filter(~Q(field__in=HISTORY_KEPT_FIELDS)).update(old_value=MASKED, new_value=MASKED)
    ChildChange.objects.create(
        child=child, field="minimised", new_value="个人信息已最小化", source="retention"
    )
