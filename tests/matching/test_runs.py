"""A matching run on a district: proposals with reasons and alternatives, must-cover children
first, existing pairings keep their places, declined pairs never proposed, the unmatched get a
reason, concurrent runs are refused, out-of-scope districts are refused."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.matching.models import MatchProposal, MatchRun, RunStatus
from aixin.matching.services import run_match
from aixin.pairing.models import Pairing, PairingStatus
from tests import factories


@pytest.fixture
def district_a(tree):
    orphan = factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True)
    poor = factories.make_child(tree.village_a1, name="困难乙", difficulty_life=True)
    far = factories.make_child(tree.village_a2, name="远童丙", difficulty_study=True)
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈", capacity=1)
    return orphan, poor, far, mother


def test_a_run_proposes_the_only_place_to_the_must_cover_child_and_says_why_for_the_others(
    tree, users, district_a
):
    orphan, poor, _far, mother = district_a
    run = run_match(actor=users["district_admin"], district_code="500101")
    assert run.status == RunStatus.DONE
    proposals = {p.child_id: p for p in MatchProposal.objects.filter(run=run)}
    assert proposals[orphan.pk].volunteer_id == mother.pk
    assert proposals[orphan.pk].explanation.startswith("同村")
    assert proposals[poor.pk].volunteer_id is None and "优先" in proposals[poor.pk].unmatched_reason
    assert proposals[poor.pk].alternatives[0]["volunteer"] == mother.pk
    assert run.report["must_cover_matched"] == run.report["must_cover_total"] == 1
    assert run.report["children"] == 3 and run.report["matched"] == 1
    assert not Pairing.objects.exists()  # proposals only: nothing is paired until confirmed


def test_a_mother_already_paired_to_capacity_is_not_proposed(tree, users, district_a):
    _orphan, _poor, _far, mother = district_a
    other = factories.make_child(tree.village_a1, name="已结对", difficulty_life=True)
    factories.make_active_pairing(other, mother)
    run = run_match(actor=users["district_admin"], district_code="500101")
    assert not MatchProposal.objects.filter(run=run, volunteer__isnull=False).exists()
    assert not MatchProposal.objects.filter(run=run, child=other).exists()  # already paired
    reasons = set(MatchProposal.objects.filter(run=run).values_list("unmatched_reason", flat=True))
    assert reasons == {"本区县服务中的爱心妈妈均已满额"}


def test_a_mother_who_declined_a_child_is_never_proposed_for_that_child(tree, users, district_a):
    orphan, _poor, _far, mother = district_a
    Pairing.objects.create(
        child=orphan,
        volunteer=mother,
        tier=orphan.care_tier,
        status=PairingStatus.DECLINED,
        district_id=orphan.district_id,
        town_id=orphan.town_id,
        village_id=orphan.region_id,
    )
    run = run_match(actor=users["district_admin"], district_code="500101")
    proposal = MatchProposal.objects.get(run=run, child=orphan)
    assert proposal.volunteer_id is None and "婉拒" in proposal.unmatched_reason
    assert MatchProposal.objects.filter(run=run, volunteer=mother).count() == 1


def test_a_second_run_on_the_same_district_while_one_runs_is_refused(tree, users, district_a):
    MatchRun.objects.create(district=tree.district_a)  # running
    with pytest.raises(Conflict):
        run_match(actor=users["district_admin"], district_code="500101")
    assert MatchRun.objects.count() == 1


def test_unknown_and_out_of_scope_districts_are_refused(tree, users):
    with pytest.raises(InvalidInput):
        run_match(actor=users["district_admin"], district_code="509999")
    with pytest.raises(NotAllowed):
        run_match(actor=users["district_admin"], district_code="500102")
    assert MatchRun.objects.count() == 0


def test_the_command_prints_the_counts_as_json_and_a_dry_run_stores_nothing(tree, district_a, capsys):
    import json

    call_command("match", "--district", "500101", "--dry-run", "--json")
    report = json.loads(capsys.readouterr().out)
    assert (report["children"], report["matched"], report["must_cover_matched"]) == (3, 1, 1)
    assert report["greedy"]["matched"] == 1 and "solve" in report["seconds"]
    assert MatchRun.objects.count() == 0 and MatchProposal.objects.count() == 0


def test_the_report_gives_coverage_before_and_after_and_the_towns_that_need_mothers(tree, users, district_a):
    run = run_match(actor=users["district_admin"], district_code="500101")
    coverage = run.report["coverage"]
    assert coverage["must_cover"] == {"total": 1, "paired_before": 0, "paired_after": 1}
    # 困难乙 (life) and 远童丙 (study) have special difficulties; neither gets the one place.
    assert coverage["special_difficulty"] == {"total": 2, "paired_before": 0, "paired_after": 0}
    gaps = {g["town_name"]: g for g in run.report["recruitment_gaps"]}
    assert gaps[tree.town_a1.name]["unmatched"] == 1 and gaps[tree.town_a1.name]["mothers_needed"] == 1
    assert gaps[tree.town_a2.name]["missing"] == {"学习困难": 1}  # no tutoring mother in that town


def test_the_whole_city_run_adds_up_the_districts_and_goes_on_past_a_district_that_is_busy(
    tree, district_a, capsys
):
    import json

    from django.core.management.base import CommandError

    factories.make_child(tree.village_b1, name="乙区孤儿", is_scattered_orphan=True)
    factories.make_volunteer(tree.village_b1, name="乙区妈妈")
    call_command("match", "--all", "--json")
    out = json.loads(capsys.readouterr().out)
    by_code = {r["district"]: r for r in out["districts"]}
    assert (by_code["500101"]["matched"], by_code["500102"]["matched"]) == (1, 1)
    assert out["total"]["children"] == sum(r["children"] for r in out["districts"]) == 4
    assert (out["total"]["matched"], out["total"]["must_cover_matched"]) == (2, 2)
    assert out["failed"] == []

    MatchRun.objects.create(district=tree.district_a)  # someone is computing district A now
    with pytest.raises(CommandError, match="1 个区县未能完成匹配"):
        call_command("match", "--all", "--json")
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert [f["district"] for f in out["failed"]] == ["500101"]
    assert "已有一次匹配正在计算" in captured.err
    assert [r["district"] for r in out["districts"]] == ["500102"]  # district B was still matched


def test_a_must_cover_child_no_assignment_can_reach_is_named_as_a_warning_on_the_run(tree, users, district_a):
    far_orphan = factories.make_child(tree.village_a2, name="远孤儿", is_scattered_orphan=True)
    run = run_match(actor=users["district_admin"], district_code="500101", reach="village")
    assert MatchProposal.objects.get(run=run, child=far_orphan).volunteer_id is None
    assert run.report["must_cover_unmatched"] == 1
    assert any("须优先保障的儿童" in w and "1 名" in w for w in run.report["warnings"])


def test_a_district_without_any_serving_mother_ends_with_a_report_and_a_warning_not_an_error(tree, users):
    factories.make_child(tree.village_b1, name="乙区孤儿", is_scattered_orphan=True)
    run = run_match(actor=users["city_admin"], district_code="500102")
    assert run.status == RunStatus.DONE
    assert run.report["matched"] == 0
    assert run.report["unmatched_by_reason"] == {"本区县没有服务中的爱心妈妈": 1}
    assert run.report["warnings"][0].startswith("本区县没有服务中的爱心妈妈")


def test_the_dashboard_lists_the_towns_a_run_could_not_serve_within_the_viewers_scope(
    tree, users, district_a, client
):
    from django.urls import reverse

    run_match(actor=users["district_admin"], district_code="500101")
    factories.make_child(tree.village_b1, name="乙区孤儿", is_scattered_orphan=True)
    run_match(actor=users["city_admin"], district_code="500102")

    client.force_login(users["district_admin"])
    page = client.get(reverse("dashboard:overview")).content.decode()
    assert 'id="matching-gaps"' in page
    assert f'data-code="{tree.town_a2.code}"' in page  # 远童丙 there has no mother in reach
    assert f'data-code="{tree.town_b1.code}"' not in page  # district B is not theirs
    client.force_login(users["city_admin"])
    page = client.get(reverse("dashboard:overview")).content.decode()
    assert f'data-code="{tree.town_b1.code}"' in page
