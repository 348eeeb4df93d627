"""The import pages (数据导入): upload a department ledger, follow its progress, see what was
rejected and why, and decide duplicate suspects. Admins only, within their scope."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aixin.accounts.access import (
    ADMINS,
    access,
    duplicate_suspects_visible_to,
    get_visible,
    import_batches_visible_to,
    request_user,
)
from aixin.audit.exports import export_begin
from aixin.ingest import reading, selectors, services, workbooks
from aixin.ingest.forms import SuspectDecisionForm, UploadForm
from aixin.ingest.models import BatchStatus, ImportBatch
from aixin.lib.errors import DomainError
from aixin.lib.excel import xlsx_response

PAGE_SIZE = 30


def _batch_for(request: HttpRequest, pk: int) -> ImportBatch:
    batch: ImportBatch = get_visible(
        import_batches_visible_to(request.user).select_related("created_by", "credential", "scope"), pk
    )
    return batch


def _progress_context(batch: ImportBatch) -> dict[str, Any]:
    progress = services.batch_progress(batch)
    active = progress["status"] in selectors.ACTIVE_STATUSES
    return {"batch": batch, "progress": progress, "active": active}


class _SizeLimit(FileUploadHandler):
    """Stops storing an upload as soon as it passes the import limit, so a 200 MB file is not
    written to disk first; the view then says the file is too large (nothing else is read)."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > reading.MAX_FILE_BYTES:
            self.request.upload_too_large = True  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@access(*ADMINS)
@csrf_exempt  # checked by _batch_list, after the size limit is in place (Django's documented way)
def batch_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        request.upload_handlers = [_SizeLimit(request), *request.upload_handlers]
    return _batch_list(request)


@csrf_protect
def _batch_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if getattr(request, "upload_too_large", False):
            limit = reading.MAX_FILE_BYTES // 1024 // 1024
            form.add_error("file", _("文件过大：单个文件不能超过%(n)dMB，请拆分后上传") % {"n": limit})
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = services.start_file_import(
                    actor=user,
                    source=form.cleaned_data["source"],
                    upload=upload,
                    file_name=upload.name or "",
                    dry_run=form.cleaned_data["dry_run"],
                    request=request,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                if batch.dry_run:
                    messages.success(request, _("文件已提交试导入：只检查，不写入台账"))
                else:
                    messages.success(request, _("文件已提交导入"))
                return redirect("ingest:batch_detail", pk=batch.pk)
    else:
        form = UploadForm()
    page = Paginator(selectors.batch_list(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "ingest/batch_list.html",
        {
            "form": form,
            "page_obj": page,
            "batches": page.object_list,
            "querystring_without_page": "",
            "open_suspects": selectors.open_suspects(user=user).count(),
        },
    )


@access(*ADMINS)
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    batch = _batch_for(request, pk)
    context = _progress_context(batch)
    if batch.status == BatchStatus.DONE:
        suspects = list(selectors.batch_suspects(user=user, batch=batch))
        context.update(
            rejections=selectors.batch_rejections(batch),
            rejections_shown=selectors.REJECTIONS_SHOWN,
            ignored_columns=selectors.ignored_columns(batch),
            suspects=[(s, *selectors.suspect_sides(s)) for s in suspects],
        )
    return render(request, "ingest/batch_detail.html", context)


@access(*ADMINS)
@require_GET
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for(request, pk)
    context = _progress_context(batch)
    response = render(request, "ingest/_progress.html", context)
    if not context["active"] and request.headers.get("HX-Request"):
        # The batch has finished while the page was polling: reload it to show the results.
        response["HX-Refresh"] = "true"
    response["Cache-Control"] = "no-store"
    return response


@access(*ADMINS)
@require_http_methods(["GET", "POST"])
def batch_rejections(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for(request, pk)
    back = reverse("ingest:batch_detail", args=[batch.pk])
    export = export_begin(request, kind="import_rejections", back_url=back)
    if isinstance(export, HttpResponse):
        return export  # the archive-password form
    content = workbooks.rejections_workbook(batch, watermark=export.watermark)
    return export.download(
        content,
        rows=batch.rejected_count,
        filename=f"导入拒绝行_批次{batch.pk}",
        ascii_name=f"rejections-{batch.pk}",
        object_type="import_batch",
        object_id=batch.pk,
        region=batch.scope,
        summary=_("导出导入批次 #%(pk)s 的拒绝行 %(n)s 条") % {"pk": batch.pk, "n": batch.rejected_count},
    )


@access(*ADMINS)
@require_GET
def template_download(request: HttpRequest) -> HttpResponse:
    villages = selectors.template_villages(request.user)
    return xlsx_response(
        workbooks.template_workbook(villages),
        filename="儿童台账导入模板.xlsx",
        ascii_name="import-template.xlsx",
    )


@access(*ADMINS)
@require_GET
def suspect_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    page = Paginator(selectors.open_suspects(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(s, *selectors.suspect_sides(s)) for s in page.object_list]
    return render(
        request,
        "ingest/suspect_list.html",
        {
            "page_obj": page,
            "rows": rows,
            "form": SuspectDecisionForm(),
            "querystring_without_page": "",
        },
    )


@access(*ADMINS)
@require_POST
def suspect_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    suspect = get_visible(duplicate_suspects_visible_to(user), pk)
    form = SuspectDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("ingest:suspect_list")
    decision = form.cleaned_data["decision"]
    try:
        services.decide_suspect(
            actor=user,
            suspect_id=suspect.pk,
            decision=decision,
            note=form.cleaned_data["note"],
            request=request,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if decision == "same":
            messages.success(request, _("已确认为同一儿童：较新的重复记录已退出台账，档案保留"))
        else:
            messages.success(request, _("已确认为不同儿童：两条记录都保留"))
    return redirect("ingest:suspect_list")
