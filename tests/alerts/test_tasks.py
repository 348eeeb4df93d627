from __future__ import annotations

import datetime

from aixin.alerts.models import Alert, AlertKind, AlertStatus
from aixin.alerts.tasks import daily_alert_scan, scan_alerts
from aixin.registry.models import ChildStatus
from tests import factories
from tests.alerts.helpers import TODAY, born_turning_18_in, make_alert, open_alerts


def test_the_daily_scan_raises_handover_alerts_city_wide_for_children_turning_18_soon(tree):
    a = factories.make_child(tree.village_a1, name="甲将满", birth=born_turning_18_in(89))
    b = factories.make_child(tree.village_b1, name="乙将满", birth=born_turning_18_in(1))
    grown = factories.make_child(tree.village_a2, name="已满", birth=born_turning_18_in(-3))
    young = factories.make_child(tree.village_a1, name="还小", birth=born_turning_18_in(91))
    closed = factories.make_child(tree.village_b1, name="已退出", birth=born_turning_18_in(5))
    type(closed).objects.filter(pk=closed.pk).update(status=ChildStatus.CLOSED)

    result = daily_alert_scan(today=TODAY)

    assert result["handover_opened"] == 3
    assert {x.child for x in Alert.objects.filter(kind=AlertKind.HANDOVER)} == {a, b, grown}
    [alert_b] = open_alerts(b)
    assert alert_b.due_on == TODAY + datetime.timedelta(days=1)
    assert alert_b.batch is None
    assert "已于" in open_alerts(grown)[0].message
    assert open_alerts(young) == [] and open_alerts(closed) == []


def test_running_the_daily_scan_twice_opens_nothing_new(tree):
    factories.make_child(tree.village_a1, birth=born_turning_18_in(10))

    assert daily_alert_scan(today=TODAY)["handover_opened"] == 1
    assert daily_alert_scan(today=TODAY)["handover_opened"] == 0
    assert Alert.objects.count() == 1


def test_the_daily_scan_closes_alerts_whose_cause_has_gone(tree):
    child = factories.make_child(tree.village_a1, difficulty_life=True)
    make_alert(child, AlertKind.UNPAIRED)
    factories.make_active_pairing(child, factories.make_volunteer(tree.village_a1))

    result = daily_alert_scan(today=TODAY)

    assert result["unpaired_closed"] == 1
    assert Alert.objects.get(child=child).status == AlertStatus.RESOLVED


def test_the_periodic_task_runs_the_scan_for_today(tree):
    factories.make_child(tree.village_a2, birth=born_turning_18_in(0))

    assert scan_alerts.call_local()["handover_opened"] == 1


def test_the_daily_scan_opens_an_unpaired_alert_for_a_child_entered_by_hand_who_needs_a_loving_mother(tree):
    needy = factories.make_child(tree.village_a1, name="需结对", difficulty_life=True)  # not by an import
    factories.make_child(tree.village_a1, name="团体关爱")

    result = daily_alert_scan(today=TODAY)

    assert result["unpaired_opened"] == 1
    [alert] = open_alerts(needy)
    assert (alert.kind, alert.message) == (AlertKind.UNPAIRED, "需一对一关爱，尚未结对爱心妈妈")
    assert daily_alert_scan(today=TODAY)["unpaired_opened"] == 0


def test_an_18_year_old_gets_a_handover_alert_and_their_unpaired_alert_closes(tree):
    grown = factories.make_child(tree.village_a1, name="已成年", birth=born_turning_18_in(-20))
    type(grown).objects.filter(pk=grown.pk).update(care_tier="one_to_one", full_time_student=True)
    make_alert(grown, AlertKind.UNPAIRED)

    daily_alert_scan(today=TODAY)

    [alert] = open_alerts(grown)
    assert alert.kind == AlertKind.HANDOVER
    closed = Alert.objects.get(child=grown, kind=AlertKind.UNPAIRED)
    assert (closed.status, closed.resolution) == (
        AlertStatus.RESOLVED,
        "已年满18周岁，转为移交成长爱护人，自动关闭",
    )


def test_an_unpaired_alert_staff_dismissed_is_not_raised_again_until_a_pairing_is_proposed(tree, users):
    from aixin.alerts.services import dismiss
    from aixin.pairing.models import Pairing

    child = factories.make_child(tree.village_a1, name="已核实", difficulty_life=True)
    daily_alert_scan(today=TODAY)
    [alert] = open_alerts(child)
    dismiss(actor=users["district_admin"], alert_id=alert.pk, reason="已由亲属照料，暂不结对")

    assert daily_alert_scan(today=TODAY)["unpaired_opened"] == 0

    # A loving mother is proposed later, and the proposal is withdrawn: the child needs one again.
    pairing = factories.make_active_pairing(child, factories.make_volunteer(tree.village_a1))
    Pairing.objects.filter(pk=pairing.pk).update(status="ended")
    assert daily_alert_scan(today=TODAY)["unpaired_opened"] == 1
