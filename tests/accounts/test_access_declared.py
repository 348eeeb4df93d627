"""Deny by default: a page or API operation that does not declare its access is refused."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.test_scope_matrix import MATRIX, all_url_names

UNDECLARED = "tests.accounts.urls_with_undeclared"


@override_settings(ROOT_URLCONF=UNDECLARED)
def test_an_undeclared_page_is_refused_even_to_the_city_admin(client, users):
    client.force_login(users["city_admin"])
    response = client.get("/undeclared/")
    assert response.status_code == 403
    assert "secret" not in response.content.decode()


@override_settings(ROOT_URLCONF=UNDECLARED)
def test_an_undeclared_api_operation_is_refused(client, users):
    client.force_login(users["city_admin"])
    response = client.get("/extra-api/undeclared")
    assert response.status_code == 403
    assert "secret" not in response.content.decode()
    assert "未声明访问范围" in response.json()["detail"]


@override_settings(ROOT_URLCONF=UNDECLARED)
def test_an_api_mounted_without_access_marks_is_refused_whole(client, users):
    client.force_login(users["city_admin"])
    response = client.get("/raw-api/anything")
    assert response.status_code == 403
    assert "secret" not in response.content.decode()


@override_settings(ROOT_URLCONF=UNDECLARED)
def test_the_scope_matrix_notices_new_endpoints():
    missing = all_url_names() - set(MATRIX)
    assert {"undeclared_page", "extra_api:undeclared_api"} <= missing


@pytest.mark.parametrize("path", ["/children/", "/api/v1/children"])
def test_anonymous_users_get_nothing(client, db, path):
    response = client.get(path)
    assert response.status_code in (302, 401)
