"""Test data: a small region tree and records created the way the services create them.

Tree: 重庆市 500000 → 万州区 500101 (district A) and 涪陵区 500102 (district B); each district has
two towns, each town two villages. Codes follow GB/T 2260 / 12-digit shapes.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import Any

from aixin.accounts.models import Role, User
from aixin.lib.idnumber import check_character
from aixin.regions.models import Region, RegionLevel
from aixin.regions.tree import create_region
from aixin.registry import derive
from aixin.registry.models import Child, Guardian, ParentCondition
from aixin.registry.rules import Condition
from aixin.volunteers.models import Volunteer, VolunteerStatus

PASSWORD = "Test-pass-2026!"
_seq = itertools.count(1)


@dataclass
class Tree:
    city: Region
    district_a: Region
    district_b: Region
    town_a1: Region
    town_a2: Region
    town_b1: Region
    village_a1: Region  # in town_a1
    village_a1b: Region  # in town_a1
    village_a2: Region  # in town_a2
    village_b1: Region  # in town_b1


def make_tree() -> Tree:
    city = create_region(code="500000", name="重庆市", level=RegionLevel.CITY, parent=None)
    made: dict[str, Region] = {}
    for dcode, dname in (("500101", "万州区"), ("500102", "涪陵区")):
        district = create_region(code=dcode, name=dname, level=RegionLevel.DISTRICT, parent=city)
        made[dcode] = district
        for t in (1, 2):
            tcode = f"{dcode}{100 + t:03d}"
            town = create_region(
                code=tcode, name=f"{dname[:2]}{t}镇", level=RegionLevel.TOWN, parent=district
            )
            made[tcode] = town
            for v in (1, 2):
                vcode = f"{tcode}{200 + v:03d}"
                made[vcode] = create_region(
                    code=vcode, name=f"{dname[:2]}{t}镇{v}村", level=RegionLevel.VILLAGE, parent=town
                )
    return Tree(
        city=city,
        district_a=made["500101"],
        district_b=made["500102"],
        town_a1=made["500101101"],
        town_a2=made["500101102"],
        town_b1=made["500102101"],
        village_a1=made["500101101201"],
        village_a1b=made["500101101202"],
        village_a2=made["500101102201"],
        village_b1=made["500102101201"],
    )


def make_user(role: str, region: Region, username: str | None = None) -> User:
    username = username or f"{role}-{next(_seq)}"
    return User.objects.create_user(
        username=username, password=PASSWORD, role=role, region=region, display_name=username
    )


def id_number(
    birth: datetime.date, *, region_code: str = "500101", female: bool = False, seq: int | None = None
) -> str:
    n = seq if seq is not None else next(_seq)
    order = (n * 2 + (0 if female else 1)) % 1000
    first17 = f"{region_code}{birth:%Y%m%d}{order:03d}"
    return first17 + check_character(first17)


def make_child(
    village: Region,
    *,
    name: str = "张小明",
    birth: datetime.date | None = None,
    conditions: list[Condition] | None = None,
    guardian_phone: str = "13800001234",
    **fields: Any,
) -> Child:
    from aixin.lib.idnumber import parse

    birth = birth or datetime.date.today().replace(year=datetime.date.today().year - 10, day=1)
    number = fields.pop("id_number", None) or id_number(birth)
    child = Child(**fields)
    derive.set_name(child, name)
    derive.set_identity(child, parse(number))
    derive.set_region(child, village)
    conds = conditions or []
    derive.apply_rules(child, conds)
    child.save()
    for c in conds:
        row = ParentCondition(
            child=child, parent=c.parent, kind=c.kind, started_on=c.started_on, term_months=c.term_months
        )
        row.disability_grade = c.disability_grade
        row.disability_category = c.disability_category
        row.save()
    guardian = Guardian(child=child, name=name[0] + "奶奶", relation="祖母", guardianship_type="entrusted")
    derive.set_guardian_phone(guardian, guardian_phone)
    guardian.save()
    return child


def make_volunteer(
    village: Region,
    *,
    name: str = "李爱华",
    capacity: int = 2,
    status: str = VolunteerStatus.ACTIVE,
    user: User | None = None,
    with_user: bool = True,
    **fields: Any,
) -> Volunteer:
    if user is None and with_user:
        user = make_user(Role.VOLUNTEER, village)
    volunteer = Volunteer(
        capacity=capacity, status=status, user=user, source_group="federation_executive", **fields
    )
    derive.set_name(volunteer, name)
    derive.set_region(volunteer, village, field="home_region")
    derive.set_volunteer_phone(volunteer, f"139{next(_seq):08d}")
    volunteer.save()
    return volunteer


def make_active_pairing(child: Child, volunteer: Volunteer, *, start: datetime.date | None = None) -> Any:
    """An active pairing as the pairing service leaves it (load counted, consent recorded)."""
    from django.db.models import F

    from aixin.pairing.models import GuardianConsent, Pairing

    start = start or datetime.date.today() - datetime.timedelta(days=90)
    pairing = Pairing.objects.create(
        child=child,
        volunteer=volunteer,
        tier=child.care_tier,
        status="active",
        start_date=start,
        district_id=child.district_id,
        town_id=child.town_id,
        village_id=child.region_id,
    )
    Volunteer.objects.filter(pk=volunteer.pk).update(load=F("load") + 1)
    guardian = child.guardians.first()
    GuardianConsent.objects.create(
        pairing=pairing,
        guardian=guardian,
        guardian_name=guardian.name if guardian else "监护人",
        relation="祖母",
        method="written",
        consented_on=start,
        recorded_by=make_user(Role.DISTRICT_ADMIN, child.district),
    )
    volunteer.refresh_from_db()
    return pairing
