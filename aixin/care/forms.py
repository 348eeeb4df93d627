from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.care.models import CareKind, CareRule, CareService
from aixin.lib.widgets import IsoDateInput


class CareRecordForm(forms.Form):
    """Parses the phone form; the rules of what is allowed live in care_record_create."""

    date = forms.DateField(label=_("关爱日期"), widget=IsoDateInput())
    kind = forms.ChoiceField(label=_("关爱方式"), choices=CareKind.choices, widget=forms.RadioSelect)
    rules = forms.MultipleChoiceField(label=_("完成的“6+1”内容"), widget=forms.CheckboxSelectMultiple)
    services = forms.MultipleChoiceField(
        label=_("服务内容"), choices=CareService.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    festival = forms.ChoiceField(label=_("节日"), required=False)
    notes = forms.CharField(
        label=_("情况记录（保密）"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("孩子近况、需要的帮助……")}),
    )
    photo = forms.FileField(
        label=_("照片（可选）"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png", "capture": "environment"}),
    )

    def __init__(self, *args: Any, rules: list[CareRule], festivals: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule_objects = rules
        cast(forms.ChoiceField, self.fields["rules"]).choices = [
            (r.code, r.short_name or r.name) for r in rules
        ]
        self.fields["rules"].error_messages["required"] = _("请至少勾选一项本次完成的“6+1”关爱内容")
        self.fields["kind"].error_messages["required"] = _("请选择关爱方式")
        self.fields["date"].error_messages["invalid"] = _("日期格式不正确，请按 年-月-日 填写")
        cast(forms.ChoiceField, self.fields["festival"]).choices = [
            ("", _("—— 不选 ——")),
            *[(f, f) for f in festivals],
        ]


class CommentForm(forms.Form):
    text = forms.CharField(
        label=_("点评"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RecordFilterForm(forms.Form):
    region = forms.CharField(label=_("区划代码"), required=False)
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=IsoDateInput())
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=IsoDateInput())
    volunteer = forms.CharField(label=_("爱心妈妈"), required=False, max_length=50)
    rule = forms.ChoiceField(label=_("6+1 条目"), required=False)

    def __init__(
        self, *args: Any, rules: list[CareRule], regions: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["rule"]).choices = [
            ("", _("全部")),
            *[(r.code, r.short_name or r.name) for r in rules],
        ]
        self.fields["region"] = forms.ChoiceField(
            label=_("区划"), required=False, choices=[("", _("全部")), *regions]
        )
