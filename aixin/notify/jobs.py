"""The periodic notification jobs, as plain functions of `today` (tasks.py runs them on the
queue; tests call them with a fixed date).

What is due, overdue or out of contact comes from the care and pairing selectors; nothing here
restates those rules. Each job builds its notifications and hands them to
`notifications_create`, whose dedupe keys make a second run of the same job write nothing:

- the weekly summary is keyed by the ISO week;
- a mother's overdue reminder by the pairing and the overdue items' current periods (a new
  reminder when an item falls overdue in a new period, none while nothing changes);
- staff alerts by the ISO week and the set of children concerned (at most one a week while the
  set stays the same, a new one as soon as a child is added to it);
- the district digest by the district and the ISO week.

Staff content is read through the access selectors with the recipient as the user, so a
notification never counts or names a child outside its recipient's scope. A loving mother's
content is read for all mothers at once from their own active pairings (the same rows
`pairings_visible_to` gives her), in chunks, to keep the weekly run to a few queries per
thousand pairings.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from aixin.accounts.access import (
    alerts_visible_to,
    children_visible_to,
    pairings_visible_to,
)
from aixin.accounts.models import STAFF_ROLES, Role, User
from aixin.care.selectors import (
    DUE,
    OVERDUE,
    ChecklistItem,
    checklists_for_pairings,
    current_compliance,
    inactive_children,
)
from aixin.notify.models import NotificationKind
from aixin.notify.services import Draft, notifications_create
from aixin.pairing.models import Pairing, PairingStatus
from aixin.pairing.selectors import children_needing_pairing

K = NotificationKind
CHUNK = 1000
MOTHERS_CHUNK = 300
NAMES_SHOWN = 10


def week_key(day: datetime.date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def fingerprint(items: Iterable[Any]) -> str:
    """A short stable digest of a set of ids (or tuples), for dedupe keys."""
    text = ",".join(sorted(str(i) for i in items))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def md(day: datetime.date) -> str:
    return f"{day.month}月{day.day}日"


def _names(names: list[str], total: int) -> str:
    shown = "、".join(names[:NAMES_SHOWN])
    return shown + (f"等{total}名" if total > NAMES_SHOWN else "")


# ---------------------------------------------------------------------------------------------
# Loving mothers


def _mothers_pairings() -> Iterator[list[Pairing]]:
    """Active pairings of mothers who can log in, a few hundred mothers at a time."""
    active = Pairing.objects.filter(
        status=PairingStatus.ACTIVE, volunteer__user__isnull=False, volunteer__user__is_active=True
    )
    user_ids = sorted(set(active.values_list("volunteer__user_id", flat=True)))
    for i in range(0, len(user_ids), MOTHERS_CHUNK):
        yield list(
            active.filter(volunteer__user_id__in=user_ids[i : i + MOTHERS_CHUNK])
            .select_related("child", "volunteer")
            .order_by("volunteer__user_id", "child__name_pinyin", "pk")
        )


def _mother_user_id(pairing: Pairing) -> int:
    user_id = pairing.volunteer.user_id
    assert user_id is not None, "_mothers_pairings() yields only mothers who can log in"
    return user_id


def _due_this_week(item: ChecklistItem, week_end: datetime.date) -> bool:
    return item.status == DUE and item.period_end <= week_end


def weekly_mother_summaries(*, today: datetime.date) -> int:
    """Each loving mother with active pairings gets, once a week, her children and for each the
    6+1 items overdue or due by Sunday. Returns how many summaries were new."""
    week_start = today - datetime.timedelta(days=today.weekday())
    week_end = week_start + datetime.timedelta(days=6)
    link = reverse("care:my_children")
    created = 0
    for pairings in _mothers_pairings():
        checklists = checklists_for_pairings(pairings, today=today)
        per_mother: dict[int, list[Pairing]] = defaultdict(list)
        for p in pairings:
            per_mother[_mother_user_id(p)].append(p)
        drafts = []
        for user_id, own in per_mother.items():
            lines: list[str] = []
            pending = 0
            for p in own:
                overdue = [i for i in checklists[p.pk] if i.status == OVERDUE]
                due = [i for i in checklists[p.pk] if _due_this_week(i, week_end)]
                pending += len(overdue) + len(due)
                if not overdue and not due:
                    lines.append(f"{p.child.name}：本周事项都已完成")
                    continue
                lines.append(f"{p.child.name}：")
                lines += [f"· 已逾期：{i.rule.name}" for i in overdue]
                lines += [f"· 本周到期：{i.rule.name}（{md(i.period_end)}前）" for i in due]
            if pending:
                title = f"本周关爱提醒：{len(own)}名孩子，{pending}项待完成"
            else:
                title = f"本周关爱提醒：{len(own)}名孩子的事项都已完成，谢谢您"
            drafts.append(
                Draft(
                    recipient_id=user_id,
                    kind=K.WEEKLY_SUMMARY,
                    title=title,
                    body=f"{md(week_start)}—{md(week_end)}\n" + "\n".join(lines),
                    link=link,
                    dedupe_key=f"{K.WEEKLY_SUMMARY.value}:{week_key(today)}",
                )
            )
        created += notifications_create(drafts)
    return created


def mother_overdue_reminders(*, today: datetime.date) -> int:
    """A reminder to the loving mother for each pairing with overdue 6+1 items; again only when
    an item falls overdue in a new period. Returns how many reminders were new."""
    created = 0
    for pairings in _mothers_pairings():
        checklists = checklists_for_pairings(pairings, today=today)
        drafts = []
        for p in pairings:
            overdue = [i for i in checklists[p.pk] if i.status == OVERDUE]
            if not overdue:
                continue
            subject = fingerprint((i.rule.code, i.period_start.isoformat()) for i in overdue)
            drafts.append(
                Draft(
                    recipient_id=_mother_user_id(p),
                    kind=K.CARE_OVERDUE,
                    title=f"{p.child.name}有{len(overdue)}项关爱已逾期",
                    body="\n".join(
                        f"· {i.rule.name}（本期 {md(i.period_start)}—{md(i.period_end)}）" for i in overdue
                    ),
                    link=reverse("care:checklist", args=[p.pk]),
                    dedupe_key=f"{K.CARE_OVERDUE.value}:pairing{p.pk}:{subject}",
                )
            )
        created += notifications_create(drafts)
    return created


# ---------------------------------------------------------------------------------------------
# Staff


def staff_users(roles: Iterable[str] = STAFF_ROLES) -> QuerySet[User]:
    return User.objects.filter(role__in=list(roles), is_active=True).select_related("region").order_by("pk")


def unpaired_must_cover(user: Any) -> QuerySet[Any]:
    """Scattered orphans and de-facto unsupported children in the user's scope with no open
    pairing: the children R-6.5 says must all be paired (the matching's must-cover set)."""
    return children_needing_pairing(user).filter(
        Q(is_scattered_orphan=True) | Q(is_de_facto_unsupported=True)
    )


def overdue_total(user: Any, *, today: datetime.date) -> tuple[int, list[str]]:
    """The 6+1 items overdue in the user's scope, and one line per rule that has any."""
    rules = current_compliance(pairings_visible_to(user), today=today)
    lines = [f"· {r.rule_name}：{r.overdue}项" for r in rules if r.overdue]
    return sum(r.overdue for r in rules), lines


def _inactivity_days() -> tuple[int, int]:
    days = settings.AIXIN_INACTIVITY_DAYS
    return min(days), max(days)


def staff_alerts_for(user: Any, *, today: datetime.date) -> list[Draft]:
    week = week_key(today)
    drafts: list[Draft] = []

    def add(kind: str, title: str, body: str, link: str, subject: str) -> None:
        drafts.append(
            Draft(
                recipient_id=user.pk,
                kind=kind,
                title=title,
                body=body,
                link=link,
                dedupe_key=f"{kind}:{week}:{subject}",
            )
        )

    unpaired = list(unpaired_must_cover(user).order_by("name_pinyin", "pk").values_list("pk", "name"))
    if unpaired:
        add(
            K.UNPAIRED_MUST_COVER,
            f"{len(unpaired)}名散居孤儿、事实无人抚养儿童尚未结对",
            f"须全部结对的儿童尚未安排爱心妈妈：{_names([n for _pk, n in unpaired], len(unpaired))}。",
            reverse("pairing:unpaired"),
            fingerprint(pk for pk, _n in unpaired),
        )

    total, lines = overdue_total(user, today=today)
    if total:
        add(
            K.STAFF_OVERDUE,
            f"辖区内有{total}项 6+1 关爱逾期",
            "\n".join(lines),
            reverse("dashboard:overview"),
            "week",
        )

    short_days, long_days = _inactivity_days()
    children = children_visible_to(user)
    quiet = list(inactive_children(children, days=short_days, today=today).values_list("pk", "name"))
    if quiet:
        long_quiet = inactive_children(children, days=long_days, today=today).count()
        title = f"{len(quiet)}名结对儿童超过{short_days}天未联系"
        if long_quiet:
            title += f"，其中{long_quiet}名超过{long_days}天"
        add(
            K.NO_CONTACT,
            title,
            f"请提醒爱心妈妈尽快联系：{_names([n for _pk, n in quiet], len(quiet))}。",
            reverse("care:record_list"),
            fingerprint(pk for pk, _n in quiet),
        )
    return drafts


def staff_alerts(*, today: datetime.date) -> int:
    """Every staff user's alerts for their scope: unpaired must-cover children, overdue 6+1
    items, children out of contact for 14/30 days. Returns how many notifications were new."""
    created = 0
    batch: list[Draft] = []
    for user in list(staff_users()):
        batch += staff_alerts_for(user, today=today)
        if len(batch) >= CHUNK:
            created += notifications_create(batch)
            batch = []
    return created + notifications_create(batch)


def district_digest_for(user: Any, *, today: datetime.date) -> Draft:
    week_ago = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=7), datetime.time.min)
    )
    _short, long_days = _inactivity_days()
    alerts = alerts_visible_to(user)
    new_alerts = alerts.filter(created_at__gte=week_ago).count()
    open_alerts = alerts.filter(status="open").count()
    overdue, _lines = overdue_total(user, today=today)
    unpaired = unpaired_must_cover(user).count()
    quiet_children = inactive_children(children_visible_to(user), days=long_days, today=today)
    inactive_mothers = (
        pairings_visible_to(user)
        .filter(status=PairingStatus.ACTIVE, child__in=quiet_children.values("pk"))
        .order_by()
        .values("volunteer_id")
        .distinct()
        .count()
    )
    region = user.region
    body = "\n".join(
        [
            f"· 近7天新增预警：{new_alerts}条（待处理共{open_alerts}条）",
            f"· 6+1 关爱逾期：{overdue}项",
            f"· 散居孤儿、事实无人抚养儿童未结对：{unpaired}名",
            f"· 超过{long_days}天未联系结对儿童的爱心妈妈：{inactive_mothers}名",
        ]
    )
    return Draft(
        recipient_id=user.pk,
        kind=K.DISTRICT_DIGEST,
        title=f"{region.name}本周工作提示（{md(today)}）",
        body=body,
        link=reverse("dashboard:overview") + f"?region={region.code}",
        dedupe_key=f"{K.DISTRICT_DIGEST.value}:{region.code}:{week_key(today)}",
    )


def district_digests(*, today: datetime.date) -> int:
    """Monday digest for each district administrator: the week's numbers of their district."""
    drafts = [district_digest_for(u, today=today) for u in staff_users([Role.DISTRICT_ADMIN])]
    return notifications_create(drafts)
