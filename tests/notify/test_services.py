from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from aixin.lib.errors import InvalidInput
from aixin.notify.models import Delivery, DeliveryStatus, Notification, NotificationKind
from aixin.notify.services import (
    STALE_CLAIM,
    deliver_pending,
    notify,
    preferences_update,
)
from tests import factories

K = NotificationKind


def _notify(users, key="general:1", kind=K.GENERAL, **kw):
    return notify(
        users,
        kind=kind,
        title=kw.pop("title", "系统维护通知"),
        body=kw.pop("body", "今晚22点系统维护"),
        link=kw.pop("link", "/"),
        dedupe_key=key,
    )


def test_notifying_twice_with_the_same_key_writes_one_notification_and_one_delivery_per_channel(
    users, fake_channel
):
    staff = [users["district_admin"], users["town_supervisor"]]

    assert _notify(staff) == 2
    assert _notify(staff) == 0

    assert Notification.objects.count() == 2
    assert sorted(Delivery.objects.values_list("notification__recipient", "channel")) == sorted(
        [(u.pk, c) for u in staff for c in ("inapp", "fake")]
    )
    # In-app is delivered by being written; the fake channel waits for the sender.
    assert set(Delivery.objects.filter(channel="inapp").values_list("status", flat=True)) == {"sent"}
    assert set(Delivery.objects.filter(channel="fake").values_list("status", flat=True)) == {"pending"}


def test_a_new_key_for_the_same_person_is_a_new_notification(users, fake_channel):
    user = users["village_director"]
    _notify([user], key="case:1:due:2026-03-10")
    _notify([user], key="case:1:due:2026-03-17")
    assert Notification.objects.filter(recipient=user).count() == 2


def test_notify_accepts_user_ids_and_leaves_out_inactive_users(users):
    left = users["town_supervisor"]
    left.is_active = False
    left.save()

    assert _notify([users["district_admin"].pk, left.pk]) == 1
    assert list(Notification.objects.values_list("recipient", flat=True)) == [users["district_admin"].pk]


@pytest.mark.parametrize(
    ("field", "value"),
    [("link", "https://example.com/x"), ("link", "//evil.example/x"), ("kind", "nonsense"), ("key", "")],
)
def test_a_notification_with_an_outside_link_unknown_kind_or_no_key_is_refused(users, field, value):
    kw = {"link": "/alerts/", "kind": K.GENERAL, "key": "k"}
    kw[field] = value
    with pytest.raises(InvalidInput):
        _notify([users["city_admin"]], key=kw.pop("key"), **kw)
    assert Notification.objects.count() == 0


def test_sms_is_on_by_default_for_a_mothers_reminders_and_off_for_everything_else(tree, users, sms):
    mother = factories.make_volunteer(tree.village_a1, name="李爱华").user
    _notify([mother], key="overdue:1", kind=K.CARE_OVERDUE)
    _notify([mother], key="general:1", kind=K.GENERAL)
    _notify([users["district_admin"]], key="unpaired:1", kind=K.UNPAIRED_MUST_COVER)

    channels = {(d.notification.kind, d.channel) for d in Delivery.objects.select_related("notification")}
    assert channels == {
        ("care_overdue", "inapp"),
        ("care_overdue", "sms"),
        ("general", "inapp"),
        ("unpaired_must_cover", "inapp"),
    }


def test_a_mother_who_switched_sms_off_gets_her_reminders_in_the_app_only(tree, sms):
    mother = factories.make_volunteer(tree.village_a1, name="李爱华").user
    preferences_update(user=mother, enabled=[("weekly_summary", "sms")])  # care_overdue off

    _notify([mother], key="overdue:1", kind=K.CARE_OVERDUE)
    _notify([mother], key="week:1", kind=K.WEEKLY_SUMMARY)

    assert sorted(Delivery.objects.values_list("notification__kind", "channel")) == [
        ("care_overdue", "inapp"),
        ("weekly_summary", "inapp"),
        ("weekly_summary", "sms"),
    ]


def test_staff_who_switched_a_channel_on_get_that_kind_through_it(users, fake_channel, settings):
    settings.AIXIN_NOTIFY_DEFAULT_ON = {"fake": []}
    admin = users["district_admin"]
    preferences_update(user=admin, enabled=[("district_digest", "fake")])

    _notify([admin], key="digest:1", kind=K.DISTRICT_DIGEST)
    _notify([admin], key="overdue:1", kind=K.STAFF_OVERDUE)

    assert sorted(Delivery.objects.values_list("notification__kind", "channel")) == [
        ("district_digest", "fake"),
        ("district_digest", "inapp"),
        ("staff_overdue", "inapp"),
    ]


def test_preferences_refuse_a_channel_that_is_not_configured_and_a_kind_of_another_role(
    tree, users, fake_channel
):
    mother = factories.make_volunteer(tree.village_a1).user
    with pytest.raises(InvalidInput, match="通知渠道"):
        preferences_update(user=mother, enabled=[("care_overdue", "wechat")])
    with pytest.raises(InvalidInput, match="district_digest"):
        preferences_update(user=mother, enabled=[("district_digest", "fake")])
    assert mother.notification_preferences.count() == 0


# ---------------------------------------------------------------------------------------------
# Delivery


def test_delivering_sends_each_pending_delivery_once(users, fake_channel):
    _notify([users["district_admin"], users["town_supervisor"]])

    assert deliver_pending() == {"sent": 2, "failed": 0, "skipped": 0}
    assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 0}

    assert len(fake_channel.sent) == 2
    fake = Delivery.objects.filter(channel="fake")
    assert set(fake.values_list("status", "attempts")) == {("sent", 1)}
    assert all(d.sent_at is not None for d in fake)


def test_a_channel_failure_is_recorded_and_retried_by_the_next_run_without_duplicates(users, fake_channel):
    _notify([users["district_admin"]])
    fake_channel.failures = 1

    assert deliver_pending() == {"sent": 0, "failed": 1, "skipped": 0}
    delivery = Delivery.objects.get(channel="fake")
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "网关暂时不可用")
    assert fake_channel.sent == []

    assert deliver_pending() == {"sent": 1, "failed": 0, "skipped": 0}
    assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 0}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(fake_channel.sent) == 1


def test_retries_stop_after_the_configured_number_of_attempts(users, fake_channel, settings):
    settings.AIXIN_NOTIFY_MAX_ATTEMPTS = 2
    _notify([users["district_admin"]])
    fake_channel.failures = 10

    deliver_pending()
    deliver_pending()
    assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 0}
    delivery = Delivery.objects.get(channel="fake")
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert fake_channel.failures == 8


def test_a_delivery_claimed_by_a_worker_that_died_is_taken_over_later(users, fake_channel):
    _notify([users["district_admin"]])
    now = timezone.now()
    Delivery.objects.filter(channel="fake").update(status="sending", claimed_at=now, attempts=1)

    assert deliver_pending()["sent"] == 0  # still someone else's claim
    Delivery.objects.filter(channel="fake").update(
        claimed_at=now - STALE_CLAIM - datetime.timedelta(seconds=1)
    )
    assert deliver_pending()["sent"] == 1
    assert Delivery.objects.get(channel="fake").attempts == 2


def test_deliveries_of_a_channel_no_longer_configured_wait_instead_of_failing(users, fake_channel, settings):
    _notify([users["district_admin"]])
    settings.AIXIN_NOTIFY_CHANNELS = ["aixin.notify.channels.InAppChannel"]

    assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 0}
    assert Delivery.objects.get(channel="fake").status == DeliveryStatus.PENDING


def test_sms_to_staff_without_a_phone_number_is_skipped_and_not_retried(users, sms, settings):
    settings.AIXIN_NOTIFY_DEFAULT_ON = {"sms": ["*"]}
    _notify([users["district_admin"]])

    assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 1}
    assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 0}
    delivery = Delivery.objects.get(channel="sms")
    assert (delivery.status, delivery.last_error) == ("skipped", "未登记手机号")
    assert sms.received == []


def test_the_notification_centre_gets_it_even_with_every_other_channel_switched_off(users, fake_channel):
    preferences_update(user=users["city_admin"], enabled=[])
    _notify([users["city_admin"]], kind=K.CASE_DEADLINE, key="case:9")
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["inapp"]


def test_a_notification_body_is_stored_sealed_and_shown_in_clear_in_the_inbox(users, client):
    from django.db import connection
    from django.urls import reverse

    staff = users["district_admin"]
    _notify([staff], body="孩子说爸爸喝了酒就打人")
    notification = Notification.objects.get(recipient=staff)
    with connection.cursor() as cursor:
        cursor.execute("SELECT body_encrypted FROM notify_notification WHERE id = %s", [notification.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("k") and "打人" not in stored
    assert notification.body == "孩子说爸爸喝了酒就打人"
    client.force_login(staff)
    assert "孩子说爸爸喝了酒就打人" in client.get(reverse("notify:inbox")).content.decode()
