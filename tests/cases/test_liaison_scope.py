"""The department liaison (部门联络员) sees only the referrals to their department within their
region, the cases they belong to, and nothing else (R-1.1)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aixin.accounts.access import (
    case_events_visible_to,
    cases_visible_to,
    children_visible_to,
    pairings_visible_to,
    referrals_visible_to,
    volunteers_visible_to,
)
from aixin.audit.models import AuditEvent
from tests.cases import helpers
from tests.cases.helpers import act, case_in_state, report


@pytest.fixture
def two_cases(people, child_a, child_b):
    """District A: one case referred to education, one mandatory (public security);
    district B: one mandatory case (its public security)."""
    edu_case = case_in_state("referred", people, child_a)
    police_case = report(people.village, child_a, category="abandoned")
    b_case = report(people.district_b, child_b, category="abandoned")
    return edu_case, police_case, b_case


def test_a_liaison_sees_only_their_departments_referrals_in_their_district(people, two_cases):
    edu_case, police_case, b_case = two_cases
    assert list(referrals_visible_to(people.police_a)) == [police_case.referrals.get()]
    assert list(cases_visible_to(people.police_a)) == [police_case]
    assert list(cases_visible_to(people.edu_a)) == [edu_case]
    assert list(cases_visible_to(people.police_b)) == [b_case]


def test_a_liaison_sees_no_children_mothers_or_pairings(people, two_cases):
    for selector in (children_visible_to, volunteers_visible_to, pairings_visible_to):
        assert selector(people.police_a).count() == 0


def test_a_liaison_sees_the_case_steps_but_not_another_departments_notes(people, two_cases):
    _edu_case, police_case, _b = two_cases
    act(people.district, police_case, "refer", departments=["education"], note="请学校配合")
    act(people.edu_a, police_case, "note", note="学校：孩子近一周未到校")
    seen = {e.note for e in case_events_visible_to(people.police_a)}
    assert "学校：孩子近一周未到校" not in seen
    assert "强制报告：转公安" in seen
    assert "学校：孩子近一周未到校" in {e.note for e in case_events_visible_to(people.district)}


def test_the_liaison_inbox_lists_their_referrals_only(people, two_cases, client):
    edu_case, police_case, _b_case = two_cases
    client.force_login(people.police_a)
    page = client.get(reverse("cases:liaison_inbox")).content.decode()
    assert reverse("cases:case_detail", args=[police_case.pk]) in page
    assert reverse("cases:case_detail", args=[edu_case.pk]) not in page
    assert "丙童" not in page


def test_a_liaison_opens_their_case_with_masked_identifiers_and_no_link_to_the_child_file(
    people, two_cases, client, child_a
):
    _edu, police_case, _b = two_cases
    client.force_login(people.police_a)
    response = client.get(reverse("cases:case_detail", args=[police_case.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert child_a.id_number_masked in page
    assert reverse("registry:child_detail", args=[child_a.pk]) not in page
    assert AuditEvent.objects.filter(actor=people.police_a, object_type="case", action="view").count() == 1


@pytest.mark.parametrize("other", ["edu", "b"])
def test_a_liaison_gets_404_for_other_departments_and_districts_cases(other, people, two_cases, client):
    edu_case, _police, b_case = two_cases
    case = edu_case if other == "edu" else b_case
    client.force_login(people.police_a)
    assert client.get(reverse("cases:case_detail", args=[case.pk])).status_code == 404
    response = client.post(reverse("cases:case_transition", args=[case.pk]), {"action": "note", "note": "x"})
    assert response.status_code == 404
    assert "x" not in {e.note for e in case.events.all()}


def test_the_liaison_home_page_is_the_inbox(people, client):
    client.force_login(people.police_a)
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302 and response["Location"] == reverse("cases:liaison_inbox")


def test_a_liaison_signs_for_and_closes_a_referral_from_the_case_page(people, two_cases, client):
    _edu, police_case, _b = two_cases
    referral = police_case.referrals.get()
    client.force_login(people.police_a)
    url = reverse("cases:referral_transition", args=[referral.pk])
    assert client.post(url, {"action": "accept", "version": referral.version}).status_code == 302
    response = client.post(
        url,
        {
            "action": "done",
            "note": "已立案侦查，孩子已由民政临时监护",
            "attachment": helpers.upload("笔录.pdf", helpers.PDF),
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.state == "done"
    event = police_case.events.get(action="referral_done")
    assert event.attachment.name.endswith(".pdf")
    file_response = client.get(reverse("cases:event_attachment", args=[event.pk]))
    assert file_response.status_code == 200
    assert file_response["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(object_type="case_file", actor=people.police_a).count() == 1
    # Another district's liaison cannot fetch it.
    client.force_login(people.police_b)
    assert client.get(reverse("cases:event_attachment", args=[event.pk])).status_code == 404
