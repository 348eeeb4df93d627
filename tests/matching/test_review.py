"""Reviewing a matching run: accept, reject and swap proposals, accept them all, and confirm the
accepted ones into pairing proposals — skipping, with the reason, what changed meanwhile; an
older run is read-only; other districts' runs are out of reach; the suggest-mothers panel's
candidates; the background task."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from aixin.audit.models import AuditEvent
from aixin.lib.errors import Conflict, InvalidInput
from aixin.matching import review
from aixin.matching.models import MatchExclusion, MatchProposal, MatchRun, ProposalStatus, RunStatus
from aixin.matching.services import run_match
from aixin.pairing.models import Pairing, PairingStatus
from aixin.volunteers.models import Volunteer
from tests import factories


@pytest.fixture
def admin_a(users: dict[str, Any]) -> Any:
    return users["district_admin"]


@pytest.fixture
def scene(tree: Any, admin_a: Any) -> dict[str, Any]:
    """Two children of village A1 and two mothers there with one place each: the run pairs each
    child with one mother and offers the other as an alternative."""
    c1 = factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True)
    c2 = factories.make_child(tree.village_a1, name="困难乙", difficulty_life=True)
    m1 = factories.make_volunteer(tree.village_a1, name="甲妈妈", capacity=1)
    m2 = factories.make_volunteer(tree.village_a1, name="乙妈妈", capacity=1)
    run = run_match(actor=admin_a, district_code="500101")
    assert isinstance(run, MatchRun) and run.status == RunStatus.DONE
    p1 = MatchProposal.objects.get(run=run, child=c1)
    p2 = MatchProposal.objects.get(run=run, child=c2)
    return {"c1": c1, "c2": c2, "m1": m1, "m2": m2, "run": run, "p1": p1, "p2": p2}


def _state(run: MatchRun) -> list[tuple[int, int | None, str]]:
    return list(
        MatchProposal.objects.filter(run=run).order_by("pk").values_list("pk", "volunteer_id", "status")
    )


def test_accepting_a_proposal_marks_it_accepted_and_is_audited(scene: dict[str, Any], admin_a: Any) -> None:
    p1 = scene["p1"]
    review.proposal_decide(actor=admin_a, proposal_id=p1.pk, decision="accept")
    p1.refresh_from_db()
    assert p1.status == ProposalStatus.ACCEPTED
    assert AuditEvent.objects.filter(object_type="match_proposal", object_id=str(p1.pk)).exists()
    assert not Pairing.objects.exists()  # accepting alone pairs nobody


def test_rejecting_a_proposal_marks_it_rejected_and_it_cannot_be_decided_again(
    scene: dict[str, Any], admin_a: Any
) -> None:
    p1 = scene["p1"]
    review.proposal_decide(actor=admin_a, proposal_id=p1.pk, decision="reject")
    p1.refresh_from_db()
    assert p1.status == ProposalStatus.REJECTED
    with pytest.raises(Conflict, match="已否决"):
        review.proposal_decide(actor=admin_a, proposal_id=p1.pk, decision="accept")
    p1.refresh_from_db()
    assert p1.status == ProposalStatus.REJECTED


def test_excluding_rejects_the_proposal_and_the_next_run_never_proposes_that_mother_for_the_child(
    scene: dict[str, Any], admin_a: Any
) -> None:
    p1 = scene["p1"]
    proposed = p1.volunteer_id
    review.proposal_decide(
        actor=admin_a, proposal_id=p1.pk, decision="exclude", reason="relative", note="姨妈"
    )

    p1.refresh_from_db()
    assert p1.status == ProposalStatus.REJECTED
    exclusion = MatchExclusion.objects.get()
    assert (exclusion.child_id, exclusion.volunteer_id, exclusion.reason, exclusion.note) == (
        scene["c1"].pk,
        proposed,
        "relative",
        "姨妈",
    )
    later = run_match(actor=admin_a, district_code="500101")
    assert isinstance(later, MatchRun)
    again = MatchProposal.objects.get(run=later, child=scene["c1"])
    assert again.volunteer_id != proposed
    assert proposed not in {a["volunteer"] for a in again.alternatives}


def test_excluding_without_a_reason_changes_nothing(scene: dict[str, Any], admin_a: Any) -> None:
    p1 = scene["p1"]
    with pytest.raises(InvalidInput, match="请选择不宜结对的原因"):
        review.proposal_decide(actor=admin_a, proposal_id=p1.pk, decision="exclude")
    p1.refresh_from_db()
    assert p1.status == ProposalStatus.PROPOSED and not MatchExclusion.objects.exists()


def test_swapping_takes_the_alternative_and_keeps_the_old_choice_as_an_alternative(
    scene: dict[str, Any], admin_a: Any
) -> None:
    p1 = scene["p1"]
    old_mother = p1.volunteer_id
    other = p1.alternatives[0]
    review.proposal_decide(actor=admin_a, proposal_id=p1.pk, decision="swap", volunteer_id=other["volunteer"])
    p1.refresh_from_db()
    assert p1.volunteer_id == other["volunteer"] and p1.volunteer_id != old_mother
    assert p1.explanation == other["explanation"] and p1.cost == other["cost"]
    assert p1.status == ProposalStatus.ACCEPTED
    assert [a["volunteer"] for a in p1.alternatives] == [old_mother]
    assert p1.alternatives[0]["name"] in ("甲妈妈", "乙妈妈")


def test_swapping_to_a_mother_who_is_not_an_alternative_is_refused(
    scene: dict[str, Any], admin_a: Any
) -> None:
    p1 = scene["p1"]
    stranger = factories.make_volunteer(scene["c1"].region, name="丁妈妈", capacity=3)
    before = _state(scene["run"])
    with pytest.raises(InvalidInput, match="备选名单"):
        review.proposal_decide(actor=admin_a, proposal_id=p1.pk, decision="swap", volunteer_id=stranger.pk)
    assert _state(scene["run"]) == before


def test_swapping_to_a_mother_whose_place_another_accepted_proposal_took_is_refused(
    scene: dict[str, Any], admin_a: Any
) -> None:
    p1, p2 = scene["p1"], scene["p2"]
    review.proposal_decide(actor=admin_a, proposal_id=p1.pk, decision="accept")
    assert p1.volunteer_id in [a["volunteer"] for a in p2.alternatives]
    before = _state(scene["run"])
    with pytest.raises(Conflict, match="空余名额"):
        review.proposal_decide(
            actor=admin_a, proposal_id=p2.pk, decision="swap", volunteer_id=p1.volunteer_id
        )
    assert _state(scene["run"]) == before


def test_an_unmatched_child_can_be_given_an_alternative_by_swapping(tree: Any, admin_a: Any) -> None:
    orphan = factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True)
    poor = factories.make_child(tree.village_a1, name="困难乙", difficulty_life=True)
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈", capacity=1)
    run = run_match(actor=admin_a, district_code="500101")
    assert isinstance(run, MatchRun)
    left = MatchProposal.objects.get(run=run, child=poor)
    assert left.volunteer_id is None
    with pytest.raises(InvalidInput, match="没有建议的爱心妈妈"):
        review.proposal_decide(actor=admin_a, proposal_id=left.pk, decision="accept")
    # Her place is free (the orphan's proposal is not accepted), so the admin may choose her.
    review.proposal_decide(actor=admin_a, proposal_id=left.pk, decision="swap", volunteer_id=mother.pk)
    left.refresh_from_db()
    assert left.volunteer_id == mother.pk and left.unmatched_reason == ""
    # Now the orphan's own proposal cannot be accepted: her one place is taken.
    with pytest.raises(Conflict):
        review.proposal_decide(
            actor=admin_a, proposal_id=MatchProposal.objects.get(run=run, child=orphan).pk, decision="accept"
        )


def test_an_older_runs_proposals_are_read_only(scene: dict[str, Any], admin_a: Any) -> None:
    old = scene["p1"]
    newer = run_match(actor=admin_a, district_code="500101")
    assert isinstance(newer, MatchRun)
    assert not review.run_is_reviewable(scene["run"]) and review.run_is_reviewable(newer)
    with pytest.raises(Conflict, match="只能查看"):
        review.proposal_decide(actor=admin_a, proposal_id=old.pk, decision="accept")
    with pytest.raises(Conflict):
        review.run_confirm(actor=admin_a, run_id=scene["run"].pk)
    old.refresh_from_db()
    assert old.status == ProposalStatus.PROPOSED


def test_accept_all_accepts_every_pending_proposal_that_names_a_mother(
    scene: dict[str, Any], admin_a: Any
) -> None:
    result = review.run_accept_all(actor=admin_a, run_id=scene["run"].pk)
    assert result == {"accepted": 2, "left": 0}
    assert set(MatchProposal.objects.filter(run=scene["run"]).values_list("status", flat=True)) == {
        "accepted"
    }


def test_accept_all_leaves_pending_a_proposal_whose_mother_filled_up_since_the_run(
    scene: dict[str, Any], admin_a: Any, tree: Any
) -> None:
    p1 = scene["p1"]
    other = factories.make_child(tree.village_a2, name="新来丁", difficulty_life=True)
    factories.make_active_pairing(other, Volunteer.objects.get(pk=p1.volunteer_id))
    result = review.run_accept_all(actor=admin_a, run_id=scene["run"].pk)
    assert result == {"accepted": 1, "left": 1}
    p1.refresh_from_db()
    assert p1.status == ProposalStatus.PROPOSED


def test_confirming_creates_proposed_pairings_and_marks_the_proposals_confirmed(
    scene: dict[str, Any], admin_a: Any
) -> None:
    review.run_accept_all(actor=admin_a, run_id=scene["run"].pk)
    result = review.run_confirm(actor=admin_a, run_id=scene["run"].pk)
    assert result == {"confirmed": 2, "skipped": []}
    pairings = {p.child_id: p for p in Pairing.objects.all()}
    assert pairings[scene["c1"].pk].volunteer_id == scene["p1"].volunteer_id
    assert pairings[scene["c2"].pk].volunteer_id == scene["p2"].volunteer_id
    assert {p.status for p in pairings.values()} == {PairingStatus.PROPOSED}
    assert set(MatchProposal.objects.filter(run=scene["run"]).values_list("status", flat=True)) == {
        "confirmed"
    }
    assert set(Volunteer.objects.values_list("load", flat=True)) == {1}


def test_only_accepted_proposals_are_confirmed(scene: dict[str, Any], admin_a: Any) -> None:
    review.proposal_decide(actor=admin_a, proposal_id=scene["p1"].pk, decision="accept")
    review.proposal_decide(actor=admin_a, proposal_id=scene["p2"].pk, decision="reject")
    result = review.run_confirm(actor=admin_a, run_id=scene["run"].pk)
    assert result["confirmed"] == 1
    assert list(Pairing.objects.values_list("child_id", flat=True)) == [scene["c1"].pk]


def test_a_child_paired_meanwhile_is_skipped_with_the_reason_and_the_others_still_confirmed(
    scene: dict[str, Any], admin_a: Any, tree: Any
) -> None:
    review.run_accept_all(actor=admin_a, run_id=scene["run"].pk)
    spare = factories.make_volunteer(tree.village_a1, name="丙妈妈", capacity=2)
    meanwhile = factories.make_active_pairing(scene["c2"], spare)
    result = review.run_confirm(actor=admin_a, run_id=scene["run"].pk)
    assert result["confirmed"] == 1
    assert result["skipped"] == [("困难乙", "该儿童已有待确认或进行中的结对")]
    meanwhile.refresh_from_db()
    assert meanwhile.status == PairingStatus.ACTIVE and meanwhile.volunteer_id == spare.pk
    assert Pairing.objects.filter(child=scene["c2"]).count() == 1
    assert Pairing.objects.filter(child=scene["c1"], status=PairingStatus.PROPOSED).exists()
    p2 = MatchProposal.objects.get(pk=scene["p2"].pk)
    assert p2.status == ProposalStatus.ACCEPTED  # kept, not confirmed


def test_a_mother_who_stopped_serving_is_skipped_with_the_reason(scene: dict[str, Any], admin_a: Any) -> None:
    review.run_accept_all(actor=admin_a, run_id=scene["run"].pk)
    Volunteer.objects.filter(pk=scene["p1"].volunteer_id).update(status="suspended")
    result = review.run_confirm(actor=admin_a, run_id=scene["run"].pk)
    assert result["confirmed"] == 1
    assert result["skipped"][0][0] == "孤儿甲" and "服务中" in result["skipped"][0][1]
    assert not Pairing.objects.filter(child=scene["c1"]).exists()


def test_a_district_b_admin_cannot_decide_or_confirm_district_as_run_and_nothing_changes(
    scene: dict[str, Any], admin_a: Any, users: dict[str, Any]
) -> None:
    review.proposal_decide(actor=admin_a, proposal_id=scene["p2"].pk, decision="accept")
    outsider = users["district_b_admin"]
    before = _state(scene["run"])
    with pytest.raises(Http404):
        review.proposal_decide(actor=outsider, proposal_id=scene["p1"].pk, decision="accept")
    with pytest.raises(Http404):
        review.run_accept_all(actor=outsider, run_id=scene["run"].pk)
    with pytest.raises(Http404):
        review.run_confirm(actor=outsider, run_id=scene["run"].pk)
    assert _state(scene["run"]) == before
    assert not Pairing.objects.exists()


def test_suggestions_are_at_most_five_cheapest_first_with_reasons(tree: Any) -> None:
    child = factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True)
    for i in range(7):
        factories.make_volunteer(tree.village_a1 if i < 3 else tree.village_a2, name=f"妈妈{i}", capacity=2)
    factories.make_volunteer(tree.village_b1, name="外区妈妈", capacity=2)
    suggestions = review.suggest_mothers(child)
    assert len(suggestions) == 5
    assert [s.cost for s in suggestions] == sorted(s.cost for s in suggestions)
    assert all(s.explanation for s in suggestions)
    assert suggestions[0].explanation.startswith("同村")
    assert "外区妈妈" not in {s.name for s in suggestions}


def test_a_paired_child_gets_no_suggestions(tree: Any) -> None:
    child = factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True)
    factories.make_active_pairing(child, factories.make_volunteer(tree.village_a1, capacity=1))
    factories.make_volunteer(tree.village_a1, name="另一位", capacity=2)
    assert review.suggest_mothers(child) == []


def test_the_task_computes_a_started_run_and_a_failure_is_recorded_on_the_run(
    tree: Any, admin_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huey.contrib.djhuey import HUEY

    from aixin.matching import services
    from aixin.matching.tasks import run_compute_task

    factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True)
    before = HUEY.immediate
    HUEY.immediate = True
    try:
        run = services.run_start(actor=admin_a, district_code="500101", reach="village")
        run_compute_task(run.pk)()
        run.refresh_from_db()
        assert run.status == RunStatus.DONE and run.reach == "village" and run.created_by == admin_a

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("solver crashed")

        monkeypatch.setattr(services, "_compute", broken)
        failed = services.run_start(actor=admin_a, district_code="500101")
        run_compute_task(failed.pk)()
    finally:
        HUEY.immediate = before
    failed.refresh_from_db()
    assert failed.status == RunStatus.FAILED and "计算出错" in failed.error
    assert not failed.proposals.exists()
