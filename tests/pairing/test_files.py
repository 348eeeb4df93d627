"""Guardian-consent evidence files: checked by type, content and size before anything is written,
stored under a random name, and served only to staff whose scope holds the pairing."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from aixin.audit.models import AuditEvent
from aixin.lib.errors import InvalidInput
from aixin.lib.uploads import EVIDENCE_KINDS, PHOTO_KINDS, check_upload
from aixin.pairing import services
from aixin.pairing.models import GuardianConsent
from tests import factories
from tests.pairing.helpers import accept, needy_child, propose

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
JPG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def awaiting(users, tree, name="王小红"):
    volunteer = factories.make_volunteer(tree.village_a1)
    child = needy_child(tree.village_a1, name=name)
    return accept(volunteer, propose(users["district_admin"], child, volunteer))


def record_consent(admin, pairing, evidence_file):
    return services.pairing_record_consent(
        actor=admin,
        pairing_id=pairing.pk,
        guardian_id=pairing.child.guardians.first().pk,
        relation="祖母",
        method="written",
        consented_on=timezone.localdate(),
        evidence="签字同意书",
        evidence_file=evidence_file,
    )


def assert_nothing_written(pairing, media):
    pairing.refresh_from_db()
    assert pairing.status == "awaiting_consent"
    assert GuardianConsent.objects.filter(pairing=pairing).count() == 0
    assert stored_files(media) == []


# --- the shared check -------------------------------------------------------------------------


def test_check_upload_accepts_matching_extension_and_content_and_returns_the_canonical_extension():
    assert check_upload(SimpleUploadedFile("同意书.PDF", PDF), kinds=EVIDENCE_KINDS) == "pdf"
    assert check_upload(SimpleUploadedFile("photo.jpeg", JPG), kinds=PHOTO_KINDS) == "jpg"


def test_check_upload_names_the_file_and_the_allowed_types():
    with pytest.raises(InvalidInput) as exc:
        check_upload(SimpleUploadedFile("x.exe", EXE), kinds=EVIDENCE_KINDS)
    assert exc.value.message == "文件「x.exe」不是允许的类型（JPG、PNG、PDF）"
    with pytest.raises(InvalidInput) as exc:
        check_upload(SimpleUploadedFile("scan.pdf", PDF), kinds=PHOTO_KINDS)
    assert exc.value.message == "文件「scan.pdf」不是允许的类型（JPG、PNG）"


def test_check_upload_refuses_an_exe_renamed_jpg_and_a_file_over_5_mb():
    with pytest.raises(InvalidInput) as exc:
        check_upload(SimpleUploadedFile("x.jpg", EXE), kinds=EVIDENCE_KINDS, field="evidence_file")
    assert exc.value.message.startswith("文件「x.jpg」的内容不是 JPG 格式")
    assert exc.value.field == "evidence_file"
    with pytest.raises(InvalidInput) as exc:
        check_upload(SimpleUploadedFile("x.jpg", JPG + b"\x00" * (5 * 1024 * 1024)), kinds=PHOTO_KINDS)
    assert exc.value.message == "文件「x.jpg」超过 5 MB"
    # A plain file object (no .size) is measured too.
    plain = io.BytesIO(PDF)
    plain.name = "a.pdf"
    assert check_upload(plain, kinds=EVIDENCE_KINDS, max_bytes=len(PDF)) == "pdf"


# --- the service ------------------------------------------------------------------------------


def test_consent_with_a_pdf_keeps_it_under_a_random_name(users, tree, media):
    pairing = awaiting(users, tree)
    record_consent(users["district_admin"], pairing, SimpleUploadedFile("王小红同意书.pdf", PDF))
    consent = GuardianConsent.objects.get(pairing=pairing)
    assert consent.evidence_file.name.startswith("consent/")
    assert consent.evidence_file.name.endswith(".pdf")
    assert "王小红" not in consent.evidence_file.name
    files = stored_files(media)
    assert len(files) == 1 and files[0].read_bytes() == PDF


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", EXE, "文件「setup.exe」不是允许的类型（JPG、PNG、PDF）"),
        ("x.jpg", EXE, "文件「x.jpg」的内容不是 JPG 格式（可能是改了扩展名的其他文件），请重新选择"),
        ("scan.pdf", PDF + b"\x00" * (5 * 1024 * 1024), "文件「scan.pdf」超过 5 MB"),
    ],
)
def test_a_refused_evidence_file_leaves_no_consent_and_no_file(users, tree, media, name, content, message):
    pairing = awaiting(users, tree)
    with pytest.raises(InvalidInput) as exc:
        record_consent(users["district_admin"], pairing, SimpleUploadedFile(name, content))
    assert exc.value.message == message
    assert exc.value.field == "evidence_file"
    assert_nothing_written(pairing, media)


def test_a_failure_after_the_file_is_stored_removes_the_file(users, tree, media, monkeypatch):
    pairing = awaiting(users, tree)

    def broken_save(_pairing):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_save", broken_save)
    with pytest.raises(RuntimeError):
        record_consent(users["district_admin"], pairing, SimpleUploadedFile("ok.pdf", PDF))
    assert_nothing_written(pairing, media)


def test_the_consent_form_shows_the_file_error_and_writes_nothing(users, tree, login, media):
    pairing = awaiting(users, tree)
    response = login(users["district_admin"]).post(
        reverse("pairing:consent", args=[pairing.pk]),
        {
            "guardian": pairing.child.guardians.first().pk,
            "relation": "祖母",
            "method": "written",
            "consented_on": timezone.localdate().isoformat(),
            "evidence": "",
            "evidence_file": SimpleUploadedFile("x.jpg", EXE, "image/jpeg"),
        },
    )
    assert response.status_code == 400
    assert "文件「x.jpg」的内容不是 JPG 格式" in response.content.decode()
    assert_nothing_written(pairing, media)


# --- the download -----------------------------------------------------------------------------


@pytest.fixture
def with_evidence(users, tree, media):
    pairing = awaiting(users, tree)
    record_consent(users["district_admin"], pairing, SimpleUploadedFile("scan.pdf", PDF))
    return GuardianConsent.objects.get(pairing=pairing)


def evidence_url(consent):
    return reverse("pairing:consent_evidence", args=[consent.pk])


def test_staff_in_scope_open_the_evidence_inline_and_it_is_audited(users, login, with_evidence):
    for role in ("district_admin", "town_supervisor", "village_director", "city_admin"):
        response = login(users[role]).get(evidence_url(with_evidence))
        assert response.status_code == 200, role
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'inline; filename="consent-{with_evidence.pk}.pdf"'
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Content-Type-Options"] == "nosniff"
    events = AuditEvent.objects.filter(object_type="consent_evidence", object_id=str(with_evidence.pk))
    assert events.count() == 4
    assert events.filter(actor=users["district_admin"], action="view").count() == 1
    assert "王小红" in events.first().summary


def test_another_districts_admin_gets_404_for_the_evidence(users, login, with_evidence):
    response = login(users["district_b_admin"]).get(evidence_url(with_evidence))
    assert response.status_code == 404
    assert PDF not in response.content
    assert not AuditEvent.objects.filter(object_type="consent_evidence").exists()


def test_a_loving_mother_may_not_open_consent_evidence(login, with_evidence):
    response = login(with_evidence.pairing.volunteer.user).get(evidence_url(with_evidence))
    assert response.status_code in (403, 404)
    assert PDF not in response.content
    assert not AuditEvent.objects.filter(object_type="consent_evidence").exists()


def test_a_consent_without_a_file_answers_404(users, tree, login, media):
    pairing = awaiting(users, tree)
    record_consent(users["district_admin"], pairing, None)
    consent = GuardianConsent.objects.get(pairing=pairing)
    assert login(users["district_admin"]).get(evidence_url(consent)).status_code == 404


def test_the_pairing_page_links_the_evidence_through_the_scoped_view(users, login, with_evidence):
    page = login(users["district_admin"]).get(
        reverse("pairing:pairing_detail", args=[with_evidence.pairing_id])
    )
    html = page.content.decode()
    assert f'href="{evidence_url(with_evidence)}"' in html
    assert "查看附件" in html
    assert "/media/" not in html
