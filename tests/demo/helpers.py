"""Helpers for the demo-data tests: a small seed and a way to empty the people data again."""

from __future__ import annotations

from aixin.accounts.models import User
from aixin.activities.models import Activity, ActivityParticipation
from aixin.care.models import CareComment, CareRecord, CareRuleProgress
from aixin.demo.seed import SeedOptions, SeedSummary, seed_demo
from aixin.pairing.models import GuardianConsent, Pairing
from aixin.registry.models import Child, ChildChange, Guardian, ParentCondition
from aixin.volunteers.models import Volunteer, VolunteerStatusChange

SMALL = {"children": 300, "volunteers": 100, "seed": 7}


def seed_small(seed: int = 7, **overrides: object) -> SeedSummary:
    """300 children and 100 mothers over all districts, with a small town/village tree so that
    the tests stay quick (the command itself uses the full demo tree)."""
    opts = SeedOptions(
        children=300,
        volunteers=100,
        seed=seed,
        towns_per_district=(2, 3),
        villages_per_town=(2, 3),
        ledger=False,  # the demo ledger import has tests of its own (test_demo_ledger.py)
    )
    for key, value in overrides.items():
        setattr(opts, key, value)
    return seed_demo(opts)


def wipe_people() -> None:
    """Remove everything the seeder made except the regions (no audit events exist yet)."""
    for model in (
        ActivityParticipation,
        Activity,
        CareComment,
        CareRuleProgress,
        CareRecord,
        GuardianConsent,
        Pairing,
        VolunteerStatusChange,
        Volunteer,
        ChildChange,
        Guardian,
        ParentCondition,
        Child,
    ):
        model.objects.all().delete()
    User.objects.all().delete()


def child_fingerprint() -> list[tuple[str, str, str]]:
    from aixin.registry.derive import reveal_id_number

    return sorted((c.name, reveal_id_number(c), c.care_tier) for c in Child.objects.all())
