"""Exports (R-1.3, R-12.3): the one path every download of records takes.

Every export view calls `export_begin` first and answers with `Export.download`:

1. permission — `may_export(user, kind)`: staff roles by kind; loving mothers, department
   liaisons and task-force members never (403 before anything is read);
2. for a file with personal data (names, ID numbers, phones, addresses), a form asking for the
   archive password (8+ characters, printable ASCII), which the exporter passes on to the
   recipient by another channel; it is never stored, logged or shown again;
3. the workbook, built by the view with `Export.watermark` (exporter, role, region, time) under
   the title; the workbook writers neutralise formula-looking cells (aixin.lib.excel.neutralise);
4. an EXPORT audit event with the kind, the row count and the filters;
5. the download: an AES-256 zip holding the .xlsx (personal data) or the plain .xlsx
   (aggregates only).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from aixin.accounts.access import may_export
from aixin.accounts.models import User
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log
from aixin.lib import exports as packaging
from aixin.lib.excel import XLSX_TYPE


@dataclass(frozen=True)
class ExportKind:
    title: str | Promise
    personal: bool  # names, ID numbers, phones or addresses: an encrypted archive


EXPORT_KINDS: dict[str, ExportKind] = {
    "children": ExportKind(gettext_lazy("儿童台账"), personal=True),
    "pairing_ledger": ExportKind(gettext_lazy("结对台账"), personal=True),
    "pairing_status": ExportKind(gettext_lazy("结对状态（共享民政）"), personal=True),
    "import_rejections": ExportKind(gettext_lazy("导入拒绝行"), personal=True),
    # Names staff: personal data, though it holds no child's name (children are pseudonyms).
    "access_report": ExportKind(gettext_lazy("年度访问报告"), personal=True),
}


# ---------------------------------------------------------------------------------------------


class ExportPasswordForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("解压密码"),
        min_length=packaging.MIN_PASSWORD_LENGTH,
        max_length=packaging.MAX_PASSWORD_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("至少 8 位，可用英文字母、数字和符号。"),
    )
    password_confirm = forms.CharField(
        label=gettext_lazy("再次输入密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not set(password) <= packaging.PASSWORD_CHARACTERS:
            raise forms.ValidationError(
                _("解压密码只能包含英文字母、数字和符号（不能有中文或空格），请重新设置")
            )
        return password

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password_confirm") != data["password"]:
            self.add_error("password_confirm", _("两次输入的密码不一致"))
        return data


@dataclass(frozen=True)
class Export:
    """An export the user may make, with the archive password if the file needs one."""

    request: HttpRequest
    user: User
    kind: str
    password: str = field(repr=False)  # never in a log, an error report or the audit event
    at: datetime.datetime = field(default_factory=timezone.localtime)

    @property
    def watermark(self) -> str:
        """The row under the title: exporter, role, region, time."""
        return packaging.watermark(
            who=self.user.display_name or self.user.get_username(),
            role=str(self.user.get_role_display()),
            region=self.user.region.name,
            at=self.at,
        )

    def download(
        self,
        content: bytes,
        *,
        rows: int,
        filename: str,
        ascii_name: str,
        object_type: str,
        summary: str,
        object_id: Any = "",
        region: Any = None,
        filters: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> HttpResponse:
        """Audit the export and answer the file: the .xlsx in an AES-256 zip when it holds
        personal data. `filename`/`ascii_name` come without time or extension; `details` are
        added to the audit event's (kind, row count, filters)."""
        audit_log(
            actor=self.user,
            action=AuditAction.EXPORT,
            object_type=object_type,
            object_id=object_id,
            region=region if region is not None else self.user.region,
            summary=summary,
            details={
                "kind": self.kind,
                "rows": rows,
                "filters": dict(filters or {}),
                "encrypted": bool(self.password),
                **(details or {}),
            },
            request=self.request,
        )
        stem = f"{filename}_{self.at:%Y%m%d_%H%M}"
        if not self.password:
            return packaging.attachment_response(
                content, filename=f"{stem}.xlsx", ascii_name=f"{ascii_name}.xlsx", content_type=XLSX_TYPE
            )
        archive = packaging.encrypted_zip(name=f"{stem}.xlsx", content=content, password=self.password)
        return packaging.attachment_response(
            archive, filename=f"{stem}.zip", ascii_name=f"{ascii_name}.zip", content_type=packaging.ZIP_TYPE
        )


@sensitive_variables("password", "form")
def export_begin(request: HttpRequest, *, kind: str, back_url: str = "") -> Export | HttpResponse:
    """Start an export of `kind`: 403 unless `may_export`; for personal data, the archive-
    password form (returned as the response) until a valid password is posted."""
    user = request.user
    spec = EXPORT_KINDS[kind]  # an unknown kind is a programming error, not the user's
    if not isinstance(user, User) or not may_export(user, kind):
        raise PermissionDenied(_("你的角色不能导出%(title)s") % {"title": spec.title})
    password = ""
    if spec.personal:
        # Django's error reports leave these fields out, as @sensitive_post_parameters does.
        request.sensitive_post_parameters = ["password", "password_confirm"]  # type: ignore[attr-defined]
        form = ExportPasswordForm(request.POST if request.method == "POST" else None)
        if not form.is_valid():
            context = {"form": form, "kind": spec, "query": request.GET.urlencode(), "back_url": back_url}
            return render(request, "audit/export_password.html", context)
        password = form.cleaned_data["password"]
    return Export(request=request, user=user, kind=kind, password=password)
