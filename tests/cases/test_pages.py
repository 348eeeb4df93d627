"""The pages: reporting from the child file and from the mother's phone, the case list with its
filters, the case page and its forms, the child file panel."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from aixin.cases.models import Case, Report
from tests import factories
from tests.cases.helpers import JPEG, case_in_state, report, upload


def _form(child, **changes):
    return {
        "child": child.pk,
        "category": "abuse_injuries",
        "severity": "high",
        "description": "手臂和背上有多处淤青",
        "observed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "place": "家访时",
    } | changes


def test_a_mother_reports_from_her_phone_in_one_form(people, child_a, tree, client):
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    factories.make_active_pairing(child_a, mother)
    client.force_login(mother.user)
    mine = client.get(reverse("care:my_children")).content.decode()
    assert f"{reverse('cases:report_create')}?child={child_a.pk}" in mine
    page = client.get(reverse("cases:report_create"), {"child": child_a.pk})
    assert page.status_code == 200 and "强制报告情形" in page.content.decode()
    response = client.post(reverse("cases:report_create"), _form(child_a, photo=upload("伤.jpg", JPEG)))
    assert response.status_code == 302 and response["Location"] == reverse("care:my_children")
    case = Case.objects.get()
    assert (case.state, case.mandatory, case.report.reporter) == ("referred", True, mother.user)
    assert case.report.photo


def test_a_mother_cannot_open_the_report_form_for_another_child(people, child_a, child_b, tree, client):
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    factories.make_active_pairing(child_a, mother)
    client.force_login(mother.user)
    assert client.get(reverse("cases:report_create"), {"child": child_b.pk}).status_code == 404
    assert client.post(reverse("cases:report_create"), _form(child_b)).status_code == 404
    assert Report.objects.count() == 0


def test_a_bad_report_form_shows_the_message_and_writes_nothing(people, child_a, client):
    client.force_login(people.village)
    response = client.post(reverse("cases:report_create"), _form(child_a, photo=upload("a.exe", b"MZ\x90")))
    assert response.status_code == 200
    assert "文件「a.exe」不是允许的类型（JPG、PNG、PDF）" in response.content.decode()
    assert Report.objects.count() == 0


def test_the_child_file_shows_open_cases_and_the_report_button(people, child_a, client):
    case = report(people.village, child_a)
    client.force_login(people.district)
    page = client.get(reverse("registry:child_detail", args=[child_a.pk])).content.decode()
    assert "报告风险/强制报告" in page
    assert reverse("cases:case_detail", args=[case.pk]) in page


def test_the_case_list_filters_by_state_severity_and_overdue(people, child_a, client, clock):
    accepted = case_in_state("accepted", people, child_a)
    fresh = report(people.village, child_a, severity="low")
    client.force_login(people.district)

    def listed(**params):
        page = client.get(reverse("cases:case_list"), params).content.decode()
        return {c.pk for c in (accepted, fresh) if f'data-case="{c.pk}"' in page}

    assert listed() == {accepted.pk, fresh.pk}
    assert listed(state="accepted") == {accepted.pk}
    assert listed(severity="low") == {fresh.pk}
    assert listed(overdue="1") == set()
    clock.advance(hours=25)  # high: the accepted case had 24 h to be referred
    client.force_login(people.district)  # the session itself has timed out meanwhile
    assert listed(overdue="1") == {accepted.pk}


def test_the_district_works_a_case_through_the_page_forms(people, child_a, client):
    case = report(people.village, child_a)
    client.force_login(people.district)
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "受理" in page and "原始报告" in page
    url = reverse("cases:case_transition", args=[case.pk])
    client.post(url, {"action": "accept", "version": case.version})
    case.refresh_from_db()
    assert case.state == "accepted"
    response = client.post(
        url, {"action": "refer", "departments": ["health"], "version": case.version}, follow=True
    )
    assert "万州区没有卫健的部门联络员，不能转办" in response.content.decode()
    client.post(url, {"action": "refer", "departments": ["education"], "version": case.version})
    case.refresh_from_db()
    assert case.state == "referred"
    # A form read before the referral is stale.
    response = client.post(url, {"action": "resolve", "note": "x", "version": 1}, follow=True)
    assert "该风险事件已被他人更新（现为「已转办」），请刷新后再操作" in response.content.decode()


def test_a_receipt_number_is_added_from_the_case_page(people, child_a, client):
    case = report(people.village, child_a, category="abandoned")
    client.force_login(people.district)
    client.post(
        reverse("cases:report_entry", args=[case.pk]),
        {"kind": "receipt", "receipt_number": "110-2026-7", "agency": "万州区公安局"},
    )
    page = client.get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert "110-2026-7（万州区公安局" in page


def test_the_report_photo_is_served_to_staff_in_scope_only(people, child_a, client):
    case = report(people.village, child_a, photo=upload("伤.jpg", JPEG))
    client.force_login(people.district)
    response = client.get(reverse("cases:report_photo", args=[case.report_id]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    client.force_login(people.district_b)
    assert client.get(reverse("cases:report_photo", args=[case.report_id])).status_code == 404
