"""Pages of third-party evaluators (R-11.1): de-identified figures and records only."""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from aixin.accounts.access import access, request_user
from aixin.accounts.models import Role
from aixin.audit.exports import Export
from aixin.evaluation.selectors import RECORD_HEADERS, evaluation_overview, evaluation_records
from aixin.lib.xlsx_stream import streamed_workbook_bytes

EXPORT_KIND = "evaluation_records"
RECORD_WIDTHS = (20, 12, 10, 6, 40, 20, 10, 18)


@access(Role.EVALUATOR)
@require_GET
def overview_view(request: HttpRequest) -> HttpResponse:
    return render(request, "evaluation/overview.html", {"o": evaluation_overview()})


@access(Role.EVALUATOR)
@require_GET
def records_export_view(request: HttpRequest) -> HttpResponse:
    """The de-identified record-level workbook: no personal data, so a plain .xlsx (no archive
    password), watermarked and audited like every export. The evaluator's role is the permission
    (@access); `export_begin`/`may_export` know no evaluator kind yet."""
    user = request_user(request)
    export = Export(request=request, user=user, kind=EXPORT_KIND, password="")
    today = timezone.localdate()
    content, count = streamed_workbook_bytes(
        title=_("去标识化儿童数据（第三方评估）"),
        headers=RECORD_HEADERS,
        rows=evaluation_records(today=today, salt=secrets.token_bytes(32)),
        watermark=export.watermark,
        widths=RECORD_WIDTHS,
        text_columns=(0,),
    )
    return export.download(
        content,
        rows=count,
        filename="去标识化儿童数据",
        ascii_name="evaluation-records",
        object_type="evaluation_records",
        summary=_("导出去标识化儿童数据%(n)s条（第三方评估）") % {"n": count},
        details={"de_identified": True, "care_year": today.year - 1},
    )
