from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CloseAlertForm(forms.Form):
    """Resolve or dismiss an alert: what was done, or why nothing needs doing."""

    text = forms.CharField(
        label=_("处理说明"),
        max_length=300,
        error_messages={"required": _("请填写处理说明（如已电话核实、已结对、已上报）")},
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
