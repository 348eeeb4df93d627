from __future__ import annotations

from aixin.accounts.access import ScopedRouter

router = ScopedRouter(tags=["care"])
