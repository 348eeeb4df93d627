"""Access scoping: the one place where who-may-see-what is decided (R-1.1).

Two layers, both deny by default:

1. Entry. Every page and API operation declares which roles may enter, with `@access(...)` (or
   `@public` for the log-in page). `AccessDeclaredMiddleware` refuses any page that declares
   nothing; `ScopedRouter` replaces any API operation that declares nothing with a refusal.
2. Rows. Every read of people's data for a request goes through the `*_visible_to(user)`
   selectors below; details use `get_*_for_user`, which answer 404 outside the user's scope so
   that existence is never revealed.

One documented exception: third-party evaluators (role evaluator) read city-wide figures through
`aixin.evaluation.selectors` (`evaluation_overview`, `evaluation_records`) — counts with small
cells suppressed and pseudonymous rows without names, ID numbers, phones, addresses, villages or
birth dates — called only by `@access(Role.EVALUATOR)` views; every selector here gives an
evaluator nothing.

Department liaisons (部门联络员, issue 5) see cases only through referrals: `referrals_visible_to`
gives the referrals to their own department for children within their region (the region
subtree), `cases_visible_to` the cases those referrals belong to, and the case pages show the
child's summary from the case with masked identifiers. Every other selector gives a liaison
nothing — `children_visible_to` included: a liaison never opens a child's file, lists children,
or reaches a child except as the subject of a referral to their department.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Router
from ninja.errors import HttpError

from aixin.accounts.models import ADMIN_ROLES, ALL_ROLES, STAFF_ROLES, Role, User

if TYPE_CHECKING:
    from aixin.regions.models import RegionQuerySet

# request.user: a User, or AnonymousUser before log-in. Every selector below handles both (an
# anonymous user sees nothing), so callers pass request.user as it is.
AnyUser = Any

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class AccessSpec:
    roles: frozenset[str]
    public: bool = False
    # Set on the URL callbacks of the JSON API, whose operations are checked one by one.
    delegated: bool = False

    def admits(self, user: Any) -> bool:
        if self.public:
            return True
        return bool(user is not None and user.is_authenticated and getattr(user, "role", None) in self.roles)


def access(*roles: str) -> Callable[[F], F]:
    """Declare the roles that may enter a page or API operation."""
    if not roles:
        raise ValueError("access() needs at least one role; use @public for open pages")
    unknown = set(roles) - set(ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(func: F) -> F:
        return declare_access(func, AccessSpec(roles=frozenset(roles)))

    return decorate


def public(func: F) -> F:
    return declare_access(func, AccessSpec(roles=frozenset(), public=True))


def declare_access(func: F, spec: AccessSpec) -> F:
    """Attach an access declaration to a view or URL callback (read back by `declared_access`)."""
    # A dynamic attribute on a function object: no type describes it, hence the targeted ignore.
    func.aixin_access = spec  # type: ignore[attr-defined]
    return func


def request_user(request: HttpRequest) -> User:
    """The signed-in user of a request behind `@access(...)`.

    The middleware (pages) and `ScopedRouter` (API) admit only authenticated users of the declared
    roles, so a view behind `@access` always has a `User` here, never an `AnonymousUser`.
    """
    user = request.user
    assert isinstance(user, User), "request_user() is only for views behind @access(...)"
    return user


STAFF = tuple(STAFF_ROLES)
ADMINS = (Role.CITY_ADMIN, Role.DISTRICT_ADMIN)
# The separated administrators (三权分立, issue 6 §2): each has its own pages and nothing else —
# no child's file, no other administrator's work. Third-party evaluators have their own pages.
SEPARATED_ADMINS = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
# Everyone taking part in the care programme (staff, loving mothers, liaisons, task-force
# members): the pages and API lists that answer each of them with their own scope's rows.
EVERYONE = tuple(r for r in ALL_ROLES if r not in {*SEPARATED_ADMINS, Role.EVALUATOR})
# Every signed-in user, whatever the role: one's own account only (home, password, second
# factor, log-out).
ANY_ROLE = tuple(ALL_ROLES)
# Who reads the audit log: the audit administrator all of it, city and district admins their
# scope's.
AUDIT_READERS = (*ADMINS, Role.AUDIT_ADMIN)
# Who opens task forces (pages and API): staff in scope, its members, the child's loving mother
# (which ones each sees: taskforces_visible_to).
TASKFORCE_VIEWERS = (*STAFF, Role.TASKFORCE_MEMBER, Role.VOLUNTEER)


def declared_access(view: Callable[..., Any]) -> AccessSpec | None:
    spec = getattr(view, "aixin_access", None)
    return spec if isinstance(spec, AccessSpec) else None


class ScopedRouter(Router):
    """A django-ninja router whose operations must declare access; undeclared ones refuse."""

    def add_api_operation(
        self, path: str, methods: list[str], view_func: Callable[..., Any], **kw: Any
    ) -> None:
        spec = declared_access(view_func)

        @wraps(view_func)
        def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
            if spec is None:
                raise HttpError(403, "该接口未声明访问范围，已拒绝")
            if not spec.admits(request.user):
                raise HttpError(403, "你的角色无权使用该接口")
            return view_func(request, *args, **kwargs)

        super().add_api_operation(path, methods, guarded, **kw)


# ---------------------------------------------------------------------------------------------
# Row scoping. Imports are local so that this module can be imported by the models' apps.


def _region_filter(user: User, *, district: str, town: str, village: str) -> Q | None:
    """The filter for staff placed at a region; None means the whole city."""
    if user.role == Role.CITY_ADMIN:
        return None
    if user.role == Role.DISTRICT_ADMIN:
        return Q(**{district: user.region_id})
    if user.role == Role.TOWN_SUPERVISOR:
        return Q(**{town: user.region_id})
    if user.role == Role.VILLAGE_DIRECTOR:
        return Q(**{village: user.region_id})
    return Q(pk__in=[])


def _scoped(qs: QuerySet[Any], user: User, **fields: str) -> QuerySet[Any]:
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    region_q = _region_filter(user, **fields)
    return qs if region_q is None else qs.filter(region_q)


def regions_visible_to(user: AnyUser) -> RegionQuerySet:
    from aixin.regions.models import Region

    if not getattr(user, "is_authenticated", False):
        return Region.objects.none()
    if user.role == Role.CITY_ADMIN:
        return Region.objects.all()
    if user.role == Role.VOLUNTEER:
        return Region.objects.filter(pk=user.region_id)
    region = user.region
    return Region.objects.filter(path__startswith=region.path)


def volunteer_profile(user: AnyUser) -> Any:
    from aixin.volunteers.models import Volunteer

    return Volunteer.objects.filter(user=user).first()


def children_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.pairing.models import OPEN_STATUSES, Pairing
    from aixin.registry.models import Child

    if getattr(user, "is_authenticated", False) and user.role == Role.VOLUNTEER:
        mine = Pairing.objects.filter(child=OuterRef("pk"), volunteer__user=user, status__in=OPEN_STATUSES)
        return Child.objects.filter(Exists(mine))
    if getattr(user, "is_authenticated", False) and user.role == Role.TASKFORCE_MEMBER:
        # A task-force member: only the children whose (active) task force they sit on.
        return Child.objects.filter(taskforce_children_q(user))
    return _scoped(Child.objects.all(), user, district="district_id", town="town_id", village="region_id")


def volunteers_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.volunteers.models import Volunteer

    if getattr(user, "is_authenticated", False) and user.role == Role.VOLUNTEER:
        return Volunteer.objects.filter(user=user)
    return _scoped(
        Volunteer.objects.all(), user, district="district_id", town="town_id", village="home_region_id"
    )


def pairings_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.pairing.models import Pairing

    if getattr(user, "is_authenticated", False) and user.role == Role.VOLUNTEER:
        return Pairing.objects.filter(volunteer__user=user)
    return _scoped(Pairing.objects.all(), user, district="district_id", town="town_id", village="village_id")


def pairings_of_credential(credential: Any) -> QuerySet[Any]:
    """The pairings a department system reads back with its credential (R-4.6): those of the
    villages in the credential's region, the region it may push data for."""
    from aixin.pairing.models import Pairing

    return Pairing.objects.filter(village__path__startswith=credential.region.path)


def care_records_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.care.models import CareRecord

    if getattr(user, "is_authenticated", False) and user.role == Role.VOLUNTEER:
        return CareRecord.objects.filter(volunteer__user=user)
    return _scoped(
        CareRecord.objects.all(), user, district="district_id", town="town_id", village="village_id"
    )


def activities_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.activities.models import Activity

    if not getattr(user, "is_authenticated", False) or user.role == Role.VOLUNTEER:
        return Activity.objects.none()
    if user.role == Role.CITY_ADMIN:
        return Activity.objects.all()
    # An activity may be held at any level (district, town or village): scope by the tree path.
    return Activity.objects.filter(region__path__startswith=user.region.path)


def audit_events_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.audit.models import AuditEvent

    if not getattr(user, "is_authenticated", False) or user.role not in AUDIT_READERS:
        return AuditEvent.objects.none()
    if user.role in (Role.CITY_ADMIN, Role.AUDIT_ADMIN):
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(district_id=user.region_id)


def import_batches_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Import batches (and through them rejections): admins, for batches scoped inside their
    region. A city-wide batch is seen by city admins only."""
    from aixin.ingest.models import ImportBatch

    if not getattr(user, "is_authenticated", False) or user.role not in ADMINS:
        return ImportBatch.objects.none()
    if user.role == Role.CITY_ADMIN:
        return ImportBatch.objects.all()
    return ImportBatch.objects.filter(scope__path__startswith=user.region.path)


def duplicate_suspects_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.ingest.models import DuplicateSuspect

    if not getattr(user, "is_authenticated", False) or user.role not in ADMINS:
        return DuplicateSuspect.objects.none()
    if user.role == Role.CITY_ADMIN:
        return DuplicateSuspect.objects.all()
    return DuplicateSuspect.objects.filter(district_id=user.region_id)


def department_credentials_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Push-API credentials are technical integration: created, seen and revoked by the system
    administrator only (三权分立; not the city admin since issue 6)."""
    from aixin.ingest.models import DepartmentCredential

    if not getattr(user, "is_authenticated", False) or user.role != Role.SYSTEM_ADMIN:
        return DepartmentCredential.objects.none()
    return DepartmentCredential.objects.all()


def users_visible_to(user: AnyUser) -> QuerySet[Any]:
    """User accounts are managed by the security administrator only: all of them. Nobody else
    lists or opens accounts (the city admin included); loving mothers' and task-force members'
    phone log-ins are opened from their own pages by the admins."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.SECURITY_ADMIN:
        return User.objects.none()
    return User.objects.all()


def get_user_for_user(user: AnyUser, pk: Any) -> Any:
    return get_visible(users_visible_to(user).select_related("region"), pk)


def match_runs_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Matching runs (and through them their proposals): admins, for their district."""
    from aixin.matching.models import MatchRun

    if not getattr(user, "is_authenticated", False) or user.role not in ADMINS:
        return MatchRun.objects.none()
    if user.role == Role.CITY_ADMIN:
        return MatchRun.objects.all()
    return MatchRun.objects.filter(district_id=user.region_id)


def match_proposals_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.matching.models import MatchProposal

    return MatchProposal.objects.filter(run__in=match_runs_visible_to(user))


def match_exclusions_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Pairs excluded from matching: admins, for their district."""
    from aixin.matching.models import MatchExclusion

    if not getattr(user, "is_authenticated", False) or user.role not in ADMINS:
        return MatchExclusion.objects.none()
    if user.role == Role.CITY_ADMIN:
        return MatchExclusion.objects.all()
    return MatchExclusion.objects.filter(district_id=user.region_id)


def alerts_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.alerts.models import Alert

    if not getattr(user, "is_authenticated", False) or user.role == Role.VOLUNTEER:
        return Alert.objects.none()
    return _scoped(Alert.objects.all(), user, district="district_id", town="town_id", village="region_id")


def notifications_visible_to(user: AnyUser) -> QuerySet[Any]:
    """A user's own notifications, whatever the role: nobody reads another's, not even the city."""
    from aixin.notify.models import Notification

    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def referrals_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Referrals (流转): a liaison's department's, within the liaison's region subtree; staff
    those of their area; nobody else any."""
    from aixin.cases.models import Referral

    if not getattr(user, "is_authenticated", False):
        return Referral.objects.none()
    if user.role == Role.DEPARTMENT_LIAISON:
        if not user.department:
            return Referral.objects.none()
        return Referral.objects.filter(department=user.department, region__path__startswith=user.region.path)
    if user.role not in STAFF:
        return Referral.objects.none()
    return _scoped(Referral.objects.all(), user, district="district_id", town="town_id", village="region_id")


def cases_visible_to(user: AnyUser) -> QuerySet[Any]:
    """Cases (风险事件): staff of the child's area; a liaison the cases referred to their
    department (see `referrals_visible_to`); a loving mother the cases she reported."""
    from aixin.cases.models import Case

    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    if user.role == Role.DEPARTMENT_LIAISON:
        return Case.objects.filter(Exists(referrals_visible_to(user).filter(case=OuterRef("pk"))))
    if user.role == Role.VOLUNTEER:
        return Case.objects.filter(report__reporter_id=user.pk)
    if user.role not in STAFF:
        return Case.objects.none()
    return _scoped(Case.objects.all(), user, district="district_id", town="town_id", village="region_id")


def case_reports_visible_to(user: AnyUser) -> QuerySet[Any]:
    """The original reports (and their photos) of the cases a user sees."""
    from aixin.cases.models import Report

    return Report.objects.filter(case__in=cases_visible_to(user))


def case_events_visible_to(user: AnyUser) -> QuerySet[Any]:
    """The timeline (and its attachments): staff, all of a case they see; a liaison, the case's
    own steps and the steps of their department's referral, not other departments' notes."""
    from aixin.cases.models import CaseEvent

    if not getattr(user, "is_authenticated", False) or user.role not in (*STAFF, Role.DEPARTMENT_LIAISON):
        return CaseEvent.objects.none()
    events = CaseEvent.objects.filter(case__in=cases_visible_to(user))
    if user.role == Role.DEPARTMENT_LIAISON:
        events = events.filter(Q(referral__isnull=True) | Q(referral__in=referrals_visible_to(user)))
    return events


# Task forces (R-6.4, issue 5)


def taskforce_children_q(user: AnyUser) -> Q:
    """Children (a filter on Child) whose active task force `user` has a current seat on."""
    from aixin.taskforces.models import TaskForceMember, TaskForceStatus

    seats = TaskForceMember.objects.filter(
        taskforce__child=OuterRef("pk"),
        taskforce__status=TaskForceStatus.ACTIVE,
        user_id=user.pk,
        removed_at__isnull=True,
    )
    return Q(Exists(seats))


def taskforces_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.pairing.models import Pairing, PairingStatus
    from aixin.taskforces.models import TaskForce, TaskForceMember, TaskForceStatus

    if not getattr(user, "is_authenticated", False):
        return TaskForce.objects.none()
    if user.role == Role.TASKFORCE_MEMBER:
        seats = TaskForceMember.objects.filter(
            taskforce=OuterRef("pk"), user_id=user.pk, removed_at__isnull=True
        )
        return TaskForce.objects.filter(Exists(seats), status=TaskForceStatus.ACTIVE)
    if user.role == Role.VOLUNTEER:
        mine = Pairing.objects.filter(
            child=OuterRef("child_id"), volunteer__user_id=user.pk, status=PairingStatus.ACTIVE
        )
        return TaskForce.objects.filter(Exists(mine), status=TaskForceStatus.ACTIVE)
    return _scoped(
        TaskForce.objects.all(), user, district="district_id", town="town_id", village="village_id"
    )


def plan_actions_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.taskforces.models import PlanAction

    return PlanAction.objects.filter(plan__taskforce__in=taskforces_visible_to(user))


def taskforce_members_visible_to(user: AnyUser) -> QuerySet[Any]:
    from aixin.taskforces.models import TaskForceMember

    return TaskForceMember.objects.filter(taskforce__in=taskforces_visible_to(user))


def get_taskforce_for_user(user: AnyUser, pk: Any) -> Any:
    return get_visible(taskforces_visible_to(user), pk)


# Which roles may export which kind of file; kinds not listed cannot be exported.
EXPORT_ROLES: dict[str, frozenset[str]] = {
    "children": STAFF_ROLES,  # 儿童台账, identifiers masked
    "pairing_ledger": STAFF_ROLES,  # 结对台账, phones masked
    "pairing_status": ADMIN_ROLES,  # 结对状态（共享民政）, full ID numbers
    "import_rejections": ADMIN_ROLES,  # an import's rejected rows, the original cells
    "access_report": frozenset({Role.CITY_ADMIN}),  # 年度访问报告, names staff
}


def may_export(user: AnyUser, kind: str) -> bool:
    """Whether `user` may download an export of `kind` (R-12.3). Loving mothers never export."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.VOLUNTEER:
        return False
    return user.role in EXPORT_ROLES.get(kind, frozenset())


def get_visible(qs: QuerySet[Any], pk: Any) -> Any:
    """The record with `pk` from a scoped queryset, or 404 — never 403, so nothing leaks."""
    try:
        return qs.get(pk=int(pk))
    except (qs.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("记录不存在或不在你的管辖范围内") from exc


def get_child_for_user(user: AnyUser, pk: Any) -> Any:
    return get_visible(children_visible_to(user), pk)


def get_volunteer_for_user(user: AnyUser, pk: Any) -> Any:
    return get_visible(volunteers_visible_to(user), pk)


def get_pairing_for_user(user: AnyUser, pk: Any) -> Any:
    return get_visible(pairings_visible_to(user), pk)


def get_care_record_for_user(user: AnyUser, pk: Any) -> Any:
    return get_visible(care_records_visible_to(user), pk)


def get_case_for_user(user: AnyUser, pk: Any) -> Any:
    return get_visible(cases_visible_to(user), pk)


def get_referral_for_user(user: AnyUser, pk: Any) -> Any:
    return get_visible(referrals_visible_to(user), pk)


def region_in_scope(user: AnyUser, region: Any) -> bool:
    """Whether staff may act on records placed in `region` (any level)."""
    if user.role == Role.CITY_ADMIN:
        return True
    if user.role == Role.VOLUNTEER:
        return False
    return bool(region.path.startswith(user.region.path))


def may_reveal_full_identifiers(user: AnyUser) -> bool:
    return user.role in ADMINS


def may_manage(user: AnyUser) -> bool:
    """Registry, volunteers and pairings are managed by the federation's staff (SPEC §1)."""
    return user.role in ADMINS


def roles(*items: Iterable[str]) -> tuple[str, ...]:
    return tuple(r for group in items for r in group)


__all__ = [
    "ADMINS",
    "ANY_ROLE",
    "AUDIT_READERS",
    "EVERYONE",
    "SEPARATED_ADMINS",
    "STAFF",
    "AccessSpec",
    "ScopedRouter",
    "access",
    "children_visible_to",
    "declare_access",
    "public",
    "request_user",
]
