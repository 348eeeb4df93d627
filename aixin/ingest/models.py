"""Department data integration (SPEC §4): import batches, their rejected rows, what each source
last said about each child, duplicate suspects and department credentials for the push API."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aixin.ingest.columns import SOURCE_LABELS

SOURCE_CHOICES = [(k, v) for k, v in SOURCE_LABELS.items()]


class BatchKind(models.TextChoices):
    FILE = "file", _("文件导入")
    PUSH = "push", _("接口推送")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    INTERRUPTED = "interrupted", _("已中断")


class ImportBatch(models.Model):
    """One file or one pushed batch. Its rows are written in one transaction together with the
    final counts, so a batch is either wholly in the registry (status done) or not at all."""

    source = models.CharField(_("数据来源"), max_length=30, choices=SOURCE_CHOICES)
    kind = models.CharField(_("方式"), max_length=10, choices=BatchKind.choices, default=BatchKind.FILE)
    status = models.CharField(
        _("状态"), max_length=20, choices=BatchStatus.choices, default=BatchStatus.QUEUED, db_index=True
    )
    dry_run = models.BooleanField(_("试导入"), default=False)
    # Who: a user (file) or a department credential (push); the scope is the region the rows
    # must lie in (the user's region, or the credential's).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    credential = models.ForeignKey(
        "ingest.DepartmentCredential", on_delete=models.PROTECT, null=True, blank=True, related_name="batches"
    )
    scope = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    # File batches: the original name (shown to staff only), the stored path under DATA_DIR and
    # the file's SHA-256. Push batches: the department's own batch id (idempotency key).
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    stored_path = models.CharField(max_length=300, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    external_id = models.CharField(_("批次号"), max_length=100, blank=True)

    # The header as found in the file (text per column), for the rejected-rows workbook.
    headers = models.JSONField(default=list, blank=True)
    # A workbook with a list on each of several sheets: their names, in order (reading.place).
    sheets = models.JSONField(default=list, blank=True)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("未变化"), default=0)
    rejected_count = models.PositiveIntegerField(_("拒绝"), default=0)
    suspect_count = models.PositiveIntegerField(_("疑似重复"), default=0)
    error = models.TextField(_("错误"), blank=True)
    # The per-record results of a push batch, returned again when the same batch is re-sent.
    results = models.JSONField(default=list, blank=True)
    # A dry run's duplicate suspects, described for its page (the first few hundred, see
    # engine.Engine._describe_suspects): its children and DuplicateSuspect rows are rolled back.
    dry_run_suspects = models.JSONField(default=list, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~models.Q(external_id=""),
                name="ingest_batch_external_id_unique",
            )
        ]
        indexes = [models.Index(fields=["scope", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_source_display()} #{self.pk}"

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": self.created_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "rejected": self.rejected_count,
        }


class ImportRejection(models.Model):
    """A rejected row: where, why, and the original cells (for the rejected-rows workbook)."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rejections")
    sheet = models.CharField(_("工作表"), max_length=100, blank=True)  # "" when the file has one list
    sheet_index = models.PositiveSmallIntegerField(default=0)  # the sheet's place in the file
    row_number = models.PositiveIntegerField(_("行号"))  # in the file, or in its sheet
    column = models.CharField(_("列"), max_length=100, blank=True)
    reason = models.CharField(_("原因"), max_length=500)
    cells = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["batch", "sheet_index", "row_number", "id"]

    def __str__(self) -> str:
        where = f"工作表“{self.sheet}”第{self.row_number}行" if self.sheet else f"第{self.row_number}行"
        return f"{where} {self.column}：{self.reason}"


class SuspectStatus(models.TextChoices):
    OPEN = "open", _("待核实")
    DIFFERENT = "different", _("不同儿童")
    SAME = "same", _("同一儿童")


class DuplicateSuspect(models.Model):
    """Two records that may be one child (same name in pinyin, same birth date, same village,
    different ID numbers). Never merged by the machine: a person decides."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="suspects")
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("状态"), max_length=20, choices=SuspectStatus.choices, default=SuspectStatus.OPEN, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["child", "other"], name="ingest_suspect_pair_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.child_id}≈{self.other_id}"


class DepartmentCredential(models.Model):
    """A department system's key for the push API. The secret is shown once at creation and kept
    encrypted (the HMAC needs it); revoking is immediate and permanent."""

    name = models.CharField(_("名称"), max_length=100)
    source = models.CharField(_("部门"), max_length=30, choices=SOURCE_CHOICES)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("数据范围")
    )
    key_id = models.CharField(max_length=40, unique=True)
    secret_encrypted = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("部门接口凭据")
        verbose_name_plural = _("部门接口凭据")

    def __str__(self) -> str:
        return f"{self.name}（{self.get_source_display()}）"


class IngestNonce(models.Model):
    """A signature already used: a replayed request is refused. Rows older than the 5-minute
    window are purged (a replay that old is refused by its timestamp anyway)."""

    credential = models.ForeignKey(DepartmentCredential, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["credential", "signature"], name="ingest_nonce_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.credential_id}:{self.signature[:8]}"
