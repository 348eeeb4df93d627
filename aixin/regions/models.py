"""The administrative region tree (行政区划), with validity dates and successors (R-2)."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.IntegerChoices):
    CITY = 1, _("市")
    DISTRICT = 2, _("区县")
    TOWN = 3, _("乡镇/街道")
    VILLAGE = 4, _("村/社区")


class RegionQuerySet(models.QuerySet["Region"]):
    def valid_on(self, day: datetime.date) -> RegionQuerySet:
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )

    def current(self) -> RegionQuerySet:
        return self.filter(valid_to__isnull=True)

    def subtree(self, region: Region) -> RegionQuerySet:
        return self.filter(path__startswith=region.path)


class Region(models.Model):
    """One unit of the tree. `path` is the materialised path of codes ("/500000/500101/…/"),
    so a subtree is one indexed prefix query; `district` and `town` are denormalised ancestors
    so that scope filters on records are plain equality on an indexed column."""

    code = models.CharField(_("区划代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=RegionLevel.choices)
    kind = models.CharField(
        _("类型"), max_length=20, blank=True, help_text=_("区、县、自治县、功能区、街道、镇、乡…")
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True)
    district = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("区县")
    )
    town = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("乡镇/街道")
    )
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessors",
        verbose_name=_("继承单位"),
    )
    statutory = models.BooleanField(_("法定区划"), default=True, help_text=_("功能区没有 GB/T 2260 代码"))
    host = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hosted_zones",
        verbose_name=_("所在法定区县"),
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    sort_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["level", "sort_order", "code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        indexes = [models.Index(fields=["parent", "level"]), models.Index(fields=["level", "valid_to"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    def full_name(self) -> str:
        parts = []
        node: Region | None = self
        while node is not None and node.level > RegionLevel.CITY:
            parts.append(node.name)
            node = node.parent
        return "".join(reversed(parts))
