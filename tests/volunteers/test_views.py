from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from aixin.audit.models import AuditEvent
from aixin.volunteers.models import Volunteer
from tests import factories
from tests.pairing.helpers import activate, needy_child


def _form(tree, **over):
    data = {
        "name": "陈秀英",
        "phone": "13912345678",
        "id_number": "",
        "source_group": "red_banner",
        "work_unit": "",
        "home_region": tree.village_a1.pk,
        "work_region": "",
        "specialties": ["law"],
        "capacity": "2",
        "notes": "",
    }
    data.update(over)
    return data


def test_list_shows_masked_phone_and_load_over_capacity(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1, capacity=3)
    activate(users["district_admin"], needy_child(tree.village_a1), volunteer)
    page = login(users["town_supervisor"]).get(reverse("volunteers:volunteer_list")).content.decode()
    assert "李爱华" in page and volunteer.phone_masked in page and "1/3" in page
    assert "登记爱心妈妈" not in page


def test_list_filters_and_searches_by_pinyin(users, tree, login):
    factories.make_volunteer(tree.village_a1, name="李爱华", specialties=["psychology"])
    full = factories.make_volunteer(tree.village_a2, name="张桂兰", capacity=1)
    activate(users["district_admin"], needy_child(tree.village_a2), full)
    factories.make_volunteer(tree.village_b1, name="刘外区")
    client = login(users["district_admin"])

    def names(**params):
        page = client.get(reverse("volunteers:volunteer_list"), params).content.decode()
        return [n for n in ("李爱华", "张桂兰", "刘外区") if n in page]

    assert names() == ["李爱华", "张桂兰"]
    assert names(q="lah") == ["李爱华"]
    assert names(q="zhanggui") == ["张桂兰"]
    assert names(specialty="psychology") == ["李爱华"]
    assert names(has_capacity="1") == ["李爱华"]
    assert names(region=tree.town_a2.code) == ["张桂兰"]
    assert names(region=tree.district_b.code) == []


def test_admin_registers_a_mother_through_the_form(users, tree, login):
    response = login(users["district_admin"]).post(
        reverse("volunteers:volunteer_create"), _form(tree), follow=True
    )
    volunteer = Volunteer.objects.get()
    assert response.redirect_chain[-1][0] == reverse("volunteers:volunteer_detail", args=[volunteer.pk])
    assert "已登记爱心妈妈陈秀英" in response.content.decode()
    assert (volunteer.source_group, volunteer.specialties, volunteer.capacity) == ("red_banner", ["law"], 2)


def test_form_shows_duplicate_phone_beside_the_field(users, tree, login):
    client = login(users["district_admin"])
    client.post(reverse("volunteers:volunteer_create"), _form(tree))
    response = client.post(reverse("volunteers:volunteer_create"), _form(tree, name="重复"))
    assert response.status_code == 200
    assert "手机号139****5678已登记为爱心妈妈陈秀英（万州区），请勿重复登记" in response.content.decode()
    assert Volunteer.objects.count() == 1


def test_village_director_cannot_register(users, tree, login):
    response = login(users["village_director"]).post(reverse("volunteers:volunteer_create"), _form(tree))
    assert response.status_code == 403
    assert not Volunteer.objects.exists()


def test_detail_is_the_electronic_file_with_transitions_and_pairings(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    activate(users["district_admin"], needy_child(tree.village_a1, name="结对娃"), volunteer)
    page = (
        login(users["district_admin"])
        .get(reverse("volunteers:volunteer_detail", args=[volunteer.pk]))
        .content.decode()
    )
    assert volunteer.phone_masked in page
    assert "结对娃" in page
    assert "暂停服务（→暂停服务）" in page and "退出（→已退出）" in page
    assert "开始服务" not in page
    assert AuditEvent.objects.filter(
        action="view", object_type="volunteer", object_id=str(volunteer.pk)
    ).exists()


def test_detail_out_of_scope_is_404(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    assert (
        login(users["district_b_admin"])
        .get(reverse("volunteers:volunteer_detail", args=[volunteer.pk]))
        .status_code
        == 404
    )


def test_transition_post_approves_with_background_check(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1, status="screening")
    today = timezone.localdate().isoformat()
    response = login(users["district_admin"]).post(
        reverse("volunteers:volunteer_transition", args=[volunteer.pk]),
        {"to_status": "approved", "note": "", "background_check": "clear", "checked_on": today},
        follow=True,
    )
    assert "已将爱心妈妈李爱华的状态变更为“已准入”" in response.content.decode()
    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.background_check) == ("approved", "clear")


def test_refused_transition_shows_the_reason_and_changes_nothing(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1, status="screening")
    response = login(users["district_admin"]).post(
        reverse("volunteers:volunteer_transition", args=[volunteer.pk]),
        {"to_status": "approved"},
        follow=True,
    )
    assert "审查通过前须录入入职查询结果“无违法犯罪记录”及查询日期" in response.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.status == "screening"


def test_edit_with_stale_version_is_refused(users, tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    client = login(users["district_admin"])
    page = client.get(reverse("volunteers:volunteer_edit", args=[volunteer.pk])).content.decode()
    assert 'name="version" value="1"' in page
    Volunteer.objects.filter(pk=volunteer.pk).update(version=2)
    response = client.post(
        reverse("volunteers:volunteer_edit", args=[volunteer.pk]),
        _form(tree, name="改名", phone="", version="1"),
    )
    assert "该爱心妈妈档案已被他人修改，请刷新后重新编辑" in response.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.name == "李爱华"


def test_volunteer_role_cannot_open_the_list(tree, login):
    volunteer = factories.make_volunteer(tree.village_a1)
    assert login(volunteer.user).get(reverse("volunteers:volunteer_list")).status_code == 403
