from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.lib.widgets import IsoDateInput
from aixin.pairing.models import ConsentMethod, ConsentScope

DECLINE_REASONS = (
    ("时间精力不足", _("时间精力不足")),
    ("距离太远", _("距离太远")),
    ("已结对人数较多", _("已结对人数较多")),
    ("其他原因", _("其他原因")),
)


class RespondForm(forms.Form):
    accept = forms.TypedChoiceField(choices=(("1", _("接受")), ("0", _("婉拒"))), coerce=lambda v: v == "1")
    reason = forms.CharField(label=_("婉拒原因"), max_length=300, required=False)
    reason_choice = forms.ChoiceField(choices=DECLINE_REASONS, required=False)

    def decline_reason(self) -> str:
        choice = self.cleaned_data.get("reason_choice") or ""
        text = (self.cleaned_data.get("reason") or "").strip()
        return "：".join(x for x in (choice, text) if x)


class ConsentForm(forms.Form):
    guardian = forms.TypedChoiceField(label=_("表示同意的监护人"), coerce=str, required=False)
    guardian_name = forms.CharField(
        label=_("其他监护人姓名（上面未列出时填写）"), max_length=50, required=False
    )
    relation = forms.CharField(label=_("与儿童关系"), max_length=20, required=False)
    method = forms.ChoiceField(label=_("同意方式"), choices=ConsentMethod.choices)
    consented_on = forms.DateField(label=_("同意日期"), widget=IsoDateInput())
    scope = forms.MultipleChoiceField(
        label=_("同意范围"),
        choices=ConsentScope.choices,
        initial=[ConsentScope.BASIC.value],
        widget=forms.CheckboxSelectMultiple,
        required=False,  # none ticked: 结对关爱 only
        help_text=_("“结对关爱”必选；照片、部门数据共享须监护人另行同意"),
    )
    evidence = forms.CharField(
        label=_("证明材料说明"), max_length=300, required=False, help_text=_("如：签字同意书已存村委会档案")
    )
    evidence_file = forms.FileField(
        label=_("附件（照片或扫描件，选填）"),
        required=False,
        help_text=_("JPG、PNG 或 PDF，不超过 5 MB"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"}
        ),
    )

    def __init__(self, *args: Any, guardians: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["guardian"]).choices = [("", _("—— 请选择 ——"))] + [
            (str(g.pk), f"{g.name}（{g.relation}）") for g in guardians
        ]


class EndForm(forms.Form):
    reason = forms.CharField(label=_("解除原因"), max_length=300)
    end_date = forms.DateField(label=_("解除日期"), required=False, widget=IsoDateInput())


class WithdrawConsentForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因"), max_length=300, help_text=_("撤回后结对立即解除，爱心妈妈不再能查看该儿童信息")
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("撤销原因"), max_length=300)


class ProposeForm(forms.Form):
    volunteer = forms.IntegerField(widget=forms.HiddenInput)
