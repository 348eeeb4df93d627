"""通知中心, 通知设置 and the API: every role reads only their own notifications."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from aixin.notify.models import Notification, NotificationPreference
from aixin.notify.services import notify
from tests import factories

ROLES = ["city_admin", "district_admin", "town_supervisor", "village_director", "volunteer"]


@pytest.fixture
def people(tree, users):
    people = dict(users)
    people["volunteer"] = factories.make_volunteer(tree.village_a1, name="李爱华").user
    people["other_mother"] = factories.make_volunteer(tree.village_b1, name="丙妈妈").user
    return people


def _note(user, title, key=None, link="/care/mine/"):
    notify([user], kind="general", title=title, body="内容", link=link, dedupe_key=key or title)
    return Notification.objects.get(recipient=user, dedupe_key=key or title)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_opens_their_own_notification_centre_and_never_sees_anothers(people, login, role):
    _note(people[role], "我的通知")
    _note(people["other_mother"], "别人的通知")

    page = login(people[role]).get(reverse("notify:inbox"))

    assert page.status_code == 200
    text = page.content.decode()
    assert "我的通知" in text
    assert "别人的通知" not in text


@pytest.mark.parametrize(
    "url",
    [
        reverse("notify:inbox"),
        reverse("notify:preferences"),
    ],
)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_unread_notifications_come_first_and_can_be_filtered(people, login):
    me = people["volunteer"]
    old_unread = _note(me, "较早未读")
    read = _note(me, "已读的")
    new_unread = _note(me, "最新未读")
    read.read_at = read.created_at
    read.save()

    client = login(me)
    text = client.get(reverse("notify:inbox")).content.decode()
    assert text.index("最新未读") < text.index("较早未读") < text.index("已读的")
    assert "2 条未读" in text
    only = client.get(reverse("notify:inbox"), {"unread": "1"}).content.decode()
    assert "已读的" not in only and "最新未读" in only
    assert old_unread.pk != new_unread.pk


def test_marking_one_read_by_htmx_returns_the_updated_item(people, login):
    mine = _note(people["volunteer"], "我的通知")

    response = login(people["volunteer"]).post(
        reverse("notify:mark_read", args=[mine.pk]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert f'id="notification-{mine.pk}"' in response.content.decode()
    assert "标为已读" not in response.content.decode()
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(people, login):
    mine = _note(people["town_supervisor"], "待结对提醒", link="/pairings/unpaired/")

    response = login(people["town_supervisor"]).post(
        reverse("notify:mark_read", args=[mine.pk]), {"open": "1"}
    )

    assert response.status_code == 302 and response["Location"] == "/pairings/unpaired/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_marking_anothers_notification_read_is_not_found_and_changes_nothing(people, login):
    theirs = _note(people["other_mother"], "别人的通知")

    for role in ROLES:
        client = login(people[role])
        assert client.post(reverse("notify:mark_read", args=[theirs.pk])).status_code == 404
        assert client.post(reverse("api:notifications_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_my_notifications(people, login):
    _note(people["volunteer"], "一")
    _note(people["volunteer"], "二")
    theirs = _note(people["other_mother"], "别人的通知")

    response = login(people["volunteer"]).post(reverse("notify:mark_all_read"))

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=people["volunteer"], read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_mother_switches_sms_reminders_off_on_the_settings_page(people, login, sms):
    client = login(people["volunteer"])
    page = client.get(reverse("notify:preferences")).content.decode()
    assert 'value="care_overdue:sms" checked' in page
    assert "区县每周工作提示" not in page  # a staff kind

    response = client.post(reverse("notify:preferences"), {"on": ["weekly_summary:sms"]})

    assert response.status_code == 302
    prefs = dict(
        NotificationPreference.objects.filter(user=people["volunteer"]).values_list("kind", "enabled")
    )
    assert prefs["care_overdue"] is False and prefs["weekly_summary"] is True
    assert (
        'value="care_overdue:sms" checked' not in client.get(reverse("notify:preferences")).content.decode()
    )


def test_the_settings_page_refuses_a_channel_that_does_not_exist(people, login, sms):
    client = login(people["district_admin"])
    response = client.post(reverse("notify:preferences"), {"on": ["district_digest:pigeon"]})
    assert response.status_code == 200
    assert "没有“pigeon”这一通知渠道" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_the_header_badge_shows_my_unread_count(people):
    _note(people["village_director"], "一")
    _note(people["village_director"], "二")
    _note(people["other_mother"], "别人的通知")
    request = RequestFactory().get("/")
    request.user = people["village_director"]

    html = Template("{% load notify %}{% notify_badge %}").render(Context({"request": request}))

    assert reverse("notify:inbox") in html
    assert ">2</span>" in html


# ---------------------------------------------------------------------------------------------
# API


def test_the_api_lists_my_notifications_unread_first_with_paging(people, login):
    me = people["district_admin"]
    first = _note(me, "一")
    _note(me, "二")
    _note(me, "三")
    _note(people["district_b_admin"], "别人的通知")
    client = login(me)
    client.post(reverse("api:notifications_read", args=[first.pk]))

    data = client.get(reverse("api:notifications_list"), {"limit": 2}).json()

    assert (data["count"], data["unread"], data["limit"], data["offset"]) == (3, 2, 2, 0)
    assert [i["title"] for i in data["items"]] == ["三", "二"]
    rest = client.get(reverse("api:notifications_list"), {"limit": 2, "offset": 2}).json()
    assert [i["title"] for i in rest["items"]] == ["一"]
    assert rest["items"][0]["read_at"] is not None
    unread = client.get(reverse("api:notifications_list"), {"unread": "1"}).json()
    assert [i["title"] for i in unread["items"]] == ["三", "二"]


def test_the_api_marks_my_notification_read(people, login):
    mine = _note(people["volunteer"], "我的通知")

    data = login(people["volunteer"]).post(reverse("api:notifications_read", args=[mine.pk])).json()

    assert data["id"] == mine.pk and data["read_at"] is not None
    assert data["kind_label"] == "系统通知"


def test_the_api_refuses_anonymous_callers(client, people):
    mine = _note(people["volunteer"], "我的通知")
    assert client.get(reverse("api:notifications_list")).status_code == 401
    assert client.post(reverse("api:notifications_read", args=[mine.pk])).status_code == 401
