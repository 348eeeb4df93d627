"""The columns a department ledger may carry, with the header names departments actually use.

This table is the one contract between the file readers, the row parser, the push API (whose
JSON records use the column keys), the Excel template and the merge with its source priorities.
Framework-free.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


class Source:
    """The departments that send data (R-4.1, SPEC §4)."""

    CIVIL_AFFAIRS = "civil_affairs"
    EDUCATION = "education"
    PUBLIC_SECURITY = "public_security"
    HEALTH = "health"
    COURT = "court"
    PROCURATORATE = "procuratorate"


SOURCE_LABELS: dict[str, str] = {
    Source.CIVIL_AFFAIRS: "民政",
    Source.EDUCATION: "教育",
    Source.PUBLIC_SECURITY: "公安",
    Source.HEALTH: "卫生健康",
    Source.COURT: "法院",
    Source.PROCURATORATE: "检察院",
}


def import_reason(source: str) -> str:
    """Why a batch of `source` wrote what it wrote, as its history lines say: "民政数据导入"."""
    return f"{SOURCE_LABELS.get(source, source)}数据导入"


SOURCES: tuple[str, ...] = tuple(SOURCE_LABELS)


@dataclass(frozen=True)
class Column:
    key: str  # the field key, also the JSON key of the push API
    label: str  # the header written in the template
    kind: str  # text | id | date | sex | bool | list | choice | region_code | region_name | phone | int
    synonyms: tuple[str, ...] = ()
    # For bool/list/choice columns: accepted words → canonical value (template validation lists
    # use the first word of each value).
    values: dict[str, str] = field(default_factory=dict)
    required: bool = False
    help: str = ""
    max_length: int = 0  # text columns: the length of the field it is stored in (0: no limit)


YES_NO = {
    **{"是": "1", "否": "0", "有": "1", "无": "0", "√": "1", "×": "0", "✓": "1", "✔": "1", "✗": "0"},
    **{"Y": "1", "N": "0", "1": "1", "0": "0"},
}

# Words for categories, difficulties and risks in free-text lists (、，,;； separated).
CATEGORY_WORDS = {
    "农村留守儿童": "is_left_behind",
    "留守儿童": "is_left_behind",
    "留守": "is_left_behind",
    "散居孤儿": "is_scattered_orphan",
    "孤儿": "is_scattered_orphan",
    "事实无人抚养儿童": "is_de_facto_unsupported",
    "事实无人抚养": "is_de_facto_unsupported",
    "其他困境儿童": "is_other_difficulty",
    "困境儿童": "is_other_difficulty",
    "困境": "is_other_difficulty",
    "其他困境": "is_other_difficulty",
    "涉案未成年人": "is_justice_involved",
    "涉案": "is_justice_involved",
}
DIFFICULTY_WORDS = {
    "生活困难": "difficulty_life",
    "学习困难": "difficulty_study",
    "身体健康困难": "difficulty_physical",
    "身体困难": "difficulty_physical",
    "心理健康困难": "difficulty_mental",
    "心理困难": "difficulty_mental",
}
RISK_WORDS = {
    "心理行为问题突出": "risk_psych_behaviour",
    "心理行为问题": "risk_psych_behaviour",
    "侵害他人风险": "risk_harm_others",
    "侵害他人": "risk_harm_others",
    "受侵害风险": "risk_being_harmed",
    "受侵害": "risk_being_harmed",
}
REASON_WORDS = {
    "家庭贫困": "family_poverty",
    "贫困": "family_poverty",
    "自身残疾": "own_disability",
    "残疾": "own_disability",
    "监护缺失": "guardianship_failure",
}
# A parent's situation (父亲情况/母亲情况) → ParentConditionKind; "" means "at home, none".
PARENT_WORDS = {
    "外出务工": "working_away",
    "外出": "working_away",
    "务工": "working_away",
    "重残": "severe_disability",
    "重度残疾": "severe_disability",
    "重病": "serious_illness",
    "服刑在押": "imprisoned",
    "服刑": "imprisoned",
    "在押": "imprisoned",
    "强制隔离戒毒": "compulsory_rehab",
    "戒毒": "compulsory_rehab",
    "被执行其他限制人身自由的措施": "liberty_restricted",
    "限制人身自由": "liberty_restricted",
    "失联": "lost_contact",
    "被撤销监护资格": "guardianship_revoked",
    "撤销监护资格": "guardianship_revoked",
    "被遣送（驱逐）出境": "deported",
    "遣送出境": "deported",
    "驱逐出境": "deported",
    "死亡": "dead",
    "去世": "dead",
    "宣告失踪": "declared_missing",
    "在家": "",
    "返乡": "",
    "已返乡": "",
    "正常": "",
    "无": "",
}
SCHOOL_STAGE_WORDS = {
    "幼儿园": "preschool",
    "学前": "preschool",
    "未入园": "not_enrolled",
    "小学": "primary",
    "初中": "junior",
    "高中": "senior",
    "普通高中": "senior",
    "中职": "vocational",
    "职高": "vocational",
    "中专": "vocational",
    "辍学": "dropped_out",
    "失学辍学": "dropped_out",
    "不在学": "not_in_school",
    "未就学": "not_in_school",
}
HOUSEHOLD_WORDS = {
    "农业": "rural",
    "农业户口": "rural",
    "农村": "rural",
    "农村户口": "rural",
    "非农业": "urban",
    "非农业户口": "urban",
    "城镇": "urban",
    "城镇户口": "urban",
    "居民户口": "urban",
}
SEX_WORDS = {"男": "M", "女": "F", "1": "M", "2": "F"}
# 儿童状态: what a department says about the child's presence in the program.
STATUS_WORDS = {
    "在册": "",
    "正常": "",
    "迁出": "moved_away",
    "已迁出": "moved_away",
    "户籍迁出": "moved_away",
    "死亡": "dead",
    "已故": "dead",
    "父母返乡": "parents_returned",
    "不再符合条件": "not_eligible",
}

COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "text", ("儿童姓名", "学生姓名", "姓名"), required=True, max_length=50),
    Column(
        "id_number",
        "身份证号",
        "id",
        (
            *("身份证号码", "公民身份号码", "证件号码", "身份证件号码", "儿童身份证号", "身份证"),
            *("公民身份证号", "居民身份证号", "居民身份证号码"),
        ),
        required=True,
        help="18位居民身份证号，末位X可大写或小写；请将单元格设为文本，避免被科学计数法截断",
    ),
    Column("sex", "性别", "sex", (), SEX_WORDS, help="可不填；填写时须与身份证号一致"),
    Column(
        "birth_date", "出生日期", "date", ("出生年月日", "出生年月"), help="可不填；填写时须与身份证号一致"
    ),
    Column("ethnicity", "民族", "text", max_length=20),
    Column("household_type", "户籍类型", "choice", ("户口性质", "户籍性质", "户口类型"), HOUSEHOLD_WORDS),
    Column(
        "region_code",
        "村(社区)代码",
        "region_code",
        ("行政区划代码", "区划代码", "村代码", "村(社区)区划代码", "村居代码"),
        help="12位统计用区划代码；填写代码时可不填区县、乡镇、村名称",
    ),
    Column("district", "区县", "region_name", ("所属区县", "区(县)", "区县名称", "区/县")),
    Column(
        "town",
        "乡镇(街道)",
        "region_name",
        (
            *("所属镇街", "镇街", "乡镇", "街道", "所属乡镇", "乡镇街道", "所属乡镇(街道)", "镇(街道)"),
            # Left-behind children live where their household is registered: the ledgers say so.
            *("户籍所在乡镇(街道)", "户籍所在乡镇", "户籍所在镇街"),
        ),
    ),
    Column(
        "village",
        "村(社区)",
        "region_name",
        (
            *("所属村(社区)", "村居", "村社区", "村", "所属村", "村(居)委会", "社区", "村(居)"),
            *("户籍所在村(社区)", "户籍所在村"),
        ),
    ),
    Column("address", "详细地址", "text", ("现住址", "家庭住址", "住址", "现居住地址")),
    Column("school", "就读学校", "text", ("学校", "学校名称", "在读学校"), max_length=100),
    Column("grade", "年级", "text", ("就读年级", "年级班级"), max_length=20),
    Column(
        "school_stage", "就学情况", "choice", ("在学情况", "学段", "就学状态", "在校情况"), SCHOOL_STAGE_WORDS
    ),
    Column("full_time_student", "是否全日制在校", "bool", ("全日制在校", "是否在校"), YES_NO),
    # An education ledger's yes/no for dropping out: "是" is 就学情况 辍学 (read into school_stage).
    Column("is_dropped_out", "是否辍学", "bool", ("是否失学辍学", "辍学"), YES_NO),
    Column("guardian_name", "监护人姓名", "text", ("监护人", "实际监护人", "监护人姓名"), max_length=50),
    Column(
        "guardian_relation",
        "与儿童关系",
        "text",
        ("监护人关系", "与监护人关系", "监护关系", "关系", "亲属关系"),
        max_length=20,
    ),
    Column(
        "guardian_phone",
        "监护人电话",
        "phone",
        (
            *("联系电话", "监护人联系电话", "电话", "监护人手机", "监护人手机号", "监护人手机号码"),
            *("监护人联系方式", "联系方式", "手机号", "手机号码", "手机"),
        ),
    ),
    Column(
        "father_situation",
        "父亲情况",
        "list",
        ("父亲状况", "父亲务工情况", "父亲情形"),
        PARENT_WORDS,
        help="外出务工、重残、重病、服刑在押、强制隔离戒毒、失联、被撤销监护资格、遣送出境、死亡、宣告失踪，或“在家”",
    ),
    Column("mother_situation", "母亲情况", "list", ("母亲状况", "母亲务工情况", "母亲情形"), PARENT_WORDS),
    Column(
        "categories",
        "儿童类别",
        "list",
        ("儿童类型", "类别", "困境儿童类别", "关爱对象类别"),
        CATEGORY_WORDS,
        help="可填多项，用顿号分隔，如：散居孤儿、其他困境儿童",
    ),
    Column("is_left_behind", "是否农村留守儿童", "bool", ("是否留守儿童", "留守儿童", "是否留守"), YES_NO),
    Column("is_scattered_orphan", "是否散居孤儿", "bool", ("散居孤儿", "是否孤儿"), YES_NO),
    Column("is_de_facto_unsupported", "是否事实无人抚养儿童", "bool", ("事实无人抚养儿童",), YES_NO),
    Column("is_other_difficulty", "是否其他困境儿童", "bool", ("其他困境儿童", "是否困境儿童"), YES_NO),
    Column(
        "other_difficulty_reasons",
        "困境原因",
        "list",
        ("致困原因",),
        REASON_WORDS,
        help="家庭贫困、自身残疾、监护缺失",
    ),
    Column(
        "is_justice_involved", "是否涉案", "bool", ("涉案未成年人", "是否涉案未成年人", "涉法涉诉"), YES_NO
    ),
    Column(
        "difficulties",
        "困难类型",
        "list",
        ("特殊困难", "困难情况"),
        DIFFICULTY_WORDS,
        help="生活困难、学习困难、身体健康困难、心理健康困难",
    ),
    Column("difficulty_life", "是否生活困难", "bool", ("生活困难",), YES_NO),
    Column("difficulty_study", "是否学习困难", "bool", ("学习困难",), YES_NO),
    Column("difficulty_physical", "是否身体健康困难", "bool", ("身体健康困难", "身体困难"), YES_NO),
    Column("difficulty_mental", "是否心理健康困难", "bool", ("心理健康困难", "心理困难"), YES_NO),
    Column(
        "risks",
        "风险标记",
        "list",
        ("风险类型", "风险情况"),
        RISK_WORDS,
        help="心理行为问题突出、侵害他人风险、受侵害风险",
    ),
    Column("risk_psych_behaviour", "是否心理行为问题突出", "bool", ("心理行为问题突出",), YES_NO),
    Column("risk_harm_others", "是否有侵害他人风险", "bool", ("侵害他人风险",), YES_NO),
    Column("risk_being_harmed", "是否有受侵害风险", "bool", ("受侵害风险",), YES_NO),
    Column("child_status", "儿童状态", "choice", ("人员状态", "状态", "变动情况"), STATUS_WORDS),
    Column("notes", "备注", "text", ("说明",)),
)
COLUMNS_BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}


# Columns a ledger or a rejected-rows file has that carry nothing to import, by design.
NOT_DATA_HEADERS = frozenset({"序号", "编号", "行号", "工作表", "出错列", "原因"})


def shown_label(batch_kind: str, name: str) -> str:
    """A header or column name of a batch as pages and workbooks show it: push batches received
    before their header was stored in Chinese carry the field keys (id_number), shown as the
    template's labels (身份证号), so that a rejected-rows file can be uploaded again."""
    if batch_kind == "push" and name in COLUMNS_BY_KEY:
        return COLUMNS_BY_KEY[name].label
    return name


_SPACES = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "(", "】": ")", "［": "(", "］": ")"})


def header_key(text: object) -> str:
    """A header cell reduced for comparison: NFKC (full-width → half-width), no spaces, no
    trailing '*' or ':' marks, brackets unified, lower case."""
    s = unicodedata.normalize("NFKC", str(text or "")).translate(_BRACKETS)
    s = _SPACES.sub("", s).strip("*:：").lower()
    return s


def _synonym_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for col in COLUMNS:
        for name in (col.label, *col.synonyms):
            table.setdefault(header_key(name), col.key)
    return table


SYNONYMS: dict[str, str] = _synonym_table()


_REMARK = re.compile(r"\([^()]*\)$")
# Words around a column's name that do not change what it holds: 所在村(社区) is 所属村(社区),
# 儿童身份证号码 the 身份证号码, 乡镇(街道)名称 the 乡镇(街道).
_PREFIXES = (("所在", "所属"), ("儿童", ""), ("学生", ""))
_SUFFIXES = ("名称",)


def match_header(text: object) -> str | None:
    """The column key a header cell names, or None. A remark in brackets at the end (身份证号
    (18位), 性别(男/女), 出生日期(年月日)) and the words of _PREFIXES and _SUFFIXES are tried
    without when the whole text is no known name."""
    key = header_key(text)
    found = SYNONYMS.get(key)
    if found is not None or not key:
        return found
    bare = _REMARK.sub("", key) or key
    candidates = [bare]
    for prefix, instead in _PREFIXES:
        if bare.startswith(prefix):
            candidates.append(instead + bare[len(prefix) :])
    candidates += [c[: -len(suffix)] for c in list(candidates) for suffix in _SUFFIXES if c.endswith(suffix)]
    for candidate in candidates:
        found = SYNONYMS.get(candidate)
        if found is not None:
            return found
    return None
