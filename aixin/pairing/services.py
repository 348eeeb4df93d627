"""Writes for pairings (结对, R-6.1): propose → the mother accepts → the guardian consents →
active → ended; or declined / cancelled on the way.

Two invariants are held by the database and turned here into Chinese messages: one open
pairing per child (partial unique index `pairing_one_open_per_child`) and load ≤ capacity
(check constraint `volunteer_load_within_capacity`). A pairing becomes active only in
`pairing_record_consent`, so activation without a recorded guardian consent is impossible.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aixin.accounts.access import (
    get_child_for_user,
    get_visible,
    get_volunteer_for_user,
    may_manage,
    pairings_visible_to,
)
from aixin.accounts.models import Role
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.lib.idnumber import latest_birth_date_turning_18_by
from aixin.lib.uploads import EVIDENCE_KINDS, check_upload, delete_on_failure, random_name
from aixin.pairing.models import (
    OPEN_STATUSES,
    ConsentMethod,
    ConsentScope,
    GuardianConsent,
    Pairing,
    PairingStatus,
)
from aixin.registry.models import CareTier, ChildStatus
from aixin.volunteers.models import Volunteer, VolunteerStatus

P = PairingStatus
PAIRABLE_TIERS = (CareTier.ONE_TO_ONE, CareTier.MANY_TO_ONE)


def minor_on(day: datetime.date) -> Q:
    """Children not yet 18 on `day`."""
    return Q(birth_date__gt=latest_birth_date_turning_18_by(day))


def needs_loving_mother(day: datetime.date) -> Q:
    """Whom a loving mother is sought for on `day`: in the register, in a one-to-one or
    many-to-one tier, and under 18. At 18 a young person is handed over to a growth guardian
    (R-11.2; a hand-over alert asks for it), not paired anew — even one who stays in the
    register as a full-time student (渝民发〔2021〕5号). `awaiting_loving_mother` adds that
    no pairing is open yet."""
    return Q(status=ChildStatus.ACTIVE, care_tier__in=PAIRABLE_TIERS) & minor_on(day)


def awaiting_loving_mother(day: datetime.date) -> Q:
    """`needs_loving_mother` and no open pairing yet (no proposal waiting, no consent pending,
    no active loving mother): the children to pair, for lists, matching and alerts alike."""
    open_pairing = Exists(Pairing.objects.filter(child=OuterRef("pk"), status__in=OPEN_STATUSES))
    return needs_loving_mother(day) & Q(~open_pairing)


def seeks_loving_mother(child: Any, day: datetime.date) -> bool:
    """`needs_loving_mother` for one child in memory."""
    return (
        child.status == ChildStatus.ACTIVE
        and child.care_tier in PAIRABLE_TIERS
        and child.birth_date > latest_birth_date_turning_18_by(day)
    )


WITHDRAWN_END_REASON = "监护人撤回同意"


def _require_manager(actor: Any) -> None:
    if not may_manage(actor):
        raise NotAllowed(_("只有市、区县妇联工作人员可以办理结对"))


def _lock_pairing(actor: Any, pairing_id: Any) -> Pairing:
    """The pairing in the actor's scope, locked; 404 outside it."""
    qs = (
        pairings_visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("child", "volunteer", "village")
    )
    pairing: Pairing = get_visible(qs, pairing_id)
    return pairing


def _require_status(pairing: Pairing, allowed: tuple[str, ...], verb: str) -> None:
    if pairing.status not in allowed:
        raise InvalidInput(
            _("该结对当前状态为“%(cur)s”，不能%(verb)s") % {"cur": pairing.get_status_display(), "verb": verb}
        )


def _release_load(volunteer_id: int, n: int = 1) -> None:
    if n:
        Volunteer.objects.filter(pk=volunteer_id).update(load=F("load") - n)


def _audit(
    actor: Any,
    pairing: Pairing,
    summary: str,
    request: HttpRequest | None,
    details: dict[str, Any] | None = None,
    action: str = AuditAction.TRANSITION,
) -> None:
    audit_log(
        actor=actor,
        action=action,
        object_type="pairing",
        object_id=pairing.pk,
        region=pairing.village,
        summary=summary,
        details=details,
        request=request,
    )


def _save(pairing: Pairing) -> None:
    pairing.version += 1
    pairing.save()


@transaction.atomic
def pairing_propose(
    *, actor: Any, child_id: Any, volunteer_id: Any, request: HttpRequest | None = None
) -> Pairing:
    _require_manager(actor)
    child = get_child_for_user(actor, child_id)
    volunteer = get_volunteer_for_user(actor, volunteer_id)
    if child.status != ChildStatus.ACTIVE:
        raise InvalidInput(
            _("儿童%(name)s状态为“%(s)s”，不能结对") % {"name": child.name, "s": child.get_status_display()}
        )
    if child.care_tier == CareTier.GROUP:
        raise InvalidInput(_("该儿童为团体关爱（多对多），无需一对一结对"))
    if child.care_tier not in PAIRABLE_TIERS:
        raise InvalidInput(_("儿童%(name)s尚未确定关爱类型，不能结对") % {"name": child.name})
    if child.birth_date <= latest_birth_date_turning_18_by(timezone.localdate()):
        raise InvalidInput(
            _("%(name)s已年满18周岁，应移交成长爱护人，不再新结对爱心妈妈") % {"name": child.name}
        )
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise InvalidInput(
            _("爱心妈妈%(name)s当前状态为“%(s)s”，只有服务中的爱心妈妈可以结对")
            % {"name": volunteer.name, "s": volunteer.get_status_display()}
        )
    if volunteer.district_id != child.district_id:
        raise InvalidInput(
            _("爱心妈妈%(v)s与儿童%(c)s不在同一区县，请在儿童所在区县选择爱心妈妈")
            % {"v": volunteer.name, "c": child.name}
        )
    try:
        with transaction.atomic():
            pairing = Pairing.objects.create(
                child=child,
                volunteer=volunteer,
                tier=child.care_tier,
                status=P.PROPOSED,
                district_id=child.district_id,
                town_id=child.town_id,
                village_id=child.region_id,
                proposed_by=actor,
            )
    except IntegrityError as exc:
        raise Conflict(_("该儿童已有待确认或进行中的结对")) from exc
    try:
        with transaction.atomic():
            Volunteer.objects.filter(pk=volunteer.pk).update(load=F("load") + 1)
    except IntegrityError as exc:
        raise Conflict(
            _("爱心妈妈%(name)s已达可结对人数（%(n)s人）") % {"name": volunteer.name, "n": volunteer.capacity}
        ) from exc
    _audit(
        actor,
        pairing,
        _("提议爱心妈妈%(v)s与儿童%(c)s结对") % {"v": volunteer.name, "c": child.name},
        request,
        {"to": P.PROPOSED.value},
        action=AuditAction.CREATE,
    )
    from aixin.alerts.services import resolve_satisfied

    resolve_satisfied(children=[pairing.child_id])  # the "unpaired" alert is answered
    return pairing


@transaction.atomic
def pairing_respond(
    *, actor: Any, pairing_id: Any, accept: bool, reason: str = "", request: HttpRequest | None = None
) -> Pairing:
    """The mother accepts or declines a proposal. Only she may: anyone else gets 404."""
    if getattr(actor, "role", None) != Role.VOLUNTEER:
        raise NotAllowed(_("只有被邀请的爱心妈妈本人可以接受或婉拒结对"))
    pairing = _lock_pairing(actor, pairing_id)
    _require_status(pairing, (P.PROPOSED,), _("接受或婉拒"))
    reason = (reason or "").strip()
    pairing.responded_at = timezone.now()
    if accept:
        pairing.status = P.AWAITING_CONSENT
        summary = _("爱心妈妈%(v)s接受与儿童%(c)s结对")
    else:
        if not reason:
            raise InvalidInput(_("请选择或填写婉拒的原因"), field="reason")
        pairing.status = P.DECLINED
        pairing.decline_reason = reason[:300]
        _release_load(pairing.volunteer_id)
        summary = _("爱心妈妈%(v)s婉拒与儿童%(c)s结对")
    _save(pairing)
    _audit(
        actor,
        pairing,
        summary % {"v": pairing.volunteer.name, "c": pairing.child.name},
        request,
        {"from": P.PROPOSED.value, "to": pairing.status, "reason": reason},
    )
    return pairing


def pairing_record_consent(
    *,
    actor: Any,
    pairing_id: Any,
    relation: str,
    method: str,
    consented_on: datetime.date | None,
    evidence: str = "",
    guardian_id: Any = None,
    guardian_name: str = "",
    evidence_file: Any = None,
    scope: Sequence[str] = (ConsentScope.BASIC,),
    request: HttpRequest | None = None,
) -> Pairing:
    """Record the guardian's consent (征得监护人同意) and activate the pairing.

    The evidence file (JPG, PNG or PDF, ≤ 5 MB, checked by type and content) is stored under a
    random name; if the consent is refused or the transaction fails, nothing stays on disk."""
    with delete_on_failure() as stored, transaction.atomic():
        return _record_consent(
            actor=actor,
            pairing_id=pairing_id,
            relation=relation,
            method=method,
            consented_on=consented_on,
            evidence=evidence,
            guardian_id=guardian_id,
            guardian_name=guardian_name,
            evidence_file=evidence_file,
            scope=scope,
            request=request,
            stored=stored,
        )


def _record_consent(
    *,
    actor: Any,
    pairing_id: Any,
    relation: str,
    method: str,
    consented_on: datetime.date | None,
    evidence: str,
    guardian_id: Any,
    guardian_name: str,
    evidence_file: Any,
    scope: Sequence[str],
    request: HttpRequest | None,
    stored: list[Any],
) -> Pairing:
    _require_manager(actor)
    pairing = _lock_pairing(actor, pairing_id)
    _require_status(pairing, (P.AWAITING_CONSENT,), _("登记监护人同意"))
    evidence_ext = (
        check_upload(evidence_file, kinds=EVIDENCE_KINDS, field="evidence_file") if evidence_file else ""
    )
    today = timezone.localdate()
    consented_on = consented_on or today
    if consented_on > today:
        raise InvalidInput(
            _("同意日期%(d)s晚于今天，请核对") % {"d": consented_on.isoformat()}, field="consented_on"
        )
    if method not in ConsentMethod.values:
        raise InvalidInput(_("请选择监护人同意的方式"), field="method")
    scope_list = _clean_scope(scope)
    guardian = None
    if guardian_id not in (None, ""):
        guardian = pairing.child.guardians.filter(pk=int(guardian_id)).first()
        if guardian is None:
            raise InvalidInput(
                _("所选监护人不是儿童%(c)s的监护人") % {"c": pairing.child.name}, field="guardian"
            )
        guardian_name = guardian_name or guardian.name
        relation = relation or guardian.relation
    guardian_name = (guardian_name or "").strip()
    if not guardian_name:
        raise InvalidInput(_("请选择或填写表示同意的监护人"), field="guardian")
    if pairing.child.status != ChildStatus.ACTIVE:
        raise InvalidInput(
            _("儿童%(c)s状态为“%(s)s”，不能启动结对")
            % {"c": pairing.child.name, "s": pairing.child.get_status_display()}
        )
    consent = GuardianConsent(
        pairing=pairing,
        guardian=guardian,
        guardian_name=guardian_name[:50],
        relation=(relation or "")[:20],
        method=method,
        consented_on=consented_on,
        evidence=(evidence or "").strip()[:300],
        recorded_by=actor,
        scope=scope_list,
        version=_next_consent_version(pairing.child_id),
    )
    if evidence_file:
        consent.evidence_file.save(random_name(evidence_ext), evidence_file, save=False)
        stored.append(consent.evidence_file)
    consent.save()
    pairing.status = P.ACTIVE
    pairing.start_date = consented_on
    _save(pairing)
    _audit(
        actor,
        pairing,
        _("登记监护人%(g)s同意，爱心妈妈%(v)s与儿童%(c)s结对生效")
        % {"g": guardian_name, "v": pairing.volunteer.name, "c": pairing.child.name},
        request,
        {
            "from": P.AWAITING_CONSENT.value,
            "to": P.ACTIVE.value,
            "consent_id": consent.pk,
            "method": method,
            "consent_version": consent.version,
            "scope": scope_list,
        },
    )
    return pairing


def _clean_scope(scope: Sequence[str]) -> list[str]:
    """The consent scope in the order of ConsentScope; 结对关爱 is always part of it."""
    chosen = set(scope or ())
    unknown = chosen - set(ConsentScope.values)
    if unknown:
        raise InvalidInput(
            _("同意范围“%(s)s”无效，请重新选择") % {"s": "、".join(sorted(unknown))}, field="scope"
        )
    if ConsentScope.BASIC not in chosen:
        raise InvalidInput(_("同意范围必须包含“结对关爱”，否则不能结对"), field="scope")
    return [value for value in ConsentScope.values if value in chosen]


def _next_consent_version(child_id: int) -> int:
    """Versions increase over all the consents given for the child (across pairings), so a
    consent recorded after a withdrawal is the next version. The caller holds the pairing's
    lock and the child has one open pairing at a time, so two consents cannot race here."""
    latest = GuardianConsent.objects.filter(pairing__child_id=child_id).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


@transaction.atomic
def consent_withdraw(
    *, actor: Any, pairing_id: Any, reason: str, request: HttpRequest | None = None
) -> Pairing:
    """The guardian withdraws consent (R-12.5): the consent is marked withdrawn and the pairing
    ends at once, so the loving mother no longer sees the child (her access is an open pairing).
    Restoring access needs a new pairing with a new consent (the next version)."""
    _require_manager(actor)
    pairing = _lock_pairing(actor, pairing_id)
    _require_status(pairing, (P.ACTIVE,), _("撤回监护人同意"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写监护人撤回同意的原因"), field="reason")
    now = timezone.now()
    withdrawn = list(
        GuardianConsent.objects.select_for_update()
        .filter(pairing=pairing, withdrawn_at__isnull=True)
        .order_by("pk")
    )
    for consent in withdrawn:
        consent.withdrawn_at = now
        consent.withdrawn_by = actor
        consent.withdraw_reason = reason[:300]
        consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason", "updated_at"])
    today = timezone.localdate()
    pairing.status = P.ENDED
    pairing.end_date = max(today, pairing.start_date or today)
    pairing.end_reason = WITHDRAWN_END_REASON
    pairing.ended_by = actor
    _save(pairing)
    _release_load(pairing.volunteer_id)
    _audit(
        actor,
        pairing,
        _("监护人撤回同意，解除爱心妈妈%(v)s与儿童%(c)s的结对：%(r)s")
        % {"v": pairing.volunteer.name, "c": pairing.child.name, "r": reason},
        request,
        {
            "from": P.ACTIVE.value,
            "to": P.ENDED.value,
            "reason": WITHDRAWN_END_REASON,
            "withdraw_reason": reason,
            "consent_ids": [c.pk for c in withdrawn],
        },
    )
    return pairing


@transaction.atomic
def pairing_end(
    *,
    actor: Any,
    pairing_id: Any,
    reason: str,
    end_date: datetime.date | None = None,
    request: HttpRequest | None = None,
) -> Pairing:
    _require_manager(actor)
    pairing = _lock_pairing(actor, pairing_id)
    _require_status(pairing, (P.ACTIVE,), _("解除"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写解除结对的原因"), field="reason")
    today = timezone.localdate()
    end_date = end_date or today
    if end_date > today:
        raise InvalidInput(_("解除日期%(d)s晚于今天，请核对") % {"d": end_date.isoformat()}, field="end_date")
    if pairing.start_date and end_date < pairing.start_date:
        raise InvalidInput(
            _("解除日期不能早于结对日期%(d)s") % {"d": pairing.start_date.isoformat()}, field="end_date"
        )
    pairing.status = P.ENDED
    pairing.end_date = end_date
    pairing.end_reason = reason[:300]
    pairing.ended_by = actor
    _save(pairing)
    _release_load(pairing.volunteer_id)
    _audit(
        actor,
        pairing,
        _("解除爱心妈妈%(v)s与儿童%(c)s的结对：%(r)s")
        % {"v": pairing.volunteer.name, "c": pairing.child.name, "r": reason},
        request,
        {"from": P.ACTIVE.value, "to": P.ENDED.value, "reason": reason},
    )
    return pairing


@transaction.atomic
def pairing_cancel(
    *, actor: Any, pairing_id: Any, reason: str = "", request: HttpRequest | None = None
) -> Pairing:
    """Withdraw a proposal that is not active yet (the mother has not answered, or the guardian
    has not consented)."""
    _require_manager(actor)
    pairing = _lock_pairing(actor, pairing_id)
    _require_status(pairing, (P.PROPOSED, P.AWAITING_CONSENT), _("撤销"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写撤销结对的原因"), field="reason")
    before = pairing.status
    pairing.status = P.CANCELLED
    pairing.end_reason = reason[:300]
    pairing.ended_by = actor
    _save(pairing)
    _release_load(pairing.volunteer_id)
    _audit(
        actor,
        pairing,
        _("撤销爱心妈妈%(v)s与儿童%(c)s的结对提议：%(r)s")
        % {"v": pairing.volunteer.name, "c": pairing.child.name, "r": reason},
        request,
        {"from": before, "to": P.CANCELLED.value, "reason": reason},
    )
    return pairing


def pairings_close_for_volunteer(
    *, actor: Any, volunteer: Volunteer, reason: str, request: HttpRequest | None = None
) -> list[int]:
    """When a mother exits or is suspended: end her active pairings and cancel her open
    proposals, with the reason, and release her load. Runs inside the caller's transaction."""
    today = timezone.localdate()
    open_pairings = list(
        Pairing.objects.select_for_update(of=("self",))
        .select_related("child", "village")
        .filter(volunteer=volunteer, status__in=(P.PROPOSED, P.AWAITING_CONSENT, P.ACTIVE))
        .order_by("pk")
    )
    for pairing in open_pairings:
        before = pairing.status
        if before == P.ACTIVE:
            pairing.status = P.ENDED
            pairing.end_date = max(today, pairing.start_date or today)
        else:
            pairing.status = P.CANCELLED
        pairing.end_reason = reason[:300]
        pairing.ended_by = actor
        _save(pairing)
        _audit(
            actor,
            pairing,
            _("爱心妈妈%(v)s与儿童%(c)s的结对%(what)s：%(r)s")
            % {
                "v": volunteer.name,
                "c": pairing.child.name,
                "r": reason,
                "what": _("解除") if pairing.status == P.ENDED else _("撤销"),
            },
            request,
            {"from": before, "to": pairing.status, "reason": reason},
        )
    _release_load(volunteer.pk, len(open_pairings))
    return [p.pk for p in open_pairings]
