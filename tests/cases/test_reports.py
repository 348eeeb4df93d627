"""Reporting a concern (R-10.1): the ordinary route, the mandatory-reporting route, bad input,
and the report record that nobody can edit or delete — not the model, not the database."""

from __future__ import annotations

import datetime
import os

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aixin.alerts.models import Alert
from aixin.cases import services
from aixin.cases.models import Case, CaseEvent, ImmutableRecord, Referral, Report, ReportEntry
from aixin.lib.errors import Conflict, InvalidInput
from aixin.notify.models import Notification
from tests import factories
from tests.cases import helpers
from tests.cases.helpers import JPEG, PDF, report, upload


def _counts():
    return (Report.objects.count(), Case.objects.count(), CaseEvent.objects.count(), Referral.objects.count())


def test_a_report_opens_a_case_for_the_district_and_asks_for_a_tier_review(people, child_a, clock):
    case = report(people.village, child_a, photo=upload("淤青.jpg", JPEG))
    assert (case.state, case.severity, case.mandatory, case.district_id) == (
        "reported",
        "high",
        False,
        child_a.district_id,
    )
    rep = case.report
    assert (rep.reporter, rep.reporter_role, rep.description, rep.place) == (
        people.village,
        "village_director",
        "孩子说在学校被高年级同学打",
        "村小学门口",
    )
    assert rep.photo.name.endswith(".jpg") and "淤青" not in rep.photo.name
    assert case.due_at == clock.now + datetime.timedelta(hours=24)  # high: accept within 24 h
    assert Notification.objects.filter(recipient=people.district, kind="case_referral").count() == 1
    assert Alert.objects.filter(child=child_a, kind="risk_review", status="open").count() == 1


def test_a_mandatory_report_goes_to_public_security_at_once(people, child_a, clock):
    case = report(people.village, child_a, category="abuse_injuries", severity="low")
    assert (case.state, case.severity, case.mandatory) == ("referred", "urgent", True)
    referral = case.referrals.get()
    assert (referral.department, referral.state) == ("public_security", "pending")
    assert referral.due_at == clock.now + datetime.timedelta(hours=4)  # urgent: respond in 4 h
    alerted = set(
        Notification.objects.filter(kind="case_mandatory").values_list("recipient__username", flat=True)
    )
    assert alerted == {"gongan_a", "dist_a", "town_a1", "village_a1"}  # not district B's police
    steps = list(case.events.order_by("pk").values_list("action", "to_state"))
    assert steps == [("report", "reported"), ("mandatory_referral", "referred"), ("referral_sent", "pending")]
    # The public-security liaison sees it in the inbox straight away.
    assert list(services.referrals_visible_to(people.police_a)) == [referral]


def test_a_mandatory_report_is_recorded_even_where_public_security_has_no_liaison(people, child_a):
    people.police_a.delete()
    case = report(people.village, child_a, category="missing_or_trafficked")
    assert case.state == "referred"
    note = case.events.get(action="mandatory_referral").note
    assert "万州区尚未开通公安部门联络员，请区县立即电话报警并登记回执号" in note


def test_a_loving_mother_reports_about_her_own_child(people, child_a, tree):
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    factories.make_active_pairing(child_a, mother)
    case = report(mother.user, child_a, category="dropout", severity="medium")
    assert (case.report.reporter_role, case.state) == ("volunteer", "reported")


def test_a_loving_mother_cannot_report_about_a_child_she_is_not_paired_with(people, child_a, tree):
    mother = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    before = _counts()
    with pytest.raises(InvalidInput) as exc:
        report(mother.user, child_a)
    assert exc.value.message == "该儿童不存在或不在你的关爱、管辖范围内，不能报告"
    assert _counts() == before


@pytest.mark.parametrize("who", ["district", "town", "village"])
def test_a_report_about_a_child_of_another_district_is_refused(who, people, child_b):
    before = _counts()
    with pytest.raises(InvalidInput) as exc:
        report(getattr(people, who), child_b)
    assert exc.value.field == "child_id"
    assert _counts() == before


def test_a_liaison_does_not_report_through_the_registry(people, child_a):
    with pytest.raises(InvalidInput):
        report(people.police_a, child_a)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"child_id": None}, "child_id", "请选择要报告的儿童"),
        ({"category": "gossip"}, "category", "请选择风险类别"),
        ({"severity": "extreme"}, "severity", "请选择紧急程度（紧急、高、中、低）"),
        ({"description": "  "}, "description", "请写下你看到或听到的情况"),
        ({"observed_at": None}, "observed_at", "请填写发现的时间"),
        ({"place": "村" * 201}, "place", "地点不能超过 200 字"),
    ],
)
def test_bad_report_input_is_refused_in_chinese_and_writes_nothing(changes, field, message, people, child_a):
    data = {
        "actor": people.village,
        "child_id": child_a.pk,
        "category": "bullying",
        "severity": "high",
        "description": "被打",
        "observed_at": timezone.now(),
        "place": "学校",
    } | changes
    before = _counts()
    with pytest.raises(InvalidInput) as exc:
        services.report_create(**data)
    assert (exc.value.field, exc.value.message) == (field, message)
    assert _counts() == before


def test_a_report_dated_in_the_future_is_refused(people, child_a):
    with pytest.raises(InvalidInput) as exc:
        report(people.village, child_a, observed_at=timezone.now() + datetime.timedelta(hours=2))
    assert exc.value.message == "发现时间不能晚于现在"


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (upload("病历.docx", b"PK\x03\x04" + b"0" * 40), "文件「病历.docx」不是允许的类型（JPG、PNG、PDF）"),
        (
            upload("伤情.jpg", b"MZ\x90\x00" + b"0" * 40),
            "文件「伤情.jpg」的内容不是 JPG 格式（可能是改了扩展名的其他文件），请重新选择",
        ),
    ],
)
def test_an_attachment_that_is_not_an_image_or_pdf_is_refused_and_nothing_is_stored(
    file, message, people, child_a, settings
):
    before = _counts()
    with pytest.raises(InvalidInput) as exc:
        report(people.village, child_a, photo=file)
    assert exc.value.message == message
    assert _counts() == before
    assert not os.path.exists(settings.MEDIA_ROOT) or not any(os.scandir(settings.MEDIA_ROOT))


def test_an_attachment_over_the_size_limit_is_refused(people, child_a, settings):
    settings.AIXIN_CASE_MAX_ATTACHMENT_BYTES = 1024 * 1024
    before = _counts()
    with pytest.raises(InvalidInput) as exc:
        report(people.village, child_a, photo=helpers.big_jpeg(1024 * 1024))
    assert exc.value.message == "文件「big.jpg」超过 1 MB"
    assert _counts() == before


def test_a_pdf_is_accepted_as_a_report_attachment(people, child_a):
    case = report(people.village, child_a, photo=upload("诊断.pdf", PDF, "application/pdf"))
    assert case.report.photo.name.endswith(".pdf")


# ---------------------------------------------------------------------------------------------
# The report can never be edited or deleted


def test_the_report_model_refuses_to_save_changes_or_delete(people, child_a):
    case = report(people.village, child_a)
    rep = Report.objects.get(pk=case.report_id)
    rep.description = "其实没事"
    with pytest.raises(ImmutableRecord):
        rep.save()
    with pytest.raises(ImmutableRecord):
        rep.delete()
    event = case.events.first()
    with pytest.raises(ImmutableRecord):
        event.save()
    assert Report.objects.get(pk=rep.pk).description == "孩子说在学校被高年级同学打"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE cases_report SET description_sealed = 'x' WHERE id = %s",
        "DELETE FROM cases_report WHERE id = %s",
        "UPDATE cases_caseevent SET note_sealed = 'x' "
        "WHERE case_id IN (SELECT id FROM cases_case WHERE report_id = %s)",
        "DELETE FROM cases_caseevent WHERE case_id IN (SELECT id FROM cases_case WHERE report_id = %s)",
        "UPDATE cases_reportentry SET receipt_number = 'x' WHERE report_id = %s",
        "DELETE FROM cases_reportentry WHERE report_id = %s",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes_of_reports_entries_and_events(sql, people, child_a):
    case = report(people.village, child_a)
    services.report_add_entry(
        actor=people.district,
        case_id=case.pk,
        kind="receipt",
        receipt_number="WZ2026-001",
        agency="万州区公安局",
    )
    with pytest.raises(Exception) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [case.report_id])
    assert "append-only" in str(exc.value)
    assert Report.objects.get(pk=case.report_id).description == "孩子说在学校被高年级同学打"
    assert ReportEntry.objects.get(report_id=case.report_id).receipt_number == "WZ2026-001"


def test_queryset_update_of_a_report_is_refused_by_the_database(people, child_a):
    case = report(people.village, child_a)
    with pytest.raises(Exception) as exc, transaction.atomic():
        Report.objects.filter(pk=case.report_id).update(severity="low")
    assert "append-only" in str(exc.value)


def test_corrections_are_added_as_new_entries_and_the_receipt_number_is_given_once(people, child_a):
    case = report(people.village, child_a, category="abandoned")
    services.report_add_entry(
        actor=people.village, case_id=case.pk, kind="correction", text="发现时间应为前一天晚上"
    )
    services.report_add_entry(
        actor=people.police_a,
        case_id=case.pk,
        kind="receipt",
        receipt_number="WZ110-2026-0302-17",
        agency="万州区公安局某派出所",
    )
    with pytest.raises(Conflict) as exc:
        services.report_add_entry(
            actor=people.district, case_id=case.pk, kind="receipt", receipt_number="X", agency="别处"
        )
    assert exc.value.message == (
        "该报告已登记回执号 WZ110-2026-0302-17（万州区公安局某派出所），不能再改；如有错误，请添加更正说明"
    )
    entries = list(ReportEntry.objects.filter(report=case.report).values_list("kind", "author__username"))
    assert entries == [("correction", "village_a1"), ("receipt", "gongan_a")]
    assert case.report.description == "孩子说在学校被高年级同学打"


def test_the_database_keeps_one_receipt_per_report_even_under_a_race(people, child_a):
    case = report(people.village, child_a)
    ReportEntry.objects.create(
        report=case.report,
        kind="receipt",
        receipt_number="A1",
        agency="派出所",
        author=people.district,
        author_name="x",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportEntry.objects.create(
            report=case.report,
            kind="receipt",
            receipt_number="A2",
            agency="派出所",
            author=people.district,
            author_name="x",
        )


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("receipt", {"agency": "派出所"}, "请填写接报单位给出的回执号"),
        ("receipt", {"receipt_number": "110-1"}, "请填写接报单位（例如：万州区公安局某派出所）"),
        ("correction", {}, "请写明更正或补充的内容"),
        ("rewrite", {"text": "改"}, "请选择补充的类型（更正补充或接报回执）"),
    ],
)
def test_an_incomplete_report_entry_is_refused(kind, fields, message, people, child_a):
    case = report(people.village, child_a)
    with pytest.raises(InvalidInput) as exc:
        services.report_add_entry(actor=people.district, case_id=case.pk, kind=kind, **fields)
    assert exc.value.message == message
    assert ReportEntry.objects.count() == 0
