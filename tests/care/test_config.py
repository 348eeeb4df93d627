"""The city administrator configures the "6+1" (R-7.1): rules, school terms and festivals are
configuration, changed on the settings page, audited, and used at once by checklists and
compliance."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse

from aixin.audit.models import AuditEvent
from aixin.care import config_services
from aixin.care.models import CareRecord, CareRule, Festival, SchoolTerm
from aixin.care.selectors import checklist_for_pairing, current_compliance
from aixin.lib.errors import Conflict, NotAllowed
from aixin.pairing.models import Pairing
from tests.care.helpers import paired_child, record

D = datetime.date
TODAY = D(2025, 5, 15)
BOTH_TIERS = ["one_to_one", "many_to_one"]


def _rule_post(rule: CareRule, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": rule.name,
        "short_name": rule.short_name,
        "cadence": rule.cadence,
        "applies_to": list(rule.applies_to),
        "sort_order": rule.sort_order,
    }
    if rule.active:
        data["active"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _item(pairing: Any, code: str) -> Any:
    return next(i for i in checklist_for_pairing(pairing, today=TODAY) if i.rule.code == code)


def _config_state() -> tuple[Any, ...]:
    return (
        list(CareRule.objects.order_by("pk").values()),
        list(SchoolTerm.objects.order_by("pk").values()),
        list(Festival.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


def test_city_admin_changes_the_plus_one_from_quarterly_to_monthly_and_the_checklist_follows(
    tree, users, login
):
    pairing = paired_child(tree.village_a1, start=D(2025, 1, 1))
    plus_one = CareRule.objects.get(code="family_education")
    before = _item(pairing, "family_education")
    assert (before.period_start, before.period_end) == (D(2025, 4, 1), D(2025, 6, 30))

    client = login(users["city_admin"])
    response = client.post(
        reverse("care:config_rule", args=[plus_one.pk]), _rule_post(plus_one, cadence="month"), follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("care:config") + f"#rule-{plus_one.pk}"
    assert "已保存“6+1”条目：持续开展家庭教育指导" in response.content.decode()
    plus_one.refresh_from_db()
    assert plus_one.cadence == "month"
    after = _item(pairing, "family_education")
    assert (after.period_start, after.period_end) == (D(2025, 5, 1), D(2025, 5, 31))
    event = AuditEvent.objects.get(object_type="care_rule")
    assert (event.action, event.object_id, event.actor_id) == (
        "update",
        str(plus_one.pk),
        users["city_admin"].pk,
    )
    assert event.details == {"code": "family_education", "cadence": ["quarter", "month"]}


def test_a_deactivated_rule_leaves_checklists_and_compliance_but_records_keep_their_bits(tree, users, login):
    pairing = paired_child(tree.village_a1, start=D(2025, 1, 1))
    care = record(pairing, D(2025, 5, 2), ["weekly_contact", "family_education"], today=TODAY)
    plus_one = CareRule.objects.get(code="family_education")
    assert "family_education" in [i.rule.code for i in checklist_for_pairing(pairing, today=TODAY)]

    client = login(users["city_admin"])
    response = client.post(reverse("care:config_rule", args=[plus_one.pk]), _rule_post(plus_one, active=None))

    assert response.status_code == 302
    codes = [i.rule.code for i in checklist_for_pairing(pairing, today=TODAY)]
    assert codes == [
        "weekly_contact",
        "monthly_guardian",
        "term_activity",
        "yearly_festival",
        "yearly_reading",
        "yearly_safety",
    ]
    compliance = current_compliance(Pairing.objects.filter(pk=pairing.pk), today=TODAY)
    assert [c.rule_code for c in compliance] == codes
    care.refresh_from_db()
    assert care.rules_mask == (1 << 0) | (1 << 6)
    page = client.get(reverse("care:config")).content.decode()
    assert "已停用" in page
    event = AuditEvent.objects.get(object_type="care_rule")
    assert event.summary == "修改“6+1”条目“持续开展家庭教育指导”（family_education）：停用"
    assert event.details["active"] == [True, False]


def test_a_rule_may_be_narrowed_to_one_tier_but_not_to_none_and_its_code_and_bit_never_change(
    tree, users, login
):
    rule = CareRule.objects.get(code="yearly_reading")
    client = login(users["city_admin"])
    url = reverse("care:config_rule", args=[rule.pk])

    refused = client.post(url, {**_rule_post(rule), "applies_to": []})
    assert refused.status_code == 400
    assert "至少要适用于一种关爱类型" in refused.content.decode()
    rule.refresh_from_db()
    assert rule.applies_to == BOTH_TIERS
    assert not AuditEvent.objects.exists()

    client.post(url, {**_rule_post(rule, applies_to=["one_to_one"]), "code": "hacked", "bit": "9"})
    rule.refresh_from_db()
    assert (rule.code, rule.bit, rule.applies_to) == ("yearly_reading", 4, ["one_to_one"])
    many = paired_child(
        tree.village_a2, name="多对一", start=D(2025, 1, 1), tier_flags={"risk_being_harmed": True}
    )
    assert many.tier == "many_to_one"
    assert "yearly_reading" not in [i.rule.code for i in checklist_for_pairing(many, today=TODAY)]


def test_the_last_active_rule_cannot_be_deactivated(db, users):
    CareRule.objects.exclude(code="weekly_contact").update(active=False)
    rule = CareRule.objects.get(code="weekly_contact")
    with pytest.raises(Conflict, match="至少要保留一项启用的"):
        config_services.care_rule_update(
            actor=users["city_admin"],
            rule_id=rule.pk,
            name=rule.name,
            short_name=rule.short_name,
            cadence=rule.cadence,
            active=False,
            applies_to=rule.applies_to,
            sort_order=rule.sort_order,
        )
    rule.refresh_from_db()
    assert rule.active is True


@pytest.mark.parametrize("role", ["district_admin", "town_supervisor", "village_director"])
def test_staff_other_than_the_city_admin_are_refused_every_settings_url_and_nothing_changes(
    role, tree, users, login
):
    rule = CareRule.objects.get(code="family_education")
    term = SchoolTerm.objects.order_by("start").first()
    festival = Festival.objects.order_by("date").first()
    assert term is not None and festival is not None
    before = _config_state()
    client = login(users[role])

    posts = [
        (reverse("care:config_rule", args=[rule.pk]), _rule_post(rule, cadence="month", active=None)),
        (reverse("care:config_term_create"), {"name": "新学期", "start": "2030-09-01", "end": "2031-01-20"}),
        (
            reverse("care:config_term", args=[term.pk]),
            {"name": "改名", "start": "2023-09-01", "end": "2024-01-20"},
        ),
        (reverse("care:config_term_delete", args=[term.pk]), {}),
        (reverse("care:config_festival_create"), {"name": "植树节", "date": "2025-03-12"}),
        (reverse("care:config_festival", args=[festival.pk]), {"name": "改名", "date": "2024-02-11"}),
        (reverse("care:config_festival_delete", args=[festival.pk]), {}),
    ]
    assert client.get(reverse("care:config")).status_code == 403
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert _config_state() == before


def test_a_loving_mother_is_refused_the_settings_and_no_one_but_the_city_sees_the_link(tree, users, login):
    pairing = paired_child(tree.village_a1)
    client = login(pairing.volunteer.user)
    assert client.get(reverse("care:config")).status_code == 403

    link = f'href="{reverse("care:config")}"'
    district_page = login(users["district_admin"]).get(reverse("registry:child_list")).content.decode()
    assert link not in district_page
    city_page = login(users["city_admin"]).get(reverse("registry:child_list")).content.decode()
    assert link in city_page and "6+1 设置" in city_page


def test_the_settings_page_lists_rules_terms_and_festivals_by_year(users, login):
    page = login(users["city_admin"]).get(reverse("care:config"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "持续开展家庭教育指导" in html and "每季度" in html
    assert "2024—2025学年第二学期" in html and "2025-02-20" in html
    assert "2026年" in html and "2026-09-25" in html  # 中秋节 2026
    assert html.count('action="/care/settings/rules/') == 7


def test_an_overlapping_term_is_refused_and_nothing_is_written(users, login):
    before = _config_state()
    client = login(users["city_admin"])
    response = client.post(
        reverse("care:config_term_create"),
        {"name": "2025年春季学期", "start": "2025-03-01", "end": "2025-07-01"},
    )
    assert response.status_code == 409
    assert (
        "学期“2025年春季学期”（2025-03-01 至 2025-07-01）与已有学期“2024—2025学年第二学期”"
        "（2025-02-20 至 2025-07-10）时间重叠" in response.content.decode()
    )
    assert _config_state() == before


def test_a_term_must_start_before_it_ends(users, login):
    before = _config_state()
    response = login(users["city_admin"]).post(
        reverse("care:config_term_create"), {"name": "2028年春", "start": "2028-07-01", "end": "2028-02-20"}
    )
    assert response.status_code == 400
    assert "开始日期 2028-07-01 须早于结束日期 2028-02-20" in response.content.decode()
    assert _config_state() == before


def test_a_new_term_is_added_edited_and_deleted_and_each_step_is_audited(users, login):
    client = login(users["city_admin"])
    created = client.post(
        reverse("care:config_term_create"),
        {"name": "2027—2028学年第二学期", "start": "2028-02-20", "end": "2028-07-10"},
    )
    assert created.status_code == 302
    term = SchoolTerm.objects.get(name="2027—2028学年第二学期")
    assert (term.start, term.end) == (D(2028, 2, 20), D(2028, 7, 10))

    client.post(
        reverse("care:config_term", args=[term.pk]),
        {"name": "2027—2028学年第二学期", "start": "2028-02-26", "end": "2028-07-10"},
    )
    term.refresh_from_db()
    assert term.start == D(2028, 2, 26)

    client.post(reverse("care:config_term_delete", args=[term.pk]))
    assert not SchoolTerm.objects.filter(pk=term.pk).exists()
    events = list(
        AuditEvent.objects.order_by("id").values_list("action", "object_type", "object_id", "details")
    )
    assert events == [
        (
            "create",
            "school_term",
            str(term.pk),
            {"name": term.name, "start": "2028-02-20", "end": "2028-07-10"},
        ),
        ("update", "school_term", str(term.pk), {"start": ["2028-02-20", "2028-02-26"]}),
        (
            "delete",
            "school_term",
            str(term.pk),
            {"name": term.name, "start": "2028-02-26", "end": "2028-07-10"},
        ),
    ]


def test_a_term_holding_term_activity_records_cannot_be_deleted(tree, users, login):
    pairing = paired_child(tree.village_a1, start=D(2025, 1, 1))
    record(pairing, D(2025, 3, 10), ["term_activity"], kind="activity", today=TODAY)
    record(pairing, D(2025, 3, 11), ["weekly_contact"], today=TODAY)
    term = SchoolTerm.objects.get(name="2024—2025学年第二学期")
    before = _config_state()

    response = login(users["city_admin"]).post(reverse("care:config_term_delete", args=[term.pk]))

    assert response.status_code == 409
    assert (
        "学期“2024—2025学年第二学期”（2025-02-20 至 2025-07-10）内已有 1 条按学期完成的关爱记录，不能删除"
        in response.content.decode()
    )
    assert _config_state() == before
    assert CareRecord.objects.count() == 2


def test_a_term_can_still_be_edited_when_it_holds_records(tree, users, login):
    pairing = paired_child(tree.village_a1, start=D(2025, 1, 1))
    record(pairing, D(2025, 3, 10), ["term_activity"], kind="activity", today=TODAY)
    term = SchoolTerm.objects.get(name="2024—2025学年第二学期")
    response = login(users["city_admin"]).post(
        reverse("care:config_term", args=[term.pk]),
        {"name": term.name, "start": "2025-02-17", "end": "2025-07-10"},
    )
    assert response.status_code == 302
    term.refresh_from_db()
    assert term.start == D(2025, 2, 17)
    item = _item(pairing, "term_activity")
    assert (item.period_start, item.status) == (D(2025, 2, 17), "done")


def test_a_festival_is_added_edited_and_deleted_with_each_change_audited(users, login):
    client = login(users["city_admin"])
    assert (
        client.post(
            reverse("care:config_festival_create"), {"name": "春节", "date": "2028-01-26"}
        ).status_code
        == 302
    )
    festival = Festival.objects.get(name="春节", date__year=2028)
    client.post(reverse("care:config_festival", args=[festival.pk]), {"name": "春节", "date": "2028-01-27"})
    festival.refresh_from_db()
    assert festival.date == D(2028, 1, 27)
    client.post(reverse("care:config_festival_delete", args=[festival.pk]))
    assert not Festival.objects.filter(pk=festival.pk).exists()
    events = list(AuditEvent.objects.order_by("id").values_list("action", "object_type", "summary"))
    assert events == [
        ("create", "festival", "新增节日“春节”（2028-01-26）"),
        ("update", "festival", "修改节日“春节”（2028-01-27）"),
        ("delete", "festival", "删除节日“春节”（2028-01-27）"),
    ]


def test_the_same_festival_twice_in_one_year_is_refused(users, login):
    before = _config_state()
    client = login(users["city_admin"])
    response = client.post(reverse("care:config_festival_create"), {"name": "中秋节", "date": "2026-10-01"})
    assert response.status_code == 409
    assert "2026年已设置“中秋节”（2026-09-25），同一节日每年只能有一个日期" in response.content.decode()

    other = Festival.objects.get(name="国庆节", date=D(2026, 10, 1))
    moved = client.post(
        reverse("care:config_festival", args=[other.pk]), {"name": "中秋节", "date": "2026-10-01"}
    )
    assert moved.status_code == 409
    assert _config_state() == before


def test_a_service_call_by_a_district_admin_is_refused(db, users):
    with pytest.raises(NotAllowed, match="只有市级管理员"):
        config_services.festival_create(actor=users["district_admin"], name="植树节", date=D(2025, 3, 12))
    assert not Festival.objects.filter(name="植树节").exists()
