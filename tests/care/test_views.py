import datetime
import re

from django.urls import reverse
from django.utils import timezone

from aixin.audit.models import AuditEvent
from aixin.care.models import CareComment, CareRecord
from tests import factories
from tests.care.helpers import paired_child, record


def test_three_taps_from_my_children_to_a_saved_weekly_contact(tree, login):
    pairing = paired_child(tree.village_a1, name="王小丫", start=datetime.date.today())
    client = login(pairing.volunteer.user)

    home = client.get(reverse("care:my_children"))
    assert home.status_code == 200
    html = home.content.decode()
    assert "王小丫" in html and "待完成 7" in html
    checklist_url = reverse("care:checklist", args=[pairing.pk])
    assert f'href="{checklist_url}"' in html  # tap 1

    page = client.get(checklist_url).content.decode()
    record_url = reverse("care:record_create", args=[pairing.pk]) + "?rule=weekly_contact"
    assert f'href="{record_url}"' in page  # tap 2
    assert "tel:13800001234" in page

    form = client.get(record_url).content.decode()
    assert f'data-draft-key="care-{pairing.pk}"' in form
    assert re.search(r'value="weekly_contact"[^>]*checked', form)
    assert re.search(r'value="phone"[^>]*checked', form)
    assert f'value="{datetime.date.today():%Y-%m-%d}"' in form

    saved = client.post(
        record_url,
        {  # tap 3: 保存, with what the form was pre-filled with
            "date": f"{datetime.date.today():%Y-%m-%d}",
            "kind": "phone",
            "rules": ["weekly_contact"],
        },
        follow=True,
    )
    assert saved.redirect_chain[-1][0] == checklist_url + "?saved=1"
    body = saved.content.decode()
    assert "已保存关爱记录：每周联系 已完成" in body
    assert re.search(
        r'<li class="item-done">\s*<span class="item-text">\s*<strong>每周与孩子联系一次</strong>', body
    )
    assert body.count('class="item-done"') == 1
    assert CareRecord.objects.get().kind == "phone"
    assert AuditEvent.objects.filter(action="create", object_type="care_record").count() == 1


def test_a_refused_record_shows_the_reason_and_writes_nothing(tree, login):
    pairing = paired_child(tree.village_a1)
    client = login(pairing.volunteer.user)
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    resp = client.post(
        reverse("care:record_create", args=[pairing.pk]),
        {
            "date": f"{tomorrow:%Y-%m-%d}",
            "kind": "phone",
            "rules": ["weekly_contact"],
        },
    )
    assert resp.status_code == 200
    assert "关爱日期不能晚于今天" in resp.content.decode()
    assert CareRecord.objects.count() == 0


def test_another_mothers_pairing_is_not_found_and_nothing_is_written(tree, login):
    pairing = paired_child(tree.village_a1)
    other = factories.make_volunteer(tree.village_a1, name="赵秀英")
    client = login(other.user)
    assert client.get(reverse("care:checklist", args=[pairing.pk])).status_code == 404
    assert client.get(reverse("care:record_create", args=[pairing.pk])).status_code == 404
    resp = client.post(
        reverse("care:record_create", args=[pairing.pk]),
        {
            "date": f"{datetime.date.today():%Y-%m-%d}",
            "kind": "phone",
            "rules": ["weekly_contact"],
        },
    )
    assert resp.status_code == 404
    assert CareRecord.objects.count() == 0
    assert "王小丫" not in client.get(reverse("care:my_children")).content.decode()


def test_my_children_flags_a_child_not_contacted_for_thirty_days(tree, login):
    pairing = paired_child(tree.village_a1, start=datetime.date.today() - datetime.timedelta(days=40))
    record(pairing, datetime.date.today() - datetime.timedelta(days=31), ["weekly_contact"])
    html = login(pairing.volunteer.user).get(reverse("care:my_children")).content.decode()
    assert '<span class="badge overdue">31天未联系</span>' in html


def test_the_badge_counts_the_real_days_since_the_last_contact_not_the_threshold(tree, login):
    today = timezone.localdate()
    pairing = paired_child(tree.village_a1, start=today - datetime.timedelta(days=40))
    record(pairing, today - datetime.timedelta(days=17), ["weekly_contact"])
    html = login(pairing.volunteer.user).get(reverse("care:my_children")).content.decode()
    assert '<span class="badge due">17天未联系</span>' in html
    assert "14天未联系" not in html


def test_a_child_never_contacted_shows_the_days_since_the_pairing_began(tree, login):
    pairing = paired_child(tree.village_a1, start=timezone.localdate() - datetime.timedelta(days=20))
    html = login(pairing.volunteer.user).get(reverse("care:my_children")).content.decode()
    assert '<span class="badge due">20天未联系</span>' in html


def test_volunteer_cannot_see_other_mothers_records(tree, login):
    mine = paired_child(tree.village_a1, name="王小丫")
    theirs = paired_child(tree.village_a1, name="陈小虎", mother_name="赵秀英")
    secret = record(theirs, datetime.date.today(), ["weekly_contact"], notes="家里最近有矛盾")
    client = login(mine.volunteer.user)
    assert client.get(reverse("care:record_detail", args=[secret.pk])).status_code == 404
    assert client.get(reverse("care:record_list")).status_code == 403
    own = record(mine, datetime.date.today(), ["weekly_contact"], notes="孩子很开心")
    page = client.get(reverse("care:record_detail", args=[own.pk])).content.decode()
    assert "孩子很开心" in page and "写点评" not in page


def test_staff_see_notes_in_scope_only(tree, users, login):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, datetime.date.today(), ["weekly_contact"], notes="家里最近有矛盾")
    assert (
        "家里最近有矛盾"
        in login(users["village_director"]).get(reverse("care:record_detail", args=[rec.pk])).content.decode()
    )
    assert (
        login(users["district_b_admin"]).get(reverse("care:record_detail", args=[rec.pk])).status_code == 404
    )
    assert (
        AuditEvent.objects.filter(action="view", object_type="care_record", object_id=str(rec.pk)).count()
        == 1
    )


def test_staff_comment_and_acknowledge_through_the_page(tree, users, login):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, datetime.date.today(), ["weekly_contact"])
    client = login(users["town_supervisor"])
    url = reverse("care:record_comment", args=[rec.pk])
    resp = client.post(url, {"text": "请下周家访一次", "acknowledge": "1"}, follow=True)
    assert "请下周家访一次" in resp.content.decode()
    rec.refresh_from_db()
    assert rec.acknowledged_by == users["town_supervisor"]
    assert list(CareComment.objects.values_list("text", flat=True)) == ["请下周家访一次"]


def test_comments_out_of_scope_or_by_mothers_are_refused(tree, users, login):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, datetime.date.today(), ["weekly_contact"])
    url = reverse("care:record_comment", args=[rec.pk])
    assert login(users["district_b_admin"]).post(url, {"text": "x", "acknowledge": "1"}).status_code == 404
    assert login(pairing.volunteer.user).post(url, {"text": "x"}).status_code == 403
    rec.refresh_from_db()
    assert rec.acknowledged_at is None and CareComment.objects.count() == 0


def test_record_list_filters_and_shows_inactive_children(tree, users, login):
    today = datetime.date.today()
    a = paired_child(
        tree.village_a1, name="王小丫", mother_name="李爱华", start=today - datetime.timedelta(days=60)
    )
    b = paired_child(
        tree.village_a2, name="陈小虎", mother_name="赵秀英", start=today - datetime.timedelta(days=60)
    )
    paired_child(
        tree.village_a2, name="刘小花", mother_name="孙丽", start=today - datetime.timedelta(days=60)
    )
    record(a, today, ["weekly_contact"])
    record(b, today - datetime.timedelta(days=20), ["monthly_guardian"])
    client = login(users["district_admin"])
    html = client.get(reverse("care:record_list")).content.decode()
    assert "超过30天未联系的儿童" in html
    top = html.split("<main")[1].split("card filters")[0]
    assert "刘小花" in top and "陈小虎" in top and "王小丫" not in top

    def rows(**params):
        body = client.get(reverse("care:record_list"), params).content.decode()
        return body.split("<tbody>")[1].split("</tbody>")[0]

    assert "王小丫" in rows(volunteer="爱华") and "陈小虎" not in rows(volunteer="爱华")
    assert "陈小虎" in rows(rule="monthly_guardian") and "王小丫" not in rows(rule="monthly_guardian")
    assert "王小丫" in rows(region=tree.town_a1.code) and "陈小虎" not in rows(region=tree.town_a1.code)
    since = f"{today - datetime.timedelta(days=5):%Y-%m-%d}"
    assert "陈小虎" not in rows(date_from=since)
    assert "陈小虎" not in login(users["district_b_admin"]).get(reverse("care:record_list")).content.decode()


def test_my_children_lists_pending_proposals_with_a_link(tree, login):
    from aixin.pairing.models import Pairing

    mother = factories.make_volunteer(tree.village_a1, name="李爱华", capacity=3)
    child = factories.make_child(tree.village_a1, name="周小宝", difficulty_life=True)
    proposal = Pairing.objects.create(
        child=child,
        volunteer=mother,
        tier=child.care_tier,
        status="proposed",
        district_id=child.district_id,
        town_id=child.town_id,
        village_id=child.region_id,
    )
    html = login(mother.user).get(reverse("care:my_children")).content.decode()
    assert "待我确认的结对邀请" in html
    assert f'href="{reverse("pairing:pairing_detail", args=[proposal.pk])}"' in html
    assert "周小宝" in html
