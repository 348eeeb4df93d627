"""Backup and restore (issue 6, item 9): a backup restored into an empty database reproduces
every row of every table; a damaged, cut, foreign or mismatched file is refused and nothing
is written."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from aixin.accounts.models import Role
from aixin.audit.chain import seal_pending
from aixin.audit.models import AuditAction, AuditEvent
from aixin.audit.services import audit_log
from aixin.care.services import care_record_comment
from aixin.ingest.columns import SOURCES
from aixin.ingest.models import ImportBatch
from aixin.ops import services
from aixin.ops.sealed import WRONG_KEY, SealedReader, SealedWriter
from aixin.registry.models import Child
from aixin.registry.rules import Condition
from tests import factories
from tests.care.helpers import paired_child, record
from tests.ops.conftest import KEY, OTHER_KEY

# Not restored: rebuilt by `migrate` (compared through natural keys instead), or not backed up.
NOT_COMPARED = {
    "django_migrations",
    "django_session",
    "django_content_type",
    "auth_permission",
    "sqlite_sequence",
}
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 300  # 75 KiB: two pieces in the backup
SMALL_CHUNKS = 4096  # several chunks even for a little world


@pytest.fixture
def world(tree: Any, users: dict[str, Any], settings: Any, tmp_path: Path) -> dict[str, Any]:
    """Children with guardians and parent conditions, loving mothers, a pairing with care
    records and a comment, sealed audit events, an import batch, a group with permissions, and
    a child deleted again (its id must never be handed out twice)."""
    settings.DATA_DIR = tmp_path / "source-data"  # the audit chain's anchor file
    settings.MEDIA_ROOT = tmp_path / "source-data" / "media"
    today = datetime.date.today()
    admin = users["district_admin"]
    unsupported = factories.make_child(
        tree.village_a1,
        name="陈小雨",
        conditions=[
            Condition(
                "father", "imprisoned", started_on=today - datetime.timedelta(days=400), term_months=36
            ),
            Condition("mother", "severe_disability", disability_grade=1, disability_category=3),
        ],
        latitude=30.80712,
        longitude=108.40863,
        other_difficulty_reasons=["单亲", '家庭"困难"'],
    )
    factories.make_child(tree.village_b1, name="刘小军", guardian_phone="13900002222")
    pairing = paired_child(tree.village_a1b, name="王小丫")
    first = record(
        pairing,
        today - datetime.timedelta(days=10),
        ["weekly_contact", "family_education"],
        kind="home_visit",
        notes="家访：作业已完成",
    )
    record(
        pairing,
        today - datetime.timedelta(days=3),
        ["weekly_contact"],
        kind="phone",
        services=["companionship", "tutoring"],
        photo=SimpleUploadedFile("家访.png", PHOTO, "image/png"),
    )
    care_record_comment(actor=admin, record_id=first.pk, text="记录很详细，继续保持")
    audit_log(
        actor=admin,
        action=AuditAction.VIEW,
        object_type="child",
        object_id=unsupported.pk,
        region=tree.village_a1,
        summary="查看儿童档案",
        details={"字段": ["身份证号", "住址"], "次数": 2, "比例": 0.5, "空": None},
    )
    ImportBatch.objects.create(
        source=SOURCES[0],
        scope=tree.district_a,
        created_by=admin,
        file_name="万州区民政台账.xlsx",
        headers=["姓名", "身份证号"],
        results=[{"row": 2, "outcome": "created"}],
        total_rows=1,
        created_count=1,
        started_at=timezone.now(),
    )
    auditors = Group.objects.create(name="审计员")
    auditors.permissions.add(Permission.objects.get(codename="view_auditevent"))
    users["city_admin"].groups.add(auditors)
    users["town_supervisor"].user_permissions.add(Permission.objects.get(codename="view_group"))
    gone = factories.make_child(tree.village_a2, name="赵已删")
    gone.guardians.all().delete()
    Child.objects.filter(pk=gone.pk).delete()
    factories.make_user(Role.VILLAGE_DIRECTOR, tree.village_b1, "village_b1")
    # A risk report: an append-only row sealed under a data key, which must travel with it.
    from aixin.cases.services import report_create

    report_create(
        actor=users["village_director"],
        child_id=unsupported.pk,
        category="neglect",
        severity="high",
        description="孩子独自在家三天",
        observed_at=timezone.now() - datetime.timedelta(hours=2),
    )
    seal_pending()  # as after each commit outside tests
    return {"child": unsupported, "deleted_child_id": gone.pk}


def _table_rows(conn: Any, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {conn.ops.quote_name(table)} ORDER BY 1")  # noqa: S608
        return [c[0] for c in cursor.description], list(cursor.fetchall())


def _table_names(conn: Any) -> list[str]:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return sorted(r[0] for r in cursor.fetchall())


def _permission_keys(conn: Any) -> dict[int, tuple[str, str, str]]:
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.codename, c.app_label, c.model FROM auth_permission p "
            "JOIN django_content_type c ON c.id = p.content_type_id"
        )
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def snapshot(conn: Any) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table's rows, all columns, by primary key; permission ids as natural keys (the
    ids of permissions differ between databases, the permissions do not)."""
    permissions = _permission_keys(conn)
    out = {}
    for table in _table_names(conn):
        if table in NOT_COMPARED:
            continue
        columns, rows = _table_rows(conn, table)
        if "permission_id" in columns:
            at = columns.index("permission_id")
            rows = [(*r[:at], permissions[r[at]], *r[at + 1 :]) for r in rows]
        out[table] = (columns, rows)
    return out


def make_backup(path: Path) -> services.BackupSummary:
    return services.backup_create(output=path, chunk_bytes=SMALL_CHUNKS)


def target_is_untouched(target: Any) -> bool:
    return (
        target.count("registry_child") == 0
        and target.count("accounts_user") == 0
        and target.count("audit_auditevent") == 0
        and target.count("care_carerule") > 0  # the seeded configuration is still there
    )


def highest_id_in(target: Any, table: str) -> int:
    if target.connection().vendor == "postgresql":
        sequence = target.query("SELECT pg_get_serial_sequence(%s, %s)", [table, "id"])[0][0]
        rows = target.query(f"SELECT last_value FROM {sequence}")  # noqa: S608
    else:
        rows = target.query("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
    return int(rows[0][0])


def test_restore_into_an_empty_database_reproduces_every_row_of_every_table(
    world, backup_key, target, tmp_path
):
    before = snapshot(connection)
    assert (
        before["registry_child"][1] and before["care_carerecord"][1] and before["auth_group_permissions"][1]
    )
    assert before["cases_report"][1] and before["ops_datakey"][1]
    summary = make_backup(tmp_path / "world.aixbak")
    assert summary.tables["registry.child"] == 3
    assert summary.tables["care.carerecord"] == 2

    done = target.aixin("restore", str(summary.path))

    assert done.returncode == 0, done.stderr
    assert "恢复完成" in done.stdout
    after = snapshot(target.connection())
    assert sorted(after) == sorted(before)
    # The restore records itself in the audit log (and seals that event): the only extra rows.
    columns, events = after["audit_auditevent"]
    restore_events = [r for r in events if r[columns.index("object_type")] == "backup_restore"]
    assert len(restore_events) == 1
    restore_event_id = restore_events[0][0]
    after["audit_auditevent"] = (columns, [r for r in events if r[0] != restore_event_id])
    columns, seals = after["audit_auditseal"]
    after["audit_auditseal"] = (
        columns,
        [r for r in seals if r[columns.index("event_id")] != restore_event_id],
    )
    assert before["audit_auditseal"][1]
    for table in before:
        assert after[table] == before[table], f"{table} differs after restore"


def test_restore_puts_the_uploaded_photos_back_under_their_names(world, backup_key, target, tmp_path):
    from aixin.care.models import CareRecord

    name = CareRecord.objects.exclude(photo="").values_list("photo", flat=True).get()
    summary = make_backup(tmp_path / "world.aixbak")
    assert summary.files == 1

    done = target.aixin("restore", str(summary.path))

    assert done.returncode == 0, done.stderr
    assert (target.data_dir / "media" / name).read_bytes() == PHOTO


def test_a_photo_missing_from_storage_is_reported_and_the_rest_backed_up(
    world, backup_key, settings, tmp_path
):
    from aixin.care.models import CareRecord

    name = CareRecord.objects.exclude(photo="").values_list("photo", flat=True).get()
    (Path(settings.MEDIA_ROOT) / name).unlink()
    err = io.StringIO()

    call_command("backup", output=str(tmp_path / "b.aixbak"), stdout=io.StringIO(), stderr=err)

    assert f"1 个上传文件在数据库中有记录但文件已不存在：{name}" in err.getvalue()
    assert services.backup_check(path=tmp_path / "b.aixbak").tables["care.carerecord"] == 2


def test_ids_handed_out_after_a_restore_were_never_used_before(world, backup_key, target, tmp_path):
    highest_audit = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    summary = make_backup(tmp_path / "world.aixbak")

    assert target.aixin("restore", str(summary.path)).returncode == 0

    # The deleted child's id stays used; the restore's own audit event gets a fresh id.
    assert highest_id_in(target, "registry_child") >= world["deleted_child_id"]
    restored_event = target.query("SELECT id FROM audit_auditevent WHERE object_type = 'backup_restore'")[0][
        0
    ]
    assert restored_event > highest_audit


def test_a_restored_database_refuses_a_second_restore_and_keeps_its_rows(world, backup_key, target, tmp_path):
    summary = make_backup(tmp_path / "world.aixbak")
    assert target.aixin("restore", str(summary.path)).returncode == 0
    children = target.count("registry_child")

    again = target.aixin("restore", str(summary.path))

    assert again.returncode != 0
    assert "目标数据库不是空的" in again.stderr
    assert "accounts_user " in again.stderr
    assert target.count("registry_child") == children


def test_one_changed_byte_is_refused_and_nothing_is_written(world, backup_key, target, tmp_path):
    path = make_backup(tmp_path / "world.aixbak").path
    data = bytearray(path.read_bytes())
    data[len(data) * 2 // 3] ^= 0x01
    path.write_bytes(bytes(data))

    done = target.aixin("restore", str(path))

    assert done.returncode != 0
    assert "已损坏" in done.stderr
    assert target_is_untouched(target)


def test_a_truncated_file_is_refused_and_nothing_is_written(world, backup_key, target, tmp_path):
    path = make_backup(tmp_path / "world.aixbak").path
    path.write_bytes(path.read_bytes()[:-100])

    done = target.aixin("restore", str(path))

    assert done.returncode != 0
    assert "不完整" in done.stderr
    assert target_is_untouched(target)


def test_a_file_sealed_under_another_key_is_refused(world, backup_key, target, tmp_path):
    path = make_backup(tmp_path / "world.aixbak").path

    done = target.aixin("restore", str(path), key=OTHER_KEY)

    assert done.returncode != 0
    assert WRONG_KEY in done.stderr
    assert target_is_untouched(target)


def forge(path: Path, tmp_path: Path, change: Any) -> Path:
    """The backup's lines changed by `change` and sealed again under the right key, as only
    someone holding the key could do: the digests inside the stream must still catch it."""
    key = services.backup_key().key
    with path.open("rb") as raw:
        lines = list(SealedReader(raw, key=key).lines())
    change(lines)
    forged = tmp_path / "forged.aixbak"
    with forged.open("wb") as raw:
        writer = SealedWriter(raw, key=key)
        for line in lines:
            writer.write(line)
        writer.close()
    return forged


def test_a_row_that_does_not_match_its_table_digest_is_refused_and_rolled_back(
    world, backup_key, target, tmp_path
):
    """A row changed: the table's SHA-256 no longer matches, and the tables inserted before
    it are rolled back."""

    def change_a_care_record(lines: list[bytes]) -> None:
        at = lines.index(b'{"table":"care.carerecord"}\n') + 1
        changed = lines[at].replace(b'"home_visit"', b'"phone"')  # the home visit made a call
        assert changed != lines[at]
        lines[at] = changed

    forged = forge(make_backup(tmp_path / "world.aixbak").path, tmp_path, change_a_care_record)

    done = target.aixin("restore", str(forged))

    assert done.returncode != 0
    assert "care.carerecord 校验不通过" in done.stderr
    assert target_is_untouched(target)


def test_a_restore_failing_after_the_photos_leaves_no_photo_behind(world, backup_key, target, tmp_path):
    def miscount_files(lines: list[bytes]) -> None:
        trailer = json.loads(lines[-1])
        trailer["files"] += 1
        lines[-1] = json.dumps(trailer).encode() + b"\n"

    forged = forge(make_backup(tmp_path / "world.aixbak").path, tmp_path, miscount_files)

    done = target.aixin("restore", str(forged))

    assert done.returncode != 0
    assert "文件数不符" in done.stderr
    assert target_is_untouched(target)
    assert [p for p in (target.data_dir / "media").rglob("*") if p.is_file()] == []


def test_a_database_one_migration_behind_is_refused_with_both_migrations_named(
    world, backup_key, target, tmp_path
):
    path = make_backup(tmp_path / "world.aixbak").path
    applied = sorted(
        name for app, name in MigrationRecorder(connection).applied_migrations() if app == "audit"
    )
    target.execute("DELETE FROM django_migrations WHERE app = 'audit' AND name = %s", [applied[-1]])

    done = target.aixin("restore", str(path))

    assert done.returncode != 0
    assert (
        f"应用 audit 的迁移在备份中为 {applied[-1]}，在本数据库为 {applied[-2]}（本数据库缺少 {applied[-1]}）"
        in done.stderr
    )
    assert target_is_untouched(target)


def test_check_reads_the_whole_file_without_writing(world, backup_key, target, tmp_path):
    path = make_backup(tmp_path / "world.aixbak").path

    done = target.aixin("restore", str(path), "--check", "--json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["checked_only"] is True
    assert report["tables"]["registry.child"] == 3
    assert target_is_untouched(target)


def test_the_backup_file_shows_no_names_or_table_contents(world, backup_key, tmp_path):
    data = make_backup(tmp_path / "world.aixbak").path.read_bytes()

    assert "陈小雨".encode() not in data
    assert b"registry" not in data
    assert KEY.encode() not in data


def test_backup_command_prints_the_file_and_rows_and_warns_about_a_derived_key(world, settings, tmp_path):
    settings.AIXIN_BACKUP_KEY = ""
    settings.AIXIN_BACKUP_KEY_FILE = ""
    out, err = io.StringIO(), io.StringIO()

    call_command("backup", output=str(tmp_path / "b.aixbak"), json=True, stdout=out, stderr=err)

    report = json.loads(out.getvalue())
    assert report["path"] == str(tmp_path / "b.aixbak")
    assert report["tables"]["registry.child"] == 3
    assert report["derived_key"] is True
    assert "SECRET_KEY" in err.getvalue()
    assert AuditEvent.objects.filter(object_type="backup", object_id="b.aixbak").exists()


def test_backup_command_reads_the_key_from_the_key_file_without_warning(world, settings, tmp_path):
    key_file = tmp_path / "backup.key"
    key_file.write_text(KEY + "\n")
    settings.AIXIN_BACKUP_KEY = ""
    settings.AIXIN_BACKUP_KEY_FILE = str(key_file)
    err = io.StringIO()

    call_command("backup", output=str(tmp_path / "b.aixbak"), stdout=io.StringIO(), stderr=err)

    assert err.getvalue() == ""
    with (tmp_path / "b.aixbak").open("rb") as raw:
        assert next(SealedReader(raw, key=bytes(range(32))).lines()).startswith(b'{"format":"aixin-backup"')


def test_a_malformed_backup_key_is_refused_with_the_setting_named(settings, tmp_path):
    settings.AIXIN_BACKUP_KEY = "not-a-key"

    with pytest.raises(services.InvalidInput, match="AIXIN_BACKUP_KEY 必须是 32 字节"):
        services.backup_create(output=tmp_path / "b.aixbak")
    assert list(tmp_path.iterdir()) == []


def test_a_backup_that_fails_half_way_leaves_no_file(world, backup_key, tmp_path, monkeypatch):
    from aixin.ops import catalogue

    real = catalogue.encoders

    def failing(table: Any) -> Any:
        if table.label == "care.carerecord":
            raise RuntimeError("disk full")
        return real(table)

    monkeypatch.setattr(catalogue, "encoders", failing)

    with pytest.raises(RuntimeError):
        make_backup(tmp_path / "backups" / "world.aixbak")
    assert list((tmp_path / "backups").iterdir()) == []
