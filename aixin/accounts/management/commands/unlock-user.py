"""`aixin unlock-user USERNAME [--ip ADDRESS] [--reset-totp]`: end a log-in lock early.

A user locked out after repeated failed passwords (aixin.accounts.lockout) can log in again at
once; the failures counted so far are forgotten. `--ip` also lifts the lock on a network address
(an office behind one address). `--reset-totp` removes the user's authenticator (a lost phone):
they set up a new one at their next log-in.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from aixin.accounts import services
from aixin.accounts.models import User

VIA = "aixin unlock-user"


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
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("用户 %(username)s 不存在") % {"username": username})
        ended = services.user_unlock(actor=None, user_id=user.pk, ip=options["ip"], via=VIA)
        reset = options["reset_totp"] and services.user_reset_totp(actor=None, user_id=user.pk, via=VIA)
        if ended:
            self.stdout.write(_("已解除 %(username)s 的登录锁定，现在可以重新登录") % {"username": username})
        else:
            self.stdout.write(_("%(username)s 当前未被锁定；已清零登录失败次数") % {"username": username})
        if options["reset_totp"]:
            if reset:
                self.stdout.write(_("已重置动态验证码：下次登录时需重新绑定验证器"))
            else:
                self.stdout.write(_("%(username)s 尚未绑定动态验证码，无需重置") % {"username": username})
