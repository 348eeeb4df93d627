"""Data keys of the append-only sealed columns (see aixin.ops.datakeys)."""

from __future__ import annotations

from django.db import models


class DataKey(models.Model):
    """The data key of one context (e.g. "case_event.note"), wrapped by the keyring: key rotation
    rewrites `wrapped_encrypted` and nothing else, so the append-only rows sealed under it stay
    as they were written."""

    context = models.CharField(max_length=100, unique=True)
    algorithm = models.CharField(max_length=20)
    wrapped_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "数据密钥"
        verbose_name_plural = "数据密钥"

    def __str__(self) -> str:
        return f"d{self.pk} {self.context}"
