from __future__ import annotations

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests import factories

# Hypothesis' timing checks (a 200 ms deadline per example, "generation too slow") measure the
# machine, not the code: on a busy two-core CI machine they failed tests whose properties held.
hypothesis_settings.register_profile("aixin", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("aixin")


def pytest_configure(config):
    from django.conf import settings

    # Real password hashing costs ~0.3 s per user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tree(db):
    return factories.make_tree()


@pytest.fixture
def users(tree):
    """One user per role, all in district A (万州区) except `district_b_admin`."""
    from aixin.accounts.models import Role

    return {
        "city_admin": factories.make_user(Role.CITY_ADMIN, tree.city, "city"),
        "district_admin": factories.make_user(Role.DISTRICT_ADMIN, tree.district_a, "dist_a"),
        "district_b_admin": factories.make_user(Role.DISTRICT_ADMIN, tree.district_b, "dist_b"),
        "town_supervisor": factories.make_user(Role.TOWN_SUPERVISOR, tree.town_a1, "town_a1"),
        "village_director": factories.make_user(Role.VILLAGE_DIRECTOR, tree.village_a1, "village_a1"),
    }


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _audit_anchor_in_tmp(settings, tmp_path):
    """Sealing the audit log writes the chain's head to a file: a test's own, not var/."""
    settings.AIXIN_AUDIT_ANCHOR_FILE = str(tmp_path / "audit-anchor.log")


@pytest.fixture(autouse=True)
def _fresh_dashboard(settings):
    """Tests read the dashboard right after their writes: no cached numbers."""
    settings.AIXIN_DASHBOARD_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _second_factor_off(settings):
    """Tests sign in with client.force_login, which cannot pass a second factor: it is off unless
    a test turns it on (tests/accounts/test_auth_security.py, tests/browser/test_login_security.py)."""
    settings.AIXIN_TOTP_ENFORCED = False


@pytest.fixture(autouse=True)
def _queue_in_memory(monkeypatch):
    """Each test gets an empty in-memory task queue store: nothing is written to the demo's
    var/queue.sqlite3, and import progress of one test never leaks into another."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import MemoryStorage

    monkeypatch.setattr(HUEY, "storage", MemoryStorage(HUEY.name))
