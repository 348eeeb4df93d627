"""Test helpers for pairing: children who need a one-to-one mother, and a pairing walked
through the real services."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from aixin.pairing import services
from aixin.pairing.models import Pairing
from tests import factories


def needy_child(village: Any, *, name: str = "王小红", **fields: Any) -> Any:
    """A child whose rules give the one-to-one tier (a life difficulty)."""
    fields.setdefault("difficulty_life", True)
    return factories.make_child(village, name=name, **fields)


def propose(admin: Any, child: Any, volunteer: Any) -> Pairing:
    return services.pairing_propose(actor=admin, child_id=child.pk, volunteer_id=volunteer.pk)


def accept(volunteer: Any, pairing: Pairing) -> Pairing:
    return services.pairing_respond(actor=volunteer.user, pairing_id=pairing.pk, accept=True)


def consent(admin: Any, pairing: Pairing, *, on: datetime.date | None = None) -> Pairing:
    guardian = pairing.child.guardians.first()
    return services.pairing_record_consent(
        actor=admin,
        pairing_id=pairing.pk,
        guardian_id=guardian.pk,
        relation="祖母",
        method="written",
        consented_on=on or timezone.localdate(),
        evidence="签字同意书存村委会",
    )


def activate(admin: Any, child: Any, volunteer: Any) -> Pairing:
    pairing = propose(admin, child, volunteer)
    accept(volunteer, pairing)
    return consent(admin, pairing)
