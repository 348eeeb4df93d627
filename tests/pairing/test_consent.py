"""Guardian consent with version and scope, and its withdrawal (R-12.5): withdrawing ends the
pairing, and with it the loving mother's access to the child."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from aixin.audit.models import AuditEvent
from aixin.lib.errors import InvalidInput
from aixin.pairing import services
from aixin.pairing.models import GuardianConsent, Pairing
from aixin.volunteers.models import Volunteer
from tests import factories
from tests.pairing.helpers import accept, activate, needy_child, propose


def _consent(admin, pairing, scope=("basic",)):
    return services.pairing_record_consent(
        actor=admin,
        pairing_id=pairing.pk,
        guardian_id=pairing.child.guardians.first().pk,
        relation="祖母",
        method="written",
        consented_on=timezone.localdate(),
        scope=scope,
    )


def test_consent_records_its_scope_and_is_version_one(users, tree):
    admin = users["district_admin"]
    pairing = propose(admin, needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1))
    accept(pairing.volunteer, pairing)
    _consent(admin, pairing, scope=("photos", "basic"))
    consent = GuardianConsent.objects.get(pairing=pairing)
    assert consent.version == 1
    assert consent.scope == ["basic", "photos"]
    assert consent.scope_labels == ["结对关爱", "含照片"]


def test_consent_without_basic_pairing_care_is_refused(users, tree):
    admin = users["district_admin"]
    pairing = propose(admin, needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1))
    accept(pairing.volunteer, pairing)
    with pytest.raises(InvalidInput, match="必须包含“结对关爱”"):
        _consent(admin, pairing, scope=("photos",))
    assert not GuardianConsent.objects.exists()
    assert Pairing.objects.get(pk=pairing.pk).status == "awaiting_consent"


def test_withdrawing_consent_ends_the_pairing_and_the_mothers_access(users, tree, client):
    admin = users["district_admin"]
    child = needy_child(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = activate(admin, child, volunteer)
    client.force_login(volunteer.user)
    detail = reverse("api:children_detail", kwargs={"child_id": child.pk})
    assert client.get(detail).status_code == 200

    services.consent_withdraw(actor=admin, pairing_id=pairing.pk, reason="监护人电话告知不再同意")

    pairing.refresh_from_db()
    assert pairing.status == "ended"
    assert pairing.end_reason == "监护人撤回同意"
    assert pairing.ended_by == admin
    consent = pairing.consents.get()
    assert consent.withdrawn_at is not None
    assert consent.withdrawn_by == admin
    assert consent.withdraw_reason == "监护人电话告知不再同意"
    assert Volunteer.objects.get(pk=volunteer.pk).load == 0
    assert client.get(detail).status_code == 404
    event = AuditEvent.objects.filter(object_type="pairing", object_id=str(pairing.pk)).first()
    assert event.details["withdraw_reason"] == "监护人电话告知不再同意"


def test_withdrawal_needs_a_reason_and_changes_nothing_without_one(users, tree):
    admin = users["district_admin"]
    pairing = activate(admin, needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1))
    with pytest.raises(InvalidInput, match="撤回同意的原因"):
        services.consent_withdraw(actor=admin, pairing_id=pairing.pk, reason="  ")
    pairing.refresh_from_db()
    assert pairing.status == "active"
    assert pairing.consents.get().withdrawn_at is None


def test_a_consent_after_a_withdrawal_is_the_next_version_on_a_new_pairing(users, tree):
    admin = users["district_admin"]
    child = needy_child(tree.village_a1)
    volunteer = factories.make_volunteer(tree.village_a1)
    first = activate(admin, child, volunteer)
    services.consent_withdraw(actor=admin, pairing_id=first.pk, reason="监护人撤回")
    second = activate(admin, child, volunteer)
    assert second.pk != first.pk
    assert second.consents.get().version == 2
    assert first.consents.get().version == 1


def test_withdraw_button_on_the_pairing_page_ends_the_pairing(users, tree, login):
    admin = users["district_admin"]
    pairing = activate(admin, needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1))
    client = login(admin)
    page = client.get(reverse("pairing:pairing_detail", args=[pairing.pk])).content.decode()
    assert "撤回同意" in page and reverse("pairing:consent_withdraw", args=[pairing.pk]) in page
    response = client.post(
        reverse("pairing:consent_withdraw", args=[pairing.pk]), {"reason": "监护人当面撤回"}, follow=True
    )
    assert "已登记监护人撤回同意，结对已解除" in response.content.decode()
    assert Pairing.objects.get(pk=pairing.pk).status == "ended"


def test_withdraw_without_a_reason_shows_the_error_and_keeps_the_pairing(users, tree, login):
    admin = users["district_admin"]
    pairing = activate(admin, needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1))
    response = login(admin).post(reverse("pairing:consent_withdraw", args=[pairing.pk]), {"reason": ""})
    assert response.status_code == 400
    assert Pairing.objects.get(pk=pairing.pk).status == "active"


def test_village_director_cannot_withdraw_consent(users, tree, login):
    admin = users["district_admin"]
    pairing = activate(admin, needy_child(tree.village_a1), factories.make_volunteer(tree.village_a1))
    response = login(users["village_director"]).post(
        reverse("pairing:consent_withdraw", args=[pairing.pk]), {"reason": "监护人撤回"}
    )
    assert response.status_code == 403
    assert Pairing.objects.get(pk=pairing.pk).status == "active"


def test_after_a_withdrawal_the_mother_can_no_longer_open_the_childs_checklist(users, tree, client):
    admin = users["district_admin"]
    volunteer = factories.make_volunteer(tree.village_a1)
    pairing = activate(admin, needy_child(tree.village_a1), volunteer)
    client.force_login(volunteer.user)
    assert client.get(reverse("care:checklist", args=[pairing.pk])).status_code == 200

    services.consent_withdraw(actor=admin, pairing_id=pairing.pk, reason="监护人撤回")

    assert client.get(reverse("care:checklist", args=[pairing.pk])).status_code == 404
    assert client.get(reverse("care:record_create", args=[pairing.pk])).status_code == 404
