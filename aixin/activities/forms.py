"""Forms for recording group activities and their participants (R-8.1)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aixin.accounts.access import regions_visible_to
from aixin.activities.models import ActivityKind
from aixin.activities.selectors import PlaceGroup, place_for_user
from aixin.lib.widgets import IsoDateInput
from aixin.regions.models import RegionLevel
from aixin.regions.widgets import (
    OPTIONS_LOADED_EVENT,
    PICKER_THRESHOLD,
    VillagePickerField,
    VillagePickerWidget,
)

# Common venues of the program; free text is accepted too.
VENUE_SUGGESTIONS = ("渝好空间", "家长学校", "阳光驿站", "儿童之家", "妇女之家", "新时代文明实践站")


class ChildIdsField(forms.Field):
    """The ticked children: a list of ids (checked against the user's scope by the service)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return [int(v) for v in values]
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(_("参加儿童名单格式不正确，请刷新页面后重新勾选")) from exc


class ParticipantsForm(forms.Form):
    children = ChildIdsField(label=_("参加儿童"), required=False)
    participant_lines = forms.CharField(
        label=_("粘贴其他儿童（每行一个身份证号或姓名）"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "placeholder": _("张小明\n500101201501010011"),
                "autocomplete": "off",
            }
        ),
        help_text=_("姓名只在举办地内查找；举办地以外的儿童请填写身份证号。"),
    )


class ActivityForm(ParticipantsForm):
    name = forms.CharField(label=_("活动名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=[("", _("请选择")), *ActivityKind.choices])
    held_on = forms.DateField(label=_("活动日期"), widget=IsoDateInput())
    venue = forms.CharField(
        label=_("阵地"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "venue-options", "autocomplete": "off"}),
    )
    region = forms.ChoiceField(
        label=_("举办地（乡镇或村/社区）"),
        error_messages={
            "required": _("请选择举办地"),
            "invalid_choice": _("举办地须为你管辖范围内的乡镇或村(社区)，请从列表中选择"),
        },
    )

    field_order = ["name", "kind", "held_on", "venue", "region", "children", "participant_lines"]

    def __init__(self, *args: Any, user: Any, places: list[PlaceGroup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        today = timezone.localdate()
        self.fields["held_on"].widget.attrs["max"] = today.isoformat()
        choices: list[Any] = [("", _("请选择举办地"))]
        for group in places:
            options = [(str(group.town.pk), _("%(town)s（全镇）") % {"town": group.town.name})]
            options += [(str(v.pk), v.name) for v in group.villages]
            choices.append((group.label, options))
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ChoiceField)
        # Choosing the place reloads the list of its children (htmx; see _participants.html).
        reload_children = {
            "hx-get": reverse("activities:activity_create"),
            "hx-target": "#participants",
            "hx-swap": "outerHTML",
        }
        if not places or sum(len(group.villages) for group in places) > PICKER_THRESHOLD:
            # The city administrator: a town select, then the villages of that town, where
            # "（全镇）" (the town itself) stays the place when no village is chosen.
            picker = VillagePickerField(
                queryset=regions_visible_to(user)
                .current()
                .filter(level__in=(RegionLevel.TOWN, RegionLevel.VILLAGE)),
                whole_town=True,
                label=region_field.label,
                error_messages=region_field.error_messages,
            )
            assert isinstance(picker.widget, VillagePickerWidget)
            picker.widget.container_attrs = {
                **reload_children,
                "hx-trigger": f"change, {OPTIONS_LOADED_EVENT}",
                "hx-include": f"find [name='{self.add_prefix('region')}']",
            }
            self.fields["region"] = picker
        else:
            region_field.choices = choices
            region_field.widget.attrs.update({**reload_children, "hx-trigger": "change"})

    def clean_region(self) -> Any:
        value = self.cleaned_data.get("region")
        place = place_for_user(user=self.user, pk=getattr(value, "pk", value))
        if place is None:
            raise forms.ValidationError(_("举办地须为你管辖范围内的乡镇或村(社区)，请从列表中选择"))
        return place
