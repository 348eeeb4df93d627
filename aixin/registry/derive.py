"""Derived and protected fields of a child, set on an unsaved or locked instance.

Shared by the registry services, imports and the demo seeder so that every path that writes a
child encrypts, indexes, masks and derives in exactly the same way.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Iterable
from typing import Any

from aixin.lib import crypto
from aixin.lib.idnumber import IdNumberInfo, age_on
from aixin.lib.idnumber import mask as mask_id
from aixin.lib.pinyin import search_key
from aixin.registry.rules import (
    Condition,
    TierInputs,
    derive_tier,
    is_de_facto_unsupported,
    is_left_behind,
    is_orphan,
)

# The contexts bound into each column's tokens, from the one list of encrypted columns.
ID_CONTEXT = crypto.context_of("registry.Child", "id_number_encrypted")
ADDRESS_CONTEXT = crypto.context_of("registry.Child", "address_encrypted")
NOTES_CONTEXT = crypto.context_of("registry.Child", "notes_encrypted")
PHONE_CONTEXT = crypto.context_of("registry.Guardian", "phone_encrypted")
DISABILITY_CONTEXTS = {
    "grade": crypto.context_of("registry.ParentCondition", "disability_grade_encrypted"),
    "category": crypto.context_of("registry.ParentCondition", "disability_category_encrypted"),
}
VOLUNTEER_PHONE_CONTEXT = crypto.context_of("volunteers.Volunteer", "phone_encrypted")
VOLUNTEER_ID_CONTEXT = crypto.context_of("volunteers.Volunteer", "id_number_encrypted")


def id_number_index(number: str) -> str:
    return crypto.blind_index(number, context=ID_CONTEXT)


def phone_index(phone: str) -> str:
    return crypto.blind_index(phone, context=PHONE_CONTEXT)


def set_identity(child: Any, info: IdNumberInfo) -> None:
    child.id_number_encrypted = crypto.encrypt(info.number, context=ID_CONTEXT)
    child.id_number_index = id_number_index(info.number)
    child.id_number_masked = mask_id(info.number)
    child.birth_date = info.birth_date
    child.sex = info.sex


def set_name(obj: Any, name: str) -> None:
    obj.name = name.strip()
    obj.name_pinyin = search_key(obj.name)


def reveal_id_number(child: Any) -> str:
    return crypto.decrypt(child.id_number_encrypted, context=ID_CONTEXT)


def set_address(child: Any, address: str) -> None:
    """Works on a model instance and on a bulk-insert row alike (it sets the column)."""
    child.address_encrypted = crypto.encrypt(address or "", context=ADDRESS_CONTEXT)


def reveal_address(child: Any) -> str:
    return crypto.decrypt(child.address_encrypted, context=ADDRESS_CONTEXT)


def set_notes(child: Any, notes: str) -> None:
    child.notes_encrypted = crypto.encrypt(notes or "", context=NOTES_CONTEXT)


def reveal_notes(child: Any) -> str:
    return crypto.decrypt(child.notes_encrypted, context=NOTES_CONTEXT)


def set_disability(condition: Any, part: str, value: int | None) -> None:
    """`part` is "grade" or "category"."""
    setattr(
        condition,
        f"disability_{part}_encrypted",
        crypto.encrypt_int(value, context=DISABILITY_CONTEXTS[part]),
    )


def reveal_disability(condition: Any, part: str) -> int | None:
    token = getattr(condition, f"disability_{part}_encrypted")
    return crypto.decrypt_int(token, context=DISABILITY_CONTEXTS[part])


def history_value(field: str, value: str) -> str:
    """What the change history keeps of a field's value: encrypted fields never in clear."""
    if field == "address":
        return crypto.mask_address(value)
    if field == "notes":
        return "（已填写，内容保密）" if value else ""
    return value


def set_guardian_phone(guardian: Any, phone: str) -> None:
    phone = phone.strip()
    guardian.phone_encrypted = crypto.encrypt(phone, context=PHONE_CONTEXT)
    guardian.phone_index = phone_index(phone)
    guardian.phone_masked = crypto.mask_phone(phone)


def reveal_guardian_phone(guardian: Any) -> str:
    return crypto.decrypt(guardian.phone_encrypted, context=PHONE_CONTEXT)


def set_volunteer_phone(volunteer: Any, phone: str) -> None:
    phone = phone.strip()
    volunteer.phone_encrypted = crypto.encrypt(phone, context=VOLUNTEER_PHONE_CONTEXT)
    volunteer.phone_index = crypto.blind_index(phone, context=VOLUNTEER_PHONE_CONTEXT)
    volunteer.phone_masked = crypto.mask_phone(phone)


def reveal_volunteer_phone(volunteer: Any) -> str:
    return crypto.decrypt(volunteer.phone_encrypted, context=VOLUNTEER_PHONE_CONTEXT)


def set_volunteer_id_number(volunteer: Any, number: str) -> None:
    volunteer.id_number_encrypted = crypto.encrypt(number, context=VOLUNTEER_ID_CONTEXT)
    volunteer.id_number_index = crypto.blind_index(number, context=VOLUNTEER_ID_CONTEXT)
    volunteer.id_number_masked = mask_id(number)


def conditions_of(child: Any) -> list[Condition]:
    """The child's saved parent conditions as rule inputs."""
    return [
        Condition(
            parent=c.parent,
            kind=c.kind,
            started_on=c.started_on,
            term_months=c.term_months,
            disability_grade=c.disability_grade,
            disability_category=c.disability_category,
            ended_on=c.ended_on,
        )
        for c in child.parent_conditions.all()
    ]


def apply_rules(child: Any, conditions: Iterable[Condition], *, today: datetime.date | None = None) -> None:
    """Set the derived categories and the care tier (keeping a recorded override)."""
    today = today or datetime.date.today()
    unsupported, orphan, left_behind, both_away = _categories(
        tuple(conditions),
        age_on(child.birth_date, today),
        bool(child.full_time_student),
        child.household_type == "rural",
        today,
    )
    child.is_de_facto_unsupported = unsupported
    if orphan:
        child.is_scattered_orphan = True
    child.is_left_behind = left_behind
    child.parents_both_away = both_away
    child.derived_tier = derive_tier(tier_inputs(child))
    child.care_tier = child.tier_override or child.derived_tier
    child.dedupe_key = dedupe_key(child.name_pinyin, child.birth_date, child.region_id)


@functools.lru_cache(maxsize=4096)
def _categories(
    conds: tuple[Condition, ...], age: int, full_time_student: bool, rural: bool, today: datetime.date
) -> tuple[bool, bool, bool, bool]:
    """(de facto unsupported, orphan, left behind, both parents away for work) by the rules.

    The rules see a birth date only through the age on `today`, so one birth date of that age
    stands for all and the answer is kept: an import asks the same few questions of every row."""
    born = datetime.date(today.year - age, today.month, 1)
    return (
        is_de_facto_unsupported(conds, birth_date=born, full_time_student=full_time_student, today=today),
        is_orphan(conds, birth_date=born, today=today),
        is_left_behind(conds, birth_date=born, rural=rural, today=today),
        any(c.kind == "working_away" and c.parent == "father" for c in conds)
        and any(c.kind == "working_away" and c.parent == "mother" for c in conds),
    )


def dedupe_key(name_pinyin: str, birth_date: datetime.date | None, region_id: int | None) -> str:
    """Same full pinyin, birth date and village → same key (see Child.dedupe_key)."""
    full = (name_pinyin or "").split(" ")[0]
    raw = f"{full}|{birth_date.isoformat() if birth_date else ''}|{region_id or ''}"
    return hashlib.blake2b(raw.encode(), digest_size=8).hexdigest()


def set_region(obj: Any, village: Any, *, field: str = "region") -> None:
    """Place a record in a village and stamp its town and district for scope filters."""
    setattr(obj, field, village)
    obj.town_id = village.town_id
    obj.district_id = village.district_id


def tier_inputs(child: Any) -> TierInputs:
    return TierInputs(
        risk_flags=child.risk_psych_behaviour or child.risk_harm_others or child.risk_being_harmed,
        difficulties=child.difficulty_life
        or child.difficulty_study
        or child.difficulty_physical
        or child.difficulty_mental,
        scattered_orphan=child.is_scattered_orphan,
        de_facto_unsupported=child.is_de_facto_unsupported,
    )
