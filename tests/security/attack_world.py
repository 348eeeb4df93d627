"""The world the security probes attack: district A's users and records, and district B's
records under ids no district-A record can have.

District B's main records are created with explicit primary keys from `FOREIGN_BASE` up (one
range per model), so an id-taking URL asked for such an id can only find district B's record
or nothing: every answer other than a refusal is a leak. District B's people carry names that
appear nowhere in district A (`FOREIGN_MARKERS`), so a body that shows one shows district B.

Also: the URL configuration walked at run time (`url_patterns()`), so the sweeps pick up new
apps, and a snapshot of every table's row count (`row_counts()`) to prove a refused request
wrote nothing.
"""

from __future__ import annotations

import datetime
import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from aixin.accounts.models import Role, User
from tests import factories

FOREIGN_BASE = 900_000
# Strings only district B's records carry (names, the guardian's phone, a note, a file name).
B_GUARDIAN_PHONE = "13722229999"
FOREIGN_MARKERS = ("丙童", "丙妈妈", "丙奶奶", "丙村关爱", B_GUARDIAN_PHONE)


@dataclass
class AttackWorld:
    tree: Any
    users: dict[str, User]
    child_a: Any
    mother_a: Any
    pairing_a: Any
    record_a: Any
    child_b: Any
    mother_b: Any
    pairing_b: Any
    id_number_b: str
    # (label, id) of district B's records: `strict` ids belong to no other row of any table.
    strict_ids: list[tuple[str, int]] = field(default_factory=list)
    # ids of district B's records made by the services (their ids may collide with A's rows).
    loose_ids: list[tuple[str, int]] = field(default_factory=list)

    @property
    def markers(self) -> tuple[str, ...]:
        return (*FOREIGN_MARKERS, self.id_number_b)


def _pk(offset: int, n: int = 1) -> int:
    return FOREIGN_BASE + offset * 1000 + n


def build_world(tree: Any, users: dict[str, Any]) -> AttackWorld:
    """District A: a child paired with a mother, a care record. District B: a child, a mother,
    their pairing and consent, a care record, a parent condition, an activity, an import batch
    with a duplicate suspect, an alert, a matching run, an exclusion, a notification and a case."""
    from aixin.activities.models import Activity, ActivityParticipation
    from aixin.alerts.models import Alert
    from aixin.care.models import CareRecord
    from aixin.ingest.models import DuplicateSuspect, ImportBatch
    from aixin.matching.models import MatchExclusion, MatchProposal, MatchRun
    from aixin.notify.models import Notification
    from aixin.pairing.models import GuardianConsent, Pairing
    from aixin.registry.models import ParentCondition
    from aixin.volunteers.models import Volunteer

    today = datetime.date.today()
    child_a = factories.make_child(tree.village_a1, name="甲童", difficulty_life=True)
    mother_a = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    pairing_a = factories.make_active_pairing(child_a, mother_a)
    record_a = CareRecord.objects.create(
        pairing=pairing_a,
        child=child_a,
        volunteer=mother_a,
        district_id=pairing_a.district_id,
        town_id=pairing_a.town_id,
        village_id=pairing_a.village_id,
        date=today,
        kind="phone",
        rules_mask=1,
        notes="甲村关爱记录",
    )
    users = dict(users)
    users[Role.VOLUNTEER.value] = mother_a.user

    birth_b = today.replace(year=today.year - 9, day=1)
    id_number_b = factories.id_number(birth_b, region_code="500102", seq=777)
    child_b = factories.make_child(
        tree.village_b1,
        name="丙童",
        birth=birth_b,
        id_number=id_number_b,
        guardian_phone=B_GUARDIAN_PHONE,
        difficulty_life=True,
        pk=_pk(1),
    )
    twin_b = factories.make_child(tree.village_b1, name="丙童二", birth=birth_b, pk=_pk(1, 2))
    mother_b = factories.make_volunteer(tree.village_b1, name="丙妈妈", pk=_pk(2))
    b_admin = users["district_b_admin"]
    pairing_b = Pairing.objects.create(
        pk=_pk(3),
        child=child_b,
        volunteer=mother_b,
        tier=child_b.care_tier,
        status="active",
        start_date=today - datetime.timedelta(days=90),
        district_id=child_b.district_id,
        town_id=child_b.town_id,
        village_id=child_b.region_id,
    )
    Volunteer.objects.filter(pk=mother_b.pk).update(load=1)
    consent_b = GuardianConsent.objects.create(
        pk=_pk(4),
        pairing=pairing_b,
        guardian=child_b.guardians.first(),
        guardian_name="丙奶奶",
        relation="祖母",
        method="written",
        consented_on=pairing_b.start_date,
        recorded_by=b_admin,
    )
    record_b = CareRecord.objects.create(
        pk=_pk(5),
        pairing=pairing_b,
        child=child_b,
        volunteer=mother_b,
        district_id=pairing_b.district_id,
        town_id=pairing_b.town_id,
        village_id=pairing_b.village_id,
        date=today,
        kind="phone",
        rules_mask=1,
        notes="丙村关爱记录（保密）",
    )
    condition_b = ParentCondition.objects.create(
        pk=_pk(6), child=child_b, parent="father", kind="working_away"
    )
    activity_b = Activity.objects.create(
        pk=_pk(7),
        name="丙村关爱集体生日",
        kind="birthday",
        held_on=today,
        venue="渝好空间",
        region=tree.village_b1,
        district_id=tree.district_b.pk,
    )
    ActivityParticipation.objects.create(activity=activity_b, child=child_b, held_on=today)
    batch_b = ImportBatch.objects.create(
        pk=_pk(8),
        source="civil_affairs",
        status="done",
        created_by=b_admin,
        scope=tree.district_b,
        file_name="丙童名单.csv",
        headers=["姓名", "身份证号"],
        total_rows=1,
        created_count=1,
    )
    suspect_b = DuplicateSuspect.objects.create(
        pk=_pk(9), batch=batch_b, child=twin_b, other=child_b, district=tree.district_b
    )
    alert_b = Alert.objects.create(
        pk=_pk(10),
        kind="risk_review",
        child=child_b,
        region=tree.village_b1,
        town=tree.town_b1,
        district=tree.district_b,
        message="丙童需复核",
    )
    run_b = MatchRun.objects.create(
        pk=_pk(11), district=tree.district_b, status="done", report={"children": 1, "matched": 1}
    )
    proposal_b = MatchProposal.objects.create(
        pk=_pk(12), run=run_b, child=child_b, volunteer=mother_b, cost=50, explanation="丙童：同村"
    )
    exclusion_b = MatchExclusion.objects.create(
        pk=_pk(13), child=child_b, volunteer=mother_b, district=tree.district_b, reason="relative"
    )
    notification_b = Notification.objects.create(
        pk=_pk(14),
        recipient=mother_b.user,
        kind="general",
        title="丙妈妈的通知",
        link="/care/mine/",
        dedupe_key="security:b",
    )
    strict = [
        ("child", child_b.pk),
        ("volunteer", mother_b.pk),
        ("pairing", pairing_b.pk),
        ("consent", consent_b.pk),
        ("care_record", record_b.pk),
        ("parent_condition", condition_b.pk),
        ("activity", activity_b.pk),
        ("import_batch", batch_b.pk),
        ("duplicate_suspect", suspect_b.pk),
        ("alert", alert_b.pk),
        ("match_run", run_b.pk),
        ("match_proposal", proposal_b.pk),
        ("match_exclusion", exclusion_b.pk),
        ("notification", notification_b.pk),
    ]
    loose = [("guardian", child_b.guardians.first().pk)]
    loose += _case_ids(b_admin, child_b)
    return AttackWorld(
        tree=tree,
        users=users,
        child_a=child_a,
        mother_a=mother_a,
        pairing_a=pairing_a,
        record_a=record_a,
        child_b=child_b,
        mother_b=mother_b,
        pairing_b=pairing_b,
        id_number_b=id_number_b,
        strict_ids=strict,
        loose_ids=loose,
    )


def _case_ids(reporter: Any, child: Any) -> list[tuple[str, int]]:
    """A mandatory report about district B's child, made by the cases service (issue 5)."""
    from django.utils import timezone

    from aixin.cases.services import report_create

    case = report_create(
        actor=reporter,
        child_id=child.pk,
        category="abandoned",
        severity="urgent",
        description="丙童长期无人照料",
        observed_at=timezone.now(),
    )
    ids = [("case", case.pk), ("report", case.report.pk)]
    ids += [("referral", r.pk) for r in case.referrals.all()]
    ids += [("case_event", e.pk) for e in case.events.all()]
    return ids


# ---------------------------------------------------------------------------------------------
# The URL configuration


@dataclass(frozen=True)
class UrlEntry:
    name: str  # "namespace:name"
    kwargs: tuple[str, ...]  # the names of the pattern's keyword arguments
    api: bool


def url_patterns() -> list[UrlEntry]:
    """Every named URL of the configuration, with the names of its keyword arguments."""
    found: list[UrlEntry] = []

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                name = f"{namespace}:{p.name}" if namespace else p.name
                converters = getattr(p.pattern, "converters", {}) or {}
                kwargs = tuple(converters) or tuple(p.pattern.regex.groupindex)
                found.append(UrlEntry(name=name, kwargs=kwargs, api=name.startswith("api:")))

    walk(get_resolver().url_patterns, None)
    return sorted(found, key=lambda e: e.name)


def is_id_kwarg(name: str) -> bool:
    return name == "pk" or name.endswith("_pk") or name.endswith("_id")


# Keyword arguments that are not record ids, with a value to use for them.
TEXT_KWARGS = {"source": "education"}


def row_counts() -> dict[str, int]:
    """The number of rows of every model's table (a refused request must change none)."""
    return {m._meta.label: m._base_manager.count() for m in apps.get_models() if m._meta.managed}


def response_text(response: Any) -> str:
    """The body as text (xlsx exports: the cells' text)."""
    content_type = response.get("Content-Type", "")
    streamed = hasattr(response, "streaming_content")
    raw = b"".join(response.streaming_content) if streamed else response.content
    if "spreadsheetml" in content_type:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(raw), read_only=True)
        return " ".join(
            str(cell)
            for ws in wb.worksheets
            for row in ws.iter_rows(values_only=True)
            for cell in row
            if cell
        )
    return readable(bytes(raw), content_type)


def readable(raw: bytes, content_type: str) -> str:
    """The body as a person reads it: JSON with its \\u escapes decoded (the API escapes Chinese)."""
    text = raw.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


def leaked(text: str, markers: tuple[str, ...]) -> list[str]:
    return [m for m in markers if m in text]
