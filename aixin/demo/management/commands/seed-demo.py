"""`aixin seed-demo`: fill the database with the deterministic Chongqing demo data set."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from aixin.alerts.tasks import daily_alert_scan
from aixin.demo.admins import seed_demo_admins
from aixin.demo.cases import seed_demo_cases
from aixin.demo.seed import DEMO_PASSWORD, SeedOptions, enrol_demo_authenticators, seed_demo
from aixin.demo.taskforces import seed_demo_taskforces
from aixin.registry.models import Child
from aixin.registry.services import children_rederive_by_time


class Command(BaseCommand):
    help = "生成重庆市演示数据：儿童、爱心妈妈、结对、关爱记录、团体活动和各角色演示账号"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--children", type=int, default=5000, help="儿童人数（默认 5000）")
        parser.add_argument("--volunteers", type=int, default=1500, help="爱心妈妈人数（默认 1500）")
        parser.add_argument("--months", type=int, default=6, help="关爱记录覆盖的月数（默认 6）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子，相同种子生成相同数据")
        parser.add_argument("--if-empty", action="store_true", help="已有儿童数据时不做任何事")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["children"] < 2 or opts["volunteers"] < 1:
            raise CommandError("--children 至少为 2，--volunteers 至少为 1")
        if not 1 <= opts["months"] <= 24:
            raise CommandError("--months 应在 1 到 24 之间")
        if Child.objects.exists():
            if opts["if_empty"]:
                self.stdout.write("数据库中已有儿童数据，跳过生成演示数据。")
                return
            raise CommandError("数据库中已有儿童数据：演示数据只能生成到空数据库（或加 --if-empty 跳过）")
        summary = seed_demo(
            SeedOptions(
                children=opts["children"],
                volunteers=opts["volunteers"],
                months=opts["months"],
                seed=opts["seed"],
            ),
            log=lambda msg: self.stdout.write(msg) if opts["verbosity"] >= 1 else None,
        )
        # Cases are append-only records (reports can never be deleted), so they are made by the
        # command only, after the data set, not by `seed_demo` (whose tests re-seed a database).
        with transaction.atomic():
            summary.users.extend(seed_demo_cases(password=DEMO_PASSWORD))
            summary.users.extend(seed_demo_taskforces(password=DEMO_PASSWORD, seed=opts["seed"]))
            summary.users.extend(seed_demo_admins(password=DEMO_PASSWORD))
            enrol_demo_authenticators()
        # What the daily jobs (06:10, 06:30) would have done by now: the rules applied again where
        # time changed their answer, then hand-over and unpaired alerts.
        children_rederive_by_time()
        daily_alert_scan()
        if opts["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS("演示数据已生成："))
            for line in summary.lines():
                self.stdout.write("  " + line)
