"""Rows for children already in the registry: the same category check as for a new child, no
silent merge into a record that left the register (a duplicate's row goes to the record kept),
and a dry run that lists the duplicate suspects it counts."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from aixin.alerts.models import Alert, AlertKind
from aixin.ingest import services
from aixin.ingest.models import DuplicateSuspect, ImportBatch
from aixin.registry import derive
from aixin.registry.models import Child, ChildChange, ChildStatus
from aixin.registry.services import child_close
from tests import factories
from tests.ingest.test_import_engine import HEADER, ident, row, write_csv


def run(path: Path, actor, *, source: str = "civil_affairs", dry_run: bool = False) -> ImportBatch:
    return services.start_file_import(actor=actor, source=source, upload=path, dry_run=dry_run, run_now=True)


def years_ago(years: int, days: int = 30) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=1) - datetime.timedelta(days=days)


def by_id(number: str) -> Child:
    return Child.objects.get(id_number_index=derive.id_number_index(number))


@pytest.fixture
def admin_a(users):
    return users["district_admin"]


# ---------------------------------------------------------------------------------------------
# 1. The category check


def test_a_known_16_year_old_marked_left_behind_is_rejected_with_the_reason_a_new_one_gets(
    tree, admin_a, tmp_path
):
    born = years_ago(16)
    known = factories.make_child(
        tree.village_a1,
        name="冉家豪",
        birth=born,
        id_number=ident(1, birth=born),
        guardian_phone="13900009999",
        is_other_difficulty=True,
        other_difficulty_reasons=["family_poverty"],
    )
    stated = row(1, tree.village_a1, name="冉家豪")
    stated[2] = ident(1, birth=born)
    new = row(2, tree.village_a1, name="冉家杰")
    new[2] = ident(2, birth=born)

    batch = run(write_csv(tmp_path / "a.csv", [stated, new]), admin_a)

    assert batch.counts == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 2}
    known_reason, new_reason = (r.reason for r in batch.rejections.order_by("row_number"))
    assert known_reason == new_reason
    assert known_reason.startswith("标为农村留守儿童，但按规则不符合") and "已满16周岁" in known_reason
    # The child keeps what it had: its category, guardian and (no) parents' conditions.
    known.refresh_from_db()
    assert known.is_other_difficulty and not known.is_left_behind
    assert known.guardians.get().phone_masked == "139****9999"
    assert not known.parent_conditions.exists()
    assert not ChildChange.objects.filter(batch=batch).exists()


def test_an_education_row_saying_a_known_16_year_old_is_left_behind_is_rejected(tree, admin_a, tmp_path):
    born = years_ago(16)
    number = ident(3, birth=born)
    known = factories.make_child(tree.village_a1, name="马晨曦", birth=born, id_number=number, school="一中")
    path = write_csv(
        tmp_path / "edu.csv",
        [[number, "马晨曦", "二中", "是"]],
        header=["身份证号", "姓名", "学校", "是否留守儿童"],
    )

    batch = run(path, admin_a, source="education")

    assert batch.counts["rejected"] == 1 and batch.counts["updated"] == 0
    rejection = batch.rejections.get()
    assert rejection.column == "是否留守儿童" and "已满16周岁" in rejection.reason
    known.refresh_from_db()
    assert known.school == "一中"


def test_an_old_ledger_cannot_take_the_category_of_a_child_whose_record_was_fixed(tree, admin_a, tmp_path):
    # Fixed by staff: a town household (not left behind), in difficulty for family poverty.
    fixed = factories.make_child(
        tree.village_a1,
        name="王二娃",
        birth=datetime.date(2015, 3, 4),
        id_number=ident(2),
        household_type="urban",
        is_other_difficulty=True,
        other_difficulty_reasons=["family_poverty"],
    )
    old_ledger = write_csv(tmp_path / "old.csv", [row(2, tree.village_a1)])  # 农村留守儿童

    batch = run(old_ledger, admin_a)

    assert batch.counts["rejected"] == 1
    assert "标为农村留守儿童，但按规则不符合：非农业户口" in batch.rejections.get().reason
    fixed.refresh_from_db()
    assert fixed.is_other_difficulty and fixed.other_difficulty_reasons == ["family_poverty"]
    assert fixed.care_tier == "group" and not fixed.parent_conditions.exists()


# ---------------------------------------------------------------------------------------------
# 2. Records no longer in the register


def _duplicate_decided_same(tree, admin_a, tmp_path) -> tuple[Child, Child]:
    """The registry's 田想 (kept) and the record a ledger made of the same child under another ID
    number, decided 同一儿童 (closed)."""
    kept = factories.make_child(
        tree.village_a1, name="田想", birth=datetime.date(2015, 3, 4), id_number=ident(21)
    )
    first = run(write_csv(tmp_path / "first.csv", [row(22, tree.village_a1, name="田想")]), admin_a)
    suspect = DuplicateSuspect.objects.get(batch=first)
    services.decide_suspect(actor=admin_a, suspect_id=suspect.pk, decision="same", note="身份证号录错")
    closed = by_id(ident(22))
    assert closed.status == ChildStatus.CLOSED and suspect.other_id == kept.pk
    return kept, closed


def test_a_row_for_a_record_closed_as_a_duplicate_updates_the_record_kept(tree, admin_a, tmp_path):
    kept, closed = _duplicate_decided_same(tree, admin_a, tmp_path)
    changed = row(22, tree.village_a1, name="田想")
    changed[5] = "13600001111"
    path = write_csv(tmp_path / "a2.csv", [[*changed, "生活困难"]], header=[*HEADER, "困难类型"])

    batch = run(path, admin_a)

    assert batch.counts == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 0}
    kept.refresh_from_db()
    assert kept.status == ChildStatus.ACTIVE and kept.difficulty_life
    assert kept.guardians.get(is_primary=True).phone_masked == "136****1111"
    history = ChildChange.objects.filter(batch=batch)
    assert set(history.values_list("child_id", flat=True)) == {kept.pk}
    assert all(closed.id_number_masked in c.reason and "重复记录" in c.reason for c in history)
    # The closed record is left as it was.
    closed.refresh_from_db()
    assert closed.status == ChildStatus.CLOSED and not closed.difficulty_life
    assert closed.guardians.get(is_primary=True).phone_masked == "138****1234"

    again = run(path, admin_a)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}


def test_a_duplicates_row_is_rejected_when_the_record_kept_is_outside_the_uploaders_district(
    tree, admin_a, tmp_path
):
    kept, closed = _duplicate_decided_same(tree, admin_a, tmp_path)
    derive.set_region(kept, tree.village_b1)  # the child moved to district B since
    kept.save()
    changed = row(22, tree.village_a1, name="田想")
    changed[5] = "13600001111"

    batch = run(write_csv(tmp_path / "a2.csv", [changed]), admin_a)

    assert batch.counts["rejected"] == 1 and batch.counts["updated"] == 0
    reason = batch.rejections.get().reason
    assert "重复记录" in reason and "其他地区" in reason
    assert not ChildChange.objects.filter(batch=batch).exists()
    for child in (kept, closed):
        assert child.guardians.get(is_primary=True).phone_masked != "136****1111"


def test_a_duplicate_closed_by_hand_without_a_decision_is_not_updated(tree, admin_a, tmp_path):
    run(write_csv(tmp_path / "a.csv", [row(5, tree.village_a1)]), admin_a)
    child = by_id(ident(5))
    child_close(actor=admin_a, child_id=child.pk, reason="重复建档")
    changed = row(5, tree.village_a1, school="城关小学")

    batch = run(write_csv(tmp_path / "b.csv", [changed]), admin_a)

    assert batch.counts["rejected"] == 1
    assert "重复记录" in batch.rejections.get().reason and "保留" in batch.rejections.get().reason
    child.refresh_from_db()
    assert child.school == ""


def test_a_row_for_a_child_who_moved_away_is_rejected_with_when_and_why(tree, admin_a, tmp_path):
    ledger = write_csv(tmp_path / "a.csv", [row(6, tree.village_a1)])
    run(ledger, admin_a)
    child = by_id(ident(6))
    child_close(actor=admin_a, child_id=child.pk, reason="迁出")
    dropout = write_csv(
        tmp_path / "edu.csv",
        [[ident(6), child.name, "二中", "辍学"]],
        header=["身份证号", "姓名", "学校名称", "在校情况"],
    )

    batch = run(dropout, admin_a, source="education")

    assert batch.counts == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 1}
    today = timezone.localdate().isoformat()
    assert batch.rejections.get().reason == (
        f"该儿童已于{today}退出台账（迁出），本行未导入；如儿童已回到本地，请先在儿童档案中恢复后再导入"
    )
    child.refresh_from_db()
    assert child.school_stage == "" and child.school == ""
    assert not ChildChange.objects.filter(batch=batch).exists()
    # The department's ledger still listing the child, unchanged, is said too.
    again = run(ledger, admin_a)
    assert again.counts["rejected"] == 1 and again.counts["unchanged"] == 0


def test_a_row_stating_the_closing_is_taken_and_the_status_column_still_proposes_closing(
    tree, admin_a, tmp_path
):
    header = [*HEADER, "儿童状态"]
    run(write_csv(tmp_path / "a.csv", [row(7, tree.village_a1)]), admin_a)
    child = by_id(ident(7))
    said = run(write_csv(tmp_path / "d.csv", [[*row(7, tree.village_a1), "迁出"]], header=header), admin_a)
    assert said.counts["updated"] == 1
    proposal = Alert.objects.get(child=child, kind=AlertKind.CLOSE_PROPOSAL)
    assert "迁出" in proposal.message

    child_close(actor=admin_a, child_id=child.pk, reason="民政数据显示已迁出本县，经村委会核实")
    moved = [*row(7, tree.village_a1), "迁出"]
    moved[5] = "13600002222"
    again = run(write_csv(tmp_path / "d2.csv", [moved], header=header), admin_a)
    assert again.counts["rejected"] == 0 and again.counts["updated"] == 1

    dead = [*row(7, tree.village_a1), "死亡"]
    other = run(write_csv(tmp_path / "d3.csv", [dead], header=header), admin_a)
    assert other.counts["rejected"] == 1
    reason = other.rejections.get().reason
    assert "退出台账（民政数据显示已迁出本县，经村委会核实）" in reason
    # The department says something else happened: the two are named, and what to do.
    assert reason.startswith("本行的儿童状态为“死亡”，但该儿童已于") and "以“迁出本地”退出台账" in reason
    assert "重新退出台账" in reason


# ---------------------------------------------------------------------------------------------
# 3. A dry run's duplicate suspects


def test_a_dry_run_lists_the_duplicate_suspects_it_counts(tree, admin_a, tmp_path, login):
    known = factories.make_child(
        tree.village_a1, name="李小花", birth=datetime.date(2015, 3, 4), id_number=ident(11)
    )
    rows = [row(12, tree.village_a1, name="李小花")]
    rows += [row(13, tree.village_a1, name="王小明"), row(14, tree.village_a1, name="王小明")]

    batch = run(write_csv(tmp_path / "a.csv", rows), admin_a, dry_run=True)

    assert batch.dry_run and batch.suspect_count == 2
    assert Child.objects.count() == 1 and not DuplicateSuspect.objects.exists()
    page = login(admin_a).get(reverse("ingest:batch_detail", args=[batch.pk])).content.decode()
    suspects = page[page.index('id="suspects"') :]
    assert "本批次没有疑似重复" not in suspects
    assert "第2行 李小花" in suspects
    assert reverse("registry:child_detail", args=[known.pk]) in suspects
    assert "第4行 王小明" in suspects and "本文件第3行 王小明" in suspects
    assert "正式导入后" in suspects


# ---------------------------------------------------------------------------------------------
# 4. A department's 备注 about a known child


def test_a_new_court_case_in_the_notes_is_added_and_asks_for_a_new_risk_review(tree, admin_a, tmp_path):
    from aixin.alerts.models import AlertStatus

    run(write_csv(tmp_path / "a.csv", [row(21, tree.village_a1, name="黄子涵")]), admin_a)
    child = by_id(ident(21))
    header = ["身份证号", "姓名", "备注"]
    first = run(
        write_csv(tmp_path / "c1.csv", [[ident(21), "黄子涵", "2026年盗窃案"]], header=header),
        admin_a,
        source="court",
    )
    assert first.counts["updated"] == 1
    review = Alert.objects.get(child=child, kind=AlertKind.RISK_REVIEW)
    Alert.objects.filter(pk=review.pk).update(status=AlertStatus.RESOLVED)

    new_case = write_csv(
        tmp_path / "c2.csv", [[ident(21), "黄子涵", "2026年11月新立案：故意伤害"]], header=header
    )
    second = run(new_case, admin_a, source="court")

    assert second.counts["updated"] == 1
    child.refresh_from_db()
    today = timezone.localdate().isoformat()
    # Cells are read with full-width punctuation made half-width.
    assert child.notes.splitlines() == [
        f"{today} 法院：2026年盗窃案",
        f"{today} 法院：2026年11月新立案:故意伤害",
    ]
    assert Alert.objects.filter(child=child, kind=AlertKind.RISK_REVIEW, status="open").count() == 1
    notes_change = ChildChange.objects.get(batch=second, field="notes")
    assert "故意伤害" not in notes_change.new_value  # the history says that the notes changed, not what
    # The same record again: nothing new to review.
    again = run(new_case, admin_a, source="court")
    assert again.counts["unchanged"] == 1
    assert Alert.objects.filter(child=child, kind=AlertKind.RISK_REVIEW).count() == 2


def test_notes_a_department_already_sent_or_staff_wrote_are_not_added_twice(tree, admin_a, tmp_path):
    with_note = [*row(22, tree.village_a1), "奶奶患病，需关注"]
    header = [*HEADER, "备注"]
    run(write_csv(tmp_path / "a.csv", [with_note], header=header), admin_a)
    with_note[9] = "城关小学"  # another change in the same row, the note unchanged
    run(write_csv(tmp_path / "b.csv", [with_note], header=header), admin_a)
    child = by_id(ident(22))
    assert (child.notes, child.school) == ("奶奶患病,需关注", "城关小学")


def test_a_second_record_closed_as_a_duplicate_of_one_child_defers_to_the_first_row_of_the_batch(
    tree, admin_a, tmp_path
):
    kept, _closed = _duplicate_decided_same(tree, admin_a, tmp_path)
    again = run(write_csv(tmp_path / "again.csv", [row(23, tree.village_a1, name="田想")]), admin_a)
    suspect = DuplicateSuspect.objects.get(batch=again, other=kept)
    services.decide_suspect(actor=admin_a, suspect_id=suspect.pk, decision="same", note="又录了一次")
    first, second = row(22, tree.village_a1, name="田想"), row(23, tree.village_a1, name="田想")
    first[5], second[5] = "13600001111", "13700002222"

    batch = run(write_csv(tmp_path / "both.csv", [first, second]), admin_a)

    assert batch.counts == {"created": 0, "updated": 1, "unchanged": 0, "rejected": 1}
    rejection = batch.rejections.get()
    assert rejection.row_number == 3
    assert rejection.reason == (
        f"该儿童的档案已作为重复记录并入田想（{kept.id_number_masked}）的档案，"
        "本批次第2行也是该儿童，以该行为准，本行未导入"
    )
    assert kept.guardians.get(is_primary=True).phone_masked == "136****1111"


def test_the_same_row_stating_the_closing_again_is_counted_unchanged_and_writes_no_history(
    tree, admin_a, tmp_path
):
    run(write_csv(tmp_path / "a.csv", [row(8, tree.village_a1)]), admin_a)
    child_close(actor=admin_a, child_id=by_id(ident(8)).pk, reason="迁出")
    stated = [[*row(8, tree.village_a1), "迁出"]]
    moved = write_csv(tmp_path / "moved.csv", stated, header=[*HEADER, "儿童状态"])
    assert run(moved, admin_a).counts["updated"] == 1

    again = run(moved, admin_a)

    assert again.counts == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}
    assert not ChildChange.objects.filter(batch=again).exists()


def test_a_new_note_worded_like_part_of_an_old_one_is_added_and_a_placeholder_is_not(tree, admin_a, tmp_path):
    run(write_csv(tmp_path / "a.csv", [row(23, tree.village_a1, name="黄子轩")]), admin_a)
    header = ["身份证号", "姓名", "备注"]
    for n, said in enumerate(["2026年11月涉嫌盗窃被立案", "涉嫌盗窃", "无", "涉嫌盗窃"]):
        run(
            write_csv(tmp_path / f"c{n}.csv", [[ident(23), "黄子轩", said]], header=header),
            admin_a,
            source="court",
        )
    today = timezone.localdate().isoformat()
    assert by_id(ident(23)).notes.splitlines() == [
        f"{today} 法院：2026年11月涉嫌盗窃被立案",
        f"{today} 法院：涉嫌盗窃",
    ]
