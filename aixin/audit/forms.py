from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.audit.models import AuditAction
from aixin.audit.object_types import object_type_choices
from aixin.lib.widgets import IsoDateInput


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("动作"), required=False, choices=[("", _("全部")), *AuditAction.choices]
    )
    actor = forms.CharField(label=_("操作人账号"), required=False, max_length=150)
    object_type = forms.ChoiceField(label=_("对象类型"), required=False)
    object_id = forms.CharField(label=_("对象编号"), required=False, max_length=64)
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=IsoDateInput())
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=IsoDateInput())

    def __init__(self, *args: Any, object_types: list[str], **kwargs: Any) -> None:
        """`object_types` are the stored codes; the options show their labels."""
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["object_type"]).choices = [
            ("", _("全部")),
            *object_type_choices(object_types),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean() returns cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期早于开始日期，请检查日期范围"))
        return data
