from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.ingest import reading
from aixin.ingest.columns import SOURCE_LABELS
from aixin.ingest.models import SuspectStatus

ACCEPTED_FILES = ".xlsx,.xls,.csv"


class UploadForm(forms.Form):
    """The upload of a department ledger. What the file holds is checked by the service."""

    source = forms.ChoiceField(label=_("数据来源"), choices=[])
    file = forms.FileField(
        label=_("文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED_FILES}),
    )
    dry_run = forms.BooleanField(label=_("试导入（只检查，不写入）"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        source = self.fields["source"]
        assert isinstance(source, forms.ChoiceField)
        source.choices = [("", _("—— 请选择 ——")), *SOURCE_LABELS.items()]
        source.error_messages["required"] = _("请选择数据来源（哪个部门的台账）")
        source.error_messages["invalid_choice"] = _("数据来源“%(value)s”不在可选范围内")
        self.fields["file"].help_text = _(
            "Excel（.xlsx、.xls）或 CSV 文件，不超过 %(mb)d MB。表头上方的标题行、两行表头和合并单元格"
            "会自动识别，列名可用常见叫法（如“身份证号码”“公民身份号码”）；不确定时请用导入模板"
        ) % {"mb": reading.MAX_FILE_BYTES // (1024 * 1024)}
        self.fields["file"].error_messages["required"] = _("请选择要导入的文件")
        self.fields["file"].error_messages["empty"] = _("上传的文件是空的，请检查后重新选择")


class SuspectDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("核实结果"),
        choices=[(SuspectStatus.SAME.value, _("同一儿童")), (SuspectStatus.DIFFERENT.value, _("不同儿童"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择核实结果：同一儿童或不同儿童"),
            "invalid_choice": _("核实结果只能是“同一儿童”或“不同儿童”"),
        },
    )
    note = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"placeholder": _("如：经村委会核实为同一人，身份证号录错")}),
    )
