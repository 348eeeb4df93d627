"""Worker processes for `aixin match --all --workers N`. Kept free of model imports at module
level: a spawned worker imports this module before Django is set up (by `setup_worker`)."""

from __future__ import annotations

from typing import Any

Job = tuple[str, str, bool]  # district code, reach, dry run
Result = tuple[str, dict[str, Any] | None, str | None]  # code, report, error


def setup_worker() -> None:
    import django

    django.setup()


def district_job(job: Job) -> Result:
    """Run one district (as `run_match` does for the command): its report, or the refusal."""
    from aixin.lib.errors import DomainError
    from aixin.matching.services import run_match

    code, reach, dry_run = job
    try:
        result = run_match(actor=None, district_code=code, reach=reach, dry_run=dry_run)
    except DomainError as exc:
        return code, None, exc.message
    return code, (result if isinstance(result, dict) else {"run": result.pk, **result.report}), None
