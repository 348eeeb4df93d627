from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from aixin.accounts.models import Role, User
from aixin.audit.models import AuditEvent
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed, StaleEdit
from aixin.pairing.models import Pairing
from aixin.registry import derive
from aixin.volunteers import services
from aixin.volunteers.models import Volunteer, VolunteerStatus, VolunteerStatusChange
from tests import factories
from tests.pairing.helpers import activate, needy_child, propose

TODAY = datetime.date.today


def _data(tree, **over):
    data = {
        "name": "陈秀英",
        "phone": "13912345678",
        "source_group": "federation_executive",
        "work_unit": "村妇联",
        "home_region": tree.village_a1,
        "specialties": ["psychology", "tutoring"],
        "capacity": 2,
        "notes": "",
    }
    data.update(over)
    return data


def test_district_admin_registers_a_mother_with_encrypted_phone_and_pinyin(users, tree):
    volunteer = services.volunteer_create(actor=users["district_admin"], data=_data(tree))

    assert volunteer.status == VolunteerStatus.RECRUITED
    assert volunteer.phone_masked == "139****5678"
    assert "13912345678" not in volunteer.phone_encrypted
    assert derive.reveal_volunteer_phone(volunteer) == "13912345678"
    assert volunteer.name_pinyin == "chenxiuying cxy"
    assert (volunteer.district, volunteer.town) == (tree.district_a, tree.town_a1)
    assert volunteer.specialties == ["psychology", "tutoring"]
    assert list(volunteer.status_changes.values_list("to_status", flat=True)) == ["recruited"]
    assert AuditEvent.objects.filter(
        action="create", object_type="volunteer", object_id=str(volunteer.pk)
    ).exists()


def test_id_number_is_validated_and_stored_masked(users, tree):
    number = factories.id_number(datetime.date(1980, 5, 1), female=True)
    volunteer = services.volunteer_create(actor=users["district_admin"], data=_data(tree, id_number=number))
    assert volunteer.id_number_masked == number[:3] + "*" * 11 + number[-4:]
    assert number not in volunteer.id_number_encrypted

    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(InvalidInput) as exc:
        services.volunteer_create(
            actor=users["district_admin"], data=_data(tree, phone="13900000001", id_number=bad)
        )
    assert exc.value.message == "身份证号校验位不正确，请核对是否有数字录错"
    assert exc.value.field == "id_number"
    assert Volunteer.objects.count() == 1


def test_duplicate_phone_is_refused_in_chinese(users, tree):
    services.volunteer_create(actor=users["district_admin"], data=_data(tree))
    with pytest.raises(Conflict) as exc:
        services.volunteer_create(actor=users["district_admin"], data=_data(tree, name="另一人"))
    assert exc.value.message == "手机号139****5678已登记为爱心妈妈陈秀英（万州区），请勿重复登记"
    assert Volunteer.objects.count() == 1


def test_duplicate_phone_in_another_district_does_not_reveal_the_name(users, tree):
    services.volunteer_create(actor=users["district_admin"], data=_data(tree))
    with pytest.raises(Conflict) as exc:
        services.volunteer_create(
            actor=users["district_b_admin"], data=_data(tree, home_region=tree.village_b1)
        )
    assert "陈秀英" not in exc.value.message
    assert Volunteer.objects.count() == 1


def test_home_village_outside_the_admins_district_is_refused(users, tree):
    with pytest.raises(InvalidInput) as exc:
        services.volunteer_create(actor=users["district_b_admin"], data=_data(tree))
    assert exc.value.message == "居住村(社区)“万州1镇1村”不在你的管辖范围内"
    assert Volunteer.objects.count() == 0


def test_capacity_must_be_between_one_and_five(users, tree):
    with pytest.raises(InvalidInput) as exc:
        services.volunteer_create(actor=users["district_admin"], data=_data(tree, capacity=6))
    assert exc.value.field == "capacity"
    assert Volunteer.objects.count() == 0


def test_village_director_may_not_register_mothers(users, tree):
    with pytest.raises(NotAllowed):
        services.volunteer_create(actor=users["village_director"], data=_data(tree))
    assert Volunteer.objects.count() == 0


def test_update_with_an_old_version_is_refused(users, tree):
    volunteer = services.volunteer_create(actor=users["district_admin"], data=_data(tree))
    services.volunteer_update(
        actor=users["district_admin"],
        volunteer_id=volunteer.pk,
        version=1,
        data=_data(tree, work_unit="镇政府"),
    )
    with pytest.raises(StaleEdit) as exc:
        services.volunteer_update(
            actor=users["district_admin"],
            volunteer_id=volunteer.pk,
            version=1,
            data=_data(tree, work_unit="学校"),
        )
    assert exc.value.message == "该爱心妈妈档案已被他人修改，请刷新后重新编辑"
    volunteer.refresh_from_db()
    assert (volunteer.work_unit, volunteer.version) == ("镇政府", 2)


def test_capacity_cannot_go_below_current_load(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1, capacity=3)
    for name in ("甲", "乙"):
        factories.make_active_pairing(needy_child(tree.village_a1, name=name), volunteer)
    with pytest.raises(InvalidInput) as exc:
        services.volunteer_update(
            actor=users["district_admin"],
            volunteer_id=volunteer.pk,
            version=volunteer.version,
            data=_data(tree, name=volunteer.name, phone="", capacity=1),
        )
    assert exc.value.message == "当前已结对2人，可结对人数不能少于2"
    volunteer.refresh_from_db()
    assert volunteer.capacity == 3


def test_district_b_admin_cannot_update_district_a_mother(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1)
    with pytest.raises(Http404):
        services.volunteer_update(
            actor=users["district_b_admin"],
            volunteer_id=volunteer.pk,
            version=volunteer.version,
            data=_data(tree, home_region=tree.village_b1),
        )
    volunteer.refresh_from_db()
    assert volunteer.home_region == tree.village_a1


def _move(admin, volunteer, to, **kw):
    return services.volunteer_transition(actor=admin, volunteer_id=volunteer.pk, to_status=to, **kw)


def test_full_life_cycle_is_recorded_and_audited(users, tree):
    admin = users["district_admin"]
    volunteer = factories.make_volunteer(tree.village_a1, status=VolunteerStatus.RECRUITED)
    _move(admin, volunteer, "screening")
    _move(admin, volunteer, "approved", background_check="clear", checked_on=TODAY())
    _move(admin, volunteer, "active")
    _move(admin, volunteer, "suspended", note="外出学习三个月")
    _move(admin, volunteer, "active")
    volunteer.refresh_from_db()

    assert volunteer.status == "active"
    assert volunteer.background_check == "clear"
    assert list(
        VolunteerStatusChange.objects.filter(volunteer=volunteer).values_list("from_status", "to_status")
    ) == [
        ("recruited", "screening"),
        ("screening", "approved"),
        ("approved", "active"),
        ("active", "suspended"),
        ("suspended", "active"),
    ]
    assert AuditEvent.objects.filter(action="transition", object_type="volunteer").count() == 5


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("recruited", "active"),
        ("recruited", "approved"),
        ("screening", "active"),
        ("approved", "suspended"),
        ("exited", "active"),
        ("suspended", "screening"),
    ],
)
def test_transitions_outside_the_life_cycle_are_refused(users, tree, start, to):
    volunteer = factories.make_volunteer(tree.village_a1, status=start)
    with pytest.raises(InvalidInput) as exc:
        _move(users["district_admin"], volunteer, to, note="x")
    assert exc.value.message.startswith(f"爱心妈妈{volunteer.name}当前状态为")
    volunteer.refresh_from_db()
    assert volunteer.status == start
    assert not VolunteerStatusChange.objects.filter(volunteer=volunteer).exists()


def test_approval_requires_a_clear_background_check(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1, status="screening")
    with pytest.raises(InvalidInput) as exc:
        _move(users["district_admin"], volunteer, "approved")
    assert exc.value.message == "审查通过前须录入入职查询结果“无违法犯罪记录”及查询日期"
    volunteer.refresh_from_db()
    assert volunteer.status == "screening"


def test_background_check_dated_in_the_future_is_refused(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1, status="screening")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(InvalidInput) as exc:
        _move(users["district_admin"], volunteer, "approved", background_check="clear", checked_on=tomorrow)
    assert exc.value.message == f"入职查询日期{tomorrow.isoformat()}晚于今天，请核对"
    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.background_check) == ("screening", "")


def test_flagged_background_check_leads_only_to_exit(users, tree):
    admin = users["district_admin"]
    volunteer = factories.make_volunteer(tree.village_a1, status="screening")
    with pytest.raises(InvalidInput) as exc:
        _move(admin, volunteer, "approved", background_check="flagged", checked_on=TODAY())
    assert exc.value.message == "入职查询有不良记录，不能准入，只能办理退出"
    volunteer.refresh_from_db()
    assert volunteer.status == "screening"

    _move(
        admin, volunteer, "exited", note="入职查询有不良记录", background_check="flagged", checked_on=TODAY()
    )
    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.background_check, volunteer.exit_reason) == (
        "exited",
        "flagged",
        "入职查询有不良记录",
    )


def test_exit_requires_a_reason(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1)
    with pytest.raises(InvalidInput) as exc:
        _move(users["district_admin"], volunteer, "exited", note="  ")
    assert exc.value.message == "请填写退出的原因"
    volunteer.refresh_from_db()
    assert volunteer.status == "active"


def test_exit_ends_active_pairings_cancels_proposals_and_releases_load(users, tree):
    admin = users["district_admin"]
    volunteer = factories.make_volunteer(tree.village_a1, capacity=3)
    active = activate(admin, needy_child(tree.village_a1, name="甲"), volunteer)
    proposed = propose(admin, needy_child(tree.village_a1, name="乙"), volunteer)
    volunteer.refresh_from_db()
    assert volunteer.load == 2

    _move(admin, volunteer, "exited", note="搬家到外地")

    volunteer.refresh_from_db()
    active.refresh_from_db()
    proposed.refresh_from_db()
    assert volunteer.load == 0
    assert (active.status, active.end_date, active.end_reason) == (
        "ended",
        timezone.localdate(),
        "爱心妈妈退出：搬家到外地",
    )
    assert (proposed.status, proposed.end_reason) == ("cancelled", "爱心妈妈退出：搬家到外地")
    last = AuditEvent.objects.filter(
        action="transition", object_type="pairing", object_id=str(active.pk)
    ).first()
    assert last.summary == "爱心妈妈李爱华与儿童甲的结对解除：爱心妈妈退出：搬家到外地"


def test_suspension_also_ends_open_pairings(users, tree):
    admin = users["district_admin"]
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = activate(admin, needy_child(tree.village_a1), volunteer)
    _move(admin, volunteer, "suspended", note="生病住院")
    pairing.refresh_from_db()
    volunteer.refresh_from_db()
    assert (pairing.status, volunteer.load) == ("ended", 0)
    assert (
        Pairing.objects.filter(
            volunteer=volunteer, status__in=["proposed", "awaiting_consent", "active"]
        ).count()
        == 0
    )


def test_load_above_capacity_is_impossible_in_the_database(tree):
    volunteer = factories.make_volunteer(tree.village_a1, capacity=1)
    Volunteer.objects.filter(pk=volunteer.pk).update(load=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Volunteer.objects.filter(pk=volunteer.pk).update(load=2)
    volunteer.refresh_from_db()
    assert volunteer.load == 1


def test_create_login_gives_a_volunteer_account_at_her_village(users, tree):
    volunteer = factories.make_volunteer(tree.village_a1, with_user=False)
    username, password = services.volunteer_create_login(
        actor=users["district_admin"], volunteer_id=volunteer.pk
    )
    user = User.objects.get(username=username)
    volunteer.refresh_from_db()
    assert volunteer.user == user
    assert (user.role, user.region) == (Role.VOLUNTEER, tree.village_a1)
    assert user.check_password(password)
    assert len(password) == 10
    assert user.must_change_password  # the temporary password is hers only until she changes it
    with pytest.raises(Conflict):
        services.volunteer_create_login(actor=users["district_admin"], volunteer_id=volunteer.pk)
