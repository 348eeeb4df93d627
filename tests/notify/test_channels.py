"""The HTTP channels against a local server (never the network), and the console channel."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pytest

from aixin.notify.channels import (
    CONFIDENTIAL_BODY,
    CONFIDENTIAL_KINDS,
    ChannelError,
    ChannelSkipped,
    SmsGatewayChannel,
    WeChatTemplateChannel,
)
from aixin.notify.models import Delivery, Notification, NotificationKind, WeChatAccount
from aixin.notify.services import deliver_pending, notify
from aixin.registry.derive import reveal_volunteer_phone
from tests import factories
from tests.notify.conftest import INAPP, WECHAT


def _reminder(user, key="care_overdue:p1:abc"):
    notify(
        [user],
        kind=NotificationKind.CARE_OVERDUE,
        title="王小丫有2项关爱已逾期",
        body="· 每周与孩子联系一次",
        link="/care/pairings/1/",
        dedupe_key=key,
    )
    return Notification.objects.get(recipient=user, dedupe_key=key)


def test_the_sms_gateway_receives_signed_json_with_the_mothers_number_and_the_text(tree, sms):
    volunteer = factories.make_volunteer(tree.village_a1, name="李爱华")
    notification = _reminder(volunteer.user)

    assert deliver_pending() == {"sent": 1, "failed": 0, "skipped": 0}

    [got] = sms.received
    assert got.json() == {
        "to": reveal_volunteer_phone(volunteer),
        "text": "【渝好爱心妈妈】王小丫有2项关爱已逾期：· 每周与孩子联系一次",
        "ref": f"aixin-notification-{notification.pk}",
    }
    ts = got.headers["X-Aixin-Timestamp"]
    expected = hmac.new(b"sms-test-secret", f"{ts}.".encode() + got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Aixin-Signature"] == expected
    assert Delivery.objects.get(channel="sms").status == "sent"


def test_a_gateway_error_is_recorded_retried_once_and_the_log_never_shows_the_full_number(tree, sms, caplog):
    volunteer = factories.make_volunteer(tree.village_a1, name="李爱华")
    phone = reveal_volunteer_phone(volunteer)
    _reminder(volunteer.user)
    sms.statuses = [503]

    with caplog.at_level(logging.INFO, logger="aixin.notify"):
        assert deliver_pending()["failed"] == 1
        assert deliver_pending()["sent"] == 1
        assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 0}

    assert len(sms.received) == 2
    delivery = Delivery.objects.get(channel="sms")
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "接口返回 HTTP 503")
    assert phone not in caplog.text
    assert f"{phone[:3]}****{phone[-4:]}" in caplog.text


def test_a_gateway_that_does_not_answer_in_time_is_a_failure(tree, sms, settings):
    settings.AIXIN_NOTIFY_HTTP_TIMEOUT = 0.2
    sms.delay = 1.0
    volunteer = factories.make_volunteer(tree.village_a1)
    notification = _reminder(volunteer.user)

    with pytest.raises(ChannelError, match="接口无法访问"):
        SmsGatewayChannel().send(notification, volunteer.user)


def test_an_unreachable_or_unset_gateway_is_a_failure(tree, sms, settings):
    volunteer = factories.make_volunteer(tree.village_a1)
    notification = _reminder(volunteer.user)
    settings.AIXIN_NOTIFY_SMS_URL = ""
    with pytest.raises(ChannelError, match="未配置"):
        SmsGatewayChannel().send(notification, volunteer.user)
    settings.AIXIN_NOTIFY_SMS_URL = "http://127.0.0.1:9/closed"
    with pytest.raises(ChannelError, match="接口无法访问"):
        SmsGatewayChannel().send(notification, volunteer.user)


@pytest.fixture
def wechat(settings, http_server):
    settings.AIXIN_NOTIFY_CHANNELS = [INAPP, WECHAT]
    settings.AIXIN_NOTIFY_WECHAT_URL = http_server.url
    settings.AIXIN_NOTIFY_WECHAT_SECRET = "wx-secret"
    settings.AIXIN_NOTIFY_WECHAT_TEMPLATE = "TPL-001"
    settings.AIXIN_NOTIFY_SITE_URL = "https://aixin.example.cn/"
    settings.AIXIN_NOTIFY_DEFAULT_ON = {"wechat": ["*"]}
    return http_server


def test_a_wechat_template_message_goes_to_the_bound_openid_with_the_full_link(tree, wechat):
    volunteer = factories.make_volunteer(tree.village_a1)
    WeChatAccount.objects.create(user=volunteer.user, openid="oABC123")
    _reminder(volunteer.user)

    assert deliver_pending()["sent"] == 1

    [got] = wechat.received
    body = got.json()
    assert (body["touser"], body["template_id"], body["url"]) == (
        "oABC123",
        "TPL-001",
        "https://aixin.example.cn/care/pairings/1/",
    )
    assert body["data"]["title"]["value"] == "王小丫有2项关爱已逾期"
    assert "X-Aixin-Signature" in got.headers


def test_a_user_without_a_wechat_binding_is_skipped_and_nothing_is_posted(tree, wechat):
    volunteer = factories.make_volunteer(tree.village_a1)
    notification = _reminder(volunteer.user)
    with pytest.raises(ChannelSkipped):
        WeChatTemplateChannel().send(notification, volunteer.user)

    assert deliver_pending() == {"sent": 0, "failed": 0, "skipped": 1}
    assert Delivery.objects.get(channel="wechat").last_error == "未绑定微信"
    assert wechat.received == []


def test_the_console_channel_logs_the_title_for_the_demo(users, settings, caplog):
    settings.AIXIN_NOTIFY_CHANNELS = [INAPP, "aixin.notify.channels.ConsoleChannel"]
    settings.AIXIN_NOTIFY_DEFAULT_ON = {"console": ["*"]}
    notify([users["district_admin"]], kind="general", title="系统维护通知", dedupe_key="m:1")

    with caplog.at_level(logging.INFO, logger="aixin.notify"):
        assert deliver_pending()["sent"] == 1
    assert "系统维护通知" in caplog.text


def _risk_report(user):
    notify(
        [user],
        kind=NotificationKind.CASE_REFERRAL,
        title="新的风险报告：王小花（遭受家庭暴力）",
        body="邻居报告：孩子手臂上有淤青，说是爸爸喝酒后打的",
        link="/cases/7/",
        dedupe_key="case:7:reported",
    )
    return Notification.objects.get(recipient=user, dedupe_key="case:7:reported")


def test_a_risk_case_leaves_by_text_message_without_the_childs_name_or_what_happened(tree, sms, settings):
    settings.AIXIN_NOTIFY_DEFAULT_ON = {"sms": ["case_referral"]}
    volunteer = factories.make_volunteer(tree.village_a1)
    notification = _risk_report(volunteer.user)

    assert deliver_pending()["sent"] == 1

    [got] = sms.received
    text = got.json()["text"]
    assert text == "【渝好爱心妈妈】风险事件流转：有一项需要您处理：" + CONFIDENTIAL_BODY
    for secret in ("王小花", "家庭暴力", "淤青", "爸爸"):
        assert secret not in got.body.decode()
    # Inside the system, behind the log-in, the notification keeps its details.
    notification.refresh_from_db()
    assert (notification.title, notification.body) == (
        "新的风险报告：王小花（遭受家庭暴力）",
        "邻居报告：孩子手臂上有淤青，说是爸爸喝酒后打的",
    )


def test_a_risk_case_leaves_by_wechat_with_its_link_but_without_its_details(tree, wechat):
    volunteer = factories.make_volunteer(tree.village_a1)
    WeChatAccount.objects.create(user=volunteer.user, openid="oABC123")
    _risk_report(volunteer.user)

    assert deliver_pending()["sent"] == 1

    [got] = wechat.received
    data = got.json()["data"]
    assert data["title"]["value"] == "风险事件流转：有一项需要您处理"
    assert data["body"]["value"] == CONFIDENTIAL_BODY
    assert got.json()["url"] == "https://aixin.example.cn/cases/7/"
    assert "王小花" not in got.body.decode() and "淤青" not in got.body.decode()


def test_the_console_channel_logs_a_risk_case_only_as_its_kind(users, settings, caplog):
    settings.AIXIN_NOTIFY_CHANNELS = [INAPP, "aixin.notify.channels.ConsoleChannel"]
    settings.AIXIN_NOTIFY_DEFAULT_ON = {"console": ["*"]}
    _risk_report(users["district_admin"])

    with caplog.at_level(logging.INFO, logger="aixin.notify"):
        assert deliver_pending()["sent"] == 1
    assert "风险事件流转：有一项需要您处理" in caplog.text
    assert "王小花" not in caplog.text and "家庭暴力" not in caplog.text


def test_the_confidential_kinds_are_kinds_of_notification():
    assert set(NotificationKind.values) >= CONFIDENTIAL_KINDS
    assert {"case_referral", "case_mandatory", "case_deadline", "taskforce_action"} <= CONFIDENTIAL_KINDS
