"""The periodic jobs, run with a fixed date: their content, their scope and that a second run
sends nothing."""

from __future__ import annotations

import datetime

from aixin.alerts.models import Alert
from aixin.notify import jobs, tasks
from aixin.notify.models import Delivery, Notification, NotificationKind
from tests import factories
from tests.alerts.helpers import make_alert
from tests.care.helpers import paired_child, record

D = datetime.date
MONDAY = D(2026, 3, 9)  # this week is 9–15 March, the previous one 2–8 March
WEDNESDAY = D(2026, 3, 11)
K = NotificationKind


def of(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind).order_by("id"))


# ---------------------------------------------------------------------------------------------
# Loving mothers


def test_the_weekly_summary_lists_each_child_with_what_is_overdue_or_due_by_sunday(tree):
    mother = factories.make_volunteer(tree.village_a1, name="李爱华", capacity=5)
    done = paired_child(tree.village_a1, name="王小丫", mother=mother, start=D(2026, 2, 2))
    record(done, D(2026, 2, 20), ["monthly_guardian", "term_activity"], today=MONDAY)
    record(done, MONDAY, ["weekly_contact"], today=MONDAY)
    paired_child(tree.village_a1, name="李小明", mother=mother, start=D(2026, 2, 2))
    paired_child(tree.village_a1, name="陈小花", mother=mother, start=MONDAY)

    assert jobs.weekly_mother_summaries(today=MONDAY) == 1

    [summary] = of(mother.user, K.WEEKLY_SUMMARY)
    assert summary.title == "本周关爱提醒：3名孩子，4项待完成"
    assert summary.body.splitlines() == [
        "3月9日—3月15日",
        "陈小花：",
        "· 本周到期：每周与孩子联系一次（3月15日前）",
        "李小明：",
        "· 已逾期：每周与孩子联系一次",
        "· 已逾期：每月与监护人交流一次",
        "· 已逾期：每学期陪伴孩子参加一次亲子活动",
        "王小丫：本周事项都已完成",
    ]
    assert summary.link == "/care/mine/"


def test_running_the_weekly_summary_twice_sends_one_summary_with_one_delivery_per_channel(tree, sms):
    mother = factories.make_volunteer(tree.village_a1, name="李爱华")
    paired_child(tree.village_a1, mother=mother, start=D(2026, 2, 2))

    assert jobs.weekly_mother_summaries(today=MONDAY) == 1
    assert jobs.weekly_mother_summaries(today=WEDNESDAY) == 0  # same ISO week

    assert Notification.objects.count() == 1
    assert sorted(Delivery.objects.values_list("channel", flat=True)) == ["inapp", "sms"]
    assert jobs.weekly_mother_summaries(today=MONDAY + datetime.timedelta(days=7)) == 1


def test_a_mother_without_a_login_or_without_active_pairings_gets_no_summary(tree):
    no_login = factories.make_volunteer(tree.village_a1, name="赵无号", with_user=False)
    paired_child(tree.village_a1, mother=no_login, start=D(2026, 2, 2))
    idle = factories.make_volunteer(tree.village_a1, name="钱空闲")

    assert jobs.weekly_mother_summaries(today=MONDAY) == 0
    assert of(idle.user, K.WEEKLY_SUMMARY) == []


def test_a_mother_is_reminded_of_overdue_items_once_per_period(tree):
    pairing = paired_child(tree.village_a1, name="王小丫", start=D(2026, 2, 2))
    mother = pairing.volunteer.user

    assert jobs.mother_overdue_reminders(today=MONDAY) == 1
    assert jobs.mother_overdue_reminders(today=MONDAY) == 0
    assert jobs.mother_overdue_reminders(today=WEDNESDAY) == 0

    [reminder] = of(mother, K.CARE_OVERDUE)
    assert reminder.title == "王小丫有3项关爱已逾期"
    assert reminder.body.splitlines() == [
        "· 每周与孩子联系一次（本期 3月9日—3月15日）",
        "· 每月与监护人交流一次（本期 3月1日—3月31日）",
        "· 每学期陪伴孩子参加一次亲子活动（本期 2月20日—8月31日）",
    ]
    assert reminder.link == f"/care/pairings/{pairing.pk}/"

    # A new week: the weekly contact is overdue again, in a new period.
    assert jobs.mother_overdue_reminders(today=D(2026, 3, 16)) == 1


def test_a_mother_who_caught_up_gets_no_reminder(tree):
    pairing = paired_child(tree.village_a1, start=D(2026, 2, 2))
    record(pairing, D(2026, 2, 5), ["weekly_contact", "monthly_guardian"], today=MONDAY)
    record(pairing, D(2026, 3, 3), ["weekly_contact", "term_activity"], today=MONDAY)

    assert jobs.mother_overdue_reminders(today=MONDAY) == 0


# ---------------------------------------------------------------------------------------------
# Staff


def test_staff_are_alerted_to_unpaired_orphans_in_their_own_scope_only(tree, users):
    factories.make_child(tree.village_a1, name="甲孤儿", is_scattered_orphan=True)
    factories.make_child(tree.village_b1, name="丙孤儿", is_scattered_orphan=True)
    factories.make_child(tree.village_a1, name="甲困难", difficulty_life=True)  # not must-cover

    jobs.staff_alerts(today=WEDNESDAY)

    [city] = of(users["city_admin"], K.UNPAIRED_MUST_COVER)
    assert city.title == "2名散居孤儿、事实无人抚养儿童尚未结对"
    assert "甲孤儿" in city.body and "丙孤儿" in city.body
    for role in ("district_admin", "town_supervisor", "village_director"):
        [mine] = of(users[role], K.UNPAIRED_MUST_COVER)
        assert mine.title == "1名散居孤儿、事实无人抚养儿童尚未结对"
        assert "甲孤儿" in mine.body and "丙孤儿" not in mine.body and "甲困难" not in mine.body
        assert mine.link == "/pairings/unpaired/"
    [other] = of(users["district_b_admin"], K.UNPAIRED_MUST_COVER)
    assert "甲孤儿" not in other.body


def test_staff_alerts_run_twice_send_nothing_new_until_another_child_is_added(tree, users):
    factories.make_child(tree.village_a1, name="甲孤儿", is_scattered_orphan=True)
    assert jobs.staff_alerts(today=WEDNESDAY) == 4  # city, district A, town A1, village A1
    assert jobs.staff_alerts(today=WEDNESDAY) == 0

    factories.make_child(tree.village_a2, name="乙孤儿", is_scattered_orphan=True)
    jobs.staff_alerts(today=WEDNESDAY)

    assert [n.title[:2] for n in of(users["district_admin"], K.UNPAIRED_MUST_COVER)] == ["1名", "2名"]
    assert len(of(users["town_supervisor"], K.UNPAIRED_MUST_COVER)) == 1  # 乙 is in another town


def test_staff_are_alerted_to_overdue_items_and_children_out_of_contact(tree, users):
    paired_child(tree.village_a1, name="王小丫", start=D(2026, 1, 1))

    jobs.staff_alerts(today=WEDNESDAY)

    [overdue] = of(users["village_director"], K.STAFF_OVERDUE)
    assert overdue.title == "辖区内有3项 6+1 关爱逾期"
    assert overdue.body.splitlines() == [
        "· 每周与孩子联系一次：1项",
        "· 每月与监护人交流一次：1项",
        "· 每学期陪伴孩子参加一次亲子活动：1项",
    ]
    [quiet] = of(users["village_director"], K.NO_CONTACT)
    assert quiet.title == "1名结对儿童超过14天未联系，其中1名超过30天"
    assert "王小丫" in quiet.body
    assert of(users["district_b_admin"], K.STAFF_OVERDUE) == []
    assert of(users["district_b_admin"], K.NO_CONTACT) == []
    assert jobs.staff_alerts(today=WEDNESDAY) == 0


def test_the_district_digest_counts_the_week_of_the_administrators_district(tree, users):
    tz = datetime.timezone(datetime.timedelta(hours=8))
    a1 = factories.make_child(tree.village_a1, name="甲一", difficulty_life=True)
    a2 = factories.make_child(tree.village_a2, name="甲二", difficulty_life=True)
    make_alert(a1, "risk_review")
    make_alert(a2, "risk_review")
    Alert.objects.filter(child=a1).update(created_at=datetime.datetime(2026, 3, 5, 9, tzinfo=tz))
    Alert.objects.filter(child=a2).update(created_at=datetime.datetime(2026, 2, 1, 9, tzinfo=tz))
    factories.make_child(tree.village_a1, name="甲孤儿", is_scattered_orphan=True)
    factories.make_child(tree.village_b1, name="丙孤儿", is_scattered_orphan=True)
    paired_child(tree.village_a1, name="王小丫", start=D(2026, 2, 2))

    assert jobs.district_digests(today=MONDAY) >= 2
    assert jobs.district_digests(today=MONDAY) == 0

    [digest] = of(users["district_admin"], K.DISTRICT_DIGEST)
    assert digest.title == "万州区本周工作提示（3月9日）"
    assert digest.body.splitlines() == [
        "· 近7天新增预警：1条（待处理共2条）",
        "· 6+1 关爱逾期：3项",
        "· 散居孤儿、事实无人抚养儿童未结对：1名",
        "· 超过30天未联系结对儿童的爱心妈妈：1名",
    ]
    assert digest.link == "/dashboard/?region=500101"
    [other] = of(users["district_b_admin"], K.DISTRICT_DIGEST)
    assert other.body.splitlines()[2] == "· 散居孤儿、事实无人抚养儿童未结对：1名"
    assert other.body.splitlines()[1] == "· 6+1 关爱逾期：0项"
    assert of(users["town_supervisor"], K.DISTRICT_DIGEST) == []


# ---------------------------------------------------------------------------------------------
# The queue


def test_the_periodic_tasks_run_the_jobs_for_today(tree):
    pairing = paired_child(tree.village_a1, start=datetime.date.today() - datetime.timedelta(days=60))

    assert tasks.send_weekly_mother_summaries.call_local() == 1
    assert tasks.send_mother_overdue_reminders.call_local() == 1
    assert tasks.send_staff_alerts.call_local() >= 1
    assert tasks.send_district_digests.call_local() >= 1
    assert tasks.deliver_notifications.call_local()["failed"] == 0  # the demo's console channel
    assert not Delivery.objects.exclude(status="sent").exists()
    assert Notification.objects.filter(recipient=pairing.volunteer.user).count() == 2


def test_schedules_are_read_in_chongqing_time():
    monday_7am = tasks.local_crontab(day_of_week="1", hour="7", minute="0")
    # The queue's clock is UTC: 07:00 on Monday in Chongqing is 23:00 on Sunday UTC.
    assert monday_7am(datetime.datetime(2026, 3, 8, 23, 0))
    assert not monday_7am(datetime.datetime(2026, 3, 9, 7, 0))
