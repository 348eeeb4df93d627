"""Forms of the case pages. They parse input only; every rule is checked by the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.accounts.models import Department
from aixin.cases.categories import Category, Severity
from aixin.cases.models import ReportEntryKind


class ReportForm(forms.Form):
    child = forms.IntegerField(widget=forms.HiddenInput)
    category = forms.ChoiceField(label=_("发现了什么"), choices=Category.choices, widget=forms.RadioSelect)
    severity = forms.ChoiceField(
        label=_("紧急程度"), choices=Severity.choices, initial=Severity.HIGH, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("看到或听到的情况"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("例如：孩子手臂有多处淤青，说是被打的")}),
    )
    observed_at = forms.DateTimeField(
        label=_("发现时间"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    place = forms.CharField(label=_("发现地点"), max_length=200, required=False)
    photo = forms.FileField(label=_("照片（可选）"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].error_messages["required"] = _("请选择风险类别")
        self.fields["description"].error_messages["required"] = _("请写下你看到或听到的情况")
        self.fields["observed_at"].error_messages.update(
            required=_("请填写发现的时间"), invalid=_("发现时间的格式不对，请重新选择")
        )


class CaseActionForm(forms.Form):
    action = forms.CharField(max_length=30)
    version = forms.IntegerField(required=False)
    note = forms.CharField(required=False, max_length=2000)
    departments = forms.MultipleChoiceField(choices=Department.choices, required=False)
    attachment = forms.FileField(required=False)


class ReferralActionForm(forms.Form):
    action = forms.CharField(max_length=30)
    version = forms.IntegerField(required=False)
    note = forms.CharField(required=False, max_length=2000)
    attachment = forms.FileField(required=False)


class ReportEntryForm(forms.Form):
    kind = forms.ChoiceField(choices=ReportEntryKind.choices)
    text = forms.CharField(required=False, max_length=2000)
    agency = forms.CharField(required=False, max_length=100)
    receipt_number = forms.CharField(required=False, max_length=64)
