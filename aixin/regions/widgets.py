"""A two-step village picker (town, then village) for forms whose scope may hold thousands of
villages. Below `PICKER_THRESHOLD` villages it renders the plain single select as before."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django import forms
from django.forms.renderers import get_default_renderer
from django.http import Http404
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from aixin.accounts.access import regions_visible_to
from aixin.regions.models import Region, RegionLevel

if TYPE_CHECKING:
    from aixin.regions.models import RegionQuerySet

    _ModelChoiceField = forms.ModelChoiceField[Region]
else:  # ModelChoiceField is not subscriptable at run time
    _ModelChoiceField = forms.ModelChoiceField

# Up to this many villages in scope the plain select stays (≈ one district).
PICKER_THRESHOLD = 400
# The event the options endpoint fires on the town select once the villages are in place.
OPTIONS_LOADED_EVENT = "village-options-loaded"


@dataclass
class TownGroup:
    label: str
    towns: list[Region] = field(default_factory=list)


def town_suffix_name(name: str) -> str:
    """The name of the town select that goes with the village field `name`."""
    return f"{name}_town"


def villages_in_scope(user: Any) -> RegionQuerySet:
    """Current villages the user may choose (as a form's village select offers them)."""
    return regions_visible_to(user).current().filter(level=RegionLevel.VILLAGE)


def town_for_picker(user: Any, code: str) -> Region:
    """The current town `code` if the user may choose villages in it — the town is in their
    scope, or they sit below it (a village director) — else 404."""
    town = Region.objects.current().filter(code=code, level=RegionLevel.TOWN).first()
    if town is None:
        raise Http404("乡镇（街道）不存在或不在你的管辖范围内")
    if regions_visible_to(user).filter(pk=town.pk).exists():
        return town
    home = Region.objects.filter(pk=user.region_id).first() if user.region_id else None
    if home is None or not home.path.startswith(town.path):
        raise Http404("乡镇（街道）不存在或不在你的管辖范围内")
    return town


def village_options(
    villages: RegionQuerySet, town: Region | None, *, whole_town: bool
) -> list[tuple[str, str]]:
    """The options of the village select for `town`: a first option (blank, or the town itself
    meaning "whole town"), then the villages of `villages` in that town in tree order."""
    if town is None:
        return [("", _("请先选择乡镇（街道）"))]
    if whole_town:
        first = (str(town.pk), _("%(town)s（全镇）") % {"town": town.name})
    else:
        first = ("", _("请选择村（社区）"))
    rows = (
        villages.filter(level=RegionLevel.VILLAGE, town=town, valid_to__isnull=True)
        .order_by("path")
        .values_list("pk", "name")
    )
    return [first, *((str(pk), name) for pk, name in rows)]


class VillagePickerWidget(forms.Select):
    """A town select plus a village select holding only that town's villages; changing the
    town loads the villages from `regions:village_options` with htmx. `container_attrs` go on
    the element around both selects (e.g. an hx-get that listens to the village's change)."""

    picker_template_name = "regions/widgets/village_picker.html"

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        whole_town: bool = False,
        threshold: int = PICKER_THRESHOLD,
        container_attrs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(attrs)
        self.whole_town = whole_town
        self.threshold = threshold
        self.container_attrs = dict(container_attrs or {})
        self.posted_town_code = ""

    def __deepcopy__(self, memo: dict[int, Any]) -> VillagePickerWidget:
        obj: VillagePickerWidget = super().__deepcopy__(memo)
        obj.container_attrs = dict(self.container_attrs)
        return obj

    @property
    def queryset(self) -> RegionQuerySet:
        """The field's queryset (ModelChoiceField hands its ModelChoiceIterator to the widget
        as `choices`; iterating it would load every village, so only its queryset is used)."""
        queryset = getattr(self.choices, "queryset", None)
        return queryset if queryset is not None else Region.objects.none()

    def villages(self) -> RegionQuerySet:
        return self.queryset.filter(level=RegionLevel.VILLAGE)

    def uses_picker(self) -> bool:
        return self.villages().count() > self.threshold

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        # Remember the posted town: a form sent back with no village keeps the town chosen.
        self.posted_town_code = str(data.get(town_suffix_name(name)) or "")
        return super().value_from_datadict(data, files, name)

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> Any:
        if not self.uses_picker():
            return super().render(name, value, attrs, renderer)
        context = self.picker_context(name, value, attrs)
        renderer = renderer or get_default_renderer()
        return mark_safe(renderer.render(self.picker_template_name, context))  # noqa: S308

    def _selected(self, value: Any) -> tuple[Region | None, str]:
        """The town to show and the village select's value for the current `value` (a pk)."""
        if isinstance(value, list | tuple):
            value = value[0] if value else None
        if isinstance(value, Region):
            value = value.pk
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return None, ""
        region = self.queryset.filter(pk=pk).select_related("town").first()
        if region is None:
            return None, ""
        if region.level == RegionLevel.TOWN and self.whole_town:
            return region, str(region.pk)
        if region.level == RegionLevel.VILLAGE and region.town is not None:
            return region.town, str(region.pk)
        return None, ""

    def _town_in_scope(self, code: str) -> Region | None:
        """The town `code` if it holds a village of the queryset (or is in it, whole-town)."""
        towns = Region.objects.filter(code=code, level=RegionLevel.TOWN, valid_to__isnull=True)
        if self.whole_town:
            return towns.filter(pk__in=self.queryset.values("pk")).first()
        return towns.filter(pk__in=self.villages().values("town_id")).first()

    def town_groups(self) -> list[TownGroup]:
        """Towns in scope, grouped by district (one group without a label if only one)."""
        town_ids = self.villages().values("town_id")
        towns = Region.objects.filter(level=RegionLevel.TOWN, valid_to__isnull=True)
        if self.whole_town:
            towns = towns.filter(pk__in=self.queryset.filter(level=RegionLevel.TOWN).values("pk"))
        else:
            towns = towns.filter(pk__in=town_ids)
        groups: dict[int | None, TownGroup] = {}
        for town in towns.select_related("district").order_by("path"):
            label = town.district.name if town.district else ""
            groups.setdefault(town.district_id, TownGroup(label=label)).towns.append(town)
        if len(groups) == 1:
            only = next(iter(groups.values()))
            only.label = ""
        return list(groups.values())

    def picker_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        village_attrs = self.build_attrs(self.attrs, attrs)
        village_id = village_attrs.get("id") or f"id_{name}"
        village_attrs["id"] = village_id
        town, village_value = self._selected(value)
        if town is None and self.posted_town_code:
            town = self._town_in_scope(self.posted_town_code)
        town_attrs: dict[str, Any] = {
            "id": f"{village_id}_town",
            "name": town_suffix_name(name),
            "aria-label": _("乡镇（街道）"),
            "hx-get": reverse("regions:village_options"),
            "hx-target": f"#{village_id}",
            "hx-swap": "innerHTML",
            # `consume`: the town's change alone must not reach listeners around the picker;
            # they hear the options-loaded event once the village select is filled.
            "hx-trigger": "change consume" if self.container_attrs else "change",
            "hx-include": "this",
            "hx-vals": json.dumps({"name": name, "whole_town": "1" if self.whole_town else ""}),
        }
        if village_attrs.get("required"):
            town_attrs["required"] = True
        options = village_options(self.queryset, town, whole_town=self.whole_town)
        return {
            "widget": {
                "name": name,
                "town": {"attrs": town_attrs},
                "village": {"attrs": village_attrs},
                "container": {"attrs": {"class": "village-picker", **self.container_attrs}},
                "groups": self.town_groups(),
                "selected_town_pk": town.pk if town else None,
                "options": options,
                "value": village_value,
            }
        }


class VillagePickerField(_ModelChoiceField):
    """A ModelChoiceField over the given village queryset (the posted value is the village pk,
    validated against the queryset exactly as a plain select); rendered as a town + village
    picker when the queryset holds more than `threshold` villages. With `whole_town=True` the
    queryset may also hold towns and the village select offers "（全镇）" (the town itself)."""

    widget = VillagePickerWidget

    def __init__(
        self,
        *,
        queryset: Any,
        whole_town: bool = False,
        threshold: int = PICKER_THRESHOLD,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("widget", VillagePickerWidget(whole_town=whole_town, threshold=threshold))
        super().__init__(queryset=queryset, **kwargs)
