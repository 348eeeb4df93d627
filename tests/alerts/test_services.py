from __future__ import annotations

import pytest
from django.http import Http404

from aixin.alerts import services
from aixin.alerts.models import Alert, AlertKind, AlertStatus
from aixin.audit.models import AuditEvent
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.pairing.models import Pairing
from aixin.registry.models import ChildStatus
from tests import factories
from tests.alerts.helpers import make_alert, open_alerts


def test_raising_for_a_child_listed_twice_or_already_alerted_opens_one_alert(tree):
    child = factories.make_child(tree.village_a1)
    other = factories.make_child(tree.village_a2, name="另一个")
    make_alert(child, AlertKind.RISK_REVIEW, "第一次")

    n = services.raise_alerts(AlertKind.RISK_REVIEW, [child, other, other], lambda c: f"复核{c.name}")

    assert n == 1
    assert [a.message for a in open_alerts(child)] == ["第一次"]
    assert [a.message for a in open_alerts(other)] == ["复核另一个"]


def test_resolving_records_who_what_and_when_and_is_audited(tree, users):
    alert = make_alert(factories.make_child(tree.village_a1, name="甲童"), AlertKind.UNPAIRED)

    services.resolve(actor=users["town_supervisor"], alert_id=alert.pk, resolution="已安排爱心妈妈走访")

    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED
    assert alert.resolution == "已安排爱心妈妈走访"
    assert alert.resolved_by == users["town_supervisor"]
    assert alert.resolved_at is not None
    event = AuditEvent.objects.get(object_type="alert", object_id=str(alert.pk))
    assert event.action == "transition"
    assert "甲童" in event.summary and "已安排爱心妈妈走访" in event.summary
    assert event.district == tree.district_a


def test_dismissing_needs_a_reason_and_changes_nothing_without_one(tree, users):
    alert = make_alert(factories.make_child(tree.village_a1), AlertKind.CLOSE_PROPOSAL)

    with pytest.raises(InvalidInput) as exc:
        services.dismiss(actor=users["district_admin"], alert_id=alert.pk, reason="  ")

    assert "请填写忽略说明" in exc.value.message
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert not AuditEvent.objects.filter(object_type="alert").exists()


def test_dismissing_keeps_the_reason_and_a_later_batch_may_raise_the_alert_again(tree, users):
    child = factories.make_child(tree.village_a1)
    alert = make_alert(child, AlertKind.CLOSE_PROPOSAL)

    services.dismiss(actor=users["district_admin"], alert_id=alert.pk, reason="父母仅短期返乡")
    alert.refresh_from_db()
    assert (alert.status, alert.resolution) == (AlertStatus.DISMISSED, "父母仅短期返乡")

    assert services.raise_alerts(AlertKind.CLOSE_PROPOSAL, [child], lambda c: "再次建议") == 1
    assert Alert.objects.filter(child=child).count() == 2


def test_an_alert_already_handled_cannot_be_handled_again(tree, users):
    alert = make_alert(factories.make_child(tree.village_a1), AlertKind.HANDOVER)
    services.resolve(actor=users["district_admin"], alert_id=alert.pk, resolution="已移交")

    with pytest.raises(Conflict, match=r"^该预警已处理，无需重复操作$"):
        services.dismiss(actor=users["district_admin"], alert_id=alert.pk, reason="重复")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_resolving_another_districts_alert_is_not_found_and_changes_nothing(tree, users):
    alert = make_alert(factories.make_child(tree.village_a1), AlertKind.RISK_REVIEW)

    for who in ("district_b_admin",):
        with pytest.raises(Http404):
            services.resolve(actor=users[who], alert_id=alert.pk, resolution="越权处理")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert not AuditEvent.objects.filter(object_type="alert").exists()


def test_a_village_director_cannot_resolve_an_alert_of_another_village(tree, users):
    alert = make_alert(factories.make_child(tree.village_a1b), AlertKind.RISK_REVIEW)

    with pytest.raises(Http404):
        services.resolve(actor=users["village_director"], alert_id=alert.pk, resolution="越权处理")
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.OPEN


def test_a_loving_mother_may_not_resolve_alerts(tree):
    child = factories.make_child(tree.village_a1)
    alert = make_alert(child, AlertKind.UNPAIRED)
    mother = factories.make_volunteer(tree.village_a1)

    with pytest.raises(NotAllowed):
        services.resolve(actor=mother.user, alert_id=alert.pk, resolution="我来处理")
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.OPEN


def test_unpaired_alerts_close_themselves_once_a_mother_is_proposed_or_paired(tree):
    proposed = factories.make_child(tree.village_a1, name="已提议", difficulty_life=True)
    active = factories.make_child(tree.village_a1, name="已结对", difficulty_life=True)
    waiting = factories.make_child(tree.village_a1, name="仍等待", difficulty_life=True)
    for c in (proposed, active, waiting):
        make_alert(c, AlertKind.UNPAIRED)
    mother = factories.make_volunteer(tree.village_a1, capacity=3)
    Pairing.objects.create(
        child=proposed,
        volunteer=mother,
        tier="one_to_one",
        district=tree.district_a,
        town=tree.town_a1,
        village=tree.village_a1,
    )
    factories.make_active_pairing(active, mother)

    closed = services.resolve_satisfied()

    assert closed["unpaired"] == 2
    assert open_alerts(proposed) == [] and open_alerts(active) == []
    assert len(open_alerts(waiting)) == 1
    resolved = Alert.objects.get(child=active)
    assert resolved.status == AlertStatus.RESOLVED and resolved.resolved_by is None
    assert "结对" in resolved.resolution


def test_unpaired_alerts_close_when_the_child_leaves_individual_care_or_the_register(tree):
    regrouped = factories.make_child(tree.village_a1, name="转团体", difficulty_life=True)
    left = factories.make_child(tree.village_a1, name="已退出", difficulty_life=True)
    for c in (regrouped, left):
        make_alert(c, AlertKind.UNPAIRED)
    type(regrouped).objects.filter(pk=regrouped.pk).update(care_tier="group")
    type(left).objects.filter(pk=left.pk).update(status=ChildStatus.CLOSED)

    assert services.resolve_satisfied()["unpaired"] == 2
    assert not Alert.objects.filter(status=AlertStatus.OPEN).exists()


def test_handover_alerts_close_when_the_child_is_handed_over_and_other_kinds_stay_open(tree):
    child = factories.make_child(tree.village_a1)
    make_alert(child, AlertKind.HANDOVER)
    make_alert(child, AlertKind.RISK_REVIEW)
    still = factories.make_child(tree.village_a2, name="未移交")
    make_alert(still, AlertKind.HANDOVER)
    type(child).objects.filter(pk=child.pk).update(status=ChildStatus.HANDED_OVER)

    assert services.resolve_satisfied()["handover"] == 1
    assert [a.kind for a in open_alerts(child)] == [AlertKind.RISK_REVIEW]
    assert Alert.objects.get(child=child, kind=AlertKind.HANDOVER).resolution == "已移交成长爱护人，自动关闭"
    assert len(open_alerts(still)) == 1


def test_eighteenth_birthday_of_a_leap_day_child_is_the_first_of_march():
    import datetime

    assert services.eighteenth_birthday(datetime.date(2008, 2, 29)) == datetime.date(2026, 3, 1)
    assert services.eighteenth_birthday(datetime.date(2010, 2, 28)) == datetime.date(2028, 2, 28)
    assert services.latest_birth_date_turning_18_by(datetime.date(2028, 2, 29)) == datetime.date(2010, 2, 28)
