from __future__ import annotations

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from aixin.audit.models import AuditEvent
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.pairing import selectors, services
from aixin.pairing.models import GuardianConsent, Pairing
from aixin.volunteers.models import Volunteer
from tests import factories
from tests.pairing.helpers import accept, activate, consent, needy_child, propose


def _load(volunteer):
    return Volunteer.objects.get(pk=volunteer.pk).load


def test_full_flow_propose_accept_consent_activates_and_child_leaves_unpaired_list(users, tree):
    admin = users["district_admin"]
    child = needy_child(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_a1)
    assert list(selectors.children_needing_pairing(admin)) == [child]

    pairing = propose(admin, child, volunteer)
    assert (pairing.status, _load(volunteer)) == ("proposed", 1)
    assert list(selectors.pending_proposals_for(volunteer.user)) == [pairing]
    assert list(selectors.children_needing_pairing(admin)) == []

    pairing = accept(volunteer, pairing)
    assert pairing.status == "awaiting_consent"
    assert list(selectors.pending_proposals_for(volunteer.user)) == []

    pairing = consent(admin, pairing, on=timezone.localdate() - datetime.timedelta(days=2))
    assert pairing.status == "active"
    assert pairing.start_date == timezone.localdate() - datetime.timedelta(days=2)
    record = GuardianConsent.objects.get(pairing=pairing)
    assert (record.guardian_name, record.method, record.recorded_by) == ("王奶奶", "written", admin)
    assert _load(volunteer) == 1
    assert list(selectors.children_needing_pairing(admin)) == []
    assert list(
        AuditEvent.objects.filter(object_type="pairing", object_id=str(pairing.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["create", "transition", "transition"]


def test_mother_declines_with_a_reason_and_her_load_is_released(users, tree):
    child = needy_child(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = propose(users["district_admin"], child, volunteer)

    with pytest.raises(InvalidInput) as exc:
        services.pairing_respond(actor=volunteer.user, pairing_id=pairing.pk, accept=False, reason="")
    assert exc.value.message == "请选择或填写婉拒的原因"
    assert _load(volunteer) == 1

    pairing = services.pairing_respond(
        actor=volunteer.user, pairing_id=pairing.pk, accept=False, reason="距离太远"
    )
    assert (pairing.status, pairing.decline_reason) == ("declined", "距离太远")
    assert _load(volunteer) == 0
    assert list(selectors.children_needing_pairing(users["district_admin"])) == [child]


def test_second_open_pairing_for_a_child_is_refused_and_nothing_is_written(users, tree):
    admin = users["district_admin"]
    child = needy_child(tree.village_a1)
    first = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    second = factories.make_volunteer(tree.village_a1b, name="乙妈妈")
    propose(admin, child, first)
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict) as exc:
        propose(admin, child, second)

    assert exc.value.message == "该儿童已有待确认或进行中的结对"
    assert Pairing.objects.filter(child=child).count() == 1
    assert (_load(first), _load(second)) == (1, 0)
    assert AuditEvent.objects.count() == events


def test_proposal_to_a_full_mother_is_refused_with_her_capacity(users, tree):
    admin = users["district_admin"]
    volunteer = factories.make_volunteer(tree.village_a1, capacity=1)
    propose(admin, needy_child(tree.village_a1, name="甲"), volunteer)
    other = needy_child(tree.village_a1, name="乙")

    with pytest.raises(Conflict) as exc:
        propose(admin, other, volunteer)

    assert exc.value.message == "爱心妈妈李爱华已达可结对人数（1人）"
    assert not Pairing.objects.filter(child=other).exists()
    assert _load(volunteer) == 1


def test_group_tier_child_is_not_paired_one_to_one(users, tree):
    child = factories.make_child(tree.village_a1)
    assert child.care_tier == "group"
    volunteer = factories.make_volunteer(tree.village_a1)
    with pytest.raises(InvalidInput) as exc:
        propose(users["district_admin"], child, volunteer)
    assert exc.value.message == "该儿童为团体关爱（多对多），无需一对一结对"
    assert not Pairing.objects.exists()


def test_mother_not_in_service_cannot_be_proposed(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1, status="approved")
    with pytest.raises(InvalidInput) as exc:
        propose(users["district_admin"], needy_child(tree.village_a1), volunteer)
    assert exc.value.message == "爱心妈妈李爱华当前状态为“已准入”，只有服务中的爱心妈妈可以结对"
    assert not Pairing.objects.exists()


def test_city_admin_cannot_pair_across_districts(users, tree):
    volunteer = factories.make_volunteer(tree.village_b1)
    with pytest.raises(InvalidInput) as exc:
        propose(users["city_admin"], needy_child(tree.village_a1), volunteer)
    assert exc.value.message == "爱心妈妈李爱华与儿童王小红不在同一区县，请在儿童所在区县选择爱心妈妈"
    assert (Pairing.objects.count(), _load(volunteer)) == (0, 0)


def test_district_b_admin_cannot_propose_for_a_district_a_child(users, tree):
    child = needy_child(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_b1)
    with pytest.raises(Http404):
        propose(users["district_b_admin"], child, volunteer)
    assert (Pairing.objects.count(), _load(volunteer)) == (0, 0)


def test_town_supervisor_cannot_propose(users, tree):
    with pytest.raises(NotAllowed):
        propose(
            users["town_supervisor"], needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1)
        )
    assert not Pairing.objects.exists()


def test_mother_b_cannot_respond_to_mother_as_proposal(users, tree):
    mother_a = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    mother_b = factories.make_volunteer(tree.village_a1, name="乙妈妈")
    pairing = propose(users["district_admin"], needy_child(tree.village_a1), mother_a)
    with pytest.raises(Http404):
        services.pairing_respond(actor=mother_b.user, pairing_id=pairing.pk, accept=True)
    pairing.refresh_from_db()
    assert pairing.status == "proposed"


def test_staff_cannot_answer_for_the_mother(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = propose(users["district_admin"], needy_child(tree.village_a1), volunteer)
    with pytest.raises(NotAllowed):
        services.pairing_respond(actor=users["district_admin"], pairing_id=pairing.pk, accept=True)
    pairing.refresh_from_db()
    assert pairing.status == "proposed"


def test_consent_dated_in_the_future_is_refused(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = accept(volunteer, propose(users["district_admin"], needy_child(tree.village_a1), volunteer))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(InvalidInput) as exc:
        consent(users["district_admin"], pairing, on=tomorrow)
    assert exc.value.message == f"同意日期{tomorrow.isoformat()}晚于今天，请核对"
    pairing.refresh_from_db()
    assert (pairing.status, pairing.start_date) == ("awaiting_consent", None)
    assert not GuardianConsent.objects.exists()


def test_consent_before_the_mother_accepts_is_refused_so_activation_needs_both(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = propose(users["district_admin"], needy_child(tree.village_a1), volunteer)
    with pytest.raises(InvalidInput) as exc:
        consent(users["district_admin"], pairing)
    assert exc.value.message == "该结对当前状态为“待爱心妈妈确认”，不能登记监护人同意"
    pairing.refresh_from_db()
    assert pairing.status == "proposed"
    assert not GuardianConsent.objects.exists()


def test_an_active_pairing_always_has_a_recorded_consent(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1)
    activate(users["district_admin"], needy_child(tree.village_a1), volunteer)
    accepted = accept(
        volunteer, propose(users["district_admin"], needy_child(tree.village_a1, name="乙"), volunteer)
    )
    assert accepted.status == "awaiting_consent"
    for pairing in Pairing.objects.filter(status="active"):
        assert pairing.consents.exists()
    assert Pairing.objects.filter(status="active").count() == 1


def test_consent_with_a_guardian_of_another_child_is_refused(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = accept(volunteer, propose(users["district_admin"], needy_child(tree.village_a1), volunteer))
    stranger = factories.make_child(tree.village_a1, name="赵某").guardians.first()
    with pytest.raises(InvalidInput) as exc:
        services.pairing_record_consent(
            actor=users["district_admin"],
            pairing_id=pairing.pk,
            guardian_id=stranger.pk,
            relation="",
            method="written",
            consented_on=timezone.localdate(),
        )
    assert exc.value.message == "所选监护人不是儿童王小红的监护人"
    pairing.refresh_from_db()
    assert pairing.status == "awaiting_consent"


def test_ending_needs_a_reason_and_releases_load(users, tree):
    admin = users["district_admin"]
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = activate(admin, needy_child(tree.village_a1), volunteer)
    with pytest.raises(InvalidInput) as exc:
        services.pairing_end(actor=admin, pairing_id=pairing.pk, reason="", end_date=None)
    assert exc.value.message == "请填写解除结对的原因"
    assert _load(volunteer) == 1

    pairing = services.pairing_end(actor=admin, pairing_id=pairing.pk, reason="儿童随父母外出", end_date=None)
    assert (pairing.status, pairing.end_date, pairing.end_reason, pairing.ended_by) == (
        "ended",
        timezone.localdate(),
        "儿童随父母外出",
        admin,
    )
    assert _load(volunteer) == 0
    with pytest.raises(InvalidInput) as exc:
        services.pairing_end(actor=admin, pairing_id=pairing.pk, reason="再解除", end_date=None)
    assert exc.value.message == "该结对当前状态为“已解除”，不能解除"


def test_cancel_withdraws_a_proposal_and_frees_the_child(users, tree):
    admin = users["district_admin"]
    child = needy_child(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = propose(admin, child, volunteer)
    pairing = services.pairing_cancel(actor=admin, pairing_id=pairing.pk, reason="录入错误")
    assert (pairing.status, _load(volunteer)) == ("cancelled", 0)
    assert list(selectors.children_needing_pairing(admin)) == [child]
    assert propose(admin, child, volunteer).status == "proposed"


def test_candidates_are_active_mothers_with_room_in_the_district_nearest_first(users, tree):
    child = needy_child(tree.village_a1)
    same_village_busy = factories.make_volunteer(tree.village_a1, name="阿村忙", capacity=2)
    factories.make_active_pairing(needy_child(tree.village_a1, name="丙"), same_village_busy)
    same_village_free = factories.make_volunteer(tree.village_a1, name="阿村闲", capacity=2)
    same_town = factories.make_volunteer(tree.village_a1b, name="阿镇")
    same_district = factories.make_volunteer(tree.village_a2, name="阿区", specialties=["life_care"])
    full = factories.make_volunteer(tree.village_a1, name="阿满", capacity=1)
    factories.make_active_pairing(needy_child(tree.village_a1, name="丁"), full)
    factories.make_volunteer(tree.village_a1, name="阿停", status="suspended")
    factories.make_volunteer(tree.village_b1, name="阿外区")

    candidates = selectors.candidates_for_child(child, user=users["district_admin"])

    assert [(c.volunteer, c.closeness, c.load, c.capacity) for c in candidates] == [
        (same_village_free, "同村", 0, 2),
        (same_village_busy, "同村", 1, 2),
        (same_town, "同镇", 0, 2),
        (same_district, "同区县", 0, 2),
    ]
    assert candidates[3].specialties == ["生活照料"]
    assert candidates[3].fits == ["生活照料"]
