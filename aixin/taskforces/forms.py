"""Forms of the task-force pages: input parsing only; the rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.lib.widgets import IsoDateInput
from aixin.taskforces.models import MemberRole
from aixin.taskforces.services import MemberData


class MemberForm(forms.Form):
    role = forms.ChoiceField(label=_("专班角色"), choices=MemberRole.choices)
    name = forms.CharField(label=_("姓名"), max_length=50)
    organisation = forms.CharField(label=_("工作单位"), max_length=100, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    username = forms.CharField(
        label=_("已有专班成员账号"),
        max_length=150,
        required=False,
        help_text=_("此人已在其他专班开通账号时填写，可用同一账号登录"),
    )

    def member_data(self) -> MemberData:
        d = self.cleaned_data
        return MemberData(
            role=d["role"],
            name=d["name"],
            organisation=d["organisation"],
            phone=d["phone"],
            username=d["username"],
        )


class PlanForm(forms.Form):
    goals = forms.CharField(
        label=_("帮扶目标与措施概要"), widget=forms.Textarea(attrs={"rows": 8}), max_length=5000
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ActionForm(forms.Form):
    title = forms.CharField(label=_("帮扶措施"), max_length=200)
    owner = forms.TypedChoiceField(label=_("负责人"), coerce=int)
    due_on = forms.DateField(label=_("完成期限"), widget=IsoDateInput())

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.TypedChoiceField)
        owner.choices = [(m.pk, f"{m.name}（{m.get_role_display()}）") for m in members]


class NoteForm(forms.Form):
    text = forms.CharField(label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class MissingFilterForm(forms.Form):
    region = forms.CharField(required=False)
