"""Fixtures of the department-data tests: the system administrator, who owns the department
credentials, and the city's civil-affairs credential."""

from __future__ import annotations

import pytest

from aixin.ingest import credentials
from aixin.ingest.models import DepartmentCredential
from tests import factories


@pytest.fixture
def users(users, tree):
    """The conftest's users and the system administrator, who owns the credentials."""
    return {**users, "system_admin": factories.make_user("system_admin", tree.city, "sysadmin")}


@pytest.fixture
def city_key(users, tree) -> tuple[DepartmentCredential, str]:
    """The city's civil-affairs system."""
    return credentials.credential_create(
        actor=users["system_admin"], name="市民政局困境儿童系统", source="civil_affairs", region=tree.city
    )
