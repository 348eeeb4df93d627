"""Attack probes against the whole URL configuration (issue 6, item 10): IDOR, CSRF, SQL
injection in search fields, stored XSS in names and notes, path traversal in uploads.

The sweeps walk the URL configuration at run time, so new apps are probed without a change
here; a URL whose keyword arguments cannot be filled is listed (printed) and left out, for the
map `TEXT_KWARGS` in attack_world.py to be extended.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from aixin.accounts.models import Role
from tests.security.attack_world import (
    TEXT_KWARGS,
    AttackWorld,
    UrlEntry,
    build_world,
    is_id_kwarg,
    leaked,
    response_text,
    row_counts,
    url_patterns,
)

DISTRICT = Role.DISTRICT_ADMIN.value
CITY = Role.CITY_ADMIN.value
VILLAGE = Role.VILLAGE_DIRECTOR.value
VOLUNTEER = Role.VOLUNTEER.value


@pytest.fixture
def world(tree: Any, users: dict[str, Any]) -> AttackWorld:
    return build_world(tree, users)


def _kwargs_for(entry: UrlEntry, record_id: int) -> dict[str, Any] | None:
    """Every id keyword gets `record_id`; known text keywords their value; None if unknown."""
    kwargs: dict[str, Any] = {}
    for name in entry.kwargs:
        if is_id_kwarg(name):
            kwargs[name] = record_id
        elif name in TEXT_KWARGS:
            kwargs[name] = TEXT_KWARGS[name]
        else:
            return None
    return kwargs


def _send(client: Client, method: str, url: str, entry: UrlEntry) -> Any:
    if method == "GET":
        return client.get(url)
    if entry.api:
        return client.post(url, data="{}", content_type="application/json")
    return client.post(url, data={})


# ---------------------------------------------------------------------------------------------
# IDOR: every id-taking URL, asked for every district-B record, by district-A users

# A refusal: not found, forbidden for the role, or a method the URL does not take.
REFUSED = {403, 404, 405}


@pytest.mark.parametrize("role", [DISTRICT, VOLUNTEER])
def test_no_id_taking_url_shows_or_changes_a_record_of_another_district(
    role: str, world: AttackWorld, client: Client
) -> None:
    client.force_login(world.users[role])
    entries = [e for e in url_patterns() if any(is_id_kwarg(k) for k in e.kwargs)]
    unresolved = [e.name for e in entries if _kwargs_for(e, 1) is None]
    if unresolved:
        print(f"IDOR sweep: keyword arguments unknown, not probed: {unresolved}")
    problems: list[str] = []

    def probe(entry: UrlEntry, label: str, pk: int, method: str, *, strict: bool) -> int:
        kwargs = _kwargs_for(entry, pk)
        if kwargs is None:
            return 0
        response = _send(client, method, reverse(entry.name, kwargs=kwargs), entry)
        where = f"{method} {entry.name} with {label} {pk} of district B"
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code}")
            return int(response.status_code)
        found = leaked(response_text(response), world.markers)
        if found:
            problems.append(f"{where}: body shows {found}")
        if strict and response.status_code not in REFUSED:
            problems.append(f"{where}: answered {response.status_code}, expected 404")
        return int(response.status_code)

    def sweep(ids: list[tuple[str, int]], methods: tuple[str, ...], *, strict: bool) -> None:
        for entry in entries:
            for method in methods:
                for label, pk in ids:
                    # 405 is decided by the URL's view before any record is looked up.
                    if probe(entry, label, pk, method, strict=strict) == 405:
                        break

    # District B's records under ids of their own: every answer is a refusal and nothing is
    # written (a detail or file view in scope writes an audit event: a refusal reads nothing).
    methods = ("GET", "POST") if role != VOLUNTEER else ("GET",)
    before = row_counts()
    sweep(world.strict_ids, methods, strict=True)
    after = row_counts()
    changed = sorted(k for k, v in after.items() if before.get(k) != v)
    if changed:
        problems.append(f"refused requests wrote to {changed}")
    # Records made by the services, whose ids other rows may share: nothing of district B shows.
    sweep(world.loose_ids, ("GET",), strict=False)
    assert problems == [], "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# CSRF: no POST without the token, on any URL, writes anything


def test_no_post_without_a_csrf_token_is_accepted_anywhere(world: AttackWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[DISTRICT])
    problems: list[str] = []
    before = row_counts()
    for entry in url_patterns():
        kwargs = _kwargs_for(entry, world.child_a.pk)
        if kwargs is None:
            print(f"CSRF sweep: keyword arguments unknown, not probed: {entry.name}")
            continue
        response = _send(client, "POST", reverse(entry.name, kwargs=kwargs), entry)
        # Ninja checks the session's CSRF token itself; the signed push API takes no session
        # (401 without a signature); the schema and the root take no POST.
        refusals = {401, 403, 404, 405} if entry.api else {403}
        ok = response.status_code in refusals
        if not ok:
            problems.append(f"POST {entry.name}: {response.status_code}")
    changed = sorted(k for k, v in row_counts().items() if before.get(k) != v)
    assert problems == [], "\n".join(problems)
    assert changed == [], f"requests without a CSRF token wrote to {changed}"


def test_an_api_write_with_the_session_but_without_a_csrf_token_is_refused(world: AttackWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.mother_a.user)
    body = {
        "pairing_id": world.pairing_a.pk,
        "date": datetime.date.today().isoformat(),
        "kind": "phone",
        "rules": ["weekly_contact"],
        "services": [],
        "notes": "",
    }
    from aixin.care.models import CareRecord

    count = CareRecord.objects.count()
    response = client.post(
        reverse("api:care_records_create"), data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 403
    assert CareRecord.objects.count() == count
    # The same request with the token is accepted: the refusal was the token's absence.
    client.get(reverse("care:my_children"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        reverse("api:care_records_create"),
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code in (200, 201), response.content.decode()
    assert CareRecord.objects.count() == count + 1


# ---------------------------------------------------------------------------------------------
# SQL injection in search fields and filters

INJECTIONS = [
    "' OR 1=1 --",
    "%' UNION SELECT username, password, 1, 1 FROM accounts_user --",
    "1; DROP TABLE registry_child; --",
    "\x00",
    "%",
    "5001%' OR '1'='1",
    "\\'; SELECT pg_sleep(1); --",
]

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_FIELD = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"", re.I)


def _get_fields(html: str) -> set[str]:
    """The names of the fields of the page's GET forms (its search box and filters)."""
    names: set[str] = set()
    for attrs, body in _FORM.findall(html):
        if re.search(r"method=\"?post", attrs, re.I):
            continue
        names.update(n for n in _FIELD.findall(body) if n != "csrfmiddlewaretoken")
    return names


def _api_query_params() -> dict[str, list[str]]:
    from aixin.api import api

    schema = api.get_openapi_schema()
    found: dict[str, list[str]] = {}
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get and "{" not in path:
            found[path] = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
    return found


def test_sql_in_any_search_field_or_filter_is_only_text(world: AttackWorld, client: Client) -> None:
    client.force_login(world.users[DISTRICT])
    problems: list[str] = []
    probed: list[str] = []

    def check(url: str, params: dict[str, str], where: str) -> None:
        response = client.get(url, params)
        if response.status_code >= 500:
            problems.append(f"{where}: {response.status_code}")
            return
        found = leaked(response_text(response), world.markers)
        if found:
            problems.append(f"{where}: shows district B {found}")

    for entry in url_patterns():
        if entry.kwargs or entry.api:
            continue
        url = reverse(entry.name)
        page = client.get(url)
        if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
            continue
        fields = _get_fields(page.content.decode())
        probed += [f"{entry.name}?{f}" for f in sorted(fields)]
        for name in sorted(fields):
            for payload in INJECTIONS:
                check(url, {name: payload}, f"{entry.name}?{name}={payload!r}")
    for path, names in _api_query_params().items():
        probed += [f"{path}?{n}" for n in names]
        for name in names:
            for payload in INJECTIONS:
                check(path, {name: payload}, f"{path}?{name}={payload!r}")
    # The sweep reached the search boxes it is meant for.
    for expected in ("registry:child_list?q", "volunteers:volunteer_list?q", "/api/v1/children?q"):
        assert expected in probed, f"{expected} not probed; probed: {probed}"
    assert problems == [], "\n".join(problems)


def test_a_search_that_looks_like_sql_finds_nothing_instead_of_everything(
    world: AttackWorld, client: Client
) -> None:
    client.force_login(world.users[DISTRICT])
    page = client.get(reverse("registry:child_list"), {"q": "' OR 1=1 --"}).content.decode()
    assert reverse("registry:child_detail", args=[world.child_a.pk]) not in page
    data = client.get(reverse("api:children_list"), {"q": "' OR '1'='1"}).json()
    assert data["count"] == 0
    assert client.get(reverse("api:children_list"), {"q": "甲童"}).json()["count"] == 1


# ---------------------------------------------------------------------------------------------
# Stored XSS in names and notes

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
RAW = (SCRIPT, "<img src=x onerror=alert(1)>")


def _stored_payloads(world: AttackWorld, client: Client) -> dict[str, Any]:
    """A child, a guardian, a loving mother, a pairing and a care record whose names and notes
    are script, entered through the pages' forms as people would."""
    from aixin.registry.models import Child
    from aixin.volunteers.models import Volunteer
    from tests import factories

    tree = world.tree
    admin = world.users[DISTRICT]
    client.force_login(admin)
    created = client.post(
        reverse("registry:child_create"),
        {
            "name": SCRIPT,
            "id_number": factories.id_number(datetime.date.today().replace(year=2016, day=1)),
            "village": tree.village_a1.pk,
            "household_type": "rural",
            "address": IMG,
            "school": IMG,
            "notes": f"{SCRIPT}{IMG}",
            "difficulty_life": "on",
            "guardian_name": IMG,
            "guardian_relation": SCRIPT[:20],
            "guardian_phone": "13912345678",
            "guardianship_type": "entrusted",
        },
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    child = Child.objects.get(version__gte=1, pk=int(created["Location"].rstrip("/").rsplit("/", 1)[-1]))
    made = client.post(
        reverse("volunteers:volunteer_create"),
        {
            "name": IMG[:50],
            "phone": "13912340000",
            "id_number": "",
            "source_group": "red_banner",
            "work_unit": SCRIPT,
            "home_region": tree.village_a1.pk,
            "work_region": "",
            "specialties": ["law"],
            "capacity": "2",
            "notes": SCRIPT,
        },
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    mother = Volunteer.objects.get(work_unit=SCRIPT)
    mother.user = factories.make_user(Role.VOLUNTEER, tree.village_a1, "xss_mother")
    mother.save(update_fields=["user"])
    pairing = factories.make_active_pairing(child, mother)
    client.force_login(mother.user)
    saved = client.post(
        reverse("care:record_create", args=[pairing.pk]),
        {
            "date": datetime.date.today().isoformat(),
            "kind": "phone",
            "rules": ["weekly_contact"],
            "notes": f"{SCRIPT}{IMG}",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    record = pairing.care_records.get() if hasattr(pairing, "care_records") else None
    if record is None:
        from aixin.care.models import CareRecord

        record = CareRecord.objects.get(pairing=pairing)
    client.force_login(admin)
    client.post(reverse("care:record_comment", args=[record.pk]), {"text": SCRIPT})
    return {"child": child, "mother": mother, "pairing": pairing, "record": record}


def test_script_in_names_and_notes_is_shown_as_text_on_every_page(world: AttackWorld, client: Client) -> None:
    stored = _stored_payloads(world, client)
    child, mother, pairing, record = (stored[k] for k in ("child", "mother", "pairing", "record"))
    pages = {
        DISTRICT: [
            reverse("registry:child_detail", args=[child.pk]),
            reverse("registry:child_edit", args=[child.pk]),
            reverse("volunteers:volunteer_detail", args=[mother.pk]),
            reverse("volunteers:volunteer_edit", args=[mother.pk]),
            reverse("pairing:pairing_detail", args=[pairing.pk]),
            reverse("care:record_detail", args=[record.pk]),
            reverse("care:checklist", args=[pairing.pk]),
        ],
        VILLAGE: [reverse("registry:child_detail", args=[child.pk])],
        "mother": [
            reverse("care:my_children"),
            reverse("care:checklist", args=[pairing.pk]),
            reverse("care:record_create", args=[pairing.pk]),
            reverse("care:record_detail", args=[record.pk]),
            reverse("pairing:pairing_detail", args=[pairing.pk]),
        ],
    }
    # Every page of the configuration that takes no arguments: lists, dashboard, exports, audit.
    pages[DISTRICT] += [reverse(e.name) for e in url_patterns() if not e.kwargs and not e.api]
    users = {DISTRICT: world.users[DISTRICT], VILLAGE: world.users[VILLAGE], "mother": mother.user}
    problems: list[str] = []
    shown = 0
    for who, urls in pages.items():
        client.force_login(users[who])
        for url in urls:
            response = client.get(url)
            if response.status_code >= 500:
                problems.append(f"{who} {url}: {response.status_code}")
                continue
            content_type = response.get("Content-Type", "")
            text = response_text(response)
            if "html" in content_type or "text/plain" in content_type:
                shown += "&lt;script&gt;alert(1)&lt;/script&gt;" in text
                for raw in RAW:
                    if raw in text:
                        problems.append(f"{who} {url} ({content_type}) shows {raw} unescaped")
    assert problems == [], "\n".join(problems)
    assert shown >= 8, "the payload was not shown escaped where expected: the probe saw nothing"


# ---------------------------------------------------------------------------------------------
# Path traversal in uploads and downloads

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
EVIL_NAMES = [
    "王小丫.jpg",  # the control: an ordinary name is accepted
    "../../etc/passwd.jpg",
    "..\\..\\x.jpg",
    "/etc/cron.d/evil.jpg",
    "....//....//x.jpg",
    "%2e%2e%2fx.jpg",
    "a\x00.jpg",
    "照片\u202egpj.exe.jpg",
]


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "data" / "media"
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.mark.parametrize("evil", EVIL_NAMES)
def test_an_uploaded_photo_is_stored_under_a_random_name_inside_the_media_directory(
    evil: str, world: AttackWorld, client: Client, media: Path
) -> None:
    from aixin.care.models import CareRecord

    client.force_login(world.mother_a.user)
    upload = SimpleUploadedFile(evil, JPEG, content_type="image/jpeg")
    response = client.post(
        reverse("care:record_create", args=[world.pairing_a.pk]),
        {
            "date": datetime.date.today().isoformat(),
            "kind": "home_visit",
            "rules": ["weekly_contact"],
            "photo": upload,
        },
    )
    assert response.status_code in (200, 302, 400), response.status_code
    if evil == EVIL_NAMES[0]:
        assert response.status_code == 302
    stored = [p for p in media.rglob("*") if p.is_file()]
    for path in stored:
        assert path.resolve().is_relative_to(media.resolve())
        assert re.fullmatch(r"[0-9a-f]{32}\.(jpg|png)", path.name), path.name
    record = CareRecord.objects.filter(pairing=world.pairing_a, photo__gt="").first()
    if response.status_code == 302:
        assert record is not None and len(stored) == 1
        assert re.fullmatch(r"care/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", record.photo.name)
        served = client.get(reverse("care:record_photo", args=[record.pk]))
        assert b"".join(served.streaming_content) == JPEG
    else:
        assert record is None and stored == []


def test_a_file_name_pointing_outside_the_media_directory_is_never_served(
    world: AttackWorld, client: Client, media: Path, tmp_path: Path
) -> None:
    from aixin.care.models import CareRecord
    from aixin.pairing.models import GuardianConsent

    secret = tmp_path / "data" / "secret.jpg"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(JPEG + b"SECRET")
    consent = GuardianConsent.objects.get(pairing=world.pairing_a)
    client.force_login(world.users[DISTRICT])
    for name in ("../secret.jpg", str(secret), "care/../../secret.jpg", "/etc/passwd"):
        CareRecord.objects.filter(pk=world.record_a.pk).update(photo=name)
        GuardianConsent.objects.filter(pk=consent.pk).update(evidence_file=name)
        for url in (
            reverse("care:record_photo", args=[world.record_a.pk]),
            reverse("pairing:consent_evidence", args=[consent.pk]),
        ):
            response = client.get(url)
            assert response.status_code in (400, 404), f"{url} with {name!r}: {response.status_code}"
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert b"SECRET" not in body and b"root:" not in body


@pytest.mark.parametrize("evil", ["../../../tmp/x.csv", "..\\..\\x.csv", "a.c\x00sv", "/etc/x.csv"])
def test_an_uploaded_ledger_is_stored_under_a_random_name_inside_the_imports_directory(
    evil: str, world: AttackWorld, client: Client, settings: Any, tmp_path: Path
) -> None:
    from aixin.ingest.models import ImportBatch

    settings.DATA_DIR = tmp_path / "data"
    client.force_login(world.users[DISTRICT])
    ledger = "姓名,身份证号,村(社区)代码\n王小花,500101201503041236,500101101201\n".encode()
    response = client.post(
        reverse("ingest:batch_list"),
        {"source": "civil_affairs", "file": SimpleUploadedFile(evil, ledger, content_type="text/csv")},
    )
    assert response.status_code in (200, 302, 400), response.status_code
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert re.fullmatch(r"[0-9a-f]{32}(\.[a-z0-9]{1,9})?", path.name), path.name
    for batch in ImportBatch.objects.all():
        stored = Path(batch.stored_path) if getattr(batch, "stored_path", "") else None
        if stored is not None:
            assert stored.resolve().is_relative_to((tmp_path / "data").resolve())


def test_media_and_static_urls_do_not_walk_out_of_their_directories(
    world: AttackWorld, client: Client
) -> None:
    client.force_login(world.users[CITY])
    for url in (
        "/media/../aixin.sqlite3",
        "/media/%2e%2e/aixin.sqlite3",
        "/static/../../aixin/settings.py",
        "/static/%2e%2e/%2e%2e/aixin/settings.py",
        "/static/..%2f..%2faixin%2fsettings.py",
    ):
        response = client.get(url)
        assert response.status_code == 404, f"{url}: {response.status_code}"
