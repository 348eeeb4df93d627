"""Schemathesis against /api/v1/openapi.json, in process, with each role's personal API token:
no answer is a server error, and no answer to a district-A user shows a record of district B.

Cases are generated from the live schema (so new operations are fuzzed without a change here)
and sent through the Django WSGI application; each role gets its own token and world.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from aixin.accounts.models import ApiToken, Role, hash_token
from tests.security.attack_world import AttackWorld, build_world, leaked, readable

ROLES = [
    Role.CITY_ADMIN.value,
    Role.DISTRICT_ADMIN.value,
    Role.TOWN_SUPERVISOR.value,
    Role.VILLAGE_DIRECTOR.value,
    Role.VOLUNTEER.value,
]
MAX_EXAMPLES = 12


@pytest.fixture
def wsgi_app() -> Any:
    """The Django WSGI application, sharing the test's database transaction: Django closes
    "old" connections at each request's start and end, which would end the test's transaction
    (the test client disconnects the same handler)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _token(user: Any) -> str:
    raw = ApiToken.generate()
    ApiToken.objects.create(user=user, prefix=raw[:12], token_hash=hash_token(raw), name="fuzz")
    return raw


def _no_district_b(world: AttackWorld) -> Any:
    markers = world.markers

    def no_district_b_record(ctx: Any, response: Any, case: Any) -> bool | None:
        """No record of district B in the answer (what the request itself sent aside)."""
        sent = repr((case.path_parameters, case.query, case.body))
        text = readable(response.content, (response.headers.get("content-type") or [""])[0])
        found = [m for m in leaked(text, markers) if m not in sent]
        if found:
            raise AssertionError(f"{case.operation.label} shows district B: {found}")
        return None

    return no_district_b_record


@pytest.mark.parametrize("role", ROLES)
def test_no_api_operation_fails_or_shows_another_district_for_any_input(
    role: str, tree: Any, users: dict[str, Any], wsgi_app: Any
) -> None:
    world = build_world(tree, users)
    headers = {"Authorization": f"Bearer {_token(world.users[role])}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    checks = [not_a_server_error]
    if role != Role.CITY_ADMIN.value:  # the city sees district B by right
        checks.append(_no_district_b(world))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]
    failures: list[str] = []
    statuses: Counter[str] = Counter()
    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=checks)
            statuses[f"{case.method.upper()} {case.operation.path} {response.status_code}"] += 1

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert failures == [], "\n\n".join(failures)
    # The token was accepted: the fuzzing reached the operations, not only the log-in check.
    answered = sum(n for key, n in statuses.items() if key.endswith(" 200"))
    assert answered >= 2 * MAX_EXAMPLES, statuses


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/children",
        "/api/v1/volunteers",
        "/api/v1/pairings",
        "/api/v1/notifications",
        "/api/v1/incidents",
    ],
)
def test_a_page_offset_beyond_any_number_the_database_holds_is_an_empty_page(
    path: str, tree: Any, users: dict[str, Any], client: Any
) -> None:
    # Found by the fuzzing above: an offset of 2**66 overflowed the database's integer (500).
    client.force_login(users[Role.DISTRICT_ADMIN.value])
    response = client.get(path, {"offset": str(2**66), "limit": "10"})
    assert response.status_code == 200, response.content.decode()[:300]
    assert response.json()["items"] == []
