"""The tamper-evident audit log: every event sealed into an HMAC chain; `aixin audit verify`
finds the first altered, deleted or inserted entry and a cut-off tail; archiving copies old
events out and keeps them."""

from __future__ import annotations

import datetime
import gzip
import json
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from aixin.audit import chain
from aixin.audit.models import AuditArchive, AuditEvent, AuditSeal
from aixin.audit.services import audit_log


@pytest.fixture
def sealed(users):
    for i in range(5):
        audit_log(
            actor=users["district_admin"],
            action="view",
            object_type="child",
            object_id=i,
            summary=f"查看 {i}",
        )
    assert chain.seal_pending() == 5
    return list(AuditEvent.objects.order_by("pk"))


@contextmanager
def triggers_off(table: str):
    """What an intruder with database access would do (undone with the test's transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as c:
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks
            c.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield
        with connection.cursor() as c:
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")
            c.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    else:
        with connection.cursor() as c:
            c.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=%s", [table])
            found = c.fetchall()
            for name, _sql in found:
                c.execute(f"DROP TRIGGER {name}")
        yield
        with connection.cursor() as c:
            for _name, sql in found:
                c.execute(sql)


FORGED = (
    "INSERT INTO audit_auditevent (actor_name, actor_role, action, object_type, object_id, summary,"
    " details, user_agent, path, created_at) VALUES ('x', '', 'view', '', '', '伪造', '{}', '', '', %s)"
)


def _verify_fails(match: str) -> None:
    with pytest.raises(CommandError, match=match):
        call_command("audit", "verify")


def test_an_untouched_log_verifies(sealed, capsys):
    call_command("audit", "verify")
    assert "5 条已封存，哈希链校验通过" in capsys.readouterr().out
    assert list(AuditSeal.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]


def test_an_event_whose_summary_was_changed_in_the_database_is_named(sealed):
    with triggers_off("audit_auditevent"), connection.cursor() as c:
        c.execute("UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["改过", sealed[2].pk])
    _verify_fails(f"第 3 条（事件 #{sealed[2].pk}）的内容被改动")


def test_a_deleted_event_and_its_seal_leave_a_gap_that_is_named(sealed):
    with triggers_off("audit_auditseal"), triggers_off("audit_auditevent"), connection.cursor() as c:
        c.execute("DELETE FROM audit_auditseal WHERE event_id = %s", [sealed[1].pk])
        c.execute("DELETE FROM audit_auditevent WHERE id = %s", [sealed[1].pk])
    _verify_fails("第 2 条至第 2 条缺失")


def test_an_event_written_past_the_application_and_left_unsealed_is_flagged(sealed):
    with connection.cursor() as c:
        c.execute(
            FORGED,
            [timezone.now() - datetime.timedelta(hours=2)],
        )
    _verify_fails("未封存：可能是绕过系统直接写入")


def test_an_event_backdated_and_then_sealed_is_flagged_as_inserted_afterwards(sealed):
    with connection.cursor() as c:
        c.execute(
            FORGED,
            [timezone.now() - datetime.timedelta(days=3)],
        )
    chain.seal_pending()
    _verify_fails("才封存：可能是事后插入")


def test_a_chain_rebuilt_without_the_key_does_not_verify(sealed, settings):
    chain._key.cache_clear()
    settings.AIXIN_AUDIT_KEY = "A" * 43 + "="  # somebody else's key
    try:
        _verify_fails("第 1 条（事件 #")
    finally:
        chain._key.cache_clear()


def test_cutting_off_the_newest_entries_is_found_through_the_anchor(sealed):
    with triggers_off("audit_auditseal"), triggers_off("audit_auditevent"), connection.cursor() as c:
        c.execute("DELETE FROM audit_auditseal WHERE seq > 3")
        c.execute("DELETE FROM audit_auditevent WHERE id >= %s", [sealed[3].pk])
    _verify_fails("链尾被截断：锚点记录到第 5 条")


def test_the_application_cannot_change_or_remove_a_seal(sealed):
    seal = AuditSeal.objects.first()
    with pytest.raises(PermissionError):
        seal.save()
    with pytest.raises(PermissionError):
        seal.delete()


def test_verify_prints_json_for_monitoring(sealed, capsys):
    call_command("audit", "verify", "--json")
    assert json.loads(capsys.readouterr().out) == {"ok": True, "sealed": 5, "problems": []}


def test_archiving_refuses_the_last_six_months_and_copies_older_events_keeping_them(users, tmp_path):
    old = audit_log(actor=users["city_admin"], action="view", summary="很久以前")
    with triggers_off("audit_auditevent"), connection.cursor() as c:
        c.execute(
            "UPDATE audit_auditevent SET created_at = %s WHERE id = %s",
            [timezone.now() - datetime.timedelta(days=400), old.pk],
        )
    audit_log(actor=users["city_admin"], action="view", summary="最近")
    with pytest.raises(CommandError, match="至少保存 180 天"):
        call_command("audit", "archive", "--before", timezone.localdate().isoformat())
    before = (timezone.localdate() - datetime.timedelta(days=200)).isoformat()
    call_command("audit", "archive", "--before", before)
    archive = AuditArchive.objects.get()
    with gzip.open(archive.file_name, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert [r["summary"] for r in rows] == ["很久以前"] and archive.events == 1
    assert AuditEvent.objects.filter(pk=old.pk).exists()  # archived, not dropped
