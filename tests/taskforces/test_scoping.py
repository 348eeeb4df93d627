"""Who sees which task force and, for a task-force member, which children (the functions the lead
moves into aixin.accounts.access)."""

from __future__ import annotations

from aixin.accounts.access import children_visible_to, taskforce_children_q, taskforces_visible_to
from aixin.registry.models import Child
from aixin.taskforces import services
from tests import factories
from tests.taskforces.helpers import add_member, member_login, risky_child, taskforce_for


def _two_task_forces(tree, users):
    admin = users["district_admin"]
    mine = taskforce_for(risky_child(tree.village_a1, name="我的"), admin)
    other = taskforce_for(risky_child(tree.village_a2, name="别人的"), admin)
    member = add_member(mine, admin, "police", "李警官")
    return mine, other, member, member_login(member, admin)


def test_a_member_sees_only_the_children_whose_task_force_they_sit_on(tree, users):
    mine, _other, _member, officer = _two_task_forces(tree, users)

    assert list(children_visible_to(officer)) == [mine.child]
    assert list(Child.objects.filter(taskforce_children_q(officer))) == [mine.child]
    assert list(taskforces_visible_to(officer)) == [mine]


def test_a_member_who_left_sees_nothing(tree, users):
    _mine, _other, member, officer = _two_task_forces(tree, users)

    services.member_remove(actor=users["district_admin"], member_id=member.pk)

    assert not children_visible_to(officer).exists()
    assert not taskforces_visible_to(officer).exists()


def test_a_member_sees_nothing_once_the_task_force_stood_down(tree, users):
    mine, _other, _member, officer = _two_task_forces(tree, users)
    mine.status = "stood_down"
    mine.save()

    assert not children_visible_to(officer).exists()
    assert not taskforces_visible_to(officer).exists()


def test_a_loving_mother_sees_the_task_force_of_her_actively_paired_child_only(tree, users):
    admin = users["district_admin"]
    child = risky_child(tree.village_a1)
    taskforce = taskforce_for(child, admin)
    taskforce_for(risky_child(tree.village_a1, name="别家孩子"), admin)
    mother = factories.make_volunteer(tree.village_a1)
    factories.make_active_pairing(child, mother)

    assert list(taskforces_visible_to(mother.user)) == [taskforce]


def test_staff_see_task_forces_of_their_area_only(tree, users):
    admin = users["district_admin"]
    a1 = taskforce_for(risky_child(tree.village_a1), admin)
    a2 = taskforce_for(risky_child(tree.village_a2), admin)
    b = taskforce_for(risky_child(tree.village_b1), users["district_b_admin"])

    assert set(taskforces_visible_to(users["city_admin"])) == {a1, a2, b}
    assert set(taskforces_visible_to(admin)) == {a1, a2}
    assert set(taskforces_visible_to(users["town_supervisor"])) == {a1}
    assert set(taskforces_visible_to(users["village_director"])) == {a1}
    assert set(taskforces_visible_to(users["district_b_admin"])) == {b}


def test_a_member_account_without_a_seat_sees_no_task_force_and_no_child(tree, users):
    taskforce_for(risky_child(tree.village_a1), users["district_admin"])
    seatless = factories.make_user("taskforce_member", tree.district_a)

    assert not taskforces_visible_to(seatless).exists()
    assert not children_visible_to(seatless).exists()
