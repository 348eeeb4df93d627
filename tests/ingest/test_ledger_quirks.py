"""Ledgers from a tester's walk through the demo, imported end to end: what a district worker
would have lost or been refused without a reason."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from aixin.ingest import services
from aixin.ingest.models import BatchStatus, ImportBatch
from aixin.regions.models import RegionLevel
from aixin.regions.tree import create_region
from aixin.registry.models import Child
from tests.ingest.test_import_engine import ident

HEADER = ["姓名", "身份证号码", "所属镇街", "村（社区）名称", "儿童类别", "父亲情况", "母亲情况", "年级"]


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def child(n: int, town: str, village: str, *, grade: str = "三年级") -> list[object]:
    return [
        f"冉{'一二三四五六七八九十'[n % 10]}娃",
        ident(n),
        town,
        village,
        "农村留守儿童",
        "外出务工",
        "外出务工",
        grade,
    ]


def run(path: Path, actor) -> ImportBatch:
    return services.start_file_import(
        actor=actor, source="civil_affairs", upload=path, dry_run=False, run_now=True
    )


def test_a_ledger_grouped_by_town_with_subtotals_imports_every_group(tree, users, tmp_path):
    town1, town2 = tree.town_a1.name, tree.town_a2.name
    rows = [
        ["万州区2026年农村留守儿童花名册"],
        HEADER,
        child(1, town1, "万州1镇1村"),
        child(2, town1, "万州1镇2村"),
        ["小计", "", "", "", "", "", "", "2人"],
        child(3, town2, "万州2镇1村"),
        ["小计", "", "", "", "", "", "", "1人"],
        ["合计", "", "", "", "", "", "", "3人"],
        ["填表人：李四", "", "审核人：张三"],
    ]
    batch = run(write_xlsx(tmp_path / "花名册.xlsx", rows), users["district_admin"])
    assert batch.status == BatchStatus.DONE, batch.error
    assert batch.counts == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}


def test_a_village_name_shared_with_another_district_is_the_uploaders_own(tree, users, tmp_path):
    for town in (tree.town_a1, tree.town_b1):
        create_region(code=f"{town.code}209", name="桂桥村", level=RegionLevel.VILLAGE, parent=town)
    rows = [["姓名", "身份证号码", "村（社区）名称", "儿童类别", "父亲情况", "母亲情况"]]
    rows.append(["冉小娃", ident(1), "桂桥村", "农村留守儿童", "外出务工", "外出务工"])
    batch = run(write_xlsx(tmp_path / "名单.xlsx", rows), users["district_admin"])
    assert batch.counts["created"] == 1, list(batch.rejections.values_list("reason", flat=True))
    assert Child.objects.get().region.code == f"{tree.town_a1.code}209"
    # The city's worker has no district of their own: the name stays ambiguous for them.
    again = run(
        write_xlsx(tmp_path / "名单2.xlsx", [rows[0], [*rows[1][:1], ident(2), *rows[1][2:]]]),
        users["city_admin"],
    )
    assert again.counts["rejected"] == 1
    assert "不唯一" in again.rejections.get().reason


def test_an_over_long_grade_rejects_its_row_only_with_the_limit(tree, users, tmp_path):
    rows = [
        HEADER,
        child(1, tree.town_a1.name, "万州1镇1村"),
        child(2, tree.town_a1.name, "万州1镇1村", grade="三年级（2）班，原四年级，2025年秋季学期转入本校"),
    ]
    batch = run(write_xlsx(tmp_path / "名单.xlsx", rows), users["district_admin"])
    assert batch.status == BatchStatus.DONE, batch.error
    assert (batch.counts["created"], batch.counts["rejected"]) == (1, 1)
    rejection = batch.rejections.get()
    assert (rejection.row_number, rejection.column) == (3, "年级")
    assert rejection.reason.startswith("内容过长") and "最多20字" in rejection.reason
