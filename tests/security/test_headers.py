"""Headers and transport (issue 6, item 6; R-12.4): a strict Content-Security-Policy on every
response, pages that need no inline script or style to work under it, HttpOnly cookies, and
production settings that `check --deploy` finds nothing to warn about."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from aixin.lib.security_headers import CONTENT_SECURITY_POLICY
from tests import test_scope_matrix as matrix
from tests.test_scope_matrix import CITY, MATRIX, VOLUNTEER, Row, World, _url

# The scope matrix's world (records of both districts), by name.
world = matrix.world

ROOT = Path(__file__).resolve().parents[2]


class _InlineCode(HTMLParser):
    """Collects what a strict CSP refuses: a script without src (JSON data blocks are data, not
    code), an on...= handler, a style= attribute, a <style> element."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value for name, value in attrs}
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append(f"<script> without src at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> element at line {self.getpos()[0]}")
        for name in names:
            if name.startswith("on") or name == "style" or name.startswith("hx-on"):
                self.found.append(f"{name}= on <{tag}> at line {self.getpos()[0]}")


def inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def test_the_policy_allows_nothing_inline_nothing_foreign_and_no_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["base-uri"] == "'self'"


def test_the_detector_finds_what_the_policy_would_refuse() -> None:
    page = (
        '<script>alert(1)</script><script src="/static/a.js"></script>'
        '<script id="d" type="application/json">{}</script>'
        '<a onclick="x()">a</a><p style="color:red">p</p><style>p{}</style><b hx-on:click="y">b</b>'
    )
    assert len(inline_code(page)) == 5


# --- every page the scope matrix knows, rendered -------------------------------------------------


def _role_for(row: Row) -> str:
    if CITY in row.roles:
        return CITY
    if VOLUNTEER in row.roles:
        return VOLUNTEER
    return sorted(row.roles)[0]


PAGES = sorted(
    name
    for name, row in MATRIX.items()
    if row.method == "GET" and not row.api and row.kind in ("list", "page", "detail", "public")
)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_carries_the_policy_and_holds_no_inline_script_handler_or_style(
    name: str, world: World, client: Any
) -> None:
    row = MATRIX[name]
    if row.kind != "public":
        client.force_login(world.users[_role_for(row)])
    record = row.own(world) if row.own else (row.foreign(world) if row.foreign else None)
    response = client.get(_url(name, row, world, record))
    # A file download whose record holds no file (the matrix's photos, attachments) is a 404.
    expected = (200, 302) if row.own or row.kind != "detail" else (200, 302, 404)
    assert response.status_code in expected, f"{name}: {response.status_code}"
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "camera=()" in response["Permissions-Policy"]
    if response["Content-Type"].startswith("text/html"):
        html = b"".join(response.streaming_content) if response.streaming else response.content
        assert inline_code(html.decode()) == [], name


def test_the_mothers_pages_hold_no_inline_code(world: World, client: Any) -> None:
    client.force_login(world.users[VOLUNTEER])
    for url in (
        reverse("care:my_children"),
        reverse("care:record_create", args=[world.pairing_a.pk]),
        reverse("care:checklist", args=[world.pairing_a.pk]),
        reverse("pairing:pairing_detail", args=[world.pairing_a.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert inline_code(response.content.decode()) == [], url


def test_no_template_holds_inline_script_handler_or_style() -> None:
    """Partials too (htmx fragments, includes), which no page test may happen to render."""
    found = {}
    for path in (ROOT / "aixin").rglob("templates/**/*.html"):
        problems = inline_code(path.read_text(encoding="utf-8"))
        if problems:
            found[str(path.relative_to(ROOT))] = problems
    assert found == {}


def test_htmx_is_told_not_to_inject_styles_or_evaluate_code(users: dict[str, Any], client: Any) -> None:
    client.force_login(users["district_admin"])
    page = client.get(reverse("registry:child_list")).content.decode()
    start = page.index('<meta name="htmx-config" content=\'') + len('<meta name="htmx-config" content=\'')
    config = json.loads(page[start : page.index("'", start)])
    assert config == {"includeIndicatorStyles": False, "allowEval": False}


# --- every response ------------------------------------------------------------------------------


def test_static_files_redirects_refusals_missing_pages_and_api_answers_carry_the_headers(
    users: dict[str, Any], client: Any
) -> None:
    static = client.get("/static/aixin/app.js")
    assert static.status_code == 200
    assert static["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert static["X-Content-Type-Options"] == "nosniff"
    responses = {"redirect to log in": client.get(reverse("registry:child_list"))}
    responses["log-in page"] = client.get(reverse("accounts:login"))
    client.force_login(users["village_director"])
    responses["refused"] = client.get(reverse("audit:event_list"))
    responses["not found"] = client.get("/no-such-page/")
    responses["api"] = client.get("/api/v1/children")
    assert {k: r.status_code for k, r in responses.items()} == {
        "redirect to log in": 302,
        "log-in page": 200,
        "refused": 403,
        "not found": 404,
        "api": 200,
    }
    for what, response in responses.items():
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, what
        assert response["X-Frame-Options"] == "DENY", what
        assert response["X-Content-Type-Options"] == "nosniff", what
        assert response["Referrer-Policy"] == "same-origin", what
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", what
        assert "geolocation=()" in response["Permissions-Policy"], what


def test_session_and_csrf_cookies_are_http_only_and_same_site(users: dict[str, Any], client: Any) -> None:
    from tests.factories import PASSWORD

    page = client.get(reverse("accounts:login"))
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post(
        reverse("accounts:login"),
        {"username": "village_a1", "password": PASSWORD, "csrfmiddlewaretoken": csrf.value},
    )
    session = response.cookies.get("sessionid")
    assert session is not None, response.status_code
    assert session["httponly"] and session["samesite"] == "Lax"


# --- production settings -------------------------------------------------------------------------


def _production_env(tmp_path: Path) -> dict[str, str]:
    def key() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIXIN_", "DJANGO_"))}
    env.pop("DEBUG", None)
    env.update(
        AIXIN_PRODUCTION="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="aixin.example.cn",
        AIXIN_DATA_DIR=str(tmp_path),
        AIXIN_FIELD_KEY=key(),
        AIXIN_BLIND_INDEX_KEY=key(),
        AIXIN_BACKUP_KEY=key(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'aixin.sqlite3'}",
    )
    return env


def test_check_deploy_finds_nothing_to_warn_about_under_production_settings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aixin", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
names = ["SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
         "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY", "SECURE_HSTS_SECONDS",
         "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "DEBUG"]
print(json.dumps({n: getattr(settings, n) for n in names}))
"""


def _settings_under(env: dict[str, str]) -> dict[str, Any]:
    env = {**env, "DJANGO_SETTINGS_MODULE": "aixin.settings"}
    result = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_production_means_https_only_cookies_hsts_for_a_year_and_a_redirect(tmp_path: Path) -> None:
    values = _settings_under(_production_env(tmp_path))
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": None,
        "DEBUG": False,
    }


def test_behind_a_proxy_the_forwarded_protocol_header_is_trusted(tmp_path: Path) -> None:
    values = _settings_under({**_production_env(tmp_path), "AIXIN_BEHIND_PROXY": "1"})
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is True


def test_the_demo_sends_no_hsts_and_keeps_plain_http_cookies(tmp_path: Path) -> None:
    env = {k: v for k, v in _production_env(tmp_path).items() if k != "AIXIN_PRODUCTION"}
    values = _settings_under(env)
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False and values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_HTTPONLY"] is True and values["CSRF_COOKIE_HTTPONLY"] is True


def test_a_nul_byte_in_a_query_or_a_form_is_refused_before_any_view(client, users):
    client.force_login(users["district_admin"])
    assert client.get("/alerts/", {"region": "\x00"}).status_code == 400
    assert client.get("/children/", {"q": "甲\x00"}).status_code == 400
    refused = client.post(
        "/matching/", "district=%00&reach=district", content_type="application/x-www-form-urlencoded"
    )
    assert refused.status_code == 400
    assert "NUL" in refused.content.decode()
    assert client.get("/children/", {"q": "甲"}).status_code == 200
