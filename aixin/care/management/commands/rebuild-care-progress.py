from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aixin.care.services import care_progress_rebuild


class Command(BaseCommand):
    help = "Recompute the care-rule progress projection (and last contact dates) from the care records."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--pairing", type=int, action="append", dest="pairings", help="only these pairing ids"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        written = care_progress_rebuild(pairing_ids=options.get("pairings"))
        self.stdout.write(self.style.SUCCESS(f"已重建 {written} 条关爱进度"))
