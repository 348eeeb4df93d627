"""Two people acting on the same case at once lose nothing: the case row is locked for each
action, so one wins and the other is refused with the state it now has; notes are appended.

These tests use real threads, each with its own database connection, so they need committed data
(`transactional_db`). The flush that empties the database afterwards would be refused by the
append-only triggers of reports, events and the audit log, so they are lifted for the flush
only and put back afterwards, with the care configuration the migrations seed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, connections

from aixin.cases.models import Case, CaseEvent
from aixin.lib.errors import DomainError
from tests import factories, flush
from tests.cases import helpers
from tests.flush import append_only_triggers

_restore_after_flush = flush._restore_after_flush


@pytest.fixture
def threaded_db(_restore_after_flush: None, transactional_db: None) -> Iterator[None]:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # SQLite's shared-cache memory database answers "table is locked" at once instead of
        # waiting like a database file: these run on PostgreSQL and on SQLite files
        # (AIXIN_TEST_DB_NAME), as in production.
        pytest.skip("并发测试需要 PostgreSQL 或 SQLite 数据库文件（内存数据库不支持等待锁）")
    yield
    append_only_triggers(on=False)


@pytest.fixture
def world(threaded_db: None) -> tuple[helpers.People, Any]:
    tree = factories.make_tree()
    users = {
        "city_admin": factories.make_user("city_admin", tree.city, "city"),
        "district_admin": factories.make_user("district_admin", tree.district_a, "dist_a"),
        "district_b_admin": factories.make_user("district_admin", tree.district_b, "dist_b"),
        "town_supervisor": factories.make_user("town_supervisor", tree.town_a1, "town_a1"),
        "village_director": factories.make_user("village_director", tree.village_a1, "village_a1"),
    }
    child = factories.make_child(tree.village_a1, name="甲童")
    return helpers.make_people(tree, users), child


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each result is a value or the exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_people_accepting_the_same_report_at_once_accept_it_once(world):
    people, child = world
    case = helpers.report(people.village, child)
    version = case.version
    results = _at_once(
        lambda: helpers.act(people.district, case, "accept", version=version),
        lambda: helpers.act(people.city, case, "accept", version=version),
    )
    wins = [r for r in results if isinstance(r, Case)]
    losses = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].message in (
        "该风险事件已被他人更新（现为「已受理」），请刷新后再操作",
        "风险事件当前为「已受理」，不能「受理」",
    )
    case.refresh_from_db()
    assert (case.state, case.version) == ("accepted", version + 1)
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1


def test_notes_written_at_the_same_moment_are_all_kept(world):
    people, child = world
    case = helpers.report(people.village, child)
    results = _at_once(
        lambda: helpers.act(people.district, case, "note", note="区县已电话联系监护人"),
        lambda: helpers.act(people.town, case, "note", note="督导员正在家访"),
        lambda: helpers.act(people.village, case, "note", note="儿童主任已到学校了解"),
    )
    assert all(isinstance(r, Case) for r in results), results
    notes = {e.note for e in CaseEvent.objects.filter(case=case, action="note")}
    assert notes == {"区县已电话联系监护人", "督导员正在家访", "儿童主任已到学校了解"}


def test_a_district_referring_again_while_a_department_signs_for_the_referral_loses_neither(world):
    people, child = world
    case = helpers.case_in_state("referred", people, child)
    referral = case.referrals.get()
    results = _at_once(
        lambda: helpers.ref_act(people.edu_a, referral, "accept"),
        lambda: helpers.act(people.district, case, "refer", departments=["public_security"], note="加转公安"),
    )
    assert not any(isinstance(r, Exception) for r in results), results
    case.refresh_from_db()
    assert case.state == "in_progress"
    assert sorted(case.referrals.values_list("department", "state")) == [
        ("education", "accepted"),
        ("public_security", "pending"),
    ]
