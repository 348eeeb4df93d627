"""The demo civil-affairs ledger of 酉阳: written by the demo seed, imported as the district user,
with its planted mistakes rejected, its duplicate suspect found and its alerts raised."""

from __future__ import annotations

import datetime
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from aixin.alerts.models import Alert, AlertKind, AlertStatus
from aixin.demo.ledger import LEDGER_FILE_NAME, VALID_CHILDREN, demo_ledger_xlsx, import_demo_ledger
from aixin.demo.seed import SeedOptions, seed_demo
from aixin.ingest import services
from aixin.ingest.models import BatchStatus, DuplicateSuspect, ImportBatch, ImportRejection
from aixin.ingest.reading import open_table
from aixin.registry.derive import reveal_id_number
from aixin.registry.models import Child, ChildChange

pytestmark = pytest.mark.django_db

PLANTED = 6  # two check digits, one scientific number, one unknown village, one repeat, one 17-year-old


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def seeded(data_dir: Path) -> Any:
    """A small demo data set (the small region tree of the demo tests), ledger included."""
    return seed_demo(
        SeedOptions(
            children=300,
            volunteers=60,
            months=1,
            seed=7,
            towns_per_district=(2, 3),
            villages_per_town=(2, 3),
        )
    )


def ledger_file(data_dir: Path) -> Path:
    return data_dir / "demo" / LEDGER_FILE_NAME


def the_batch() -> ImportBatch:
    return ImportBatch.objects.select_related("created_by", "scope").get()


def cells(content: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(BytesIO(content)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


# ---------------------------------------------------------------------------------------------


def test_the_demo_seed_leaves_the_ledger_file_and_an_import_by_the_youyang_district_user(
    seeded: Any, data_dir: Path
) -> None:
    batch = the_batch()

    assert ledger_file(data_dir).is_file()
    assert batch.status == BatchStatus.DONE and batch.error == ""
    assert (batch.created_by.username, batch.scope.code, batch.source) == (
        "youyang",
        "500242",
        "civil_affairs",
    )
    assert batch.file_name == LEDGER_FILE_NAME
    assert batch.total_rows == VALID_CHILDREN + PLANTED  # the repeated child is a row of its own
    assert (batch.created_count, batch.updated_count, batch.rejected_count) == (VALID_CHILDREN, 0, PLANTED)
    created = Child.objects.filter(source="civil_affairs")
    assert created.count() == VALID_CHILDREN
    assert set(created.values_list("district__code", flat=True)) == {"500242"}
    assert (
        seeded.ledger == f"示例民政台账：新增 {VALID_CHILDREN}，更新 0，未变化 0，拒绝 {PLANTED}，疑似重复 1"
    )
    assert seeded.ledger in seeded.lines()


def test_exactly_the_planted_mistakes_are_rejected_each_with_its_reason_and_column(seeded: Any) -> None:
    rejections = list(ImportRejection.objects.filter(batch=the_batch()))

    def having(word: str) -> list[ImportRejection]:
        return [r for r in rejections if word in r.reason]

    assert len(rejections) == PLANTED
    assert len(having("校验")) == 2
    assert len(having("科学计数法")) == 1
    assert len(having("未找到")) == 1
    assert len(having("相同")) == 1
    assert len(having("16周岁")) == 1
    assert {r.column for r in having("校验") + having("科学计数法") + having("相同")} == {"公民身份号码"}
    assert having("未找到")[0].column == "村(社区)"
    assert having("16周岁")[0].column == "儿童类别"
    repeated = having("相同")[0]
    first_row = int(repeated.reason.split("第")[1].split("行")[0])
    assert first_row < repeated.row_number
    # The rejected rows keep their original cells (for the rejected-rows workbook).
    assert all(len(r.cells) == 20 and r.cells[1] for r in rejections)


def test_a_child_already_in_the_registry_under_another_id_number_is_listed_as_a_duplicate_suspect(
    seeded: Any,
) -> None:
    suspect = DuplicateSuspect.objects.select_related("child", "other").get()
    new, old = suspect.child, suspect.other

    assert the_batch().suspect_count == 1
    assert (new.source, old.source) == ("civil_affairs", "demo")
    assert (new.name, new.birth_date, new.region_id) == (old.name, old.birth_date, old.region_id)
    assert reveal_id_number(new) != reveal_id_number(old)
    assert new.status == old.status == "active"  # never merged by the machine


def test_children_needing_one_to_one_care_get_unpaired_alerts_and_the_17_year_old_a_handover_alert(
    seeded: Any,
) -> None:
    batch = the_batch()
    today = datetime.date.today()
    created = Child.objects.filter(source="civil_affairs")
    individual = set(created.filter(care_tier__in=["one_to_one", "many_to_one"]).values_list("pk", flat=True))
    unpaired = set(
        Alert.objects.filter(kind=AlertKind.UNPAIRED, status=AlertStatus.OPEN, batch=batch).values_list(
            "child_id", flat=True
        )
    )
    poor = created.filter(
        is_other_difficulty=True, difficulty_life=True, other_difficulty_reasons=["family_poverty"]
    )

    assert len(individual) >= 30
    assert unpaired == individual
    assert poor.count() >= 20 and set(poor.values_list("pk", flat=True)) <= unpaired
    handover = Alert.objects.filter(kind=AlertKind.HANDOVER, batch=batch).select_related("child")
    near_18 = [
        a.child
        for a in handover
        if a.child.is_de_facto_unsupported
        and today < a.due_on <= today + datetime.timedelta(days=90)
        and a.child.source == "civil_affairs"
    ]
    assert near_18, "no 事实无人抚养 child turning 18 within 90 days got a hand-over alert"
    kinds = {c.kind for c in near_18[0].parent_conditions.all()}
    assert {"imprisoned", "lost_contact"} <= kinds


def test_importing_the_same_file_again_changes_nothing(seeded: Any, data_dir: Path) -> None:
    first = the_batch()
    before = (
        Child.objects.count(),
        ChildChange.objects.count(),
        Alert.objects.count(),
        DuplicateSuspect.objects.count(),
    )

    again = services.start_file_import(
        actor=first.created_by, source="civil_affairs", upload=ledger_file(data_dir), run_now=True
    )

    assert again.pk != first.pk and again.status == BatchStatus.DONE
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, VALID_CHILDREN)
    assert (again.rejected_count, again.suspect_count) == (PLANTED, 0)
    after = (
        Child.objects.count(),
        ChildChange.objects.count(),
        Alert.objects.count(),
        DuplicateSuspect.objects.count(),
    )
    assert after == before


def test_the_same_seed_gives_the_same_ledger_before_and_after_its_import_and_another_seed_another(
    seeded: Any, data_dir: Path
) -> None:
    today = datetime.date.today()
    imported = cells(ledger_file(data_dir).read_bytes())

    again = cells(demo_ledger_xlsx(seed=7, today=today))
    other = cells(demo_ledger_xlsx(seed=8, today=today))

    assert again == imported
    ids = {row[4] for row in imported[4:] if isinstance(row[4], str)}
    other_ids = {row[4] for row in other[4:] if isinstance(row[4], str)}
    assert len(ids) >= VALID_CHILDREN and not ids & other_ids


def test_the_ledger_looks_like_a_county_roster_and_its_header_is_found_over_two_rows(
    seeded: Any, data_dir: Path
) -> None:
    path = ledger_file(data_dir)
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    table = open_table(path, filename=path.name)

    assert str(rows[0][0]).startswith("酉阳县农村留守儿童和困境儿童花名册（")
    assert str(rows[1][0]).startswith("填报单位：酉阳县民政局  填报日期：")
    assert "Q3:S3" in {str(r) for r in sheet.merged_cells.ranges} and rows[2][16] == "监护人"
    assert rows[3][16:19] == ("姓名", "关系", "联系电话")
    assert table.header_rows == (3, 4)
    assert table.total_rows == VALID_CHILDREN + PLANTED
    for key in ("name", "id_number", "town", "village", "categories", "guardian_name", "guardian_phone"):
        assert key in table.keys
    assert table.keys[16:19] == ["guardian_name", "guardian_relation", "guardian_phone"]
    total = next(r for r in rows if r[0] == "合计")
    assert total[1] == f"{VALID_CHILDREN + PLANTED}人"
    data = rows[4 : 4 + table.total_rows]
    births = [r[5] for r in data]
    assert any(isinstance(b, datetime.datetime) for b in births)
    assert any(isinstance(b, str) and "年" in b for b in births)
    assert any(isinstance(b, str) and b.isdigit() and len(b) == 8 for b in births)
    assert any(isinstance(b, str) and "/" in b for b in births)
    assert [r[4] for r in data if isinstance(r[4], float)] != []
    assert any(str(r[7])[-1:] not in ("镇", "乡") and not str(r[7]).endswith("街道") for r in data)


def test_demo_logins_says_where_the_demo_ledger_is(seeded: Any, data_dir: Path) -> None:
    out = StringIO()

    call_command("demo-logins", stdout=out)

    assert f"示例民政台账（可在“数据导入”页上传试用）：{ledger_file(data_dir)}" in out.getvalue()


def test_without_the_demo_district_user_nothing_is_written_or_imported(data_dir: Path) -> None:
    messages: list[str] = []

    batch = import_demo_ledger(today=datetime.date.today(), log=messages.append)

    assert batch is None
    assert not ImportBatch.objects.exists() and not Child.objects.exists()
    assert not ledger_file(data_dir).exists() and messages == []
