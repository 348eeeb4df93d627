"""Writes for department credentials of the push API (R-4.4): create (the secret is returned
once and kept encrypted) and revoke. System administrator (系统管理员) only; both audited."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from aixin.accounts.access import department_credentials_visible_to, get_visible
from aixin.accounts.models import Role
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.ingest.columns import SOURCE_LABELS
from aixin.ingest.models import DepartmentCredential
from aixin.lib import crypto
from aixin.lib.errors import Conflict, InvalidInput, NotAllowed
from aixin.regions.models import Region, RegionLevel

SECRET_CONTEXT = "ingest.credential"  # noqa: S105 - the encryption context label, not a secret
KEY_PREFIX = "ak_"
# 12 random bytes → 16 url-safe characters; 32 random bytes → 43 characters (no padding).
KEY_ID_BYTES = 12
SECRET_BYTES = 32
SCOPE_LEVELS = (RegionLevel.CITY, RegionLevel.DISTRICT)


def _require_system_admin(actor: Any) -> None:
    if getattr(actor, "role", None) != Role.SYSTEM_ADMIN:
        raise NotAllowed(_("只有系统管理员可以管理部门接口凭据"))


def new_key_id() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_ID_BYTES)


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def credential_secret(credential: DepartmentCredential) -> str:
    """The plaintext secret (the HMAC key of the push API's signatures)."""
    return crypto.decrypt(credential.secret_encrypted, context=SECRET_CONTEXT)


def scope_label(region: Region) -> str:
    return _("全市") if region.level == RegionLevel.CITY else region.name


@transaction.atomic
def credential_create(
    *, actor: Any, name: str, source: str, region: Region, request: HttpRequest | None = None
) -> tuple[DepartmentCredential, str]:
    """A new credential for a department system; returns it with its secret, which is shown
    once and never again (only its ciphertext is stored)."""
    _require_system_admin(actor)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("请填写凭据名称，例如“市民政局困境儿童系统”"), field="name")
    if len(name) > 100:
        raise InvalidInput(_("凭据名称不能超过100个字"), field="name")
    if source not in SOURCE_LABELS:
        raise InvalidInput(_("请选择推送数据的部门"), field="source")
    if region is None or region.level not in SCOPE_LEVELS or region.valid_to is not None:
        raise InvalidInput(_("数据范围只能是全市或一个现行的区县"), field="region")
    key_id = new_key_id()
    while DepartmentCredential.objects.filter(key_id=key_id).exists():  # pragma: no cover
        key_id = new_key_id()
    secret = new_secret()
    credential = DepartmentCredential.objects.create(
        name=name,
        source=source,
        region=region,
        key_id=key_id,
        secret_encrypted=crypto.encrypt(secret, context=SECRET_CONTEXT),
        created_by=actor,
    )
    audit_log(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="department_credential",
        object_id=credential.pk,
        region=region,
        summary=_("新建部门接口凭据“%(name)s”（%(source)s，范围：%(scope)s，编号 %(key)s）")
        % {"name": name, "source": SOURCE_LABELS[source], "scope": scope_label(region), "key": key_id},
        details={"key_id": key_id, "source": source, "region": region.code},
        request=request,
    )
    return credential, secret


@transaction.atomic
def credential_revoke(
    *, actor: Any, credential_id: int, request: HttpRequest | None = None
) -> DepartmentCredential:
    """Revoke a credential: from now on every request signed with it is refused. Permanent."""
    _require_system_admin(actor)
    found = get_visible(department_credentials_visible_to(actor), credential_id)
    credential = DepartmentCredential.objects.select_for_update().select_related("region").get(pk=found.pk)
    if credential.revoked_at is not None:
        raise Conflict(
            _("凭据“%(name)s”已于%(when)s吊销")
            % {
                "name": credential.name,
                "when": timezone.localtime(credential.revoked_at).strftime("%Y-%m-%d %H:%M"),
            }
        )
    credential.revoked_at = timezone.now()
    credential.revoked_by = actor
    credential.save(update_fields=["revoked_at", "revoked_by"])
    audit_log(
        actor=actor,
        action=AuditAction.TRANSITION,
        object_type="department_credential",
        object_id=credential.pk,
        region=credential.region,
        summary=_("吊销部门接口凭据“%(name)s”（%(source)s，编号 %(key)s）")
        % {"name": credential.name, "source": credential.get_source_display(), "key": credential.key_id},
        details={"key_id": credential.key_id},
        request=request,
    )
    return credential
