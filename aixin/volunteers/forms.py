from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.lib.widgets import IsoDateInput
from aixin.regions.models import Region, RegionLevel
from aixin.regions.widgets import VillagePickerField
from aixin.volunteers.models import BackgroundCheck, SourceGroup, Specialty, VolunteerStatus
from aixin.volunteers.selectors import region_choices_for
from aixin.volunteers.services import MAX_CAPACITY, MIN_CAPACITY

if TYPE_CHECKING:
    RegionChoiceField = forms.ModelChoiceField[Region]
else:  # ModelChoiceField is not subscriptable at run time
    RegionChoiceField = forms.ModelChoiceField


class VillageChoiceField(VillagePickerField):
    """Her home village: a plain select for a district's staff, the town → village picker for
    the city administrator (aixin.regions.widgets)."""

    def label_from_instance(self, obj: Region) -> str:
        town = obj.town.name if obj.town_id and obj.town else ""
        return f"{town} {obj.name}".strip()


class VolunteerForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        required=True,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    id_number = forms.CharField(
        label=_("身份证号（选填）"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    source_group = forms.ChoiceField(label=_("来源群体"), choices=SourceGroup.choices)
    work_unit = forms.CharField(label=_("工作单位"), max_length=100, required=False)
    home_region = VillageChoiceField(label=_("居住村(社区)"), queryset=Region.objects.none())
    work_region = forms.ModelChoiceField(
        label=_("工作地（区县或乡镇）"), queryset=Region.objects.none(), required=False
    )
    specialties = forms.MultipleChoiceField(
        label=_("专长"), choices=Specialty.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    capacity = forms.IntegerField(
        label=_("可结对人数"), min_value=MIN_CAPACITY, max_value=MAX_CAPACITY, initial=1
    )
    trained = forms.BooleanField(label=_("已参加培训"), required=False)
    preferred_age_min = forms.IntegerField(
        label=_("意向儿童最小年龄（选填）"), min_value=0, max_value=17, required=False
    )
    preferred_age_max = forms.IntegerField(
        label=_("意向儿童最大年龄（选填）"), min_value=0, max_value=17, required=False
    )
    preferred_child_sex = forms.ChoiceField(
        label=_("意向儿童性别"), choices=[("", _("不限")), ("M", _("男")), ("F", _("女"))], required=False
    )
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(VillageChoiceField, self.fields["home_region"]).queryset = region_choices_for(
            user, levels=(RegionLevel.VILLAGE,)
        ).select_related("town")
        cast(RegionChoiceField, self.fields["work_region"]).queryset = (
            Region.objects.current()
            .filter(level__in=(RegionLevel.DISTRICT, RegionLevel.TOWN))
            .order_by("path")
        )
        if editing:
            self.fields["phone"].required = False
            self.fields["phone"].label = _("手机号（不修改请留空）")
            self.fields["id_number"].label = _("身份证号（不修改请留空）")


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=VolunteerStatus.choices)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)
    background_check = forms.ChoiceField(
        label=_("入职查询结果"), choices=BackgroundCheck.choices, required=False
    )
    checked_on = forms.DateField(label=_("入职查询日期"), required=False, widget=IsoDateInput())
