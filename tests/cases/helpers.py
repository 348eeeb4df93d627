"""Shared builders for the case tests: liaisons per district and department, and cases brought
to a given state through the services (never by writing rows directly)."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aixin.accounts.models import Role, User
from aixin.cases import services
from aixin.cases.models import Case
from tests.factories import PASSWORD

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


def liaison(region: Any, department: str, username: str) -> User:
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        role=Role.DEPARTMENT_LIAISON,
        region=region,
        department=department,
        display_name=username,
    )


@dataclass
class People:
    city: User
    district: User  # district A's federation staff
    district_b: User
    town: User
    village: User
    police_a: User  # public security, district A
    edu_a: User  # education, district A
    police_b: User  # public security, district B


def make_people(tree: Any, users: dict[str, Any]) -> People:
    return People(
        city=users["city_admin"],
        district=users["district_admin"],
        district_b=users["district_b_admin"],
        town=users["town_supervisor"],
        village=users["village_director"],
        police_a=liaison(tree.district_a, "public_security", "gongan_a"),
        edu_a=liaison(tree.district_a, "education", "jiaowei_a"),
        police_b=liaison(tree.district_b, "public_security", "gongan_b"),
    )


def report(actor: Any, child: Any, *, category: str = "bullying", severity: str = "high", **kw: Any) -> Case:
    return services.report_create(
        actor=actor,
        child_id=child.pk,
        category=category,
        severity=severity,
        description=kw.pop("description", "孩子说在学校被高年级同学打"),
        observed_at=kw.pop("observed_at", timezone.now() - datetime.timedelta(hours=1)),
        place=kw.pop("place", "村小学门口"),
        **kw,
    )


def act(actor: Any, case: Case, action: str, **kw: Any) -> Case:
    kw.setdefault("note", "已处理" if action != "accept" else "")
    return services.case_transition(actor=actor, case_id=case.pk, action=action, **kw)


def ref_act(actor: Any, referral: Any, action: str, **kw: Any) -> Any:
    kw.setdefault("note", "已办理" if action != "accept" else "")
    return services.referral_transition(actor=actor, referral_id=referral.pk, action=action, **kw)


def case_in_state(state: str, people: People, child: Any) -> Case:
    """A case of district A brought to `state` the way people would."""
    case = report(people.village, child)
    if state == "reported":
        return _fresh(case)
    act(people.district, case, "accept")
    if state == "accepted":
        return _fresh(case)
    act(people.district, case, "refer", departments=["education"])
    if state == "referred":
        return _fresh(case)
    referral = case.referrals.get()
    ref_act(people.edu_a, referral, "accept")
    if state == "in_progress":
        return _fresh(case)
    ref_act(people.edu_a, referral, "done", note="已约谈家长和学校")
    act(people.district, case, "resolve", note="欺凌已制止")
    if state == "resolved":
        return _fresh(case)
    act(people.district, case, "close", note="回访核实，孩子已正常上学")
    assert state == "closed", state
    return _fresh(case)


def _fresh(case: Case) -> Case:
    case.refresh_from_db()
    return case


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def big_jpeg(size: int) -> SimpleUploadedFile:
    data = io.BytesIO(JPEG + b"\x00" * size)
    return SimpleUploadedFile("big.jpg", data.getvalue(), content_type="image/jpeg")
