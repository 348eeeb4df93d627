"""`aixin unlock-user USERNAME [--ip ADDRESS] [--reset-totp]`: end a log-in lock early.

A user locked out after repeated failed passwords (aixin.accounts.lockout) can log in again at
once; the failures counted so far are forgotten. `--ip` also lifts the lock on a network address
(an office behind one address). `--reset-totp` removes the user's authenticator (a lost phone):
they set up a new one at their next log-in.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from aixin.accounts import lockout, totp
from aixin.accounts.models import User
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log


class Command(BaseCommand):
    help = "解除账号（及网络地址）的登录锁定；可同时重置动态验证码"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--ip", default="", help="同时解除该网络地址的锁定")
        parser.add_argument(
            "--reset-totp", action="store_true", help="删除该用户已绑定的验证器（手机丢失时）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        user = User.objects.select_related("region").filter(username=username).first()
        if user is None:
            raise CommandError(_("用户 %(username)s 不存在") % {"username": username})
        with transaction.atomic():
            ended = lockout.unlock(username=username, ip=options["ip"].strip(), by="aixin unlock-user")
            audit_log(
                actor=None,
                action=AuditAction.UPDATE,
                object_type="user",
                object_id=user.pk,
                region=user.region,
                summary=_("命令行解除 %(username)s 的登录锁定%(ip)s")
                % {"username": username, "ip": f"（及网络地址 {options['ip']}）" if options["ip"] else ""},
            )
            reset = options["reset_totp"] and totp.device_reset(user=user, actor_name="aixin unlock-user")
        if ended:
            self.stdout.write(_("已解除 %(username)s 的登录锁定，现在可以重新登录") % {"username": username})
        else:
            self.stdout.write(_("%(username)s 当前未被锁定；已清零登录失败次数") % {"username": username})
        if options["reset_totp"]:
            if reset:
                self.stdout.write(_("已重置动态验证码：下次登录时需重新绑定验证器"))
            else:
                self.stdout.write(_("%(username)s 尚未绑定动态验证码，无需重置") % {"username": username})
