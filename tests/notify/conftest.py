from __future__ import annotations

import pytest

from tests.notify.fakes import FakeChannel, start_server

INAPP = "aixin.notify.channels.InAppChannel"
SMS = "aixin.notify.channels.SmsGatewayChannel"
WECHAT = "aixin.notify.channels.WeChatTemplateChannel"
FAKE = "tests.notify.fakes.FakeChannel"


@pytest.fixture
def http_server():
    recorder, server = start_server()
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_channel(settings):
    """The fake channel configured beside in-app, on for every kind by default."""
    FakeChannel.sent = []
    FakeChannel.failures = 0
    settings.AIXIN_NOTIFY_CHANNELS = [INAPP, FAKE]
    settings.AIXIN_NOTIFY_DEFAULT_ON = {"fake": ["*"]}
    return FakeChannel


@pytest.fixture
def sms(settings, http_server):
    """The SMS gateway channel, pointed at the local server."""
    settings.AIXIN_NOTIFY_CHANNELS = [INAPP, SMS]
    settings.AIXIN_NOTIFY_SMS_URL = http_server.url
    settings.AIXIN_NOTIFY_SMS_SECRET = "sms-test-secret"
    settings.AIXIN_NOTIFY_DEFAULT_ON = {"sms": ["weekly_summary", "care_overdue"]}
    return http_server
