"""GET /api/v1/pairings: pairings in the caller's scope; a loving mother sees her own.

With `?changed_since=<ISO 8601>` (R-4.6, for civil affairs systems that poll): only pairings
whose `updated_at` is later, oldest change first. A poller pages with `offset` until it has
`count` items, then polls again with the last `updated_at` it received (full microseconds)."""

from __future__ import annotations

from django.http import HttpRequest

from aixin.accounts.access import EVERYONE, ScopedRouter, access
from aixin.pairing.models import Pairing
from aixin.pairing.schemas import PairingOut, PairingPage
from aixin.pairing.selectors import (
    pairing_list,
    pairings_changed_since,
    parse_changed_since,
    region_for_filter,
)

router = ScopedRouter(tags=["pairing"])
MAX_LIMIT = 200
# Beyond any real page; a larger offset would overflow the database's integer (a 500).
MAX_OFFSET = 1_000_000_000


def _out(p: Pairing) -> PairingOut:
    return PairingOut(
        id=p.pk,
        child_id=p.child_id,
        child_name=p.child.name,
        volunteer_id=p.volunteer_id,
        volunteer_name=p.volunteer.name,
        tier=p.tier,
        tier_label=str(p.get_tier_display()),
        status=p.status,
        status_label=str(p.get_status_display()),
        district=p.district.name,
        town=p.town.name,
        village=p.village.name,
        village_code=p.village.code,
        proposed_at=p.proposed_at,
        start_date=p.start_date,
        end_date=p.end_date,
        updated_at=p.updated_at,
    )


@router.get("", response=PairingPage, url_name="pairings_list")
@access(*EVERYONE)
def pairings_list(
    request: HttpRequest,
    status: str = "",
    region: str = "",
    tier: str = "",
    changed_since: str = "",
    limit: int = 50,
    offset: int = 0,
) -> PairingPage:
    since = parse_changed_since(changed_since) if changed_since else None
    found = region_for_filter(request.user, region)
    qs = pairing_list(request.user, region=found, status=status, tier=tier)
    if region and found is None:
        qs = qs.none()
    if since is not None:
        qs = pairings_changed_since(qs, since)
    limit = max(1, min(limit, MAX_LIMIT))
    offset = min(max(0, offset), MAX_OFFSET)
    return PairingPage(
        count=qs.count(), limit=limit, offset=offset, items=[_out(p) for p in qs[offset : offset + limit]]
    )
