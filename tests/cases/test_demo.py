"""`aixin seed-demo` makes the public-security liaison `gongan` and a few cases in 酉阳."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from aixin.accounts.access import cases_visible_to, referrals_visible_to
from aixin.accounts.models import User
from aixin.cases.models import Case


@pytest.mark.django_db
def test_the_demo_has_a_police_liaison_and_cases_in_several_states():
    call_command("seed-demo", children=300, volunteers=100, seed=7, stdout=StringIO())
    police = User.objects.get(username="gongan")
    assert (police.role, police.department, police.region.code) == (
        "department_liaison",
        "public_security",
        "500242",
    )
    assert sorted(Case.objects.values_list("state", flat=True)) == [
        "closed",
        "in_progress",
        "referred",
        "reported",
    ]
    assert referrals_visible_to(police).count() == 2
    assert cases_visible_to(User.objects.get(username="youyang")).count() == 4
    out = StringIO()
    call_command("demo-logins", stdout=out)
    assert "gongan" in out.getvalue() and "/cases/inbox/" in out.getvalue()
