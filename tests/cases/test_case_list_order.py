"""The order of the case list: open cases first, then the most urgent, the nearest deadline, the
newest."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.cases.helpers import case_in_state, report


def _listed(client, **params):
    html = client.get(reverse("cases:case_list"), params).content.decode()
    return [int(pk) for pk in re.findall(r'data-case="(\d+)"', html)]


def test_the_case_list_shows_urgent_before_high_before_medium_whatever_the_deadlines(
    people, child_a, client, clock
):
    medium = report(people.village, child_a, severity="medium")  # 48 h to accept
    high_overdue = report(people.village, child_a, severity="high")  # 24 h to accept: the nearest
    clock.advance(hours=30)
    urgent = report(people.village, child_a, severity="urgent")  # 2 h to accept
    high = report(people.village, child_a, severity="high")  # 24 h to accept, newer
    client.force_login(people.district)

    assert _listed(client) == [urgent.pk, high_overdue.pk, high.pk, medium.pk]


def test_listing_all_cases_puts_open_ones_first_and_closed_ones_last(people, child_a, client, clock):
    closed = case_in_state("closed", people, child_a)  # high, no deadline any more
    low = report(people.village, child_a, severity="low")  # 72 h to accept
    clock.advance(hours=60)
    medium = report(people.village, child_a, severity="medium")  # 48 h to accept: later than low's
    client.force_login(people.district)

    assert _listed(client, state="all") == [medium.pk, low.pk, closed.pk]
    assert _listed(client) == [medium.pk, low.pk]
