"""The yearly access report page (R-12.5) for the city's administrators: the figures on the
page, and the workbook through the export path (an encrypted archive: it names staff)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aixin.accounts.access import access, request_user
from aixin.accounts.models import Role
from aixin.audit.access_report import access_report, access_report_workbook
from aixin.audit.exports import export_begin
from aixin.audit.models import AuditAction
from aixin.audit.services import audit_log

FIRST_YEAR = 2020


def _year(request: HttpRequest) -> int:
    """The year asked for, or this year; anything outside FIRST_YEAR…this year is this year."""
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year", this_year))
    except ValueError:
        return this_year
    return year if FIRST_YEAR <= year <= this_year else this_year


@access(Role.CITY_ADMIN)
def access_report_view(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    if request.GET.get("download"):
        back = reverse("audit:access_report") + f"?year={year}"
        export = export_begin(request, kind="access_report", back_url=back)
        if isinstance(export, HttpResponse):
            return export  # the archive-password form
        report = access_report(year=year)
        content = access_report_workbook(report, watermark=export.watermark)
        return export.download(
            content,
            rows=len(report.users) + len(report.children),
            filename=f"{year}年度访问报告",
            ascii_name=f"access-report-{year}",
            object_type="access_report",
            object_id=year,
            summary=_("导出%(y)s年度访问报告：%(u)s名用户，%(c)s名儿童")
            % {"y": year, "u": len(report.users), "c": len(report.children)},
            filters={"year": year},
        )
    report = access_report(year=year)
    user = request_user(request)
    audit_log(
        actor=user,
        action=AuditAction.VIEW,
        object_type="access_report",
        object_id=year,
        region=user.region,
        summary=_("查看%(y)s年度访问报告") % {"y": year},
        request=request,
    )
    return render(
        request,
        "audit/access_report.html",
        {
            "report": report,
            "year": year,
            "years": list(range(timezone.localdate().year, FIRST_YEAR - 1, -1)),
            "months": range(1, 13),
        },
    )
