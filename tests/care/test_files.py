"""Care-record photos: checked before they are stored, removed again when the record fails, and
served only to the mother who took them and staff in scope."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aixin.audit.models import AuditEvent
from aixin.care import services
from aixin.care.models import CareRecord, CareRuleProgress
from aixin.lib.errors import InvalidInput
from tests import factories
from tests.care.helpers import paired_child, record

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def today():
    return datetime.date.today()


def assert_nothing_written(pairing, media):
    assert CareRecord.objects.filter(pairing=pairing).count() == 0
    assert CareRuleProgress.objects.filter(pairing=pairing).count() == 0
    pairing.child.refresh_from_db()
    assert pairing.child.last_contact_on is None
    assert stored_files(media) == []


# --- the service ------------------------------------------------------------------------------


def test_a_jpeg_photo_is_stored_under_a_random_jpg_name(tree, media):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, today(), ["weekly_contact"], photo=SimpleUploadedFile("王小丫.jpeg", JPG))
    assert rec.photo.name.startswith("care/") and rec.photo.name.endswith(".jpg")
    assert "王小丫" not in rec.photo.name
    files = stored_files(media)
    assert len(files) == 1 and files[0].read_bytes() == JPG


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.exe", EXE, "文件「virus.exe」不是允许的类型（JPG、PNG）"),
        ("scan.pdf", b"%PDF-1.4\n", "文件「scan.pdf」不是允许的类型（JPG、PNG）"),
        ("virus.jpg", EXE, "照片文件内容与格式不符，请重新拍摄或选择 JPG/PNG 图片"),
        ("big.jpg", JPG + b"\x00" * (5 * 1024 * 1024), "文件「big.jpg」超过 5 MB"),
    ],
)
def test_a_refused_photo_leaves_no_record_and_no_file(tree, media, name, content, message):
    pairing = paired_child(tree.village_a1)
    with pytest.raises(InvalidInput) as exc:
        record(pairing, today(), ["weekly_contact"], photo=SimpleUploadedFile(name, content))
    assert exc.value.message == message
    assert exc.value.field == "photo"
    assert_nothing_written(pairing, media)


def test_a_failure_after_the_photo_is_stored_removes_the_file(tree, media, monkeypatch):
    pairing = paired_child(tree.village_a1)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_bump_progress", broken)
    with pytest.raises(RuntimeError):
        record(pairing, today(), ["weekly_contact"], photo=SimpleUploadedFile("me.png", PNG))
    assert_nothing_written(pairing, media)


def test_the_record_form_shows_the_photo_error_and_writes_nothing(tree, login, media):
    pairing = paired_child(tree.village_a1)
    response = login(pairing.volunteer.user).post(
        reverse("care:record_create", args=[pairing.pk]),
        {
            "date": f"{today():%Y-%m-%d}",
            "kind": "phone",
            "rules": ["weekly_contact"],
            "photo": SimpleUploadedFile("setup.exe", EXE, "application/octet-stream"),
        },
    )
    assert response.status_code == 200
    assert "文件「setup.exe」不是允许的类型（JPG、PNG）" in response.content.decode()
    assert_nothing_written(pairing, media)


# --- the photo view ---------------------------------------------------------------------------


@pytest.fixture
def with_photo(tree, media):
    pairing = paired_child(tree.village_a1)
    return record(pairing, today(), ["weekly_contact"], photo=SimpleUploadedFile("me.png", PNG))


def photo_url(rec):
    return reverse("care:record_photo", args=[rec.pk])


def test_the_mother_sees_her_own_photo_inline_and_it_is_audited(login, with_photo):
    response = login(with_photo.volunteer.user).get(photo_url(with_photo))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'inline; filename="care-{with_photo.pk}.png"'
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(object_type="care_photo")
    assert (event.action, event.object_id, event.actor_id) == (
        "view",
        str(with_photo.pk),
        with_photo.volunteer.user_id,
    )


def test_staff_in_scope_see_the_photo(users, login, with_photo):
    for role in ("city_admin", "district_admin", "town_supervisor", "village_director"):
        assert login(users[role]).get(photo_url(with_photo)).status_code == 200, role
    assert AuditEvent.objects.filter(object_type="care_photo").count() == 4


def test_another_mother_gets_404_for_the_photo(tree, login, with_photo):
    other = factories.make_volunteer(tree.village_a1, name="赵秀英")
    response = login(other.user).get(photo_url(with_photo))
    assert response.status_code == 404
    assert PNG not in response.content
    assert not AuditEvent.objects.filter(object_type="care_photo").exists()


def test_another_districts_admin_gets_404_for_the_photo(users, login, with_photo):
    response = login(users["district_b_admin"]).get(photo_url(with_photo))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(object_type="care_photo").exists()


def test_a_record_without_a_photo_answers_404(tree, login, media):
    pairing = paired_child(tree.village_a1)
    rec = record(pairing, today(), ["weekly_contact"])
    assert login(pairing.volunteer.user).get(photo_url(rec)).status_code == 404


def test_the_record_page_shows_a_thumbnail_from_the_scoped_view(users, login, with_photo):
    html = login(users["district_admin"]).get(reverse("care:record_detail", args=[with_photo.pk])).content
    html = html.decode()
    assert f'<a href="{photo_url(with_photo)}"' in html
    assert f'<img src="{photo_url(with_photo)}"' in html
    assert "/media/" not in html
