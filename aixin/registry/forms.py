"""Forms of the registry pages: they parse input; the services validate the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from aixin.accounts.access import regions_visible_to
from aixin.lib.widgets import IsoDateInput
from aixin.regions.models import Region, RegionLevel, RegionQuerySet
from aixin.regions.widgets import VillagePickerField
from aixin.registry.models import (
    CareTier,
    ChildStatus,
    ClosedAs,
    GuardianshipType,
    HouseholdType,
    Parent,
    ParentConditionKind,
    SchoolStage,
)
from aixin.registry.selectors import AGE_BANDS, CATEGORY_LABELS, ChildFilters
from aixin.registry.services import OTHER_DIFFICULTY_REASONS, ChildData, ConditionData, GuardianData


class VillageChoiceField(VillagePickerField):
    """The child's village: a plain select for a district's staff, the town → village picker
    for the city administrator (aixin.regions.widgets)."""

    def label_from_instance(self, obj: Region) -> str:
        town = obj.town.name if obj.town else ""
        district = obj.district.name if obj.district else ""
        return f"{district} {town} {obj.name}"


def villages_for(user: Any) -> RegionQuerySet:
    return (
        regions_visible_to(user)
        .filter(level=RegionLevel.VILLAGE, valid_to__isnull=True)
        .select_related("town", "district")
        .order_by("path")
    )


class ChildFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": _("姓名、拼音（如 zxm）或完整身份证号"), "type": "search"}
        ),
    )
    region = forms.ChoiceField(label=_("区域"), required=False)
    category = forms.ChoiceField(
        label=_("类别"), required=False, choices=[("", _("全部类别")), *CATEGORY_LABELS.items()]
    )
    tier = forms.ChoiceField(
        label=_("关爱类型"), required=False, choices=[("", _("全部")), *CareTier.choices]
    )
    paired = forms.ChoiceField(
        label=_("结对"), required=False, choices=[("", _("全部")), ("yes", _("已结对")), ("no", _("未结对"))]
    )
    age_band = forms.ChoiceField(
        label=_("年龄段"),
        required=False,
        choices=[("", _("全部年龄"))] + [(k, f"{k}岁") for k in AGE_BANDS],
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *ChildStatus.choices]
    )
    inactive_days = forms.ChoiceField(
        label=_("联系情况"),
        required=False,
        choices=[("", _("全部")), ("14", _("已结对且≥14天未联系")), ("30", _("已结对且≥30天未联系"))],
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = (
            regions_visible_to(user)
            .filter(level__in=[RegionLevel.DISTRICT, RegionLevel.TOWN], valid_to__isnull=True)
            .order_by("path")
            .values_list("code", "name", "level")
        )
        cast(forms.ChoiceField, self.fields["region"]).choices = [("", _("全部区域"))] + [
            (code, ("　" if level == RegionLevel.TOWN else "") + name) for code, name, level in regions
        ]

    def filters(self) -> ChildFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return ChildFilters.from_mapping({k: v for k, v in data.items() if v})


class ChildForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(label=_("身份证号"), max_length=30, required=True)
    village = VillageChoiceField(label=_("现居住村（社区）"), queryset=Region.objects.none())
    household_type = forms.ChoiceField(label=_("户籍类型"), choices=HouseholdType.choices)
    ethnicity = forms.CharField(label=_("民族"), max_length=20, required=False, initial="汉族")
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False)
    school = forms.CharField(label=_("就读学校"), max_length=100, required=False)
    grade = forms.CharField(label=_("年级"), max_length=20, required=False)
    school_stage = forms.ChoiceField(label=_("就学情况"), choices=SchoolStage.choices, required=False)
    full_time_student = forms.BooleanField(label=_("全日制在校"), required=False, initial=True)
    is_scattered_orphan = forms.BooleanField(label=_("散居孤儿"), required=False)
    is_other_difficulty = forms.BooleanField(label=_("其他困境儿童"), required=False)
    other_difficulty_reasons = forms.MultipleChoiceField(
        label=_("困境原因"),
        required=False,
        choices=list(OTHER_DIFFICULTY_REASONS.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    is_justice_involved = forms.BooleanField(label=_("涉案未成年人"), required=False)
    difficulty_life = forms.BooleanField(label=_("生活困难"), required=False)
    difficulty_study = forms.BooleanField(label=_("学习困难"), required=False)
    difficulty_physical = forms.BooleanField(label=_("身体健康困难"), required=False)
    difficulty_mental = forms.BooleanField(label=_("心理健康困难"), required=False)
    risk_psych_behaviour = forms.BooleanField(label=_("心理行为问题突出"), required=False)
    risk_harm_others = forms.BooleanField(label=_("侵害他人风险"), required=False)
    risk_being_harmed = forms.BooleanField(label=_("受侵害风险"), required=False)
    latitude = forms.FloatField(label=_("纬度"), required=False)
    longitude = forms.FloatField(label=_("经度"), required=False)
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    category_fields = ("is_scattered_orphan", "is_other_difficulty", "is_justice_involved")
    difficulty_fields = ("difficulty_life", "difficulty_study", "difficulty_physical", "difficulty_mental")
    risk_fields = ("risk_psych_behaviour", "risk_harm_others", "risk_being_harmed")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(VillageChoiceField, self.fields["village"]).queryset = villages_for(user)

    def child_data(self) -> ChildData:
        d = self.cleaned_data
        return ChildData(
            name=d["name"],
            id_number=d.get("id_number") or "",
            village=d["village"],
            ethnicity=d.get("ethnicity") or "",
            household_type=d["household_type"],
            address=d.get("address") or "",
            latitude=d.get("latitude"),
            longitude=d.get("longitude"),
            school=d.get("school") or "",
            grade=d.get("grade") or "",
            school_stage=d.get("school_stage") or "",
            full_time_student=d.get("full_time_student", False),
            is_scattered_orphan=d.get("is_scattered_orphan", False),
            is_other_difficulty=d.get("is_other_difficulty", False),
            other_difficulty_reasons=list(d.get("other_difficulty_reasons") or []),
            is_justice_involved=d.get("is_justice_involved", False),
            difficulty_life=d.get("difficulty_life", False),
            difficulty_study=d.get("difficulty_study", False),
            difficulty_physical=d.get("difficulty_physical", False),
            difficulty_mental=d.get("difficulty_mental", False),
            risk_psych_behaviour=d.get("risk_psych_behaviour", False),
            risk_harm_others=d.get("risk_harm_others", False),
            risk_being_harmed=d.get("risk_being_harmed", False),
            notes=d.get("notes") or "",
        )


class ParentConditionFields(forms.Form):
    """One optional condition per parent on the create form."""

    father_kind = forms.ChoiceField(
        label=_("父亲情形"), required=False, choices=[("", _("无/正常监护")), *ParentConditionKind.choices]
    )
    father_started_on = forms.DateField(label=_("起始日期"), required=False, widget=IsoDateInput())
    father_term_months = forms.IntegerField(label=_("期限(月)"), required=False, min_value=0)
    father_evidence = forms.CharField(label=_("证明材料"), required=False, max_length=200)
    mother_kind = forms.ChoiceField(
        label=_("母亲情形"), required=False, choices=[("", _("无/正常监护")), *ParentConditionKind.choices]
    )
    mother_started_on = forms.DateField(label=_("起始日期"), required=False, widget=IsoDateInput())
    mother_term_months = forms.IntegerField(label=_("期限(月)"), required=False, min_value=0)
    mother_evidence = forms.CharField(label=_("证明材料"), required=False, max_length=200)


class ChildCreateForm(ChildForm, ParentConditionFields):
    guardian_name = forms.CharField(label=_("监护人姓名"), max_length=50)
    guardian_relation = forms.CharField(label=_("与儿童关系"), max_length=20)
    guardian_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    guardianship_type = forms.ChoiceField(label=_("监护类型"), choices=GuardianshipType.choices)

    def guardians(self) -> list[GuardianData]:
        d = self.cleaned_data
        return [
            GuardianData(
                name=d["guardian_name"],
                relation=d["guardian_relation"],
                phone=d.get("guardian_phone") or "",
                guardianship_type=d["guardianship_type"],
                is_primary=True,
            )
        ]

    def conditions(self) -> list[ConditionData]:
        d = self.cleaned_data
        out = []
        for parent in ("father", "mother"):
            kind = d.get(f"{parent}_kind")
            if kind:
                out.append(
                    ConditionData(
                        parent=parent,
                        kind=kind,
                        started_on=d.get(f"{parent}_started_on"),
                        term_months=d.get(f"{parent}_term_months"),
                        evidence=d.get(f"{parent}_evidence") or "",
                    )
                )
        return out


class ChildEditForm(ChildForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].required = False
        self.fields["id_number"].label = _("更正身份证号")
        self.fields["id_number"].help_text = _("仅在需要更正时填写完整号码；留空则保持原号码不变")


class TierOverrideForm(forms.Form):
    tier = forms.ChoiceField(
        label=_("关爱类型"), required=False, choices=[("", _("按规则（取消人工调整）")), *CareTier.choices]
    )
    reason = forms.CharField(label=_("理由"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(forms.Form):
    closed_as = forms.ChoiceField(label=_("退出类型"), choices=[("", _("请选择")), *ClosedAs.choices])
    reason = forms.CharField(
        label=_("退出原因"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如：随父母迁往成都市、经村委会核实父母已返乡。选择“其他”时必填"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("closed_as") == ClosedAs.OTHER and not (data.get("reason") or "").strip():
            self.add_error("reason", _("退出类型为“其他”时，请写明退出原因"))
        return data


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("恢复原因"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如：儿童已回到本地、误操作退出"),
    )


class GuardianForm(forms.Form):
    name = forms.CharField(label=_("监护人姓名"), max_length=50)
    relation = forms.CharField(label=_("与儿童关系"), max_length=20)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    guardianship_type = forms.ChoiceField(label=_("监护类型"), choices=GuardianshipType.choices)
    is_primary = forms.BooleanField(label=_("主要监护人"), required=False)

    def guardian_data(self) -> GuardianData:
        d = self.cleaned_data
        return GuardianData(
            name=d["name"],
            relation=d["relation"],
            phone=d.get("phone") or "",
            guardianship_type=d["guardianship_type"],
            is_primary=d.get("is_primary", False),
        )


class ConditionForm(forms.Form):
    parent = forms.ChoiceField(label=_("父/母"), choices=Parent.choices)
    kind = forms.ChoiceField(label=_("情形"), choices=ParentConditionKind.choices)
    started_on = forms.DateField(label=_("起始日期"), required=False, widget=IsoDateInput())
    term_months = forms.IntegerField(
        label=_("期限(月)"), required=False, min_value=0, help_text=_("服刑、强制隔离戒毒等须满6个月")
    )
    disability_grade = forms.IntegerField(label=_("残疾等级(1-4)"), required=False, min_value=1, max_value=4)
    disability_category = forms.IntegerField(
        label=_("残疾类别(1-7)"),
        required=False,
        min_value=1,
        max_value=7,
        help_text=_("1视力 2听力 3言语 4肢体 5智力 6精神 7多重"),
    )
    evidence = forms.CharField(label=_("证明材料"), required=False, max_length=200)
    ended_on = forms.DateField(label=_("结束日期"), required=False, widget=IsoDateInput())

    def condition_data(self) -> ConditionData:
        d = self.cleaned_data
        return ConditionData(
            parent=d["parent"],
            kind=d["kind"],
            started_on=d.get("started_on"),
            term_months=d.get("term_months"),
            disability_grade=d.get("disability_grade"),
            disability_category=d.get("disability_category"),
            evidence=d.get("evidence") or "",
            ended_on=d.get("ended_on"),
        )
