"""Reads for routine care: checklists and compliance (R-7.2, R-7.3).

Current-period numbers come from CareRuleProgress (one row per pairing and rule: the last date
the rule was fulfilled) with one aggregate query per rule. Numbers for any other period come
from the care records themselves, bucketed per period in SQL.

A RuleCompliance counts obligations: `due` is how many pairing-periods the rule expected,
`done` how many were fulfilled, `overdue` how many are late (see each function), `rate` is
done / due (None when nothing was due).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)

from aixin.care.models import CareRecord, CareRule, CareRuleProgress, Festival, SchoolTerm
from aixin.lib.periods import Period, period_for, periods_between, previous_period
from aixin.pairing.models import Pairing, PairingStatus

DONE, DUE, OVERDUE = "done", "due", "overdue"


@dataclass(frozen=True)
class ChecklistItem:
    rule: CareRule
    status: str  # "done" | "due" | "overdue"
    period_start: datetime.date
    period_end: datetime.date
    last_done_on: datetime.date | None


@dataclass(frozen=True)
class RuleCompliance:
    rule_code: str
    rule_name: str
    due: int
    done: int
    overdue: int
    rate: float | None


@dataclass(frozen=True)
class GroupCompliance:
    """Compliance of one region (compliance_by_area) or one loving mother (compliance_by_volunteer)."""

    id: int
    name: str
    rules: list[RuleCompliance] = field(default_factory=list)
    due: int = 0
    done: int = 0
    overdue: int = 0
    rate: float | None = None


def _rate(done: int, due: int) -> float | None:
    return round(done / due, 4) if due else None


# ---------------------------------------------------------------------------------------------
# Configuration


def active_rules() -> list[CareRule]:
    return list(CareRule.objects.filter(active=True).order_by("sort_order", "id"))


def rules_for_tier(tier: str, rules: Iterable[CareRule] | None = None) -> list[CareRule]:
    return [r for r in (active_rules() if rules is None else rules) if tier in (r.applies_to or [])]


def term_starts() -> tuple[datetime.date, ...]:
    return tuple(SchoolTerm.objects.order_by("start").values_list("start", flat=True))


def festival_names() -> list[str]:
    """Festival names in calendar order of their first occurrence."""
    seen: dict[str, None] = {}
    for name in Festival.objects.order_by("date").values_list("name", flat=True):
        seen.setdefault(name, None)
    return list(seen)


# ---------------------------------------------------------------------------------------------
# Checklists


def _item(
    rule: CareRule,
    pairing: Any,
    last: datetime.date | None,
    today: datetime.date,
    terms: Sequence[datetime.date],
) -> ChecklistItem:
    start, end = period_for(rule.cadence, today, terms)
    if last is not None and last >= start:
        status = DONE
    else:
        prev_start, prev_end = previous_period(rule.cadence, today, terms)
        active_before = pairing.start_date is not None and pairing.start_date <= prev_end
        status = OVERDUE if active_before and (last is None or last < prev_start) else DUE
    return ChecklistItem(rule=rule, status=status, period_start=start, period_end=end, last_done_on=last)


def checklists_for_pairings(
    pairings: Iterable[Any], *, today: datetime.date
) -> dict[int, list[ChecklistItem]]:
    """Checklists of several pairings with three queries in all."""
    pairings = list(pairings)
    rules = active_rules()
    terms = term_starts()
    last: dict[tuple[int, int], datetime.date] = {
        (p, r): d
        for p, r, d in CareRuleProgress.objects.filter(pairing_id__in=[p.pk for p in pairings]).values_list(
            "pairing_id", "rule_id", "last_done_on"
        )
    }
    return {
        p.pk: [
            _item(rule, p, last.get((p.pk, rule.pk)), today, terms) for rule in rules_for_tier(p.tier, rules)
        ]
        for p in pairings
    }


def checklist_for_pairing(pairing: Any, *, today: datetime.date) -> list[ChecklistItem]:
    """This period's checklist: done = fulfilled in the current period; overdue = not done now
    and the previous period (in which the pairing was already active) was missed; due otherwise."""
    return checklists_for_pairings([pairing], today=today)[pairing.pk]


def count_statuses(items: Iterable[ChecklistItem]) -> dict[str, int]:
    counts = {DONE: 0, DUE: 0, OVERDUE: 0}
    for item in items:
        counts[item.status] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# Current-period compliance from the CareRuleProgress projection


def _current_rows(
    pairings: QuerySet[Any], *, today: datetime.date, group: str | None
) -> list[tuple[CareRule, list[dict[str, Any]]]]:
    """Per active rule, aggregate rows (one per group, or one in all) of due/done/overdue."""
    terms = term_starts()
    result = []
    for rule in active_rules():
        start, _end = period_for(rule.cadence, today, terms)
        prev_start, prev_end = previous_period(rule.cadence, today, terms)
        qs = pairings.filter(status=PairingStatus.ACTIVE, tier__in=rule.applies_to or []).annotate(
            progress=FilteredRelation("rule_progress", condition=Q(rule_progress__rule=rule))
        )
        not_done_now = Q(progress__last_done_on__isnull=True) | Q(progress__last_done_on__lt=start)
        missed_before = Q(progress__last_done_on__isnull=True) | Q(progress__last_done_on__lt=prev_start)
        aggregates = {
            "due": Count("pk"),
            "done": Count("pk", filter=Q(progress__last_done_on__gte=start)),
            "overdue": Count("pk", filter=not_done_now & missed_before & Q(start_date__lte=prev_end)),
        }
        if group is None:
            rows = [qs.aggregate(**aggregates)]
        else:
            rows = list(qs.order_by().values(group).annotate(**aggregates))
        result.append((rule, rows))
    return result


def current_compliance(pairings: QuerySet[Any], *, today: datetime.date) -> list[RuleCompliance]:
    """Per rule, for the active pairings among `pairings` (already scoped) that the rule applies
    to: due (active pairings), done (fulfilled this period), overdue (not done now and the
    previous period missed while the pairing was active). One aggregate query per rule."""
    out = []
    for rule, rows in _current_rows(pairings, today=today, group=None):
        row = rows[0]
        out.append(
            RuleCompliance(
                rule.code, rule.name, row["due"], row["done"], row["overdue"], _rate(row["done"], row["due"])
            )
        )
    return out


def _grouped(
    pairings: QuerySet[Any], *, today: datetime.date, group: str, names: dict[int, str]
) -> list[GroupCompliance]:
    per_group: dict[int, dict[str, dict[str, int]]] = defaultdict(dict)
    rules: list[CareRule] = []
    for rule, rows in _current_rows(pairings, today=today, group=group):
        rules.append(rule)
        for row in rows:
            per_group[row[group]][rule.code] = row
    out = []
    for key, counts in per_group.items():
        items = []
        for rule in rules:
            c = counts.get(rule.code, {"due": 0, "done": 0, "overdue": 0})
            items.append(
                RuleCompliance(
                    rule.code, rule.name, c["due"], c["done"], c["overdue"], _rate(c["done"], c["due"])
                )
            )
        due = sum(i.due for i in items)
        done = sum(i.done for i in items)
        out.append(
            GroupCompliance(
                id=key,
                name=names.get(key, ""),
                rules=items,
                due=due,
                done=done,
                overdue=sum(i.overdue for i in items),
                rate=_rate(done, due),
            )
        )
    out.sort(key=lambda g: (g.rate if g.rate is not None else 2.0, g.name))
    return out


AREA_FIELDS = {"district": "district_id", "town": "town_id", "village": "village_id"}


def compliance_by_area(pairings: QuerySet[Any], *, level: str, today: datetime.date) -> list[GroupCompliance]:
    """Current-period compliance per district, town or village (lowest rate first)."""
    from aixin.regions.models import Region

    group = AREA_FIELDS[level]
    ids = pairings.filter(status=PairingStatus.ACTIVE).order_by().values_list(group, flat=True).distinct()
    names = dict(Region.objects.filter(pk__in=ids).values_list("pk", "name"))
    return _grouped(pairings, today=today, group=group, names=names)


def compliance_by_volunteer(pairings: QuerySet[Any], *, today: datetime.date) -> list[GroupCompliance]:
    """Current-period compliance per loving mother (lowest rate first)."""
    rows = (
        pairings.filter(status=PairingStatus.ACTIVE).order_by().values_list("volunteer_id", "volunteer__name")
    )
    names = dict(rows.distinct())
    return _grouped(pairings, today=today, group="volunteer_id", names=names)


def overdue_by_district(pairings: QuerySet[Any], *, today: datetime.date) -> dict[int, int]:
    """Overdue items per district id (for the daily scan)."""
    return {g.id: g.overdue for g in compliance_by_area(pairings, level="district", today=today)}


# ---------------------------------------------------------------------------------------------
# Compliance for any period, from the care records


def _bucket(periods: Sequence[Period]) -> Case:
    return Case(
        *[When(date__range=p, then=Value(i)) for i, p in enumerate(periods)],
        default=Value(-1),
        output_field=IntegerField(),
    )


def compliance_for_period(
    pairings: QuerySet[Any], *, start: datetime.date, end: datetime.date, today: datetime.date | None = None
) -> list[RuleCompliance]:
    """Per rule, over the whole periods of its cadence that overlap [start, end]:
    due = pairing-periods in which a pairing of a tier the rule applies to was active (from its
    start date to its end date), done = those with a care record fulfilling the rule within the
    period, overdue = the missed ones whose period has ended (before `today`, default `end`).

    Rules that share a cadence and tiers share their periods, so each such group costs two
    aggregate queries (one over pairings, one scan of the care records), whatever the number of
    rules or periods in it."""
    today = today or end
    terms = term_starts()
    started = pairings.filter(
        status__in=[PairingStatus.ACTIVE, PairingStatus.ENDED], start_date__isnull=False
    ).order_by()
    groups: dict[tuple[str, tuple[str, ...]], list[CareRule]] = defaultdict(list)
    rules = active_rules()
    for rule in rules:
        groups[(rule.cadence, tuple(sorted(rule.applies_to or [])))].append(rule)
    results: dict[str, RuleCompliance] = {}
    for (cadence, tiers), group in groups.items():
        periods = periods_between(cadence, start, end, terms)
        if not periods:
            for rule in group:
                results[rule.code] = RuleCompliance(rule.code, rule.name, 0, 0, 0, None)
            continue
        base = started.filter(tier__in=tiers)
        due_per = base.aggregate(
            **{
                f"p{i}": Count(
                    "pk",
                    filter=Q(start_date__lte=p_end) & (Q(end_date__isnull=True) | Q(end_date__gte=p_start)),
                )
                for i, (p_start, p_end) in enumerate(periods)
            }
        )
        group_mask = 0
        for rule in group:
            group_mask |= rule.mask
        done_rows = (
            CareRecord.objects.filter(
                pairing__in=base.values("pk"), date__range=(periods[0][0], periods[-1][1])
            )
            .annotate(hit=F("rules_mask").bitand(group_mask))
            .filter(hit__gt=0)
            .annotate(
                bucket=_bucket(periods),
                **{f"h_{rule.code}": F("rules_mask").bitand(rule.mask) for rule in group},
            )
            .order_by()
            .values("bucket")
            .annotate(
                **{
                    f"n_{rule.code}": Count(
                        "pairing_id", distinct=True, filter=Q(**{f"h_{rule.code}__gt": 0})
                    )
                    for rule in group
                }
            )
        )
        done_per = {row["bucket"]: row for row in done_rows}
        for rule in group:
            due = done = overdue = 0
            for i, (_p_start, p_end) in enumerate(periods):
                d = due_per[f"p{i}"]
                k = done_per[i][f"n_{rule.code}"] if i in done_per else 0
                due += d
                done += k
                if p_end < today:
                    overdue += d - k
            results[rule.code] = RuleCompliance(rule.code, rule.name, due, done, overdue, _rate(done, due))
    return [results[rule.code] for rule in rules]


# ---------------------------------------------------------------------------------------------
# Inactivity (the 14/30-day flags)


def inactive_children(children: QuerySet[Any], *, days: int, today: datetime.date) -> QuerySet[Any]:
    """Children (from an already-scoped queryset) with an active pairing that began at least
    `days` days ago and no contact by their loving mother in the last `days` days."""
    cutoff = today - datetime.timedelta(days=days)
    paired = Pairing.objects.filter(child=OuterRef("pk"), status=PairingStatus.ACTIVE, start_date__lte=cutoff)
    return (
        children.filter(Exists(paired))
        .filter(Q(last_contact_on__isnull=True) | Q(last_contact_on__lt=cutoff))
        .order_by(F("last_contact_on").asc(nulls_first=True), "id")
    )


def days_without_contact(child: Any, pairing: Any, *, today: datetime.date) -> int:
    """Days since the last contact, or since the pairing began if there was none."""
    since: datetime.date | None = child.last_contact_on
    if since is None or (pairing.start_date and since < pairing.start_date):
        since = pairing.start_date or today
    return int((today - since).days)


def care_records_matching(
    records: QuerySet[Any],
    *,
    region: Any = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    volunteer_name: str = "",
    rule: CareRule | None = None,
) -> QuerySet[Any]:
    """Filters of the staff record list, over an already-scoped queryset."""
    if region is not None:
        level_field = {2: "district", 3: "town", 4: "village"}.get(region.level)
        if level_field:
            records = records.filter(**{level_field: region})
    if date_from:
        records = records.filter(date__gte=date_from)
    if date_to:
        records = records.filter(date__lte=date_to)
    if volunteer_name:
        records = records.filter(volunteer__name__icontains=volunteer_name)
    if rule is not None:
        records = records.annotate(hit=F("rules_mask").bitand(rule.mask)).filter(hit__gt=0)
    return records


def rules_of_mask(mask: int, rules: Iterable[CareRule]) -> list[CareRule]:
    return [r for r in rules if mask & r.mask]
