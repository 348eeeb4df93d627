from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.matching.candidates import CLOSENESS_LABELS, REACHES
from aixin.matching.models import ExclusionReason

REACH_CHOICES = [(r, CLOSENESS_LABELS[r]) for r in REACHES]


class StartRunForm(forms.Form):
    """Start a matching run: the district (a city admin chooses; a district admin's is fixed)
    and how far a mother may live from the child."""

    district = forms.ChoiceField(label=_("区县"), choices=[])
    reach = forms.ChoiceField(
        label=_("匹配范围"),
        choices=REACH_CHOICES,
        initial="district",
        help_text=_("爱心妈妈与儿童须在同一村、同一镇或同一区县"),
        error_messages={
            "required": _("请选择匹配范围"),
            "invalid_choice": _("匹配范围“%(value)s”不在可选范围内（同村、同镇、同区县）"),
        },
    )

    def __init__(self, *args: Any, districts: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district = self.fields["district"]
        assert isinstance(district, forms.ChoiceField)
        if len(districts) == 1:
            district.choices = districts
            district.initial = districts[0][0]
            district.disabled = True  # a posted value is ignored: the initial one is used
            self.fixed_district = districts[0][0]
        else:
            district.choices = [("", _("—— 请选择 ——")), *districts]
            self.fixed_district = ""
        district.error_messages["required"] = _("请选择要匹配的区县")
        district.error_messages["invalid_choice"] = _("区县“%(value)s”不在你的管辖范围内")

    def clean_district(self) -> str:
        value: str = self.cleaned_data.get("district") or ""
        return self.fixed_district or value


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=[
            ("accept", _("采纳")),
            ("reject", _("否决")),
            ("swap", _("换人")),
            ("exclude", _("不宜结对")),
        ],
        error_messages={
            "required": _("请选择采纳、否决、换人或不宜结对"),
            "invalid_choice": _("审核结果只能是采纳、否决、换人或不宜结对"),
        },
    )
    volunteer = forms.IntegerField(
        label=_("换成的爱心妈妈"),
        required=False,
        error_messages={"invalid": _("请选择要换成的爱心妈妈")},
    )
    # With "exclude": why the proposed mother must not be paired with this child.
    reason = forms.ChoiceField(
        label=_("不宜结对原因"),
        choices=ExclusionReason.choices,
        required=False,
        error_messages={"invalid_choice": _("请选择不宜结对的原因")},
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "swap" and not data.get("volunteer"):
            self.add_error("volunteer", _("换人时请选择一位备选的爱心妈妈"))
        if data.get("decision") == "exclude" and not data.get("reason"):
            self.add_error("reason", _("请选择不宜结对的原因"))
        return data


class ExclusionForm(forms.Form):
    """Record that a mother must not be proposed for a child (relative, conflict of interest…)."""

    volunteer = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(
        label=_("不宜结对原因"),
        choices=ExclusionReason.choices,
        error_messages={"required": _("请选择不宜结对的原因"), "invalid_choice": _("请选择不宜结对的原因")},
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)
