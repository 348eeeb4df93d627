"""The scope matrix (R-1.1): every role × every kind of record × list, detail, search, count,
export and API.

The matrix enumerates the URL configuration: every named URL, page or API, must have a row
here, so a new endpoint that nobody thought about fails `test_every_url_is_in_the_matrix`.
Each row is then exercised for every role against a record of the user's own area and a record
of another district (district B): out-of-scope details and writes answer 404 and change nothing,
lists, searches, counts and exports never show district B.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from aixin.accounts.models import Role
from aixin.activities.models import Activity, ActivityParticipation
from aixin.audit.models import AuditEvent
from aixin.care.models import CareRecord
from tests import factories

ANON = "anonymous"
CITY, DISTRICT, TOWN, VILLAGE, VOLUNTEER = (
    Role.CITY_ADMIN.value,
    Role.DISTRICT_ADMIN.value,
    Role.TOWN_SUPERVISOR.value,
    Role.VILLAGE_DIRECTOR.value,
    Role.VOLUNTEER.value,
)
# A department liaison (issue 5) is public security of district A (万州区); district B has one too.
LIAISON = Role.DEPARTMENT_LIAISON.value
MEMBER = Role.TASKFORCE_MEMBER.value
# The separated administrators (issue 6 §2, 三权分立), placed at the city: each enters only its
# own pages and is refused every page of the care programme. Third-party evaluators (issue 6 §8)
# have rows of their own in aixin/evaluation; here they are refused everything else.
SYSTEM = Role.SYSTEM_ADMIN.value
SECURITY = Role.SECURITY_ADMIN.value
AUDIT = Role.AUDIT_ADMIN.value
EVALUATOR = Role.EVALUATOR.value
ROLES = [ANON, CITY, DISTRICT, TOWN, VILLAGE, VOLUNTEER, LIAISON, MEMBER, SYSTEM, SECURITY, AUDIT, EVALUATOR]
STAFF = {CITY, DISTRICT, TOWN, VILLAGE}
ADMINS = {CITY, DISTRICT}
EVERYONE = STAFF | {VOLUNTEER}
# Pages and lists every signed-in role of the care programme enters, each seeing only its own
# data (a liaison: none).
SIGNED_IN = EVERYONE | {LIAISON, MEMBER}
# One's own account (home, password, second factor, log-out): every role.
ANY_ROLE = SIGNED_IN | {SYSTEM, SECURITY, AUDIT, EVALUATOR}

# Names that appear only on district B's records.
FOREIGN_MARKERS = ("丙童", "丙妈妈")


@dataclass
class World:
    tree: Any
    users: dict[str, Any]
    child_a: Any
    child_a2: Any
    child_b: Any
    mother_a: Any
    mother_b: Any
    pairing_a: Any
    pairing_b: Any
    record_a: Any
    record_b: Any
    condition_b: Any
    activity_a: Any
    activity_b: Any
    batch_a: Any
    batch_b: Any
    case_a: Any
    case_b: Any


def _care_record(pairing: Any) -> Any:
    return CareRecord.objects.create(
        pairing=pairing,
        child=pairing.child,
        volunteer=pairing.volunteer,
        district_id=pairing.district_id,
        town_id=pairing.town_id,
        village_id=pairing.village_id,
        date=datetime.date.today(),
        kind="phone",
        rules_mask=1,
        notes="按时联系",
    )


def _activity(name: str, village: Any, child: Any) -> Any:
    activity = Activity.objects.create(
        name=name,
        kind="birthday",
        held_on=datetime.date.today(),
        venue="渝好空间",
        region=village,
        district_id=village.district_id,
    )
    ActivityParticipation.objects.create(activity=activity, child=child, held_on=activity.held_on)
    return activity


@pytest.fixture
def world(tree: Any, users: dict[str, Any]) -> World:
    from aixin.audit.services import audit_log
    from aixin.registry.models import ParentCondition

    child_a = factories.make_child(tree.village_a1, name="甲童", difficulty_life=True)
    child_a2 = factories.make_child(tree.village_a2, name="乙童", difficulty_study=True)
    child_b = factories.make_child(tree.village_b1, name="丙童", difficulty_life=True)
    mother_a = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    mother_b = factories.make_volunteer(tree.village_b1, name="丙妈妈")
    pairing_a = factories.make_active_pairing(child_a, mother_a)
    pairing_b = factories.make_active_pairing(child_b, mother_b)
    record_a, record_b = _care_record(pairing_a), _care_record(pairing_b)
    condition_b = ParentCondition.objects.create(child=child_b, parent="father", kind="working_away")
    audit_log(
        actor=users[DISTRICT],
        action="view",
        object_type="child",
        object_id=child_a.pk,
        region=tree.village_a1,
        summary="查看甲童档案",
    )
    audit_log(
        actor=users["district_b_admin"],
        action="view",
        object_type="child",
        object_id=child_b.pk,
        region=tree.village_b1,
        summary="查看丙童档案",
    )
    from aixin.alerts.services import raise_alerts

    raise_alerts("risk_review", [child_a, child_b], lambda c: f"{c.name}需复核")
    users = dict(users)
    users[VOLUNTEER] = mother_a.user
    users[LIAISON] = _liaison(tree.district_a, "gongan_a")
    _liaison(tree.district_b, "gongan_b")
    users[MEMBER] = factories.make_user(MEMBER, tree.district_a, "zhuanban_a")
    for role, username in (
        (SYSTEM, "xitong"),
        (SECURITY, "anquan"),
        (AUDIT, "shenji"),
        (EVALUATOR, "pinggu"),
    ):
        users[role] = factories.make_user(role, tree.city, username)
    w = World(
        tree=tree,
        users=users,
        child_a=child_a,
        child_a2=child_a2,
        child_b=child_b,
        mother_a=mother_a,
        mother_b=mother_b,
        pairing_a=pairing_a,
        pairing_b=pairing_b,
        record_a=record_a,
        record_b=record_b,
        condition_b=condition_b,
        activity_a=_activity("甲村集体生日", tree.village_a1, child_a),
        activity_b=_activity("丙村集体生日", tree.village_b1, child_b),
        batch_a=_batch(users[DISTRICT], tree.district_a, "甲村名单.csv"),
        batch_b=_batch(users["district_b_admin"], tree.district_b, "丙童名单.csv"),
        case_a=_mandatory_case(users[VILLAGE], child_a),
        case_b=_mandatory_case(users["district_b_admin"], child_b),
    )
    _taskforce_a(w)  # the member's seat, before any row runs
    _taskforce_b(w)  # so that task-force lists are seen not to show district B's
    return w


def _liaison(district: Any, username: str) -> Any:
    from aixin.accounts.models import User

    return User.objects.create_user(
        username=username,
        password=factories.PASSWORD,
        role=LIAISON,
        region=district,
        department="public_security",
        display_name=username,
    )


def _mandatory_case(reporter: Any, child: Any) -> Any:
    """A mandatory report: the case is referred to the district's public security at once."""
    from django.utils import timezone

    from aixin.cases.services import report_create

    return report_create(
        actor=reporter,
        child_id=child.pk,
        category="abandoned",
        severity="urgent",
        description=f"{child.name}长期无人照料",
        observed_at=timezone.now(),
    )


def _batch(actor: Any, district: Any, file_name: str) -> Any:
    from aixin.ingest.models import ImportBatch, ImportRejection

    batch = ImportBatch.objects.create(
        source="civil_affairs",
        status="done",
        created_by=actor,
        scope=district,
        file_name=file_name,
        headers=["姓名", "身份证号"],
        total_rows=2,
        created_count=1,
        rejected_count=1,
    )
    ImportRejection.objects.create(
        batch=batch, row_number=3, column="身份证号", reason="身份证号校验位不正确", cells=["某童", "1"]
    )
    return batch


def _suspect_b(w: World) -> Any:
    """District B's duplicate suspect, made on first use (the same one on each call)."""
    from aixin.ingest.models import DuplicateSuspect

    found = DuplicateSuspect.objects.filter(other=w.child_b).first()
    if found is not None:
        return found
    twin = factories.make_child(w.tree.village_b1, name="丙童二", birth=w.child_b.birth_date)
    return DuplicateSuspect.objects.create(
        batch=w.batch_b, child=twin, other=w.child_b, district=w.tree.district_b
    )


def _alert_b(w: World) -> Any:
    from aixin.alerts.models import Alert

    return Alert.objects.get(child=w.child_b, kind="risk_review", status="open")


def _credential(w: World) -> Any:
    """A push-API credential (district B's education bureau), made once per test."""
    from aixin.ingest.credentials import credential_create
    from aixin.ingest.models import DepartmentCredential

    found = DepartmentCredential.objects.filter(name="涪陵区教委学籍系统").first()
    if found is None:
        found, _secret = credential_create(
            actor=w.users[SYSTEM], name="涪陵区教委学籍系统", source="education", region=w.tree.district_b
        )
    return found


def _match_run(w: World, district: Any, child: Any, mother: Any) -> Any:
    """A finished matching run of `district` with one proposal, made on first use."""
    from aixin.matching.models import MatchProposal, MatchRun

    found = MatchRun.objects.filter(district=district).first()
    if found is not None:
        return found
    run = MatchRun.objects.create(
        district=district, status="done", report={"children": 1, "matched": 1}, created_by=None
    )
    MatchProposal.objects.create(
        run=run, child=child, volunteer=mother, cost=50, explanation="同村，0.5 公里；当前结对 1/2"
    )
    return run


def _match_run_a(w: World) -> Any:
    return _match_run(w, w.tree.district_a, w.child_a2, w.mother_a)


def _match_run_b(w: World) -> Any:
    return _match_run(w, w.tree.district_b, w.child_b, w.mother_b)


def _match_proposal_b(w: World) -> Any:
    return _match_run_b(w).proposals.get()


def _exclusion_b(w: World) -> Any:
    """District B's excluded pair (its mother may not be proposed for its child)."""
    from aixin.matching.models import MatchExclusion

    found, _made = MatchExclusion.objects.get_or_create(
        child=w.child_b, volunteer=w.mother_b, defaults={"district": w.tree.district_b, "reason": "relative"}
    )
    return found


def _notification_b(w: World) -> Any:
    """A notification of district B's loving mother, made on first use."""
    from aixin.notify.models import Notification
    from aixin.notify.services import notify

    user = w.mother_b.user
    notify([user], kind="general", title="丙妈妈的通知", link="/care/mine/", dedupe_key="matrix:b")
    return Notification.objects.get(recipient=user, dedupe_key="matrix:b")


def _taskforce(w: World, child: Any) -> Any:
    """The child's task force with a police member who owns one open action, made on first use.
    Made directly: the matrix children are not many-to-one, and the rows test scope, not rules."""
    from django.utils import timezone

    from aixin.taskforces.models import CarePlan, PlanAction, TaskForce, TaskForceMember

    taskforce, made = TaskForce.objects.get_or_create(
        child=child,
        defaults={"district_id": child.district_id, "town_id": child.town_id, "village_id": child.region_id},
    )
    if made:
        plan = CarePlan.objects.create(taskforce=taskforce, goals="每周家访", last_activity_at=timezone.now())
        police = TaskForceMember.objects.create(taskforce=taskforce, role="police", name=f"{child.name}民警")
        PlanAction.objects.create(plan=plan, title="入户核查", owner=police, due_on=timezone.localdate())
        member = w.users.get(MEMBER)
        if member is not None and member.region_id == child.district_id:
            TaskForceMember.objects.create(taskforce=taskforce, role="teacher", name="甲老师", user=member)
    return taskforce


def _taskforce_a(w: World) -> Any:
    return _taskforce(w, w.child_a)


def _taskforce_b(w: World) -> Any:
    return _taskforce(w, w.child_b)


def _taskforce_member_b(w: World) -> Any:
    return _taskforce_b(w).members.first()


def _plan_action_b(w: World) -> Any:
    return _taskforce_b(w).plan.actions.first()


Picker = Callable[[World], Any]


@dataclass
class Row:
    """One URL: which roles may enter and what it shows or changes.

    kind: "list" (also search/count/export: must never show district B), "detail" (GET of one
    record), "write" (POST on one record), "page" (no record), "public".
    """

    kind: str
    roles: set[str]
    own: Picker | None = None
    foreign: Picker | None = None
    kwarg: str = "pk"
    method: str = "GET"
    query: str = ""
    api: bool = False
    extra_kwargs: Callable[[World, Any], dict[str, Any]] | None = None
    # JSON body of an API write, built for the record; the record is then not part of the URL.
    body: Callable[[World, Any], dict[str, Any]] | None = None
    notes: list[str] = field(default_factory=list)
    # Roles whose lists rightly show the whole city, district B included.
    whole_city: set[str] = field(default_factory=lambda: {CITY})


def child_a(w: World) -> Any:
    return w.child_a


def child_b(w: World) -> Any:
    return w.child_b


def _rule() -> Any:
    from aixin.care.models import CareRule

    return CareRule.objects.get(code="family_education")


def _term() -> Any:
    from aixin.care.models import SchoolTerm

    return SchoolTerm.objects.order_by("start").last()


def _festival() -> Any:
    from aixin.care.models import Festival

    return Festival.objects.order_by("date").last()


MATRIX: dict[str, Row] = {
    # accounts
    "accounts:login": Row("public", set()),
    "accounts:logout": Row("page", ANY_ROLE, method="POST"),
    "accounts:home": Row("page", ANY_ROLE),
    "accounts:otp_verify": Row("public", set()),
    "accounts:otp_enrol": Row("public", set()),
    "accounts:otp_setup": Row("page", ANY_ROLE),
    "accounts:password_change": Row("page", ANY_ROLE),
    # the security administrator's accounts pages: all accounts, nobody else (the city neither)
    "accounts:user_list": Row("list", {SECURITY}, whole_city={SECURITY}),
    "accounts:user_create": Row("page", {SECURITY}, method="POST"),
    "accounts:user_edit": Row("page", {SECURITY}, foreign=lambda w: w.users["district_b_admin"]),
    "accounts:user_unlock": Row(
        "page", {SECURITY}, foreign=lambda w: w.users["district_b_admin"], method="POST"
    ),
    "accounts:user_reset_totp": Row(
        "page", {SECURITY}, foreign=lambda w: w.users["district_b_admin"], method="POST"
    ),
    # the system administrator's status page (no personal data)
    "accounts:system_status": Row("page", {SYSTEM}),
    # regions
    "regions:region_list": Row("list", STAFF),
    "regions:village_options": Row("list", STAFF),
    "api:regions_list": Row("list", STAFF, api=True),
    # registry
    "registry:child_list": Row("list", STAFF),
    "registry:child_export": Row("list", STAFF),
    "registry:child_create": Row("page", ADMINS),
    "registry:child_detail": Row("detail", STAFF, own=child_a, foreign=child_b),
    "registry:child_edit": Row("detail", ADMINS, own=child_a, foreign=child_b),
    "registry:child_reveal_id": Row("write", ADMINS, foreign=child_b, method="POST"),
    "registry:child_tier_override": Row("write", ADMINS, foreign=child_b, method="POST"),
    "registry:child_close": Row("write", ADMINS, foreign=child_b, method="POST"),
    "registry:child_reopen": Row("write", ADMINS, foreign=child_b, method="POST"),
    "registry:guardian_create": Row("write", ADMINS, foreign=child_b, method="POST"),
    "registry:condition_create": Row("write", ADMINS, foreign=child_b, method="POST"),
    "registry:condition_end": Row(
        "write",
        ADMINS,
        foreign=child_b,
        method="POST",
        extra_kwargs=lambda w, rec: {"condition_pk": w.condition_b.pk},
    ),
    "api:children_list": Row("list", SIGNED_IN, api=True),
    "api:children_detail": Row(
        "detail",
        EVERYONE | {MEMBER},
        own=child_a,
        foreign=child_b,
        kwarg="child_id",
        api=True,
        query="reason=核查数据",  # the city administrator owns no child: a reason is asked
    ),
    # volunteers
    "volunteers:volunteer_list": Row("list", STAFF),
    "volunteers:volunteer_create": Row("page", ADMINS),
    "volunteers:volunteer_detail": Row(
        "detail", STAFF, own=lambda w: w.mother_a, foreign=lambda w: w.mother_b
    ),
    "volunteers:volunteer_edit": Row(
        "detail", ADMINS, own=lambda w: w.mother_a, foreign=lambda w: w.mother_b
    ),
    "volunteers:volunteer_transition": Row("write", ADMINS, foreign=lambda w: w.mother_b, method="POST"),
    "volunteers:volunteer_login_create": Row("write", ADMINS, foreign=lambda w: w.mother_b, method="POST"),
    "api:volunteers_list": Row("list", SIGNED_IN, api=True),
    # pairing
    "pairing:ledger": Row("list", STAFF),
    "pairing:ledger_export": Row("list", STAFF),
    "pairing:unpaired": Row("list", STAFF),
    "pairing:propose": Row("detail", ADMINS, own=lambda w: w.child_a2, foreign=child_b, kwarg="child_pk"),
    "pairing:pairing_detail": Row(
        "detail", EVERYONE, own=lambda w: w.pairing_a, foreign=lambda w: w.pairing_b
    ),
    "pairing:respond": Row("write", {VOLUNTEER}, foreign=lambda w: w.pairing_b, method="POST"),
    "pairing:consent": Row("write", ADMINS, foreign=lambda w: w.pairing_b, method="POST"),
    "pairing:consent_withdraw": Row("write", ADMINS, foreign=lambda w: w.pairing_b, method="POST"),
    "pairing:consent_evidence": Row("detail", STAFF, foreign=lambda w: w.pairing_b.consents.get()),
    "pairing:end": Row("write", ADMINS, foreign=lambda w: w.pairing_b, method="POST"),
    "pairing:cancel": Row("write", ADMINS, foreign=lambda w: w.pairing_b, method="POST"),
    "api:pairings_list": Row("list", SIGNED_IN, api=True),
    # care
    "care:my_children": Row("page", {VOLUNTEER}),
    "care:checklist": Row(
        "detail",
        {VOLUNTEER} | ADMINS,
        own=lambda w: w.pairing_a,
        foreign=lambda w: w.pairing_b,
        kwarg="pairing_pk",
    ),
    "care:record_create": Row(
        "detail",
        {VOLUNTEER} | ADMINS,
        own=lambda w: w.pairing_a,
        foreign=lambda w: w.pairing_b,
        kwarg="pairing_pk",
    ),
    "care:record_list": Row("list", STAFF),
    "care:record_detail": Row("detail", EVERYONE, own=lambda w: w.record_a, foreign=lambda w: w.record_b),
    "care:record_photo": Row("detail", EVERYONE, foreign=lambda w: w.record_b),
    "care:record_comment": Row("write", STAFF, foreign=lambda w: w.record_b, method="POST"),
    "api:care_records_create": Row(
        "write",
        {VOLUNTEER} | ADMINS,
        foreign=lambda w: w.pairing_b,
        method="POST",
        api=True,
        body=lambda w, rec: {
            "pairing_id": rec.pk,
            "date": datetime.date.today().isoformat(),
            "kind": "phone",
            "rules": ["weekly_contact"],
            "services": [],
            "notes": "",
        },
    ),
    "api:me_checklist": Row("list", {VOLUNTEER}, api=True),
    # care: the 6+1 settings (city-wide configuration, the city administrator only)
    "care:config": Row("page", {CITY}),
    "care:config_rule": Row("page", {CITY}, foreign=lambda w: _rule(), method="POST"),
    "care:config_term_create": Row("page", {CITY}, method="POST"),
    "care:config_term": Row("page", {CITY}, foreign=lambda w: _term(), method="POST"),
    "care:config_term_delete": Row("page", {CITY}, foreign=lambda w: _term(), method="POST"),
    "care:config_festival_create": Row("page", {CITY}, method="POST"),
    "care:config_festival": Row("page", {CITY}, foreign=lambda w: _festival(), method="POST"),
    "care:config_festival_delete": Row("page", {CITY}, foreign=lambda w: _festival(), method="POST"),
    # activities, dashboard, audit
    "activities:activity_list": Row("list", STAFF),
    "activities:activity_create": Row("page", ADMINS),
    "activities:activity_detail": Row(
        "detail", STAFF, own=lambda w: w.activity_a, foreign=lambda w: w.activity_b
    ),
    "activities:participants_add": Row("write", ADMINS, foreign=lambda w: w.activity_b, method="POST"),
    "dashboard:overview": Row("list", STAFF),
    # third-party evaluators: de-identified figures of the whole city (no district-B names
    # may appear: the rows check it)
    "evaluation:overview": Row("list", {EVALUATOR}),
    "evaluation:records_export": Row("list", {EVALUATOR}),
    "api:stats_overview": Row("list", STAFF, api=True),
    # the audit log: city and district admins their scope's, the audit administrator all of it
    "audit:event_list": Row("list", ADMINS | {AUDIT}, whole_city={CITY, AUDIT}),
    "audit:access_report": Row("list", {CITY}, whole_city={CITY}),
    "audit:chain_status": Row("page", {AUDIT}),
    # department data: imports (admins, within their district; the city sees all), alerts
    "pairing:status_export": Row("list", ADMINS),
    "ingest:batch_list": Row("list", ADMINS),
    "ingest:batch_detail": Row("detail", ADMINS, own=lambda w: w.batch_a, foreign=lambda w: w.batch_b),
    "ingest:batch_progress": Row("detail", ADMINS, own=lambda w: w.batch_a, foreign=lambda w: w.batch_b),
    "ingest:batch_rejections": Row("detail", ADMINS, own=lambda w: w.batch_a, foreign=lambda w: w.batch_b),
    "ingest:template": Row("page", ADMINS),
    "ingest:suspect_list": Row("list", ADMINS),
    "ingest:suspect_decide": Row("write", ADMINS, foreign=_suspect_b, method="POST"),
    # push-API credentials: technical integration, the system administrator's (no longer the city's)
    "ingest_credentials:credential_list": Row("list", {SYSTEM}),
    "ingest_credentials:credential_create": Row("page", {SYSTEM}),
    "ingest_credentials:credential_revoke": Row(
        "page", {SYSTEM}, foreign=lambda w: _credential(w), method="POST"
    ),
    "api:ingest_push": Row("signed", set(), api=True, method="POST"),
    "api:ingest_pairings": Row("signed", set(), api=True),
    "alerts:alert_list": Row("list", STAFF, query="status=all"),
    "alerts:alert_resolve": Row("write", STAFF, foreign=_alert_b, method="POST"),
    "alerts:alert_dismiss": Row("write", STAFF, foreign=_alert_b, method="POST"),
    # matching
    "matching:run_list": Row("list", ADMINS),
    "matching:run_detail": Row("detail", ADMINS, own=_match_run_a, foreign=_match_run_b),
    "matching:run_progress": Row("detail", ADMINS, own=_match_run_a, foreign=_match_run_b),
    "matching:run_accept_all": Row("write", ADMINS, foreign=_match_run_b, method="POST"),
    "matching:run_confirm": Row("write", ADMINS, foreign=_match_run_b, method="POST"),
    "matching:proposal_decide": Row("write", ADMINS, foreign=_match_proposal_b, method="POST"),
    "matching:exclusion_add": Row("write", ADMINS, foreign=child_b, kwarg="child_pk", method="POST"),
    "matching:exclusion_remove": Row("write", ADMINS, foreign=_exclusion_b, method="POST"),
    # notifications: every role, their own only (another's → 404, even for the city)
    "notify:inbox": Row("list", SIGNED_IN),
    "notify:mark_read": Row("write", SIGNED_IN, foreign=_notification_b, method="POST"),
    "notify:mark_all_read": Row("page", SIGNED_IN, method="POST"),
    "notify:preferences": Row("page", SIGNED_IN),
    "api:notifications_list": Row("list", SIGNED_IN, api=True),
    "api:notifications_read": Row(
        "write", SIGNED_IN, foreign=_notification_b, kwarg="notification_id", method="POST", api=True
    ),
    # cases (issue 5): staff of the child's area, and the liaison of a department the case is
    # referred to; a loving mother reports about her own children.
    "cases:case_list": Row("list", STAFF),
    "cases:liaison_inbox": Row("list", {LIAISON}),
    "cases:report_create": Row("page", EVERYONE),
    "cases:case_detail": Row("detail", STAFF | {LIAISON}, own=lambda w: w.case_a, foreign=lambda w: w.case_b),
    "cases:case_transition": Row("write", STAFF | {LIAISON}, foreign=lambda w: w.case_b, method="POST"),
    "cases:report_entry": Row("write", STAFF | {LIAISON}, foreign=lambda w: w.case_b, method="POST"),
    "cases:report_photo": Row("detail", STAFF | {LIAISON}, foreign=lambda w: w.case_b.report),
    "cases:event_attachment": Row("detail", STAFF | {LIAISON}, foreign=lambda w: w.case_b.events.first()),
    "cases:referral_transition": Row(
        "write", {LIAISON}, foreign=lambda w: w.case_b.referrals.get(), method="POST"
    ),
    "api:incidents_list": Row("list", SIGNED_IN - {MEMBER}, api=True),
    # task forces (issue 5 §4): staff of the child's area; a member only the task forces they
    # sit on; the loving mother the task force of her paired child
    "taskforces:missing_list": Row("list", STAFF),
    "taskforces:mine": Row("page", {MEMBER}),
    "taskforces:taskforce_create": Row("write", ADMINS, foreign=child_b, kwarg="child_pk", method="POST"),
    "taskforces:taskforce_detail": Row(
        "detail", STAFF | {VOLUNTEER, MEMBER}, own=_taskforce_a, foreign=_taskforce_b
    ),
    "taskforces:plan_edit": Row("detail", ADMINS, own=_taskforce_a, foreign=_taskforce_b),
    "taskforces:member_add": Row("write", ADMINS, foreign=_taskforce_b, method="POST"),
    "taskforces:action_add": Row("write", ADMINS, foreign=_taskforce_b, method="POST"),
    "taskforces:step_down": Row("write", ADMINS, foreign=_taskforce_b, method="POST"),
    "taskforces:member_remove": Row("write", ADMINS, foreign=_taskforce_member_b, method="POST"),
    "taskforces:member_login_create": Row("write", ADMINS, foreign=_taskforce_member_b, method="POST"),
    "taskforces:action_complete": Row("write", ADMINS | {MEMBER}, foreign=_plan_action_b, method="POST"),
    "taskforces:action_drop": Row("write", ADMINS, foreign=_plan_action_b, method="POST"),
    "taskforces:note_add": Row("write", STAFF | {VOLUNTEER, MEMBER}, foreign=_plan_action_b, method="POST"),
    "api:taskforces_list": Row("list", STAFF | {VOLUNTEER, MEMBER}, api=True),
    "api:taskforces_detail": Row(
        "detail",
        STAFF | {VOLUNTEER, MEMBER},
        own=_taskforce_a,
        foreign=_taskforce_b,
        kwarg="taskforce_id",
        api=True,
        query="reason=督导检查",  # the city administrator owns no child: a reason is asked
    ),
    "api:taskforces_note_add": Row(
        "write",
        STAFF | {VOLUNTEER, MEMBER},
        foreign=_plan_action_b,
        kwarg="action_id",
        method="POST",
        api=True,
    ),
    "api:taskforces_action_complete": Row(
        "write", ADMINS | {MEMBER}, foreign=_plan_action_b, kwarg="action_id", method="POST", api=True
    ),
    "api:incidents_create": Row(
        "write",
        EVERYONE,
        foreign=child_b,
        method="POST",
        api=True,
        body=lambda w, rec: {
            "child_id": rec.pk,
            "category": "bullying",
            "severity": "high",
            "description": "被打",
            "observed_at": datetime.datetime.now(datetime.UTC).isoformat(),
        },
    ),
    "api:incidents_transition": Row(
        "write", STAFF | {LIAISON}, foreign=lambda w: w.case_b, kwarg="incident_id", method="POST", api=True
    ),
    "api:openapi-json": Row("public", set(), api=True),
    # The push API's documentation (server-rendered, no records): for department programmers.
    "api:openapi-view": Row("public", set(), api=True),
    "api:api-root": Row("notfound", set(), api=True),
}


def all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                walk(p.url_patterns, ns if ns else namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_is_in_the_matrix() -> None:
    names = all_url_names()
    missing = sorted(names - set(MATRIX))
    stale = sorted(set(MATRIX) - names)
    assert missing == [], f"URLs without a row in the scope matrix: {missing}"
    assert stale == [], f"rows for URLs that no longer exist: {stale}"


def _url(name: str, row: Row, world: World, record: Any | None) -> str:
    kwargs: dict[str, Any] = {}
    if record is not None and row.body is None:
        kwargs[row.kwarg] = record.pk
        if row.extra_kwargs:
            kwargs.update(row.extra_kwargs(world, record))
    return reverse(name, kwargs=kwargs) + (f"?{row.query}" if row.query else "")


def _text(response: Any) -> str:
    content_type = response.get("Content-Type", "")
    if "spreadsheetml" in content_type:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(response.content), read_only=True)
        return " ".join(
            str(cell)
            for ws in wb.worksheets
            for row in ws.iter_rows(values_only=True)
            for cell in row
            if cell
        )
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    text = response.content.decode("utf-8", "replace")
    if "json" in content_type and text:
        # The API escapes Chinese as \uXXXX: decode, or a leaked name would go unseen.
        return json.dumps(json.loads(text), ensure_ascii=False)
    return text


def _request(client: Any, row: Row, url: str, world: World | None = None, record: Any = None) -> Any:
    if row.method == "POST":
        if row.api:
            body = row.body(world, record) if (row.body and world is not None) else {}
            return client.post(url, data=json.dumps(body), content_type="application/json")
        return client.post(url, data={})
    return client.get(url)


def _snapshot(record: Any) -> tuple[Any, ...]:
    """The record's columns and the row counts of everything a write could add."""
    from aixin.care.models import CareComment
    from aixin.cases.models import Case, CaseEvent, Referral, Report, ReportEntry
    from aixin.pairing.models import GuardianConsent, Pairing
    from aixin.registry.models import ChildChange, Guardian, ParentCondition
    from aixin.taskforces.models import ActionNote, PlanAction, TaskForce, TaskForceMember
    from aixin.volunteers.models import VolunteerStatusChange

    record.refresh_from_db()
    counts = tuple(
        m.objects.count()
        for m in (
            CareRecord,
            CareComment,
            Pairing,
            GuardianConsent,
            Guardian,
            ParentCondition,
            ChildChange,
            VolunteerStatusChange,
            Report,
            ReportEntry,
            Case,
            Referral,
            CaseEvent,
            TaskForce,
            TaskForceMember,
            PlanAction,
            ActionNote,
        )
    )
    return (*(getattr(record, f.attname) for f in record._meta.concrete_fields), *counts)


CASES = [(name, role) for name in sorted(MATRIX) for role in ROLES]


@pytest.mark.parametrize(("name", "role"), CASES)
def test_scope_matrix(name: str, role: str, world: World, client: Any) -> None:
    row = MATRIX[name]
    if role != ANON:
        client.force_login(world.users[role])
    if row.kind == "signed":
        # Authenticated by the request's signature only: no session or role enters without one.
        url = reverse(name, kwargs={"source": "civil_affairs"})
        if row.method == "POST":
            response = client.post(url, data="{}", content_type="application/json")
        else:
            response = client.get(url)
        assert response.status_code == 401
        return
    record = row.own(world) if row.own else (row.foreign(world) if row.foreign else None)
    url = _url(name, row, world, record)

    if row.kind == "notfound":
        assert client.get(url).status_code == 404
        return

    if row.kind == "public":
        # Open to all; the log-in page sends a logged-in user on to the home page.
        assert client.get(url).status_code in ((200,) if role == ANON else (200, 302))
        return

    if role == ANON:
        response = _request(client, row, url)
        if row.api:
            assert response.status_code == 401
        else:
            assert response.status_code == 302 and "/login/" in response["Location"]
        return

    if role not in row.roles:
        before = _snapshot(row.foreign(world)) if row.foreign else None
        response = _request(client, row, url, world, record)
        assert response.status_code in (403, 404), (
            f"{role} must be refused {name}, got {response.status_code}"
        )
        if before is not None:
            assert _snapshot(row.foreign(world)) == before
        return

    if row.kind == "list":
        response = _request(client, row, url)
        assert response.status_code == 200, f"{role} {name}: {response.status_code}"
        text = _text(response)
        if role not in row.whole_city:
            for marker in FOREIGN_MARKERS:
                assert marker not in text, f"{role} sees district B ({marker}) in {name}"
        return

    if row.kind == "page":
        response = _request(client, row, url)
        assert response.status_code in (200, 302, 400), f"{role} {name}: {response.status_code}"
        return

    # detail and write: district B's record is out of scope for everyone but the city.
    assert row.foreign is not None
    foreign = row.foreign(world)
    if role != CITY:
        before = _snapshot(foreign)
        response = _request(client, row, _url(name, row, world, foreign), world, foreign)
        assert response.status_code == 404, f"{role} {name} on district B: {response.status_code}"
        assert _snapshot(foreign) == before
        assert all(marker not in _text(response) for marker in FOREIGN_MARKERS)
    if row.kind == "detail" and row.own is not None:
        response = _request(client, row, url)
        assert response.status_code == 200, f"{role} {name} on own record: {response.status_code}"


# Counts and searches, by role: the numbers a user sees are the numbers of their scope.
EXPECTED_CHILD_COUNT = {CITY: 3, DISTRICT: 2, TOWN: 1, VILLAGE: 1, VOLUNTEER: 1}


@pytest.mark.parametrize("role", sorted(EXPECTED_CHILD_COUNT))
def test_child_count_is_the_count_of_the_users_scope(role: str, world: World, client: Any) -> None:
    client.force_login(world.users[role])
    data = client.get(reverse("api:children_list")).json()
    assert data["count"] == EXPECTED_CHILD_COUNT[role]


@pytest.mark.parametrize("role", [DISTRICT, TOWN, VILLAGE])
def test_search_for_another_districts_child_finds_nothing(role: str, world: World, client: Any) -> None:
    from aixin.registry.derive import reveal_id_number

    client.force_login(world.users[role])
    b_file = reverse("registry:child_detail", args=[world.child_b.pk])
    for q in ("丙童", "bingtong", reveal_id_number(world.child_b)):
        page = client.get(reverse("registry:child_list"), {"q": q})
        assert page.status_code == 200
        assert b_file not in page.content.decode()
        api = client.get(reverse("api:children_list"), {"q": q}).json()
        assert api["count"] == 0


def test_dashboard_of_another_district_is_not_found(world: World, client: Any) -> None:
    client.force_login(world.users[DISTRICT])
    assert client.get(reverse("dashboard:overview"), {"region": "500102"}).status_code == 404
    assert client.get(reverse("api:stats_overview"), {"region": "500102"}).status_code == 404
    assert client.get(reverse("dashboard:overview"), {"region": "500101"}).status_code == 200


def test_audit_log_of_another_district_is_not_shown(world: World, client: Any) -> None:
    client.force_login(world.users[DISTRICT])
    text = client.get(reverse("audit:event_list")).content.decode()
    assert "查看甲童档案" in text
    assert "查看丙童档案" not in text
    assert AuditEvent.objects.filter(summary="查看丙童档案").exists()
