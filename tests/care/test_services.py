import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from aixin.accounts.models import Role
from aixin.care.models import CareComment, CareRecord, CareRule, CareRuleProgress
from aixin.care.services import (
    care_progress_rebuild,
    care_record_acknowledge,
    care_record_comment,
    care_record_create,
)
from aixin.lib.errors import InvalidInput, NotAllowed
from tests import factories
from tests.care.helpers import paired_child, record

D = datetime.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def progress(pairing):
    return dict(CareRuleProgress.objects.filter(pairing=pairing).values_list("rule__code", "last_done_on"))


def test_record_sets_mask_region_progress_and_last_contact(tree):
    pairing = paired_child(tree.village_a1, start=D(2026, 1, 5))
    rec = record(pairing, D(2026, 3, 10), ["weekly_contact", "yearly_reading"], notes="孩子说想念妈妈")
    weekly = CareRule.objects.get(code="weekly_contact")
    reading = CareRule.objects.get(code="yearly_reading")
    assert rec.rules_mask == weekly.mask | reading.mask == 0b10001
    assert (rec.district_id, rec.town_id, rec.village_id) == (
        tree.district_a.id,
        tree.town_a1.id,
        tree.village_a1.id,
    )
    assert progress(pairing) == {"weekly_contact": D(2026, 3, 10), "yearly_reading": D(2026, 3, 10)}
    pairing.child.refresh_from_db()
    assert pairing.child.last_contact_on == D(2026, 3, 10)


def test_an_older_record_entered_later_never_moves_progress_back(tree):
    pairing = paired_child(tree.village_a1, start=D(2026, 1, 5))
    record(pairing, D(2026, 3, 10), ["weekly_contact"])
    record(pairing, D(2026, 2, 2), ["weekly_contact", "monthly_guardian"])
    assert progress(pairing) == {"weekly_contact": D(2026, 3, 10), "monthly_guardian": D(2026, 2, 2)}
    pairing.child.refresh_from_db()
    assert pairing.child.last_contact_on == D(2026, 3, 10)


def test_a_future_date_is_refused_and_nothing_is_written(tree):
    pairing = paired_child(tree.village_a1)
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    with pytest.raises(InvalidInput) as exc:
        record(pairing, tomorrow, ["weekly_contact"])
    assert exc.value.message == "关爱日期不能晚于今天"
    assert exc.value.field == "date"
    assert CareRecord.objects.count() == 0
    assert CareRuleProgress.objects.count() == 0
    pairing.child.refresh_from_db()
    assert pairing.child.last_contact_on is None


def test_a_date_before_the_pairing_began_is_refused(tree):
    pairing = paired_child(tree.village_a1, start=D(2026, 3, 1))
    with pytest.raises(InvalidInput) as exc:
        record(pairing, D(2026, 2, 28), ["weekly_contact"])
    assert exc.value.message == "关爱日期不能早于结对日期（2026-03-01）"
    assert CareRecord.objects.count() == 0


def test_an_ended_pairing_refuses_new_care_records(tree):
    pairing = paired_child(tree.village_a1, start=D(2026, 1, 5))
    type(pairing).objects.filter(pk=pairing.pk).update(status="ended", end_date=D(2026, 4, 30))
    with pytest.raises(InvalidInput) as exc:
        record(pairing, D(2026, 4, 1), ["weekly_contact"])
    assert exc.value.message == "该结对已于2026-04-30解除，不能再记录关爱"
    assert CareRecord.objects.count() == 0


def test_another_mother_may_not_record_on_this_pairing(tree):
    pairing = paired_child(tree.village_a1)
    other = factories.make_volunteer(tree.village_a1, name="赵秀英")
    with pytest.raises(NotAllowed):
        care_record_create(
            actor=other.user,
            pairing_id=pairing.pk,
            date=datetime.date.today(),
            kind="phone",
            rule_codes=["weekly_contact"],
            services=[],
        )
    assert CareRecord.objects.count() == 0


def test_an_admin_in_scope_records_on_the_mothers_behalf_but_not_out_of_scope(tree, users):
    pairing = paired_child(tree.village_a1)
    rec = care_record_create(
        actor=users["district_admin"],
        pairing_id=pairing.pk,
        date=datetime.date.today(),
        kind="home_visit",
        rule_codes=["weekly_contact"],
        services=["life_care"],
    )
    assert rec.volunteer_id == pairing.volunteer_id and rec.created_by == users["district_admin"]
    with pytest.raises(NotAllowed):
        care_record_create(
            actor=users["district_b_admin"],
            pairing_id=pairing.pk,
            date=datetime.date.today(),
            kind="phone",
            rule_codes=["weekly_contact"],
            services=[],
        )
    assert CareRecord.objects.count() == 1


def test_rules_must_apply_to_the_pairings_tier(tree):
    pairing = paired_child(tree.village_a1, tier_flags={})  # no difficulty: group tier
    assert pairing.tier == "group"
    with pytest.raises(InvalidInput) as exc:
        record(pairing, datetime.date.today(), ["weekly_contact"])
    assert exc.value.message == "“每周与孩子联系一次”不适用于该儿童的关爱类型"


def test_inactive_rules_unknown_kinds_and_services_are_refused(tree):
    pairing = paired_child(tree.village_a1)
    CareRule.objects.filter(code="yearly_safety").update(active=False)
    today = datetime.date.today()
    with pytest.raises(InvalidInput, match="已停用"):
        record(pairing, today, ["yearly_safety"])
    with pytest.raises(InvalidInput, match="请至少勾选"):
        record(pairing, today, [])
    with pytest.raises(InvalidInput, match="关爱方式"):
        record(pairing, today, ["weekly_contact"], kind="letter")
    with pytest.raises(InvalidInput, match="服务内容“massage”"):
        record(pairing, today, ["weekly_contact"], services=["massage"])
    with pytest.raises(InvalidInput, match="节日“圣诞节”"):
        record(pairing, today, ["yearly_festival"], festival="圣诞节")
    assert CareRecord.objects.count() == 0


def test_a_png_photo_is_kept_and_a_disguised_file_is_refused(tree, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    pairing = paired_child(tree.village_a1)
    today = datetime.date.today()
    rec = record(pairing, today, ["weekly_contact"], photo=SimpleUploadedFile("me.PNG", PNG, "image/png"))
    assert rec.photo.name.endswith(".png")
    fake = SimpleUploadedFile("virus.jpg", b"MZ\x90\x00" * 10, "image/jpeg")
    with pytest.raises(InvalidInput) as exc:
        record(pairing, today, ["weekly_contact"], photo=fake)
    assert exc.value.message == "照片文件内容与格式不符，请重新拍摄或选择 JPG/PNG 图片"
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png")
    with pytest.raises(InvalidInput, match="5 MB"):
        record(pairing, today, ["weekly_contact"], photo=big)
    assert CareRecord.objects.count() == 1


def test_staff_in_scope_comment_and_acknowledge_once(tree, users):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, datetime.date.today(), ["weekly_contact"])
    comment = care_record_comment(
        actor=users["town_supervisor"], record_id=rec.pk, text="  记录详细，继续保持  "
    )
    assert comment.text == "记录详细，继续保持"
    first = care_record_acknowledge(actor=users["village_director"], record_id=rec.pk)
    second = care_record_acknowledge(actor=users["district_admin"], record_id=rec.pk)
    assert first.acknowledged_by == users["village_director"]
    assert second.acknowledged_by == users["village_director"]
    assert second.acknowledged_at == first.acknowledged_at


def test_staff_out_of_scope_and_mothers_cannot_comment(tree, users):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, datetime.date.today(), ["weekly_contact"])
    with pytest.raises(NotAllowed):
        care_record_comment(actor=users["district_b_admin"], record_id=rec.pk, text="好")
    with pytest.raises(NotAllowed):
        care_record_acknowledge(actor=pairing.volunteer.user, record_id=rec.pk)
    other_village = factories.make_user(Role.VILLAGE_DIRECTOR, tree.village_a2)
    with pytest.raises(NotAllowed):
        care_record_acknowledge(actor=other_village, record_id=rec.pk)
    rec.refresh_from_db()
    assert CareComment.objects.count() == 0
    assert rec.acknowledged_at is None


def test_rebuilding_progress_reproduces_the_projection(tree):
    a = paired_child(tree.village_a1, start=D(2026, 1, 5))
    b = paired_child(tree.village_a2, name="陈小虎", start=D(2026, 1, 5))
    record(a, D(2026, 3, 10), ["weekly_contact", "monthly_guardian"])
    record(a, D(2026, 2, 2), ["weekly_contact", "yearly_festival"], festival="春节")
    record(b, D(2026, 3, 1), ["term_activity"], kind="activity")
    before = sorted(
        CareRuleProgress.objects.values_list("pairing_id", "rule_id", "last_done_on", "district_id")
    )
    CareRuleProgress.objects.all().delete()
    assert care_progress_rebuild() == 4
    after = sorted(
        CareRuleProgress.objects.values_list("pairing_id", "rule_id", "last_done_on", "district_id")
    )
    assert after == before
    CareRuleProgress.objects.filter(pairing=b).update(last_done_on=D(2026, 1, 6))
    assert care_progress_rebuild(pairing_ids=[b.pk]) == 1
    assert progress(b) == {"term_activity": D(2026, 3, 1)}


def test_rebuild_command_runs(tree):
    from django.core.management import call_command

    pairing = paired_child(tree.village_a1, start=D(2026, 1, 5))
    record(pairing, D(2026, 3, 10), ["weekly_contact"])
    CareRuleProgress.objects.all().delete()
    call_command("rebuild-care-progress")
    assert progress(pairing) == {"weekly_contact": D(2026, 3, 10)}
