"""The dashboard's risk-case panel (issue 5 §6): open cases by age and severity, what is
overdue, closure per district and department — the viewer's region only."""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse

from tests.cases import helpers


def _panel(client: Any, user: Any) -> str:
    client.force_login(user)
    page = client.get(reverse("dashboard:overview")).content.decode()
    start = page.index('id="case-panel"')
    return page[start : page.index("</section>", start)]


def _count(panel: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">(\d+)<', panel)
    assert found, name
    return int(found.group(1))


def test_the_panel_counts_the_districts_open_and_closed_cases_and_not_another_districts(
    people: helpers.People, child_a: Any, child_b: Any, client: Any
) -> None:
    helpers.report(people.village, child_a)
    helpers.case_in_state("closed", people, child_a)
    helpers.report(people.district_b, child_b)

    panel = _panel(client, people.district)
    assert _count(panel, "open") == 1
    assert 'id="closure-by-district"' in panel and "<td>2</td><td>1</td><td>50%</td>" in panel
    assert "教委" in panel or "教育" in panel  # the education referral was done

    city = _panel(client, people.city)
    assert _count(city, "open") == 2
