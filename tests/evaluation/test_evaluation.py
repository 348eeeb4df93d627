"""Third-party evaluators see de-identified figures only (aixin.evaluation)."""

from __future__ import annotations

import datetime
import io
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from aixin.accounts.models import Role
from aixin.audit.models import AuditAction, AuditEvent
from aixin.evaluation.selectors import age_band, cell, evaluation_overview, evaluation_records, rate, total
from aixin.lib.idnumber import mask as mask_id
from aixin.registry import derive
from aixin.registry.models import Guardian
from tests import factories
from tests.dashboard.helpers import BOTH_AWAY

# Distinctive strings that must never reach an evaluator.
A_NAMES = [
    "龙傲天",
    "凤舞九",
    "麒麟子",
    "饕餮君",
    "貔貅宝",
    "鲲鹏飞",
    "白泽灵",
    "青鸾羽",
    "朱雀焰",
    "玄武石",
    "毕方火",
    "重明鸟",
]
B_NAMES = ["夔牛吼", "烛龙目"]
ADDRESS = "饕餮巷88号"


@dataclass
class World:
    evaluator: Any
    children: list[Any]
    secrets: list[str]


@pytest.fixture
def world(tree: Any) -> World:
    children = []
    birth = datetime.date(2015, 3, 9)
    for i, name in enumerate(A_NAMES):
        orphan = i < 7
        child = factories.make_child(
            tree.village_a1,
            name=name,
            birth=birth,
            guardian_phone=f"1397777{i:04d}",
            is_scattered_orphan=orphan,
            conditions=None if orphan else BOTH_AWAY,
            school="麒麟山小学",
        )
        child.address = ADDRESS
        child.save()
        children.append(child)
    for i, name in enumerate(B_NAMES):
        children.append(
            factories.make_child(
                tree.village_b1,
                name=name,
                birth=birth,
                guardian_phone=f"1398888{i:04d}",
                is_scattered_orphan=True,
            )
        )
    for i in range(3):
        mother = factories.make_volunteer(tree.village_a1, name=f"凤凰花{i}", capacity=2)
        for child in children[2 * i : 2 * i + 2]:
            factories.make_active_pairing(child, mother)
    secrets = [
        *A_NAMES,
        *B_NAMES,
        "凤凰花",
        ADDRESS,
        "麒麟山",
        "2015-03-09",
        "20150309",
        "1397777",
        "1398888",
    ]
    secrets += [tree.village_a1.name, tree.town_a1.name, tree.village_b1.name]
    for child in children:
        secrets += [
            derive.reveal_id_number(child),
            child.id_number_masked,
            mask_id(derive.reveal_id_number(child)),
        ]
    for guardian in Guardian.objects.all():
        secrets += [guardian.name, guardian.phone_masked]
    evaluator = factories.make_user(Role.EVALUATOR, tree.city, "pinggu")
    return World(evaluator=evaluator, children=children, secrets=secrets)


def _assert_no_personal_data(content: bytes, secrets: list[str]) -> None:
    text = content.decode("utf-8")
    for secret in secrets:
        assert secret not in text, secret


def _xlsx_text(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return b"".join(book.read(name) for name in book.namelist() if name.endswith(".xml"))


def test_small_counts_are_suppressed_and_totals_rounded_to_five() -> None:
    assert [cell(n).shown for n in (0, 1, 4, 5, 17)] == ["<5", "<5", "<5", "5", "17"]
    assert [total(n).shown for n in (3, 5, 7, 8, 12, 13)] == ["<5", "5", "5", "10", "10", "15"]
    # A rate would give a small group back with a rounded total: shown only when safe.
    assert [rate(d, t).shown for d, t in ((6, 7), (4, 4), (7, 7), (5, 10), (0, 0))] == [
        "—",
        "—",
        "100%",
        "50%",
        "—",
    ]


def test_the_overview_suppresses_a_small_district_and_rounds_the_city(world: World, tree: Any) -> None:
    o = evaluation_overview()
    a, b = (next(d for d in o.districts if d.name == r.name) for r in (tree.district_a, tree.district_b))
    assert a.children.shown == "10"  # 12 children, a total: rounded
    assert [f.shown for f in a.by_category[:2]] == ["5", "7"]  # left-behind 5, orphans 7
    assert a.by_category[2].shown == "<5"  # no de-facto-unsupported child: suppressed
    assert (a.must_cover.shown, a.must_cover_paired.shown, a.coverage_rate.shown) == ("5", "6", "—")
    assert b.children.shown == "<5"
    assert all(f.shown == "<5" for f in [*b.by_category, *b.by_tier, b.must_cover_paired])
    assert o.city is not None
    assert o.city.children.shown == "15"  # 14, rounded: B's 2 cannot be had by subtracting A's
    assert o.city.must_cover.shown == "10"  # 9


def test_an_evaluator_sees_the_overview_without_any_name_id_phone_or_address(
    world: World, client: Any
) -> None:
    client.force_login(world.evaluator)
    response = client.get(reverse("evaluation:overview"))
    assert response.status_code == 200
    assert "涪陵区" in response.content.decode()
    _assert_no_personal_data(response.content, world.secrets)


def test_the_record_download_is_de_identified_and_audited(world: World, client: Any) -> None:
    client.force_login(world.evaluator)
    response = client.get(reverse("evaluation:records_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    xml = _xlsx_text(response.content)
    _assert_no_personal_data(xml, world.secrets)
    assert "去标识化" in xml.decode()
    event = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="evaluation_records")
    assert event.details["rows"] == 14
    assert event.actor == world.evaluator


def test_the_records_carry_bands_not_dates_and_a_new_pseudonym_each_export(world: World) -> None:
    today = datetime.date(2026, 6, 1)
    first = list(evaluation_records(today=today, salt=b"one"))
    second = list(evaluation_records(today=today, salt=b"two"))
    assert len(first) == 14
    assert {r[2] for r in first} == {"6–11岁"}
    assert {r[6] for r in first} == {"是", "否"}
    assert sum(r[6] == "是" for r in first) == 6
    assert {r[0] for r in first}.isdisjoint({r[0] for r in second})
    assert {str(c.pk) for c in world.children}.isdisjoint({r[0] for r in first})
    assert first == sorted(first, key=lambda r: r[0])


def test_age_bands() -> None:
    today = datetime.date(2026, 6, 1)
    assert age_band(datetime.date(2020, 6, 2), today) == "0–5岁"
    assert age_band(datetime.date(2020, 6, 1), today) == "6–11岁"
    assert age_band(datetime.date(2014, 6, 1), today) == "12–17岁"
    assert age_band(datetime.date(2008, 6, 1), today) == "18岁及以上"


@pytest.mark.parametrize(
    "role", [Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.VILLAGE_DIRECTOR, Role.VOLUNTEER]
)
@pytest.mark.parametrize("url_name", ["evaluation:overview", "evaluation:records_export"])
def test_other_roles_are_refused(tree: Any, client: Any, role: str, url_name: str) -> None:
    region = (
        tree.city
        if role == Role.CITY_ADMIN
        else tree.district_a
        if role == Role.DISTRICT_ADMIN
        else tree.village_a1
    )
    client.force_login(factories.make_user(role, region))
    assert client.get(reverse(url_name)).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_anonymous_visitors_are_sent_to_log_in(db: Any, client: Any) -> None:
    response = client.get(reverse("evaluation:records_export"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
