"""POST/GET /api/v1/incidents and POST /api/v1/incidents/{id}/transitions."""

from __future__ import annotations

import json

from django.urls import reverse
from django.utils import timezone

from aixin.cases.models import Case, Report
from tests import factories
from tests.cases.helpers import case_in_state, report


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _body(child, **changes):
    return {
        "child_id": child.pk,
        "category": "self_harm_risk",
        "severity": "high",
        "description": "孩子在作业本上写了轻生的话",
        "observed_at": timezone.now().isoformat(),
        "place": "家中",
    } | changes


def test_a_report_through_the_api_opens_a_case(people, child_a, client):
    client.force_login(people.village)
    response = _post(client, reverse("api:incidents_create"), _body(child_a))
    assert response.status_code == 201
    data = response.json()
    assert (data["state"], data["category"], data["mandatory"], data["child_name"]) == (
        "reported",
        "self_harm_risk",
        False,
        "甲童",
    )
    assert Case.objects.get(pk=data["id"]).report.reporter == people.village


def test_a_mandatory_report_through_the_api_comes_back_referred_to_public_security(people, child_a, client):
    client.force_login(people.village)
    data = _post(client, reverse("api:incidents_create"), _body(child_a, category="organised_begging")).json()
    assert (data["state"], data["severity"]) == ("referred", "urgent")
    assert [(r["department"], r["state"]) for r in data["referrals"]] == [("public_security", "pending")]


def test_bad_api_input_answers_400_in_chinese_and_writes_nothing(people, child_a, client):
    client.force_login(people.village)
    response = _post(client, reverse("api:incidents_create"), _body(child_a, description=""))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "请写下你看到或听到的情况",
        "code": "invalid",
        "field": "description",
    }
    response = _post(client, reverse("api:incidents_create"), _body(child_a) | {"child_id": None})
    assert response.json()["detail"] == "请选择要报告的儿童"
    assert Report.objects.count() == 0


def test_a_report_about_a_child_out_of_scope_is_not_found(people, child_b, client):
    client.force_login(people.village)
    response = _post(client, reverse("api:incidents_create"), _body(child_b))
    assert response.status_code == 404
    assert Report.objects.count() == 0


def test_the_list_is_scoped_and_filters_by_state(people, child_a, child_b, client):
    a = case_in_state("accepted", people, child_a)
    report(people.district_b, child_b)
    client.force_login(people.district)
    data = client.get(reverse("api:incidents_list")).json()
    assert [i["id"] for i in data["items"]] == [a.pk]
    assert client.get(reverse("api:incidents_list"), {"state": "reported"}).json()["count"] == 0
    client.force_login(people.city)
    assert client.get(reverse("api:incidents_list")).json()["count"] == 2


def test_a_loving_mother_lists_only_the_reports_she_made(people, child_a, tree, client):
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    factories.make_active_pairing(child_a, mother)
    mine = report(mother.user, child_a)
    report(people.village, child_a)
    client.force_login(mother.user)
    assert [i["id"] for i in client.get(reverse("api:incidents_list")).json()["items"]] == [mine.pk]


def test_transitions_through_the_api_case_and_referral(people, child_a, client):
    case = case_in_state("reported", people, child_a)
    url = reverse("api:incidents_transition", args=[case.pk])
    client.force_login(people.district)
    data = _post(client, url, {"action": "accept", "version": case.version}).json()
    assert data["state"] == "accepted"
    data = _post(
        client, url, {"action": "refer", "departments": ["education"], "version": data["version"]}
    ).json()
    assert data["state"] == "referred"
    referral_id = data["referrals"][0]["id"]
    client.force_login(people.edu_a)
    data = _post(client, url, {"action": "accept", "referral_id": referral_id}).json()
    assert data["state"] == "in_progress"
    assert [r["department"] for r in data["referrals"]] == ["education"]


def test_an_illegal_transition_through_the_api_is_409_naming_the_state(people, child_a, client):
    case = case_in_state("reported", people, child_a)
    client.force_login(people.district)
    response = _post(
        client, reverse("api:incidents_transition", args=[case.pk]), {"action": "close", "note": "x"}
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "风险事件当前为「已报告」，不能「核实结案」"
    case.refresh_from_db()
    assert case.state == "reported"


def test_the_receipt_number_can_be_given_through_the_api(people, child_a, client):
    case = report(people.village, child_a, category="abandoned")
    client.force_login(people.police_a)
    response = _post(
        client,
        reverse("api:incidents_transition", args=[case.pk]),
        {"action": "receipt", "receipt_number": "WZ-2026-88", "agency": "万州区公安局"},
    )
    assert response.status_code == 200
    assert case.report.entries.get().receipt_number == "WZ-2026-88"
