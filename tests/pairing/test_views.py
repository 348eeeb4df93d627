from __future__ import annotations

import io

from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from aixin.audit.models import AuditEvent
from aixin.pairing.models import Pairing
from aixin.volunteers.models import Volunteer
from tests import factories
from tests.downloads import post_export, workbook_in
from tests.pairing.helpers import accept, activate, needy_child, propose


def test_propose_page_lists_candidates_nearest_first_with_load(users, tree, login):
    child = needy_child(tree.village_a1)
    factories.make_volunteer(tree.village_a2, name="区妈妈")
    factories.make_volunteer(tree.village_a1, name="村妈妈")
    response = login(users["district_admin"]).get(reverse("pairing:propose", args=[child.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("村妈妈") < page.index("区妈妈")
    assert "同村" in page and "同区县" in page
    assert "0/2" in page
    assert page.count("提议结对") >= 2
    assert AuditEvent.objects.filter(action="view", object_type="child", object_id=str(child.pk)).exists()


def test_posting_a_proposal_creates_it_and_shows_the_pairing(users, tree, login):
    child = needy_child(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_a1)
    client = login(users["district_admin"])
    response = client.post(
        reverse("pairing:propose", args=[child.pk]), {"volunteer": volunteer.pk}, follow=True
    )
    pairing = Pairing.objects.get(child=child)
    assert response.redirect_chain[-1][0] == reverse("pairing:pairing_detail", args=[pairing.pk])
    assert "已向爱心妈妈李爱华发出结对邀请，等待她确认" in response.content.decode()
    assert pairing.status == "proposed"


def test_district_b_admin_gets_404_on_district_a_child_propose_page(users, tree, login):
    child = needy_child(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_a1)
    client = login(users["district_b_admin"])
    assert client.get(reverse("pairing:propose", args=[child.pk])).status_code == 404
    assert (
        client.post(reverse("pairing:propose", args=[child.pk]), {"volunteer": volunteer.pk}).status_code
        == 404
    )
    assert not Pairing.objects.exists()


def test_town_supervisor_cannot_open_the_propose_page(users, tree, login):
    child = needy_child(tree.village_a1)
    assert login(users["town_supervisor"]).get(reverse("pairing:propose", args=[child.pk])).status_code == 403


def test_mother_sees_her_invitation_with_big_buttons_and_accepts(users, tree, login):
    child = needy_child(tree.village_a1, school="新田小学")
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = propose(users["district_admin"], child, volunteer)
    client = login(volunteer.user)
    page = client.get(reverse("pairing:pairing_detail", args=[pairing.pk])).content.decode()
    assert "结对邀请" in page and "王小红" in page and "生活困难" in page and "新田小学" in page
    assert "接受" in page and "婉拒" in page
    assert child.id_number_masked not in page

    response = client.post(reverse("pairing:respond", args=[pairing.pk]), {"accept": "1"}, follow=True)
    assert "谢谢您！已接受与王小红结对" in response.content.decode()
    pairing.refresh_from_db()
    assert pairing.status == "awaiting_consent"


def test_mother_declines_with_a_chosen_reason(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = propose(users["district_admin"], needy_child(tree.village_a1), volunteer)
    login(volunteer.user).post(
        reverse("pairing:respond", args=[pairing.pk]),
        {"accept": "0", "reason_choice": "距离太远", "reason": ""},
    )
    pairing.refresh_from_db()
    assert (pairing.status, pairing.decline_reason) == ("declined", "距离太远")
    assert Volunteer.objects.get(pk=volunteer.pk).load == 0


def test_mother_b_gets_404_on_mother_as_invitation(users, tree, login):
    mother_a = factories.make_volunteer(tree.village_a1, name="甲妈妈")
    mother_b = factories.make_volunteer(tree.village_a1, name="乙妈妈")
    pairing = propose(users["district_admin"], needy_child(tree.village_a1), mother_a)
    client = login(mother_b.user)
    assert client.get(reverse("pairing:pairing_detail", args=[pairing.pk])).status_code == 404
    assert client.post(reverse("pairing:respond", args=[pairing.pk]), {"accept": "1"}).status_code == 404
    pairing.refresh_from_db()
    assert pairing.status == "proposed"


def test_staff_records_consent_on_the_pairing_page_and_it_becomes_active(users, tree, login):
    child = needy_child(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = accept(volunteer, propose(users["district_admin"], child, volunteer))
    client = login(users["district_admin"])
    page = client.get(reverse("pairing:pairing_detail", args=[pairing.pk])).content.decode()
    assert "登记监护人同意" in page
    guardian = child.guardians.first()
    today = timezone.localdate().isoformat()
    response = client.post(
        reverse("pairing:consent", args=[pairing.pk]),
        {
            "guardian": guardian.pk,
            "relation": "",
            "method": "in_person",
            "consented_on": today,
            "evidence": "村委会见证",
        },
        follow=True,
    )
    assert "已登记监护人同意，结对已生效" in response.content.decode()
    pairing.refresh_from_db()
    assert (pairing.status, pairing.start_date.isoformat()) == ("active", today)


def test_consent_form_shows_the_error_beside_the_date(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = accept(volunteer, propose(users["district_admin"], needy_child(tree.village_a1), volunteer))
    future = (timezone.localdate().replace(year=timezone.localdate().year + 1)).isoformat()
    response = login(users["district_admin"]).post(
        reverse("pairing:consent", args=[pairing.pk]),
        {
            "guardian": "",
            "guardian_name": "王奶奶",
            "relation": "祖母",
            "method": "phone",
            "consented_on": future,
        },
    )
    assert response.status_code == 400
    assert f"同意日期{future}晚于今天，请核对" in response.content.decode()
    pairing.refresh_from_db()
    assert pairing.status == "awaiting_consent"


def test_the_consent_date_is_filled_with_today_in_the_form_the_browser_accepts(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = accept(volunteer, propose(users["district_admin"], needy_child(tree.village_a1), volunteer))
    with translation.override("zh-hans"):
        page = login(users["district_admin"]).get(reverse("pairing:pairing_detail", args=[pairing.pk]))
    today = timezone.localdate()
    assert f'name="consented_on" value="{today.isoformat()}"' in page.content.decode()
    assert today.strftime("%Y/%m/%d") not in page.content.decode()


def test_volunteer_cannot_open_the_ledger(tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    assert login(volunteer.user).get(reverse("pairing:ledger")).status_code == 403
    assert login(volunteer.user).get(reverse("pairing:ledger_export")).status_code == 403


def test_ledger_lists_only_pairings_in_scope_and_filters_by_status(users, tree, login):
    activate(
        users["district_admin"],
        needy_child(tree.village_a1, name="万州娃"),
        factories.make_volunteer(tree.village_a1),
    )
    activate(
        users["district_b_admin"],
        needy_child(tree.village_b1, name="涪陵娃"),
        factories.make_volunteer(tree.village_b1),
    )
    page = login(users["district_admin"]).get(reverse("pairing:ledger")).content.decode()
    assert "万州娃" in page and "涪陵娃" not in page
    page = login(users["district_admin"]).get(reverse("pairing:ledger"), {"status": "ended"}).content.decode()
    assert "万州娃" not in page
    page = login(users["city_admin"]).get(reverse("pairing:ledger"), {"region": "500102"}).content.decode()
    assert "涪陵娃" in page and "万州娃" not in page


def test_ledger_export_neutralises_formulas_watermarks_and_is_audited(users, tree, login):
    admin = users["district_admin"]
    activate(
        admin,
        needy_child(tree.village_a1, name='=HYPERLINK("http://x")'),
        factories.make_volunteer(tree.village_a1),
    )
    activate(
        users["district_b_admin"],
        needy_child(tree.village_b1, name="涪陵娃"),
        factories.make_volunteer(tree.village_b1),
    )
    response = post_export(login(admin), reverse("pairing:ledger_export"))
    ws = load_workbook(io.BytesIO(workbook_in(response))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "结对台账"
    assert rows[1][0].startswith("导出人：dist_a（区县妇联工作人员，万州区）")
    assert list(rows[2]) == [
        "序号",
        "区县",
        "乡镇(街道)",
        "村(社区)",
        "儿童姓名",
        "性别",
        "年龄",
        "儿童类别",
        "关爱类型",
        "爱心妈妈",
        "爱心妈妈电话(掩码)",
        "结对日期",
        "状态",
        "监护人同意方式",
    ]
    assert len(rows) == 4
    data = rows[3]
    assert data[1:5] == ("万州区", "万州1镇", "万州1镇1村", '\'=HYPERLINK("http://x")')
    assert data[8] == "困难关爱（一对一）"
    assert "****" in data[10]
    assert (data[12], data[13]) == ("结对中", "书面签字")
    event = AuditEvent.objects.get(action="export", object_type="pairing")
    assert (event.actor, event.summary, event.district) == (admin, "导出结对台账1条", tree.district_a)


def test_staff_can_end_an_active_pairing_from_its_page(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = activate(users["district_admin"], needy_child(tree.village_a1), volunteer)
    client = login(users["district_admin"])
    assert "解除结对" in client.get(reverse("pairing:pairing_detail", args=[pairing.pk])).content.decode()
    client.post(reverse("pairing:end", args=[pairing.pk]), {"reason": "孩子年满18岁", "end_date": ""})
    pairing.refresh_from_db()
    assert (pairing.status, pairing.end_reason) == ("ended", "孩子年满18岁")


def test_the_end_date_is_filled_with_today_in_the_form_the_browser_accepts(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = activate(users["district_admin"], needy_child(tree.village_a1), volunteer)
    with translation.override("zh-hans"):
        page = login(users["district_admin"]).get(reverse("pairing:pairing_detail", args=[pairing.pk]))
    assert f'name="end_date" value="{timezone.localdate().isoformat()}"' in page.content.decode()


def test_village_director_reads_but_cannot_cancel(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = propose(users["district_admin"], needy_child(tree.village_a1), volunteer)
    client = login(users["village_director"])
    page = client.get(reverse("pairing:pairing_detail", args=[pairing.pk])).content.decode()
    assert "撤销结对提议" not in page
    assert client.post(reverse("pairing:cancel", args=[pairing.pk]), {"reason": "x"}).status_code == 403
    pairing.refresh_from_db()
    assert pairing.status == "proposed"


def test_unpaired_page_lists_children_waiting_for_a_mother(users, tree, login):
    waiting = needy_child(tree.village_a1, name="等妈妈")
    activate(
        users["district_admin"],
        needy_child(tree.village_a1, name="有妈妈"),
        factories.make_volunteer(tree.village_a1),
    )
    page = login(users["district_admin"]).get(reverse("pairing:unpaired")).content.decode()
    assert "等妈妈" in page and "有妈妈" not in page
    assert reverse("pairing:propose", args=[waiting.pk]) in page


def test_mother_with_an_active_pairing_is_sent_to_her_care_tasks(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = activate(users["district_admin"], needy_child(tree.village_a1), volunteer)
    page = login(volunteer.user).get(reverse("pairing:pairing_detail", args=[pairing.pk])).content.decode()
    assert "结对已于" in page
    assert reverse("care:checklist", args=[pairing.pk]) in page


def test_mother_who_declined_no_longer_sees_the_childs_needs(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = propose(users["district_admin"], needy_child(tree.village_a1, school="新田小学"), volunteer)
    client = login(volunteer.user)
    client.post(reverse("pairing:respond", args=[pairing.pk]), {"accept": "0", "reason_choice": "距离太远"})
    page = client.get(reverse("pairing:pairing_detail", args=[pairing.pk])).content.decode()
    assert "您已婉拒这次结对邀请。" in page
    assert "新田小学" not in page and "生活困难" not in page


def test_mother_sees_her_other_pending_invitations(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1, capacity=3)
    first = propose(users["district_admin"], needy_child(tree.village_a1, name="甲娃"), volunteer)
    second = propose(users["district_admin"], needy_child(tree.village_a1, name="乙娃"), volunteer)
    page = login(volunteer.user).get(reverse("pairing:pairing_detail", args=[first.pk])).content.decode()
    assert "我的结对邀请" in page
    assert reverse("pairing:pairing_detail", args=[second.pk]) in page
