"""Writing the audit log. Every view of a child file, every change and every export calls
`audit_log` (R-1.3)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from aixin.audit.chain import seal_after_commit
from aixin.audit.models import AuditEvent


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def audit_log(
    *,
    actor: Any,
    action: str,
    object_type: str = "",
    object_id: Any = "",
    region: Any = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    district = None
    if region is not None:
        district = region if region.level == 2 else getattr(region, "district", None)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent.objects.create(
        actor=actor_obj,
        actor_name=str(actor_obj.get_username()) if actor_obj else "",
        actor_role=getattr(actor_obj, "role", "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:300],
        details=details or {},
        region=region,
        district=district,
        ip_address=_client_ip(request) if request else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request else ""),
        path=(request.get_full_path()[:300] if request else ""),
    )
    seal_after_commit()
    return event
