"""Reviewing a matching run (issue 4 §4): a person accepts, rejects or swaps each proposal, then
confirms the accepted ones, which become pairing proposals through the ordinary pairing flow
(the mother accepts on her phone → the guardian consents → active).

Only the latest finished run of a district can be reviewed: an older run's proposals are kept
as they were, read-only. Confirming never overwrites a pairing someone made meanwhile: each
proposal goes through `pairing_propose` in its own savepoint, and one that is refused (the
child was paired meanwhile, the mother is full or no longer serving) is skipped and reported.

Also the "suggest mothers" panel of a child's file: the best five candidates, on the fly.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aixin.accounts.access import (
    get_visible,
    match_proposals_visible_to,
    match_runs_visible_to,
    may_manage,
)
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib.errors import Conflict, DomainError, InvalidInput, NotAllowed
from aixin.matching import exclusions
from aixin.matching.candidates import generate
from aixin.matching.models import MatchProposal, MatchRun, ProposalStatus, RunStatus
from aixin.volunteers.models import Volunteer, VolunteerStatus

DECISIONS = ("accept", "reject", "swap", "exclude")
REVIEWABLE = (ProposalStatus.PROPOSED, ProposalStatus.ACCEPTED)
SUGGESTIONS = 5


def _require_manager(actor: Any) -> None:
    if not may_manage(actor):
        raise NotAllowed(_("只有市、区县妇联工作人员可以审核匹配结果"))


def latest_done_run_id(district_id: int) -> int | None:
    run = (
        MatchRun.objects.filter(district_id=district_id, status=RunStatus.DONE)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
        .first()
    )
    return run


def run_is_reviewable(run: MatchRun) -> bool:
    return run.status == RunStatus.DONE and latest_done_run_id(run.district_id) == run.pk


def _require_reviewable(run: MatchRun) -> None:
    if run.status != RunStatus.DONE:
        raise InvalidInput(_("匹配 #%(pk)s 尚未完成，不能审核") % {"pk": run.pk})
    if latest_done_run_id(run.district_id) != run.pk:
        raise Conflict(
            _("匹配 #%(pk)s 已有更新的匹配结果，旧结果只能查看，请在最新一次匹配中审核") % {"pk": run.pk}
        )


def _room_left(volunteer: Volunteer, run_id: int, *, besides: int) -> int:
    """Her free places minus the other accepted proposals of this run that name her."""
    taken = (
        MatchProposal.objects.filter(run_id=run_id, volunteer_id=volunteer.pk, status=ProposalStatus.ACCEPTED)
        .exclude(pk=besides)
        .count()
    )
    return volunteer.capacity - volunteer.load - taken


def _lock_mother(volunteer_id: int) -> Volunteer:
    volunteer = Volunteer.objects.select_for_update().filter(pk=volunteer_id).first()
    if volunteer is None:
        raise InvalidInput(_("建议的爱心妈妈已不存在"))
    return volunteer


def _require_room(volunteer: Volunteer, proposal: MatchProposal) -> None:
    if volunteer.status != VolunteerStatus.ACTIVE:
        raise Conflict(
            _("爱心妈妈%(name)s当前状态为“%(s)s”，不能结对")
            % {"name": volunteer.name, "s": volunteer.get_status_display()}
        )
    if _room_left(volunteer, proposal.run_id, besides=proposal.pk) < 1:
        raise Conflict(
            _(
                "爱心妈妈%(name)s的空余名额已被本次匹配中其他已采纳的建议占满（可结对%(cap)s人，现有%(load)s人），请换一位"
            )
            % {"name": volunteer.name, "cap": volunteer.capacity, "load": volunteer.load}
        )


@transaction.atomic
def proposal_decide(
    *,
    actor: Any,
    proposal_id: Any,
    decision: str,
    volunteer_id: Any = None,
    reason: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> MatchProposal:
    """Accept, reject or swap (choose one of the alternatives by volunteer id) one proposal, or
    exclude: reject it and record its mother as 不宜结对 for the child (`reason`, `note`, as
    exclusions.exclusion_add), so that no later run proposes her for this child."""
    _require_manager(actor)
    if decision not in DECISIONS:
        raise InvalidInput(_("审核结果只能是采纳、否决、换人或不宜结对"), field="decision")
    qs = match_proposals_visible_to(actor).select_for_update(of=("self",)).select_related("run", "child")
    proposal: MatchProposal = get_visible(qs, proposal_id)
    run = proposal.run
    _require_reviewable(run)
    child = proposal.child
    if proposal.status not in REVIEWABLE:
        raise Conflict(
            _("儿童%(name)s的建议当前为“%(s)s”，不能再审核")
            % {"name": child.name, "s": proposal.get_status_display()}
        )
    before = {"status": proposal.status, "volunteer": proposal.volunteer_id}
    if decision == "accept":
        if proposal.volunteer_id is None:
            raise InvalidInput(_("儿童%(name)s没有建议的爱心妈妈，请用“换人”选择一位") % {"name": child.name})
        _require_room(_lock_mother(proposal.volunteer_id), proposal)
        proposal.status = ProposalStatus.ACCEPTED
        summary = _("采纳匹配建议：儿童%(c)s") % {"c": child.name}
    elif decision == "reject":
        proposal.status = ProposalStatus.REJECTED
        summary = _("否决匹配建议：儿童%(c)s") % {"c": child.name}
    elif decision == "exclude":
        if proposal.volunteer_id is None:
            raise InvalidInput(_("儿童%(name)s没有建议的爱心妈妈，无需设置不宜结对") % {"name": child.name})
        exclusions.exclusion_add(
            actor=actor,
            child_id=child.pk,
            volunteer_id=proposal.volunteer_id,
            reason=reason,
            note=note,
            request=request,
        )
        proposal.status = ProposalStatus.REJECTED
        summary = _("否决匹配建议并设置不宜结对：儿童%(c)s") % {"c": child.name}
    else:
        try:
            wanted = int(volunteer_id)
        except (TypeError, ValueError):
            raise InvalidInput(_("请选择要换成的爱心妈妈"), field="volunteer") from None
        chosen = next((a for a in proposal.alternatives if int(a.get("volunteer", 0)) == wanted), None)
        if chosen is None:
            raise InvalidInput(
                _("所选爱心妈妈不在儿童%(name)s的备选名单中") % {"name": child.name}, field="volunteer"
            )
        mother = _lock_mother(wanted)
        _require_room(mother, proposal)
        others = [a for a in proposal.alternatives if int(a.get("volunteer", 0)) != wanted]
        if proposal.volunteer_id is not None:
            old = Volunteer.objects.filter(pk=proposal.volunteer_id).first()
            others.insert(
                0,
                {
                    "volunteer": proposal.volunteer_id,
                    "name": old.name if old is not None else "",
                    "cost": proposal.cost,
                    "explanation": proposal.explanation,
                },
            )
        proposal.volunteer_id = wanted
        proposal.cost = chosen.get("cost")
        proposal.explanation = str(chosen.get("explanation", ""))[:300]
        proposal.alternatives = others
        proposal.unmatched_reason = ""
        proposal.status = ProposalStatus.ACCEPTED
        summary = _("匹配换人：儿童%(c)s改为爱心妈妈%(v)s") % {"c": child.name, "v": mother.name}
    proposal.save(
        update_fields=["status", "volunteer", "cost", "explanation", "alternatives", "unmatched_reason"]
    )
    audit_log(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="match_proposal",
        object_id=proposal.pk,
        region=child.region,
        summary=summary,
        details={"run": run.pk, "decision": decision, "from": before, "to_volunteer": proposal.volunteer_id},
        request=request,
    )
    return proposal


@transaction.atomic
def run_accept_all(*, actor: Any, run_id: Any, request: HttpRequest | None = None) -> dict[str, Any]:
    """Accept every pending proposal that names a mother; a mother whose free places are gone
    (the run's other accepted proposals, pairings made since) keeps the rest pending."""
    _require_manager(actor)
    run: MatchRun = get_visible(match_runs_visible_to(actor).select_for_update(), run_id)
    _require_reviewable(run)
    pending = list(
        MatchProposal.objects.select_for_update()
        .filter(run=run, status=ProposalStatus.PROPOSED, volunteer__isnull=False)
        .order_by("-must_cover", "id")
    )
    mother_ids = sorted({p.volunteer_id for p in pending if p.volunteer_id is not None})
    mothers = {
        v.pk: v for v in Volunteer.objects.select_for_update().filter(pk__in=mother_ids).order_by("pk")
    }
    taken = dict(
        MatchProposal.objects.filter(run=run, status=ProposalStatus.ACCEPTED, volunteer_id__in=mother_ids)
        .order_by()
        .values("volunteer_id")
        .annotate(n=Count("id"))
        .values_list("volunteer_id", "n")
    )
    accepted: list[int] = []
    left = 0
    for p in pending:
        v = mothers.get(p.volunteer_id or 0)
        if v is None or v.status != VolunteerStatus.ACTIVE or v.capacity - v.load - taken.get(v.pk, 0) < 1:
            left += 1
            continue
        taken[v.pk] = taken.get(v.pk, 0) + 1
        accepted.append(p.pk)
    MatchProposal.objects.filter(pk__in=accepted).update(status=ProposalStatus.ACCEPTED)
    audit_log(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="match_run",
        object_id=run.pk,
        region=run.district,
        summary=_("全部采纳匹配 #%(pk)s 的建议：%(n)s 条") % {"pk": run.pk, "n": len(accepted)},
        details={"accepted": len(accepted), "left": left},
        request=request,
    )
    return {"accepted": len(accepted), "left": left}


@transaction.atomic
def run_confirm(*, actor: Any, run_id: Any, request: HttpRequest | None = None) -> dict[str, Any]:
    """Turn each accepted proposal into a pairing proposal; refused ones are skipped and kept
    accepted (they can be swapped and confirmed again)."""
    from aixin.pairing.services import pairing_propose

    _require_manager(actor)
    run: MatchRun = get_visible(match_runs_visible_to(actor).select_for_update(), run_id)
    _require_reviewable(run)
    accepted = list(
        MatchProposal.objects.select_for_update(of=("self",))
        .select_related("child")
        .filter(run=run, status=ProposalStatus.ACCEPTED, volunteer__isnull=False)
        .order_by("-must_cover", "id")
    )
    confirmed: list[int] = []
    skipped: list[tuple[str, str]] = []
    for p in accepted:
        try:
            with transaction.atomic():
                pairing_propose(
                    actor=actor, child_id=p.child_id, volunteer_id=p.volunteer_id, request=request
                )
        except DomainError as exc:
            skipped.append((p.child.name, exc.message))
        except Http404:
            skipped.append((p.child.name, _("儿童或爱心妈妈已不在你的管辖范围内")))
        else:
            confirmed.append(p.pk)
    MatchProposal.objects.filter(pk__in=confirmed).update(status=ProposalStatus.CONFIRMED)
    audit_log(
        actor=actor,
        action=AuditAction.TRANSITION,
        object_type="match_run",
        object_id=run.pk,
        region=run.district,
        summary=_("确认匹配 #%(pk)s：发起结对 %(n)s 条，跳过 %(s)s 条")
        % {"pk": run.pk, "n": len(confirmed), "s": len(skipped)},
        details={"confirmed": len(confirmed), "skipped": [list(s) for s in skipped]},
        request=request,
    )
    return {"confirmed": len(confirmed), "skipped": skipped}


# ---------------------------------------------------------------------------------------------
# The "suggest mothers" panel of a child's file


@dataclass(frozen=True)
class Suggestion:
    volunteer_id: int
    name: str
    cost: int
    explanation: str


def suggest_mothers(
    child: Any, *, today: datetime.date | None = None, limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """The best `limit` mothers of the child's district for this child (lowest cost first),
    with the reasons; empty if the child does not need a mother now."""
    from aixin.matching.exclusions import excluded_pairs
    from aixin.matching.services import child_points, load_mothers, needy_children

    points = child_points(
        needy_children(child.district).filter(pk=child.pk), today=today or timezone.localdate()
    )
    if not points:
        return []
    mothers, names, _active = load_mothers(child.district)
    found = generate(points, mothers, excluded=excluded_pairs(child.district, [child.pk]))
    order, _starts = found.by_child()
    return [
        Suggestion(
            volunteer_id=mothers[int(found.mother[a])].id,
            name=names[mothers[int(found.mother[a])].id],
            cost=int(found.cost[a]),
            explanation=found.explain(a),
        )
        for a in order[:limit].tolist()
    ]
