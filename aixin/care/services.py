"""Writes for routine care (R-7.2): care records, staff comments and acknowledgements, and the
CareRuleProgress projection.

A care record and its projection change in one transaction: CareRuleProgress.last_done_on and
Child.last_contact_on only ever move forward (conditional updates), so a record entered late
for an earlier date never hides a newer one.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from aixin.accounts.access import ADMINS, STAFF, care_records_visible_to, region_in_scope
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.care.models import (
    CareComment,
    CareKind,
    CareRecord,
    CareRule,
    CareRuleProgress,
    CareService,
    seal_notes,
)
from aixin.care.selectors import festival_names
from aixin.lib.errors import InvalidInput, NotAllowed
from aixin.lib.uploads import (
    MAX_UPLOAD_BYTES,
    PHOTO_KINDS,
    UploadRejected,
    check_upload,
    delete_on_failure,
    random_name,
)
from aixin.pairing.models import Pairing, PairingStatus
from aixin.registry.models import Child

MAX_PHOTO_BYTES = MAX_UPLOAD_BYTES
# The rule for which a record names the festival (a setting, so rules stay data).
FESTIVAL_RULE_CODE: str = getattr(settings, "AIXIN_CARE_FESTIVAL_RULE", "yearly_festival")


def _check_photo(photo: Any) -> str:
    """The photo's canonical extension, after checking its name, size and first bytes."""
    try:
        return check_upload(photo, kinds=PHOTO_KINDS, max_bytes=MAX_PHOTO_BYTES, field="photo")
    except UploadRejected as exc:
        if exc.reason == "content":
            # Said for a mother on her phone: retake or pick another picture.
            raise UploadRejected(
                "照片文件内容与格式不符，请重新拍摄或选择 JPG/PNG 图片", reason=exc.reason, field="photo"
            ) from exc
        raise


def _check_actor(actor: Any, pairing: Pairing) -> None:
    if actor.role in ADMINS and region_in_scope(actor, pairing.village):
        return
    if pairing.volunteer.user_id is not None and pairing.volunteer.user_id == actor.pk:
        return
    raise NotAllowed("只有该结对的爱心妈妈或本辖区管理员可以记录关爱")


def _resolve_rules(codes: Sequence[str], pairing: Pairing) -> list[CareRule]:
    codes = list(dict.fromkeys(c for c in codes if c))
    if not codes:
        raise InvalidInput("请至少勾选一项本次完成的“6+1”关爱内容", field="rules")
    rules = {r.code: r for r in CareRule.objects.filter(code__in=codes)}
    for code in codes:
        rule = rules.get(code)
        if rule is None or not rule.active:
            raise InvalidInput(f"关爱条目“{code}”不存在或已停用", field="rules")
        if pairing.tier not in (rule.applies_to or []):
            raise InvalidInput(f"“{rule.name}”不适用于该儿童的关爱类型", field="rules")
    return [rules[c] for c in codes]


def _bump_progress(pairing: Pairing, rules: Iterable[CareRule], day: datetime.date) -> None:
    for rule in rules:
        progress, created = CareRuleProgress.objects.get_or_create(
            pairing=pairing,
            rule=rule,
            defaults={"last_done_on": day, "district_id": pairing.district_id, "town_id": pairing.town_id},
        )
        if not created:
            CareRuleProgress.objects.filter(pk=progress.pk, last_done_on__lt=day).update(
                last_done_on=day, updated_at=timezone.now()
            )


def care_record_create(
    *,
    actor: Any,
    pairing_id: int,
    date: datetime.date,
    kind: str,
    rule_codes: Sequence[str],
    services: Sequence[str],
    festival: str = "",
    notes: str = "",
    photo: Any = None,
    today: datetime.date | None = None,
    request: Any = None,
) -> CareRecord:
    """Record care given by the pairing's loving mother (or by an admin on her behalf).

    The photo is stored inside the transaction; if anything after it fails (or the commit
    does), the stored file is deleted again, so a refused or rolled-back record leaves no file."""
    with delete_on_failure() as stored, transaction.atomic():
        return _care_record_create(
            actor=actor,
            pairing_id=pairing_id,
            date=date,
            kind=kind,
            rule_codes=rule_codes,
            services=services,
            festival=festival,
            notes=notes,
            photo=photo,
            today=today,
            request=request,
            stored=stored,
        )


def _care_record_create(
    *,
    actor: Any,
    pairing_id: int,
    date: datetime.date,
    kind: str,
    rule_codes: Sequence[str],
    services: Sequence[str],
    festival: str,
    notes: str,
    photo: Any,
    today: datetime.date | None,
    request: Any,
    stored: list[Any],
) -> CareRecord:
    today = today or timezone.localdate()
    # Locking the pairing serialises records of one pairing and sees a concurrent ending.
    pairing = (
        Pairing.objects.select_for_update()
        .select_related("volunteer", "village")
        .filter(pk=pairing_id)
        .first()
    )
    if pairing is None:
        raise InvalidInput("结对不存在", field="pairing_id")
    _check_actor(actor, pairing)
    if pairing.status == PairingStatus.ENDED:
        ended = pairing.end_date.isoformat() if pairing.end_date else ""
        raise InvalidInput(f"该结对已于{ended}解除，不能再记录关爱", field="pairing_id")
    if pairing.status != PairingStatus.ACTIVE:
        raise InvalidInput(
            "该结对尚未生效（需爱心妈妈确认并征得监护人同意），不能记录关爱", field="pairing_id"
        )
    if date is None:
        raise InvalidInput("请填写关爱日期", field="date")
    if date > today:
        raise InvalidInput("关爱日期不能晚于今天", field="date")
    if pairing.start_date and date < pairing.start_date:
        raise InvalidInput(f"关爱日期不能早于结对日期（{pairing.start_date.isoformat()}）", field="date")
    if kind not in CareKind.values:
        raise InvalidInput("请选择关爱方式（电话、视频、家访、到校或活动）", field="kind")
    services = list(dict.fromkeys(services))
    bad = [s for s in services if s not in CareService.values]
    if bad:
        raise InvalidInput(f"服务内容“{bad[0]}”不在可选范围内", field="services")
    rules = _resolve_rules(rule_codes, pairing)
    festival = (festival or "").strip()
    if festival and festival not in festival_names():
        raise InvalidInput(f"节日“{festival}”不在节日表中，请从列表中选择", field="festival")
    if len(notes or "") > 2000:
        raise InvalidInput("备注不能超过 2000 字", field="notes")
    photo_ext = _check_photo(photo) if photo is not None else ""

    mask = 0
    for rule in rules:
        mask |= rule.mask
    record = CareRecord(
        pairing=pairing,
        child_id=pairing.child_id,
        volunteer_id=pairing.volunteer_id,
        district_id=pairing.district_id,
        town_id=pairing.town_id,
        village_id=pairing.village_id,
        date=date,
        kind=kind,
        rules_mask=mask,
        services=services,
        festival=festival,
        notes_encrypted=seal_notes((notes or "").strip()),
        created_by=actor,
    )
    if photo is not None:
        record.photo.save(random_name(photo_ext), photo, save=False)
        stored.append(record.photo)
    record.save()
    _bump_progress(pairing, rules, date)
    Child.objects.filter(pk=pairing.child_id).filter(
        Q(last_contact_on__isnull=True) | Q(last_contact_on__lt=date)
    ).update(last_contact_on=date)
    audit_log(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="care_record",
        object_id=record.pk,
        region=pairing.village,
        summary=f"记录关爱：{pairing.child.name} {date.isoformat()}",
        request=request,
    )
    return record


def _staff_record(actor: Any, record_id: int, *, lock: bool = False) -> CareRecord:
    if getattr(actor, "role", None) not in STAFF:
        raise NotAllowed("只有妇联工作人员、儿童督导员和儿童主任可以点评关爱记录")
    qs = care_records_visible_to(actor)
    if lock:
        qs = qs.select_for_update()
    record: CareRecord | None = qs.filter(pk=record_id).first()
    if record is None:
        raise NotAllowed("该关爱记录不在你的管辖范围内")
    return record


@transaction.atomic
def care_record_comment(*, actor: Any, record_id: int, text: str, request: Any = None) -> CareComment:
    record = _staff_record(actor, record_id)
    text = (text or "").strip()
    if not text:
        raise InvalidInput("点评内容不能为空", field="text")
    if len(text) > 500:
        raise InvalidInput("点评不能超过 500 字", field="text")
    comment = CareComment.objects.create(record=record, author=actor, text=text)
    audit_log(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="care_record",
        object_id=record.pk,
        region=record.village,
        summary="点评关爱记录",
        request=request,
    )
    return comment


@transaction.atomic
def care_record_acknowledge(*, actor: Any, record_id: int, request: Any = None) -> CareRecord:
    """Mark a record as read by staff; acknowledging twice keeps the first acknowledgement."""
    record = _staff_record(actor, record_id)
    CareRecord.objects.filter(pk=record.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=actor, acknowledged_at=timezone.now(), updated_at=timezone.now()
    )
    record.refresh_from_db()
    audit_log(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="care_record",
        object_id=record.pk,
        region=record.village,
        summary="关爱记录已阅",
        request=request,
    )
    return record


@transaction.atomic
def care_progress_rebuild(*, pairing_ids: Iterable[int] | None = None, batch_size: int = 2000) -> int:
    """Recompute CareRuleProgress (and Child.last_contact_on) from the care records.
    Returns the number of progress rows written."""
    ids = list(pairing_ids) if pairing_ids is not None else None
    progress = CareRuleProgress.objects.all()
    records = CareRecord.objects.all()
    if ids is not None:
        progress = progress.filter(pairing_id__in=ids)
        records = records.filter(pairing_id__in=ids)
    progress.delete()
    written = 0
    for rule in CareRule.objects.all():
        rows = (
            records.annotate(hit=F("rules_mask").bitand(rule.mask))
            .filter(hit__gt=0)
            .order_by()
            .values("pairing_id", "pairing__district_id", "pairing__town_id")
            .annotate(last=Max("date"))
        )
        objs = [
            CareRuleProgress(
                pairing_id=r["pairing_id"],
                rule=rule,
                last_done_on=r["last"],
                district_id=r["pairing__district_id"],
                town_id=r["pairing__town_id"],
            )
            for r in rows.iterator()
        ]
        CareRuleProgress.objects.bulk_create(objs, batch_size=batch_size)
        written += len(objs)
    for row in records.order_by().values("child_id").annotate(last=Max("date")).iterator():
        Child.objects.filter(pk=row["child_id"]).filter(
            Q(last_contact_on__isnull=True) | Q(last_contact_on__lt=row["last"])
        ).update(last_contact_on=row["last"])
    return written
