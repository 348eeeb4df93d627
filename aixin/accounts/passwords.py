"""Password policy (等保 level 3, 身份鉴别): Django's validators plus ours, listed in
AUTH_PASSWORD_VALIDATORS.

- `MinimumLengthValidator`: at least 10 characters (Django's, with a Chinese message).
- `CharacterClassesValidator`: at least three of upper case, lower case, digits and symbols.
- `PersonalDataValidator`: not containing the user name, the user's phone number or ID number
  (loving mothers and task-force members have them, encrypted; staff usually have none).
- `CommonPasswordValidator`: Django's list of 20,000 common passwords plus the ones common in
  China (`data/common-passwords-zh.txt`), also with the symbols at the end taken off.

Messages are in Chinese and say what to change.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from aixin.lib import crypto

ZH_LIST = Path(__file__).resolve().parent / "data" / "common-passwords-zh.txt"

_CLASSES = (
    ("upper", re.compile(r"[A-Z]")),
    ("lower", re.compile(r"[a-z]")),
    ("digit", re.compile(r"[0-9]")),
    ("symbol", re.compile(r"[^A-Za-z0-9]")),
)


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, saying it in Chinese in the command line too (no request activates a language)."""

    def get_error_message(self) -> str:
        return _("密码长度太短，至少需要 %(min_length)d 个字符")

    def get_help_text(self) -> str:
        return _("至少 %(min_length)d 个字符。") % {"min_length": self.min_length}


class CharacterClassesValidator:
    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        found = sum(1 for _name, pattern in _CLASSES if pattern.search(password))
        if found < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少 %(n)d 类，当前只有 %(found)d 类"),
                code="password_too_simple",
                params={"n": self.min_classes, "found": found},
            )

    def get_help_text(self) -> str:
        return _("须包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。") % {"n": self.min_classes}


def _decrypted(obj: Any, model: str, field_name: str) -> str:
    token = getattr(obj, field_name, "") or ""
    if not token:
        return ""
    try:
        return crypto.decrypt(token, context=crypto.context_of(model, field_name))
    except (crypto.DecryptionError, KeyError):
        return ""


def personal_values(user: Any) -> list[tuple[str, str]]:
    """(what, value) pairs a password must not contain: the user name, phone numbers and ID
    numbers kept for the user (decrypted here, never stored or shown)."""
    if user is None:
        return []
    values = [(_("用户名"), str(getattr(user, "username", "") or ""))]
    if getattr(user, "pk", None) is None:
        return [(what, v) for what, v in values if v]
    if apps.is_installed("aixin.volunteers"):
        volunteer = apps.get_model("volunteers", "Volunteer").objects.filter(user_id=user.pk).first()
        if volunteer is not None:
            model = "volunteers.Volunteer"
            values.append((_("手机号"), _decrypted(volunteer, model, "phone_encrypted")))
            values.append((_("身份证号"), _decrypted(volunteer, model, "id_number_encrypted")))
    if apps.is_installed("aixin.taskforces"):
        member_model = apps.get_model("taskforces", "TaskForceMember")
        for member in member_model.objects.filter(user_id=user.pk):
            values.append((_("手机号"), _decrypted(member, "taskforces.TaskForceMember", "phone_encrypted")))
    return [(what, v.strip()) for what, v in values if v and v.strip()]


class PersonalDataValidator:
    """Refuses a password containing the user name (4+ characters), phone number or ID number."""

    min_length = 4

    def validate(self, password: str, user: Any = None) -> None:
        lowered = password.lower()
        for what, value in personal_values(user):
            if len(value) >= self.min_length and value.lower() in lowered:
                raise ValidationError(
                    _("密码不能包含本人的%(what)s，请换一个"),
                    code="password_contains_personal_data",
                    params={"what": what},
                )

    def get_help_text(self) -> str:
        return _("不能包含本人的用户名、手机号或身份证号。")


@cache
def _zh_common() -> frozenset[str]:
    lines = ZH_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    """Django's list plus the passwords common in China; "Woaini1314!!" counts as "woaini1314"."""

    def validate(self, password: str, user: Any = None) -> None:
        lowered = password.lower().strip()
        candidates = {lowered, lowered.rstrip("!@#$%^&*.?~-_+= ")}
        if candidates & (self.passwords | _zh_common()):
            raise ValidationError(_("这个密码太常见，很容易被猜中，请换一个"), code="password_too_common")

    def get_help_text(self) -> str:
        return _("不能是常见密码。")
