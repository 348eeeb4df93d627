"""`aixin create-token USERNAME [--name NAME]`: issue a personal API token, shown once.

Only the token's SHA-256 is stored, so a lost token cannot be shown again: issue a new one.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from aixin.accounts.models import ApiToken, User, hash_token
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log


class Command(BaseCommand):
    help = "为用户签发个人 API 令牌（只显示一次）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="令牌用途，例如「数据对接」")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.select_related("region").filter(username=options["username"]).first()
        if user is None:
            raise CommandError(_("用户 %(username)s 不存在") % {"username": options["username"]})
        if not user.is_active:
            raise CommandError(_("用户 %(username)s 已停用，不能签发令牌") % {"username": user.username})
        raw = ApiToken.generate()
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user, name=options["name"][:100], prefix=raw[:12], token_hash=hash_token(raw)
            )
            audit_log(
                actor=None,
                action=AuditAction.CREATE,
                object_type="api_token",
                object_id=token.pk,
                region=user.region,
                summary=_("命令行为 %(username)s 签发 API 令牌 %(prefix)s…")
                % {
                    "username": user.username,
                    "prefix": token.prefix,
                },
            )
        self.stdout.write(_("API 令牌（只显示这一次，请立即保存）："))
        self.stdout.write(raw)
