"""GET /api/v1/volunteers: loving mothers in the caller's scope, phones masked; a loving mother
sees only her own profile."""

from __future__ import annotations

from django.http import HttpRequest

from aixin.accounts.access import EVERYONE, ScopedRouter, access
from aixin.volunteers.models import Volunteer
from aixin.volunteers.schemas import VolunteerOut, VolunteerPage
from aixin.volunteers.selectors import VolunteerFilters, volunteer_list

router = ScopedRouter(tags=["volunteers"])
MAX_LIMIT = 200
# Beyond any real page; a larger offset would overflow the database's integer (a 500).
MAX_OFFSET = 1_000_000_000


def _out(v: Volunteer) -> VolunteerOut:
    return VolunteerOut(
        id=v.pk,
        name=v.name,
        phone_masked=v.phone_masked,
        source_group=v.source_group,
        source_group_label=str(v.get_source_group_display()),
        district_code=v.district.code,
        district=v.district.name,
        town=v.town.name,
        village_code=v.home_region.code,
        village=v.home_region.name,
        status=v.status,
        status_label=str(v.get_status_display()),
        capacity=v.capacity,
        load=v.load,
        free_capacity=v.free_capacity,
        specialties=list(v.specialties),
        trained=v.trained,
    )


@router.get("", response=VolunteerPage, url_name="volunteers_list")
@access(*EVERYONE)
def volunteers_list(
    request: HttpRequest,
    region: str = "",
    status: str = "",
    source_group: str = "",
    specialty: str = "",
    has_capacity: bool = False,
    q: str = "",
    limit: int = 50,
    offset: int = 0,
) -> VolunteerPage:
    filters = VolunteerFilters(
        region=region,
        status=status,
        source_group=source_group,
        specialty=specialty,
        has_capacity=has_capacity,
        q=q,
    )
    qs = volunteer_list(request.user, filters)
    limit = max(1, min(limit, MAX_LIMIT))
    offset = min(max(0, offset), MAX_OFFSET)
    return VolunteerPage(
        count=qs.count(), limit=limit, offset=offset, items=[_out(v) for v in qs[offset : offset + limit]]
    )
