"""Care API: a loving mother's (or an admin's) care record, and her checklists."""

import datetime
from typing import Any, cast

from django.http import HttpRequest
from django.utils import timezone
from ninja.responses import Status

from aixin.accounts.access import ADMINS, ScopedRouter, access, get_pairing_for_user, pairings_visible_to
from aixin.accounts.models import Role, User
from aixin.care import selectors
from aixin.care.schemas import CareRecordIn, CareRecordOut, ChecklistItemOut, PairingChecklistOut
from aixin.care.services import care_record_create
from aixin.lib.errors import InvalidInput
from aixin.pairing.models import PairingStatus

router = ScopedRouter(tags=["care"])


def _user(request: HttpRequest) -> User:
    """The signed-in user (@access admits no anonymous request)."""
    return cast(User, request.user)


def _parse_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value.strip())
    except (ValueError, AttributeError) as exc:
        raise InvalidInput("关爱日期格式应为 YYYY-MM-DD，例如 2025-03-08", field="date") from exc


@router.post("/care-records", response={201: CareRecordOut}, url_name="care_records_create")
@access(Role.VOLUNTEER, *ADMINS)
def care_records_create(request: HttpRequest, payload: CareRecordIn) -> Status[dict[str, Any]]:
    pairing = get_pairing_for_user(_user(request), payload.pairing_id)
    record = care_record_create(
        actor=_user(request),
        pairing_id=pairing.pk,
        date=_parse_date(payload.date),
        kind=payload.kind,
        rule_codes=payload.rules,
        services=payload.services,
        festival=payload.festival,
        notes=payload.notes,
        request=request,
    )
    rules = selectors.rules_of_mask(record.rules_mask, selectors.active_rules())
    return Status(
        201,
        {
            "id": record.pk,
            "pairing_id": pairing.pk,
            "child_id": record.child_id,
            "date": record.date,
            "kind": record.kind,
            "rules": [r.code for r in rules],
            "services": record.services,
            "festival": record.festival,
        },
    )


@router.get("/me/checklist", response=list[PairingChecklistOut], url_name="me_checklist")
@access(Role.VOLUNTEER)
def me_checklist(request: HttpRequest) -> list[dict[str, Any]]:
    today = timezone.localdate()
    pairings = list(
        pairings_visible_to(_user(request))
        .filter(status=PairingStatus.ACTIVE)
        .select_related("child", "village")
        .order_by("child__name_pinyin", "pk")
    )
    checklists = selectors.checklists_for_pairings(pairings, today=today)
    return [
        {
            "pairing_id": p.pk,
            "child_name": p.child.name,
            "village": p.village.name,
            "items": [
                ChecklistItemOut(
                    rule_code=i.rule.code,
                    rule_name=i.rule.name,
                    short_name=i.rule.short_name,
                    cadence=i.rule.cadence,
                    status=i.status,
                    period_start=i.period_start,
                    period_end=i.period_end,
                    last_done_on=i.last_done_on,
                )
                for i in checklists[p.pk]
            ],
        }
        for p in pairings
    ]
