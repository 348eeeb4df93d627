"""Pairs matching must never propose: a mother staff marked as the child's relative or in a
conflict of interest is not suggested on the child's file nor proposed by a run, until the mark
is lifted; mothers' wishes (children's ages, sex) are respected the same way."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from aixin.audit.models import AuditEvent
from aixin.lib.errors import Conflict, InvalidInput
from aixin.matching import exclusions, review
from aixin.matching.models import MatchExclusion, MatchProposal, MatchRun
from aixin.matching.services import run_match
from aixin.volunteers import services as volunteer_services
from tests import factories


@pytest.fixture
def admin_a(users: dict[str, Any]) -> Any:
    return users["district_admin"]


@pytest.fixture
def people(tree: Any) -> dict[str, Any]:
    return {
        "child": factories.make_child(tree.village_a1, name="孤儿甲", is_scattered_orphan=True),
        "aunt": factories.make_volunteer(tree.village_a1, name="姑姑妈妈", capacity=2),
        "other": factories.make_volunteer(tree.village_a1, name="邻村妈妈", capacity=2),
    }


def _suggested(child: Any) -> list[str]:
    return [s.name for s in review.suggest_mothers(child)]


def test_a_mother_marked_as_a_relative_is_no_longer_suggested_and_lifting_the_mark_brings_her_back(
    people: dict[str, Any], admin_a: Any, client: Any
) -> None:
    child, aunt = people["child"], people["aunt"]
    assert "姑姑妈妈" in _suggested(child)
    client.force_login(admin_a)
    response = client.post(
        reverse("matching:exclusion_add", args=[child.pk]),
        {"volunteer": aunt.pk, "reason": "relative", "note": "儿童的亲姑姑"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "已设置姑姑妈妈与孤儿甲不宜结对" in page
    assert "亲属关系（儿童的亲姑姑）" in page
    assert _suggested(child) == ["邻村妈妈"]
    assert AuditEvent.objects.filter(object_type="child", object_id=str(child.pk), action="create").exists()

    exclusion = MatchExclusion.objects.get(child=child, volunteer=aunt)
    client.post(reverse("matching:exclusion_remove", args=[exclusion.pk]))
    assert not MatchExclusion.objects.exists()
    assert "姑姑妈妈" in _suggested(child)


def test_a_run_never_proposes_an_excluded_pair_and_says_why_a_child_is_left_out(
    people: dict[str, Any], admin_a: Any
) -> None:
    child = people["child"]
    for mother in (people["aunt"], people["other"]):
        exclusions.exclusion_add(actor=admin_a, child_id=child.pk, volunteer_id=mother.pk, reason="conflict")
    run = run_match(actor=admin_a, district_code="500101")
    assert isinstance(run, MatchRun)
    proposal = MatchProposal.objects.get(run=run, child=child)
    assert proposal.volunteer_id is None
    assert proposal.unmatched_reason == "范围内的爱心妈妈均已婉拒或不宜结对"
    assert proposal.alternatives == []


def test_an_exclusion_needs_a_reason_and_other_needs_words_and_is_recorded_once(
    people: dict[str, Any], admin_a: Any
) -> None:
    child, aunt = people["child"], people["aunt"]
    with pytest.raises(InvalidInput, match="请选择不宜结对的原因"):
        exclusions.exclusion_add(actor=admin_a, child_id=child.pk, volunteer_id=aunt.pk, reason="")
    with pytest.raises(InvalidInput, match="请写明原因"):
        exclusions.exclusion_add(actor=admin_a, child_id=child.pk, volunteer_id=aunt.pk, reason="other")
    exclusions.exclusion_add(actor=admin_a, child_id=child.pk, volunteer_id=aunt.pk, reason="relative")
    with pytest.raises(Conflict, match="已设置过姑姑妈妈"):
        exclusions.exclusion_add(actor=admin_a, child_id=child.pk, volunteer_id=aunt.pk, reason="conflict")
    assert MatchExclusion.objects.count() == 1


def test_a_mother_of_another_district_cannot_be_excluded_by_a_district_admin(
    people: dict[str, Any], admin_a: Any, tree: Any
) -> None:
    stranger = factories.make_volunteer(tree.village_b1, name="外区妈妈")
    with pytest.raises(InvalidInput, match="请选择本区县的爱心妈妈"):
        exclusions.exclusion_add(
            actor=admin_a, child_id=people["child"].pk, volunteer_id=stranger.pk, reason="relative"
        )
    assert not MatchExclusion.objects.exists()


def test_a_mothers_wishes_for_the_childs_age_and_sex_keep_her_from_other_children(
    tree: Any, admin_a: Any
) -> None:
    boy = factories.make_child(tree.village_a1, name="男孩", sex="M", difficulty_life=True)
    factories.make_volunteer(tree.village_a1, name="只带女童", preferred_child_sex="F")
    factories.make_volunteer(tree.village_a1, name="只带大孩子", preferred_age_min=14, preferred_age_max=17)
    factories.make_volunteer(tree.village_a1, name="都可以")
    assert _suggested(boy) == ["都可以"]


def test_her_wishes_are_checked_when_her_file_is_saved(tree: Any, admin_a: Any) -> None:
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    data = {
        "name": "甲妈妈",
        "source_group": mother.source_group,
        "home_region": tree.village_a1.pk,
        "capacity": 2,
        "preferred_age_min": 12,
        "preferred_age_max": 6,
    }
    with pytest.raises(InvalidInput, match="最小年龄12大于最大年龄6"):
        volunteer_services.volunteer_update(
            actor=admin_a, volunteer_id=mother.pk, version=mother.version, data=data
        )
    data.update(preferred_age_min=6, preferred_age_max=12, preferred_child_sex="F")
    saved = volunteer_services.volunteer_update(
        actor=admin_a, volunteer_id=mother.pk, version=mother.version, data=data
    )
    assert saved.preference_label == "6–12岁，女童"
