"""What a risk report says ("孩子说爸爸喝了酒就打人"), its corrections and the notes of each step
are sealed at rest under a data key; key rotation re-wraps that key and never rewrites these
append-only rows, which keep opening after the old key has left the keyring."""

from __future__ import annotations

import base64
import datetime
import importlib
import io
import json
import os
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from aixin.audit.models import AuditEvent
from aixin.cases import services
from aixin.cases.models import CaseEvent, Report, ReportEntry
from aixin.lib import crypto
from aixin.ops import datakeys
from tests import factories
from tests.cases.helpers import act, case_in_state, ref_act, report
from tests.migration_helpers import migration_test

SAID = "孩子说爸爸喝了酒就打人，奶奶不让说"
CORRECTION = "更正：是继父，不是生父"
NOTE = "督导员已家访，孩子手臂有淤青"


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def key(key_id: int) -> str:
    size = 16 if crypto.sm4_gcm_supported() else 32
    return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(size)).decode()}"


@pytest.fixture
def written(people: Any, child_a: Any) -> dict[str, Any]:
    case = report(people.village, child_a, description=SAID)
    entry = services.report_add_entry(
        actor=people.district, case_id=case.pk, kind="correction", text=CORRECTION
    )
    act(people.district, case, "note", note=NOTE)
    event = CaseEvent.objects.get(case=case, action="note")
    return {"case": case, "entry": entry, "event": event}


def test_a_report_its_correction_and_a_case_note_are_stored_sealed_and_read_back(written):
    case, entry, event = written["case"], written["entry"], written["event"]
    stored = [
        raw("cases_report", "description_sealed", case.report_id),
        raw("cases_reportentry", "text_sealed", entry.pk),
        raw("cases_caseevent", "note_sealed", event.pk),
    ]
    for token in stored:
        assert token.startswith("d")  # a data key's token: key id, algorithm, sealed bytes
        assert "孩子" not in token and "继父" not in token and "淤青" not in token
    assert Report.objects.get(pk=case.report_id).description == SAID
    assert ReportEntry.objects.get(pk=entry.pk).text == CORRECTION
    assert CaseEvent.objects.get(pk=event.pk).note == NOTE


def test_a_departments_return_reason_is_stored_sealed_and_shown_on_the_case_page(people, child_a, client):
    referral = case_in_state("referred", people, child_a).referrals.get()
    ref_act(people.edu_a, referral, "reject", note="孩子已由民政部门临时监护，属民政职责")
    stored = raw("cases_referral", "reason_encrypted", referral.pk)
    assert stored.startswith("k") and "监护" not in stored
    client.force_login(people.district)
    page = client.get(reverse("cases:case_detail", args=[referral.case_id])).content.decode()
    assert "孩子已由民政部门临时监护，属民政职责" in page


def test_a_sealed_narrative_does_not_open_as_another_column(written):
    token = raw("cases_report", "description_sealed", written["case"].report_id)
    assert datakeys.unseal(token, context="case_report.description") == SAID
    with pytest.raises(crypto.DecryptionError):
        datakeys.unseal(token, context="case_event.note")


def test_the_case_page_shows_the_narratives_in_clear(written, people, client):
    client.force_login(people.district)
    body = client.get(reverse("cases:case_detail", args=[written["case"].pk])).content.decode()
    assert SAID in body and CORRECTION in body and NOTE in body


def test_the_audit_log_says_a_correction_was_made_but_not_what_it_says(written):
    summaries = " ".join(AuditEvent.objects.values_list("summary", flat=True))
    assert "更正补充" in summaries
    assert "继父" not in summaries and "打人" not in summaries


def test_rotation_rewraps_the_data_keys_and_the_rows_stay_as_written_and_readable(
    written, settings, people, child_a
):
    settings.AIXIN_FIELD_KEYS = key(2)
    crypto.forget_key_file_state()
    # Written under key 2 (and the first report under the key before) …
    case = report(people.village, child_a)
    tokens = {
        pk: raw("cases_report", "description_sealed", pk)
        for pk in Report.objects.values_list("pk", flat=True)
    }
    # … key 3 becomes current and rotation runs …
    settings.AIXIN_FIELD_KEYS = f"{key(3)},{settings.AIXIN_FIELD_KEYS}"
    crypto.forget_key_file_state()
    out = io.StringIO()
    call_command("rotate-keys", "--json", stdout=out)
    assert json.loads(out.getvalue())["complete"] is True
    # … the reports were not touched (the database would refuse), the data keys were re-wrapped …
    assert {pk: raw("cases_report", "description_sealed", pk) for pk in tokens} == tokens
    prefix = crypto.keyring().prefix
    with connection.cursor() as cursor:
        cursor.execute("SELECT wrapped_encrypted FROM ops_datakey")
        assert all(str(row[0]).startswith(prefix) for row in cursor.fetchall())
    # … and with key 2 gone from the keyring, everything still opens.
    settings.AIXIN_FIELD_KEYS = settings.AIXIN_FIELD_KEYS.split(",")[0]
    crypto.forget_key_file_state()
    assert Report.objects.get(pk=written["case"].report_id).description == SAID
    assert Report.objects.get(pk=case.report_id).description == "孩子说在学校被高年级同学打"
    assert CaseEvent.objects.get(pk=written["event"].pk).note == NOTE


def _data_keys() -> list[tuple[int, str, str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, context, wrapped_encrypted, retired_at IS NULL FROM ops_datakey ORDER BY id"
        )
        return [(int(r[0]), str(r[1]), str(r[2]), bool(r[3])) for r in cursor.fetchall()]


def test_after_a_rotation_new_narratives_are_sealed_under_a_key_the_old_keyring_key_never_wrapped(
    written, settings, people, child_a
):
    settings.AIXIN_FIELD_KEYS = key(2)
    crypto.forget_key_file_state()
    old_ring = crypto.keyring()
    case_before = report(people.village, child_a)  # sealed under the data key key 2 wraps
    # What someone holding key 2 and a copy of the database could unwrap: the data keys as stored.
    leaked = [
        base64.b64decode(crypto.decrypt(wrapped, context=datakeys.WRAP_CONTEXT, ring=old_ring))
        for _pk, _context, wrapped, _current in _data_keys()
    ]
    settings.AIXIN_FIELD_KEYS = f"{key(3)},{settings.AIXIN_FIELD_KEYS}"
    crypto.forget_key_file_state()
    call_command("rotate-keys", stdout=io.StringIO())
    settings.AIXIN_FIELD_KEYS = settings.AIXIN_FIELD_KEYS.split(",")[0]  # key 2 leaves
    crypto.forget_key_file_state()

    case_after = report(people.village, child_a, description="孩子说继父不让她上学")
    token = raw("cases_report", "description_sealed", case_after.report_id)
    for data_key in leaked:
        with pytest.raises(crypto.DecryptionError):
            crypto.open_with_data_key(token, key=data_key, context="case_report.description")
    # The report written before is as it was and opens; so does the new one.
    assert Report.objects.get(pk=case_before.report_id).description == "孩子说在学校被高年级同学打"
    assert Report.objects.get(pk=case_after.report_id).description == "孩子说继父不让她上学"
    # One current key per context; the retired ones are kept to open what they sealed.
    keys = _data_keys()
    contexts = [context for _pk, context, _w, current in keys if current]
    assert len(contexts) == len(set(contexts))
    assert any(not current for *_rest, current in keys)


def test_running_rotation_again_keeps_the_data_keys_it_has_already_renewed(
    written, settings, people, child_a
):
    settings.AIXIN_FIELD_KEYS = f"{key(3)},{key(2)}"
    crypto.forget_key_file_state()
    call_command("rotate-keys", stdout=io.StringIO())
    first = report(people.village, child_a)
    call_command("rotate-keys", stdout=io.StringIO())  # nothing under an old key: nothing to renew
    second = report(people.village, child_a)
    tokens = [raw("cases_report", "description_sealed", c.report_id) for c in (first, second)]
    assert crypto.data_key_id(tokens[0]) == crypto.data_key_id(tokens[1])


TRIGGERS = importlib.import_module("aixin.cases.migrations.0002_append_only_triggers")
BEFORE = [("cases", "0002_append_only_triggers"), ("taskforces", "0002_action_notes_append_only")]
AFTER = [("cases", "0003_seal_narratives"), ("taskforces", "0003_seal_action_notes")]


@migration_test
@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_reports_keeps_them_append_only_and_its_reverse_opens_them():
    tree = factories.make_tree()
    child = factories.make_child(tree.village_a1)
    reporter = factories.make_user("village_director", tree.village_a1, "cunzhuren")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    state = executor.loader.project_state(BEFORE).apps
    old_report = state.get_model("cases", "Report")
    old_entry = state.get_model("cases", "ReportEntry")
    written = old_report.objects.create(
        child_id=child.pk,
        reporter_id=reporter.pk,
        reporter_name="儿童主任",
        reporter_role="village_director",
        category="bullying",
        severity="high",
        description=SAID,
        observed_at=timezone.now() - datetime.timedelta(hours=1),
        region_id=tree.village_a1.pk,
        town_id=tree.town_a1.pk,
        district_id=tree.district_a.pk,
    )
    entry = old_entry.objects.create(
        report_id=written.pk, kind="correction", text=CORRECTION, author_id=reporter.pk, author_name="x"
    )

    MigrationExecutor(connection).migrate(AFTER)
    assert "孩子" not in raw("cases_report", "description_sealed", written.pk)
    assert Report.objects.get(pk=written.pk).description == SAID
    assert ReportEntry.objects.get(pk=entry.pk).text == CORRECTION
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_report SET place = 'x' WHERE id = %s", [written.pk])

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    back = executor.loader.project_state(BEFORE).apps
    assert back.get_model("cases", "Report").objects.get(pk=written.pk).description == SAID
    assert back.get_model("cases", "ReportEntry").objects.get(pk=entry.pk).text == CORRECTION
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # The test's end empties every table, which the append-only guard would refuse.
    with connection.cursor() as cursor:
        for sql in (*TRIGGERS.SQLITE_DOWN, "DELETE FROM cases_reportentry", "DELETE FROM cases_report"):
            cursor.execute(sql)
        for sql in TRIGGERS.SQLITE_UP:
            cursor.execute(sql)
