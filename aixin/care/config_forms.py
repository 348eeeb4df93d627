"""Forms of the "6+1" settings page. They parse; the rules live in aixin.care.config_services.

Several forms share one page, so each gets its own `auto_id` (unique HTML ids) while the field
names stay plain.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.care.config_services import MAX_SORT_ORDER, RULE_TIERS
from aixin.care.models import Cadence
from aixin.lib.widgets import IsoDateInput
from aixin.registry.models import CareTier

DATE_WIDGET = IsoDateInput()


def _date_field(label: Any) -> forms.DateField:
    field = forms.DateField(label=label, widget=DATE_WIDGET)
    field.error_messages["invalid"] = _("日期格式不正确，请按 年-月-日 填写")
    return field


class _ConfigForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class RuleForm(_ConfigForm):
    name = forms.CharField(label=_("条目名称"), max_length=100)
    short_name = forms.CharField(label=_("简称"), max_length=20)
    cadence = forms.ChoiceField(label=_("频次"), choices=Cadence.choices)
    applies_to = forms.MultipleChoiceField(
        label=_("适用的关爱类型"),
        choices=[(t, CareTier(t).label) for t in RULE_TIERS],
        widget=forms.CheckboxSelectMultiple,
    )
    sort_order = forms.IntegerField(label=_("排序"), min_value=0, max_value=MAX_SORT_ORDER)
    active = forms.BooleanField(label=_("启用"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = _("请填写条目名称")
        self.fields["short_name"].error_messages["required"] = _("请填写简称")
        self.fields["cadence"].error_messages["required"] = _("请选择频次")
        self.fields["cadence"].error_messages["invalid_choice"] = _("频次无效，请从列表中选择")
        self.fields["applies_to"].error_messages["required"] = _("至少要适用于一种关爱类型")
        self.fields["sort_order"].error_messages["required"] = _("请填写排序（数字越小越靠前）")
        self.fields["sort_order"].error_messages["invalid"] = _("排序须为整数")


class TermForm(_ConfigForm):
    name = forms.CharField(
        label=_("学期名称"),
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("如：2027—2028学年第一学期")}),
    )
    start = _date_field(_("开始日期"))
    end = _date_field(_("结束日期"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = _("请填写学期名称")
        self.fields["start"].error_messages["required"] = _("请填写学期开始日期")
        self.fields["end"].error_messages["required"] = _("请填写学期结束日期")


class FestivalForm(_ConfigForm):
    name = forms.CharField(
        label=_("节日名称"), max_length=30, widget=forms.TextInput(attrs={"placeholder": _("如：中秋节")})
    )
    date = _date_field(_("日期"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = _("请填写节日名称")
        self.fields["date"].error_messages["required"] = _("请填写节日日期")
