"""`aixin create-user … --department`: department liaisons belong to one department."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from aixin.accounts.models import User


def _create(*args: str) -> str:
    out = io.StringIO()
    call_command("create-user", *args, "--generate", stdout=out)
    return out.getvalue()


def test_a_liaison_is_created_with_their_department(tree):
    out = _create(
        "gongan", "--role", "department_liaison", "--region", "500101", "--department", "public_security"
    )
    user = User.objects.get(username="gongan")
    assert (user.role, user.department, user.region) == (
        "department_liaison",
        "public_security",
        tree.district_a,
    )
    assert "已创建用户 gongan：部门联络员（公安），万州区" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--role", "department_liaison", "--region", "500101"),
            "部门联络员必须用 --department 指定所属部门",
        ),
        (
            ("--role", "department_liaison", "--region", "500101", "--department", "army"),
            "部门「army」不存在",
        ),
        (
            ("--role", "district_admin", "--region", "500101", "--department", "education"),
            "只有部门联络员有所属部门，角色「区县妇联工作人员」不要加 --department",
        ),
    ],
)
def test_a_department_is_required_for_liaisons_and_refused_for_others(tree, args, message):
    with pytest.raises(CommandError) as exc:
        _create("x1", *args)
    assert str(exc.value).startswith(message)
    assert not User.objects.filter(username="x1").exists()


def test_the_database_refuses_a_liaison_without_a_department(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="nodept", role="department_liaison", region=tree.district_a)
