"""A child's open alerts on the child's file (待办预警): a child about to turn 18 shows the hand-over
alert beside the pairing suggestions, with its kind, message, dates, the way to handle it and a
link to the alert list. Handled and dismissed alerts are not shown; nobody outside the child's
scope sees them."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from aixin.alerts import services
from aixin.alerts.models import Alert, AlertKind, AlertStatus
from aixin.alerts.selectors import open_alerts_of_child
from aixin.alerts.services import raise_alerts
from tests import factories
from tests.alerts.helpers import make_alert

HANDOVER_MESSAGE = "将于三周后年满18周岁，请提前做好移交成长爱护人的准备"
LIST = reverse("alerts:alert_list")


def file_of(client: Any, child: Any) -> Any:
    return client.get(reverse("registry:child_detail", args=[child.pk]))


@pytest.fixture
def turning_18(tree: Any) -> Any:
    """A child in village A1 who turns 18 in three weeks, with the daily scan's hand-over alert."""
    today = datetime.date.today()
    child = factories.make_child(
        tree.village_a1,
        name="向春燕",
        birth=today.replace(year=today.year - 18) + datetime.timedelta(days=21),
    )
    raise_alerts(
        AlertKind.HANDOVER,
        [child],
        lambda c: HANDOVER_MESSAGE,
        due_on=today + datetime.timedelta(days=21),
    )
    return child


def test_the_file_shows_the_childs_open_alerts_with_kind_message_dates_and_how_to_handle_them(
    turning_18: Any, users: Any, login: Any
) -> None:
    risk = make_alert(turning_18, AlertKind.RISK_REVIEW, "风险标记待复核：监护人长期外出")
    handover = Alert.objects.get(child=turning_18, kind=AlertKind.HANDOVER)

    page = file_of(login(users["district_admin"]), turning_18).content.decode()

    assert 'id="child-alerts"' in page
    for alert, label in ((handover, "即将年满18周岁，需移交"), (risk, "风险复核")):
        assert f'data-alert="{alert.pk}"' in page
        assert label in page and alert.message in page
        assert f"发现时间 {timezone.localtime(alert.created_at):%Y-%m-%d}" in page  # Beijing date
        # Handled from the file itself, which it then comes back to, or on the alert list.
        assert reverse("alerts:alert_resolve", args=[alert.pk]) in page
        assert reverse("alerts:alert_dismiss", args=[alert.pk]) in page
        assert f"{LIST}?kind={alert.kind}" in page
    assert f"期限 {handover.due_on:%Y-%m-%d}" in page
    assert f'name="next" value="{reverse("registry:child_detail", args=[turning_18.pk])}"' in page
    # Newest first, before the pairing section with its suggested mothers.
    assert page.index(f'data-alert="{risk.pk}"') < page.index(f'data-alert="{handover.pk}"')
    assert page.index('id="child-alerts"') < page.index("<h2>结对</h2>")


def test_handled_and_dismissed_alerts_and_other_childrens_alerts_are_not_on_the_file(
    tree: Any, turning_18: Any, users: Any, login: Any
) -> None:
    admin = users["district_admin"]
    handover = Alert.objects.get(child=turning_18, kind=AlertKind.HANDOVER)
    services.resolve(actor=admin, alert_id=handover.pk, resolution="已与监护人约定移交")
    dismissed = make_alert(turning_18, AlertKind.CLOSE_PROPOSAL, "民政数据显示该儿童已迁出")
    services.dismiss(actor=admin, alert_id=dismissed.pk, reason="数据有误，已与民政核实")
    sibling = factories.make_child(tree.village_a1, name="向春生")
    make_alert(sibling, AlertKind.UNPAIRED, "向春生需结对未结对")

    page = file_of(login(admin), turning_18).content.decode()

    assert 'id="child-alerts"' not in page
    assert HANDOVER_MESSAGE not in page and "已迁出" not in page and "向春生需结对未结对" not in page
    assert "向春生需结对未结对" in file_of(login(admin), sibling).content.decode()


def test_resolving_an_alert_on_the_file_returns_to_the_file_without_it(
    turning_18: Any, users: Any, login: Any
) -> None:
    client = login(users["village_director"])
    handover = Alert.objects.get(child=turning_18, kind=AlertKind.HANDOVER)
    here = reverse("registry:child_detail", args=[turning_18.pk])
    assert HANDOVER_MESSAGE in client.get(here).content.decode()

    response = client.post(
        reverse("alerts:alert_resolve", args=[handover.pk]),
        {"text": "已与监护人约定移交", "next": here},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == here
    page = response.content.decode()
    assert "已处理儿童向春燕的预警：即将年满18周岁，需移交" in page
    assert HANDOVER_MESSAGE not in page
    handover.refresh_from_db()
    assert handover.status == AlertStatus.RESOLVED


def test_staff_whose_scope_covers_the_child_see_its_alerts(turning_18: Any, users: Any, login: Any) -> None:
    for role in ("district_admin", "town_supervisor", "village_director"):
        page = file_of(login(users[role]), turning_18).content.decode()
        assert HANDOVER_MESSAGE in page, role


def test_a_user_outside_the_childs_scope_never_sees_its_alerts(
    tree: Any, turning_18: Any, users: Any, login: Any
) -> None:
    # The file shows the alert to the district's admin; other districts and villages get neither.
    assert HANDOVER_MESSAGE in file_of(login(users["district_admin"]), turning_18).content.decode()
    other_village = factories.make_user("village_director", tree.village_a1b, "village_a1b")
    for user in (users["district_b_admin"], other_village):
        response = file_of(login(user), turning_18)
        assert response.status_code == 404
        assert HANDOVER_MESSAGE not in response.content.decode()
        assert not open_alerts_of_child(user, turning_18).exists()
        assert HANDOVER_MESSAGE not in login(user).get(LIST).content.decode()
    mother = factories.make_volunteer(tree.village_a1, name="李爱华")
    assert not open_alerts_of_child(mother.user, turning_18).exists()
    assert open_alerts_of_child(users["district_admin"], turning_18).count() == 1
