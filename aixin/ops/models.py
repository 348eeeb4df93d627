"""Data keys of the append-only sealed columns (see aixin.ops.datakeys)."""

from __future__ import annotations

from django.db import models


class DataKey(models.Model):
    """A data key of one context (e.g. "case_event.note"), wrapped by the keyring. The context's
    current key (not retired) seals what is written; retired keys stay to open what they sealed.
    Key rotation re-wraps every data key (`wrapped_encrypted`; the append-only rows sealed under
    them stay as they were written) and retires the current ones, so that what is written after
    a rotation is sealed under keys that no earlier keyring key ever wrapped."""

    context = models.CharField(max_length=100)
    algorithm = models.CharField(max_length=20)
    wrapped_encrypted = models.TextField()
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "数据密钥"
        verbose_name_plural = "数据密钥"
        constraints = [
            models.UniqueConstraint(
                fields=["context"],
                condition=models.Q(retired_at__isnull=True),
                name="ops_datakey_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"d{self.pk} {self.context}"
