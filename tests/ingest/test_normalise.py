"""Hand-typed ledger cells become canonical child values, or a rejection that says what and where."""

from __future__ import annotations

import datetime
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aixin.ingest.columns import match_header
from aixin.ingest.normalise import (
    ChildRow,
    RegionError,
    RegionResolver,
    RowRejected,
    VillageRef,
    normalise_id,
    normalise_text,
    parse_date,
    parse_row,
)
from aixin.lib.idnumber import check_character
from aixin.regions.models import RegionLevel
from aixin.regions.tree import create_region

TODAY = datetime.date(2026, 3, 1)
FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


def make_id(birth: datetime.date, order: int = 123, region: str = "500101") -> str:
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + check_character(first17)


BOY = make_id(datetime.date(2015, 3, 4), 123)  # 17th digit 3: male
GIRL = make_id(datetime.date(2016, 7, 8), 124)  # 17th digit 4: female

# A resolver without the database: two districts, with names in their real, suffixed forms.
YOUYANG = ("500242", "酉阳土家族苗族自治县")
VILLAGES = [
    VillageRef(1, "500242100201", "红花村", "500242100", "龙潭镇", *YOUYANG),
    VillageRef(2, "500242100001", "新街社区居民委员会", "500242100", "龙潭镇", *YOUYANG),
    VillageRef(3, "500242001001", "桃花源社区", "500242001", "桃花源街道", *YOUYANG),
    VillageRef(4, "500101101201", "万州1镇1村", "500101101", "万州1镇", "500101", "万州区"),
]
RESOLVER = RegionResolver(VILLAGES)


def parse(resolver: RegionResolver = RESOLVER, row_number: int = 7, **cells_by_header: object) -> ChildRow:
    """parse_row for one row whose header is the given keyword names (as a department typed
    them). Name, ID number and village default to a valid child unless given (None = no column)."""
    cells_by_header = {"姓名": "张小明", "身份证号": BOY, "村(社区)代码": "500242100201", **cells_by_header}
    present = {h: v for h, v in cells_by_header.items() if v is not None}
    headers = list(present)
    keys = [match_header(h) for h in headers]
    assert None not in keys, keys
    return parse_row(row_number, list(present.values()), keys, headers, resolver, today=TODAY)


def rejected(**cells_by_header: object) -> RowRejected:
    with pytest.raises(RowRejected) as info:
        parse(**cells_by_header)
    return info.value


# ---------------------------------------------------------------------------------------------
# Text


def test_text_typed_with_full_width_characters_and_odd_spaces_reads_as_plain_text():
    assert normalise_text("　张\u00a0\u00a0小明\t ") == "张 小明"
    assert normalise_text("ＡＢＣ１２３（二组）") == "ABC123(二组)"
    assert normalise_text("李\u200b四") == "李四"
    assert normalise_text("a \n\n b") == "a b"


def test_numbers_and_dates_from_excel_read_as_people_typed_them():
    assert normalise_text(3.0) == "3"
    assert normalise_text(2015.03) == "2015.03"
    assert normalise_text(7) == "7"
    assert normalise_text(None) == ""
    assert normalise_text(datetime.datetime(2015, 3, 4)) == "2015-03-04"


@given(st.text())
def test_normalising_text_twice_changes_nothing(text):
    once = normalise_text(text)
    assert normalise_text(once) == once


@pytest.mark.parametrize("note", ["-已核实", "+1人", "@村委会"])
def test_a_cell_our_rejected_rows_file_wrote_with_an_apostrophe_is_stored_as_it_was(note):
    assert parse(备注="'" + note).values["notes"] == note


# ---------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    "cell",
    [
        "2015/3/4",
        "2015-03-04",
        "2015.3.4",
        "2015年3月4日",
        "2015 年 3 月 4 日",
        "20150304",
        "２０１５／３／４",
        "2015-03-04 00:00:00",
        42067,
        42067.0,
        42067.75,
        "42067",
        20150304,
        datetime.date(2015, 3, 4),
        datetime.datetime(2015, 3, 4, 8, 30),
    ],
)
def test_a_date_is_understood_in_every_format_departments_use(cell):
    assert parse_date(cell) == datetime.date(2015, 3, 4)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2015/2/30", "日期“2015/2/30”不存在"),
        ("2015年13月1日", "日期“2015年13月1日”不存在"),
        ("去年春天", "日期“去年春天”无法识别"),
        ("3/4/2015", "日期“3/4/2015”无法识别"),
        ("1850-01-01", "日期“1850-01-01”不合理"),
        (True, "无法识别"),
        ("", "日期为空"),
    ],
)
def test_a_date_that_cannot_be_read_is_refused_with_the_text_as_typed(cell, message):
    with pytest.raises(ValueError, match=message):
        parse_date(cell)


def _excel_serial(day: datetime.date) -> int:
    return (day - datetime.date(1899, 12, 30)).days


_DATE_WRITERS = [
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: d.isoformat(),
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d:%Y%m%d}",
    lambda d: _excel_serial(d),
    lambda d: float(_excel_serial(d)),
    lambda d: str(_excel_serial(d)),
    lambda d: d,
    lambda d: datetime.datetime(d.year, d.month, d.day, 12, 0),
    lambda d: d.isoformat().translate(FULL_WIDTH),
    lambda d: f"{d.year}年{d.month}月{d.day}日".translate(FULL_WIDTH),
]


@given(
    st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2030, 12, 31)),
    st.sampled_from(range(len(_DATE_WRITERS))),
)
def test_any_date_written_in_any_supported_format_reads_back_the_same(day, writer):
    assert parse_date(_DATE_WRITERS[writer](day)) == day


# ---------------------------------------------------------------------------------------------
# ID numbers


def test_an_id_number_typed_with_full_width_digits_spaces_and_lower_x_is_accepted():
    number = make_id(datetime.date(2012, 5, 6), 5)
    assert number.endswith("X")  # this order gives the check character X
    typed = " " + number[:6] + "\u3000" + number[6:14] + " " + number[14:].lower()
    assert normalise_id(typed.translate(FULL_WIDTH)) == number
    assert normalise_id(number.lower()) == number


def test_an_id_number_stored_as_a_whole_number_is_accepted():
    assert normalise_id(int(BOY)) == BOY


@pytest.mark.parametrize("cell", [float(BOY), "5.00101E+17", "5.00101e+17", BOY[:15] + "000.0"])
def test_an_id_number_that_excel_turned_into_a_float_is_refused_with_the_fix(cell):
    with pytest.raises(
        ValueError, match="身份证号被存成了数字，末几位已丢失（科学计数法），请将该列设为文本格式"
    ):
        normalise_id(cell)


def test_a_whole_number_id_whose_last_digits_were_rounded_to_zero_is_explained_as_stored_as_number():
    rounded = int(BOY[:15] + "000")
    assert make_id(datetime.date(2015, 3, 4), 0) != str(rounded)  # the checksum does not fit
    with pytest.raises(ValueError, match="身份证号被存成了数字"):
        normalise_id(rounded)


def test_a_first_generation_15_digit_id_is_refused_asking_for_the_18_digit_one():
    with pytest.raises(ValueError, match="15位旧身份证号，请填写18位身份证号"):
        normalise_id("500101150304123")


def test_an_id_number_of_a_child_born_tomorrow_is_refused_and_one_born_today_is_accepted():
    with pytest.raises(ValueError, match="晚于今天"):
        normalise_id(make_id(TODAY + datetime.timedelta(days=1)), TODAY)
    assert normalise_id(make_id(TODAY), TODAY) == make_id(TODAY)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (BOY[:17] + ("1" if BOY[17] != "1" else "2"), "校验位不正确"),
        (BOY[:10], "应为18位"),
        ("", "身份证号为空"),
    ],
)
def test_an_invalid_id_number_is_refused_with_what_is_wrong(cell, message):
    with pytest.raises(ValueError, match=message):
        normalise_id(cell)


@given(
    st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2025, 12, 31)),
    st.integers(min_value=0, max_value=999),
    st.booleans(),
    st.booleans(),
    st.lists(st.sampled_from([" ", "\u3000", "\u00a0"]), max_size=3),
)
def test_any_valid_id_number_is_accepted_however_it_was_typed(birth, order, full_width, lower, spaces):
    number = make_id(birth, order)
    typed = number.lower() if lower else number
    if full_width:
        typed = typed.translate(FULL_WIDTH)
    for i, space in enumerate(spaces):
        cut = 4 + 5 * i
        typed = typed[:cut] + space + typed[cut:]
    assert normalise_id(typed) == number


# ---------------------------------------------------------------------------------------------
# A whole row


def test_a_typical_ledger_row_becomes_canonical_values():
    row = parse(
        **{
            "儿童姓名": None,
            "姓名": " 张小明 ",
            "公民身份号码": BOY.lower(),
            "性别": "男",
            "出生日期": datetime.datetime(2015, 3, 4),
            "民族": "土家族",
            "户口性质": "农业户口",
            "现住址": "红花村３组",
            "学校": "龙潭镇中心小学",
            "年级": 4.0,
            "就学情况": "小学",
            "是否全日制在校": "是",
            "监护人姓名": "张大爷",
            "与儿童关系": "祖父",
            "联系电话": "138-0000-1234",
            "父亲情况": "外出务工",
            "母亲情况": "在家",
            "儿童类别": "农村留守儿童",
            "儿童状态": "在册",
            "备注": "+1 需回访",
        }
    )
    assert row.row_number == 7
    assert row.id_number == BOY
    assert row.values == {
        "name": "张小明",
        "ethnicity": "土家族",
        "household_type": "rural",
        "address": "红花村3组",
        "school": "龙潭镇中心小学",
        "grade": "4",
        "school_stage": "primary",
        "full_time_student": True,
        "guardian_name": "张大爷",
        "guardian_relation": "祖父",
        "guardian_phone": "13800001234",
        "father_situation": ["working_away"],
        "mother_situation": [],
        "is_left_behind": True,
        "is_scattered_orphan": False,
        "is_de_facto_unsupported": False,
        "is_other_difficulty": False,
        "is_justice_involved": False,
        "child_status": "",
        "notes": "+1 需回访",
        "village_id": 1,
    }


def test_blank_and_placeholder_cells_say_nothing_so_their_keys_are_absent():
    row = parse(
        **{"民族": "", "就读学校": "  ", "监护人电话": "/", "备注": None, "是否散居孤儿": "—", "年级": None}
    )
    assert set(row.values) == {"name", "village_id"}


def test_a_row_shorter_than_the_header_reads_the_missing_cells_as_blank():
    headers = ["姓名", "身份证号", "村(社区)代码", "就读学校", "备注"]
    keys = [match_header(h) for h in headers]
    row = parse_row(3, ["张小明", BOY, "500242100201"], keys, headers, RESOLVER, today=TODAY)
    assert set(row.values) == {"name", "village_id"}


def test_columns_the_parser_does_not_know_are_ignored():
    headers = ["序号", "姓名", "身份证号", "村(社区)代码", "家长签字"]
    keys = [match_header(h) for h in headers]
    assert keys[0] is None and keys[-1] is None
    row = parse_row(3, [1, "张小明", BOY, "500242100201", "张三"], keys, headers, RESOLVER, today=TODAY)
    assert row.values == {"name": "张小明", "village_id": 1}


def test_a_row_without_a_name_is_refused_at_the_name_column():
    exc = rejected(**{"学生姓名": "  ", "姓名": None})
    assert (exc.row_number, exc.column, exc.reason, exc.key) == (7, "学生姓名", "姓名为空", "name")
    assert "第7行" in str(exc)


def test_a_name_that_looks_like_a_formula_is_refused_but_other_text_keeps_its_formula_text():
    exc = rejected(姓名='=HYPERLINK("http://x","张三")')
    assert (exc.column, exc.reason) == ("姓名", "姓名不能以“=”开头")
    row = parse(**{"详细地址": "+86号", "备注": "@所有人 -注意"})
    assert row.values["address"] == "+86号"
    assert row.values["notes"] == "@所有人 -注意"


def test_a_row_without_an_id_number_is_refused_at_the_id_column():
    exc = rejected(**{"身份证号": None, "证件号码": ""})
    assert (exc.column, exc.reason) == ("证件号码", "身份证号为空")


def test_an_id_number_stored_as_a_float_is_refused_at_its_column_with_the_fix():
    exc = rejected(**{"身份证号": None, "公民身份号码": float(BOY)})
    assert exc.column == "公民身份号码"
    assert "请将该列设为文本格式后重新填写" in exc.reason


def test_a_sex_that_agrees_with_the_id_number_is_checked_but_not_kept():
    assert "sex" not in parse(性别="男").values
    assert "sex" not in parse(性别=1).values
    assert "sex" not in parse(身份证号=GIRL, 性别="女性").values


def test_a_sex_that_contradicts_the_id_number_is_refused():
    exc = rejected(性别="女")
    assert (exc.column, exc.reason) == ("性别", "性别“女”与身份证号（男）不一致")
    assert "应填“男”或“女”" in rejected(性别="未知").reason


@pytest.mark.parametrize(
    "cell",
    ["2015-03-04", "2015年3月4日", 42067, datetime.date(2015, 3, 4), "2015.03", "2015年3月", 201503, 2015.03],
)
def test_a_birth_date_or_month_that_agrees_with_the_id_number_is_checked_but_not_kept(cell):
    assert "birth_date" not in parse(出生年月=cell).values


@pytest.mark.parametrize("cell", ["2015-03-05", "2015.04", 2015.04, 42068])
def test_a_birth_date_that_contradicts_the_id_number_is_refused(cell):
    exc = rejected(出生日期=cell)
    assert exc.column == "出生日期"
    assert exc.reason.startswith("出生日期与身份证号不一致")
    assert "2015-03-04" in exc.reason


def test_a_birth_date_that_does_not_exist_is_refused_as_such():
    exc = rejected(出生日期="2015/2/30")
    assert exc.reason == "日期“2015/2/30”不存在"


@pytest.mark.parametrize(
    ("cell", "digits"),
    [
        ("138-0000-1234", "13800001234"),
        ("+86 138 0000 1234", "13800001234"),
        ("8613800001234", "13800001234"),
        (13800001234.0, "13800001234"),
        (13800001234, "13800001234"),
        ("(023)6888-1234", "02368881234"),
        ("６８８８１２３", "6888123"),
    ],
)
def test_a_guardian_phone_keeps_only_its_digits(cell, digits):
    assert parse(监护人电话=cell).values["guardian_phone"] == digits


@pytest.mark.parametrize("cell", ["12345", "1380000123456789", "138 0000 1234 转 8", "无电话"])
def test_a_guardian_phone_that_is_not_a_phone_number_is_refused(cell):
    exc = rejected(联系电话=cell)
    assert exc.column == "联系电话"
    assert exc.reason == f"监护人电话“{normalise_text(cell)}”格式不正确"


@pytest.mark.parametrize(
    ("header", "cell", "key", "value"),
    [
        ("户籍类型", "农业户口", "household_type", "rural"),
        ("户籍类型", "非农业户籍", "household_type", "urban"),
        ("户籍类型", "城镇", "household_type", "urban"),
        ("就学情况", "初中", "school_stage", "junior"),
        ("就学情况", "初中在读", "school_stage", "junior"),
        ("就学情况", "普通高中", "school_stage", "senior"),
        ("儿童状态", "正常", "child_status", ""),
        ("儿童状态", "已迁出", "child_status", "moved_away"),
        ("儿童状态", "父母返乡", "child_status", "parents_returned"),
    ],
)
def test_a_choice_word_becomes_its_code(header, cell, key, value):
    assert parse(**{header: cell}).values[key] == value


def test_an_unknown_choice_word_is_refused_listing_the_words_accepted():
    exc = rejected(户籍类型="外籍")
    assert exc.column == "户籍类型"
    assert "“外籍”无法识别" in exc.reason
    assert "农业" in exc.reason and "非农业" in exc.reason


@pytest.mark.parametrize(
    ("cell", "flag"),
    [
        *[("是", True), ("否", False), ("√", True), ("有", True), ("无", False), ("y", True), ("N", False)],
        *[(True, True), (False, False), (1, True), (0, False), (1.0, True), (0.0, False), ("１", True)],
    ],
)
def test_a_yes_no_column_reads_words_ticks_and_excel_booleans(cell, flag):
    assert parse(是否全日制在校=cell).values["full_time_student"] is flag


@pytest.mark.parametrize("cell", ["是的", "不是", "2", "X"])
def test_a_yes_no_column_refuses_anything_else(cell):
    exc = rejected(是否散居孤儿=cell)
    assert exc.column == "是否散居孤儿"
    assert "应填“是”或“否”" in exc.reason


def test_a_category_list_sets_its_whole_group_of_flags():
    values = parse(儿童类别="散居孤儿、其他困境儿童").values
    assert {k: values[k] for k in values if k.startswith("is_")} == {
        "is_left_behind": False,
        "is_scattered_orphan": True,
        "is_de_facto_unsupported": False,
        "is_other_difficulty": True,
        "is_justice_involved": False,
    }


@pytest.mark.parametrize("cell", ["留守儿童，涉案", "留守；涉案未成年人", "农村留守儿童 / 涉案", "留守,涉案"])
def test_a_list_is_split_on_any_separator_departments_use(cell):
    values = parse(类别=cell).values
    assert values["is_left_behind"] is True and values["is_justice_involved"] is True
    assert values["is_scattered_orphan"] is False


def test_difficulties_and_risks_set_their_own_groups():
    values = parse(困难类型="学习困难、心理健康困难", 风险标记="受侵害风险").values
    assert [values[f"difficulty_{k}"] for k in ("life", "study", "physical", "mental")] == [
        False,
        True,
        False,
        True,
    ]
    assert [values[k] for k in ("risk_psych_behaviour", "risk_harm_others", "risk_being_harmed")] == [
        False,
        False,
        True,
    ]


def test_an_unknown_list_item_is_refused_naming_the_item_and_the_words_accepted():
    exc = rejected(儿童类别="散居孤儿、外星儿童")
    assert exc.column == "儿童类别"
    assert "“外星儿童”无法识别" in exc.reason
    assert "散居孤儿" in exc.reason.split("可填：")[1]


def test_a_yes_in_a_yes_no_column_adds_to_the_list_beside_it():
    values = parse(儿童类别="农村留守儿童", 是否散居孤儿="是").values
    assert (values["is_left_behind"], values["is_scattered_orphan"]) == (True, True)
    values = parse(困难类型="学习困难", 是否生活困难="是").values
    assert (values["difficulty_study"], values["difficulty_life"], values["difficulty_mental"]) == (
        True,
        True,
        False,
    )
    values = parse(儿童类别="散居孤儿", 是否散居孤儿="是").values
    assert values["is_scattered_orphan"] is True


def test_a_list_naming_what_its_yes_no_column_denies_is_refused_saying_which():
    exc = rejected(困难类型="学习困难、生活困难", 是否生活困难="否")
    assert exc.column == "困难类型"
    assert exc.reason == "“困难类型”填写了生活困难，但“是否生活困难”填写为“否”，请核对后改为一致"


def test_other_difficulty_reasons_are_codes_and_make_the_child_an_other_difficulty_child():
    values = parse(困境原因="残疾/家庭贫困、贫困").values
    assert values["other_difficulty_reasons"] == ["family_poverty", "own_disability"]
    assert values["is_other_difficulty"] is True


def test_other_difficulty_reasons_for_a_child_marked_not_in_difficulty_are_refused():
    exc = rejected(是否其他困境儿童="否", 困境原因="残疾")
    assert exc.column == "困境原因"
    assert "“困境原因”与“是否其他困境儿童”不一致" in exc.reason
    # A category list that does not name 其他困境儿童 does not deny it: the reasons add it.
    values = parse(儿童类别="散居孤儿", 困境原因="家庭贫困").values
    assert (values["is_scattered_orphan"], values["is_other_difficulty"]) == (True, True)


@pytest.mark.parametrize(
    ("cell", "codes"),
    [
        ("外出务工", ["working_away"]),
        ("父亲外出务工", ["working_away"]),
        ("外出务工(广东,深圳)", ["working_away"]),
        ("服刑在押、重病", ["imprisoned", "serious_illness"]),
        ("被遣送（驱逐）出境", ["deported"]),
        ("已去世", ["dead"]),
        ("在家", []),
        ("正常、外出", ["working_away"]),
    ],
)
def test_a_parent_situation_becomes_condition_codes(cell, codes):
    assert parse(父亲情况=cell).values["father_situation"] == codes


def test_a_negated_parent_situation_is_not_read_as_the_situation():
    exc = rejected(母亲情况="未外出")
    assert exc.column == "母亲情况"
    assert "“未外出”无法识别" in exc.reason


# ---------------------------------------------------------------------------------------------
# Residence in a row


def test_the_village_code_may_be_typed_as_a_number():
    assert parse(**{"村(社区)代码": 500242100201.0}).values["village_id"] == 1
    assert parse(**{"村(社区)代码": 500242100201}).values["village_id"] == 1
    assert parse(**{"村(社区)代码": "５００２４２１００２０１"}).values["village_id"] == 1


def test_a_village_is_found_by_its_names_when_no_code_is_given():
    row = parse(**{"村(社区)代码": None, "区县": "酉阳", "乡镇": "龙潭", "村": "红花村委会"})
    assert row.values["village_id"] == 1


def test_a_code_that_is_not_a_village_is_refused_at_the_code_column():
    exc = rejected(**{"行政区划代码": "500242100", "村(社区)代码": None})
    assert exc.column == "行政区划代码"
    assert "是乡镇（街道）“龙潭镇”的代码，不是村(社区)代码" in exc.reason


def test_an_unknown_village_is_refused_at_the_village_column_naming_where_it_was_looked_for():
    exc = rejected(**{"村(社区)代码": None, "区县": "酉阳县", "乡镇(街道)": "龙潭镇", "村(社区)": "白云村"})
    assert exc.column == "村(社区)"
    assert exc.reason == "未找到村（社区）“白云村”（乡镇“龙潭镇”，区县“酉阳县”）"


def test_an_unknown_town_is_refused_at_the_town_column():
    exc = rejected(**{"村(社区)代码": None, "区县": "酉阳县", "乡镇(街道)": "白云镇", "村(社区)": "红花村"})
    assert (exc.column, exc.reason) == ("乡镇(街道)", "未找到乡镇（街道）“白云镇”（区县“酉阳县”）")


def test_a_row_without_any_residence_leaves_the_village_to_the_import_engine():
    # The engine refuses a NEW child without a residence, but an update (e.g. the education
    # bureau's school columns for a child already in the register) needs none.
    row = parse(**{"村(社区)代码": None, "就读学校": "龙潭小学"})
    assert "village_id" not in row.values
    row = parse(**{"村(社区)代码": "", "区县": "酉阳县", "乡镇": "", "村(社区)": "  "})
    assert "village_id" not in row.values


def test_region_names_are_resolved_again_from_memory_with_the_same_answer():
    cells = {"村(社区)代码": None, "区县": "酉阳", "乡镇": "桃花源街道办事处", "村(社区)": "桃花源社区居委会"}
    assert parse(**cells).values["village_id"] == 3
    assert parse(**cells).values["village_id"] == 3
    bad = {**cells, "村(社区)": "不存在社区"}
    assert rejected(**bad).reason == rejected(**bad).reason


# ---------------------------------------------------------------------------------------------
# Region resolution against the database


def _extra_regions(tree):
    """酉阳 with suffixed real-world names next to the factory tree."""
    youyang = create_region(
        code="500242", name="酉阳土家族苗族自治县", level=RegionLevel.DISTRICT, parent=tree.city
    )
    longtan = create_region(code="500242100", name="龙潭镇", level=RegionLevel.TOWN, parent=youyang)
    taohuayuan = create_region(code="500242001", name="桃花源街道", level=RegionLevel.TOWN, parent=youyang)
    made = {
        "红花村": create_region(
            code="500242100201", name="红花村", level=RegionLevel.VILLAGE, parent=longtan
        ),
        "新街社区": create_region(
            code="500242100001", name="新街社区居民委员会", level=RegionLevel.VILLAGE, parent=longtan
        ),
        "桃花源社区": create_region(
            code="500242001001", name="桃花源社区", level=RegionLevel.VILLAGE, parent=taohuayuan
        ),
        "兴隆村": create_region(
            code="500242001201", name="兴隆村民委员会", level=RegionLevel.VILLAGE, parent=taohuayuan
        ),
    }
    return youyang, longtan, made


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("district", "town", "village", "expected"),
    [
        ("酉阳", "龙潭", "红花村", "红花村"),
        ("酉阳县", "龙潭镇", "红花村委会", "红花村"),
        ("酉阳土家族苗族自治县", "龙潭镇", "红花村民委员会", "红花村"),
        ("酉阳", "龙潭镇", "红花", "红花村"),
        ("酉阳县", "龙潭镇人民政府", "红花村村委会", "红花村"),
        ("酉阳", "龙潭镇", "新街社区", "新街社区"),
        ("酉阳", "龙潭镇", "新街居委会", "新街社区"),
        ("酉阳县", "龙潭", "新街社区居民委员会", "新街社区"),
        ("酉阳县", "桃花源街道办事处", "桃花源社区居民委员会", "桃花源社区"),
        ("酉阳县", "桃花源", "桃花源社区", "桃花源社区"),
        ("酉阳县", "桃花源街道", "兴隆村", "兴隆村"),
        ("", "桃花源街道", "兴隆村委会", "兴隆村"),
        ("", "", "新街社区", "新街社区"),
        ("酉 阳 县", "龍潭鎮", "红花村", None),  # traditional characters are not matched
    ],
)
def test_region_names_match_with_or_without_their_suffixes(tree, district, town, village, expected):
    _youyang, _longtan, made = _extra_regions(tree)
    resolver = RegionResolver.from_db()
    if expected is None:
        with pytest.raises(ValueError, match="未找到"):
            resolver.resolve(district=district, town=town, village=village)
    else:
        assert resolver.resolve(district=district, town=town, village=village) == made[expected].pk


@pytest.mark.django_db
def test_the_factory_tree_resolves_by_code_and_by_names(tree):
    resolver = RegionResolver.from_db()
    assert resolver.resolve(code=tree.village_a1.code) == tree.village_a1.pk
    assert resolver.resolve(code=float(tree.village_b1.code)) == tree.village_b1.pk
    assert resolver.resolve(district="万州区", town="万州1镇", village="万州1镇2村") == tree.village_a1b.pk
    assert resolver.resolve(district="万州", town="万州1", village="万州1镇2村委会") == tree.village_a1b.pk
    assert resolver.resolve(town="涪陵1镇", village="涪陵1镇1村") == tree.village_b1.pk


@pytest.mark.django_db
def test_two_villages_with_the_same_stem_in_one_town_are_refused_listing_both(tree):
    _youyang, longtan, made = _extra_regions(tree)
    other = create_region(code="500242100002", name="红花社区", level=RegionLevel.VILLAGE, parent=longtan)
    resolver = RegionResolver.from_db()
    # The exact name still decides ...
    assert resolver.resolve(district="酉阳", town="龙潭", village="红花村") == made["红花村"].pk
    assert resolver.resolve(district="酉阳", town="龙潭", village="红花社区居委会") == other.pk
    # ... but the bare stem names two villages.
    with pytest.raises(ValueError) as info:
        resolver.resolve(district="酉阳", town="龙潭", village="红花")
    message = str(info.value)
    assert "不唯一" in message
    assert "红花村（500242100201）" in message and "红花社区（500242100002）" in message


@pytest.mark.django_db
def test_a_village_name_found_in_two_districts_needs_the_district(tree):
    a = create_region(code="500101101203", name="新华村", level=RegionLevel.VILLAGE, parent=tree.town_a1)
    b = create_region(code="500102101203", name="新华村", level=RegionLevel.VILLAGE, parent=tree.town_b1)
    resolver = RegionResolver.from_db()
    with pytest.raises(ValueError, match="不唯一"):
        resolver.resolve(village="新华村")
    assert resolver.resolve(district="万州", village="新华村") == a.pk
    assert resolver.resolve(district="涪陵区", village="新华村") == b.pk
    assert resolver.resolve(town="涪陵1镇", village="新华村委会") == b.pk


@pytest.mark.django_db
def test_codes_that_are_not_current_villages_are_refused_with_the_reason(tree):
    old = create_region(
        code="500101101299",
        name="已撤并村",
        level=RegionLevel.VILLAGE,
        parent=tree.town_a1,
        valid_to=datetime.date(2020, 1, 1),
    )
    resolver = RegionResolver.from_db()
    with pytest.raises(ValueError, match="未找到村\\(社区\\)代码“500101101299”"):
        resolver.resolve(code=old.code)
    with pytest.raises(ValueError, match="是乡镇（街道）“万州1镇”的代码，不是村\\(社区\\)代码"):
        resolver.resolve(code=tree.town_a1.code)
    with pytest.raises(ValueError, match="是区县“万州区”的代码"):
        resolver.resolve(code="500101000000")
    with pytest.raises(ValueError, match="应为12位数字"):
        resolver.resolve(code="50010110120A")
    with pytest.raises(ValueError, match="科学计数法"):
        resolver.resolve(code="5.00101E+11")
    assert RegionResolver.from_db(day=datetime.date(2019, 6, 1)).resolve(code=old.code) == old.pk


@pytest.mark.django_db
def test_an_unknown_district_is_refused_at_the_district(tree):
    with pytest.raises(ValueError, match="未找到区县“黔江区”") as info:
        RegionResolver.from_db().resolve(district="黔江区", town="万州1镇", village="万州1镇1村")
    assert info.value.field == "district"  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_the_resolver_survives_pickling_for_a_worker_process(tree):
    resolver = RegionResolver.from_db()
    resolver.resolve(code=tree.village_a1.code)
    copy = pickle.loads(pickle.dumps(resolver))  # noqa: S301 - our own object
    assert copy.resolve(district="万州", town="万州2镇", village="万州2镇1村") == tree.village_a2.pk
    with pytest.raises(ValueError, match="不是村"):
        copy.resolve(code=tree.town_a1.code)


@pytest.mark.django_db
def test_a_row_resolves_its_village_against_the_database(tree):
    resolver = RegionResolver.from_db()
    row = parse(
        resolver,
        **{"村(社区)代码": None, "所属区县": "万州", "镇街": "万州2镇", "所属村(社区)": "万州2镇1村"},
    )
    assert row.values["village_id"] == tree.village_a2.pk


@pytest.mark.parametrize(
    ("serial", "day"),
    [(1, datetime.date(1900, 1, 1)), (59, datetime.date(1900, 2, 28)), (61, datetime.date(1900, 3, 1))],
)
def test_excel_serial_numbers_follow_excels_1900_calendar(serial, day):
    assert parse_date(serial) == day


def test_excels_phantom_29_february_1900_is_refused():
    with pytest.raises(ValueError, match="日期“60”不存在"):
        parse_date(60)


# ---------------------------------------------------------------------------------------------
# What a tester's ledgers brought up


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("儿童身份证号码", "id_number"),
        ("身份证号（18位）", "id_number"),
        ("出生日期（年月日）", "birth_date"),
        ("性别（男/女）", "sex"),
        ("所在村（社区）", "village"),
        ("村（社区）名称", "village"),
        ("乡镇（街道）名称", "town"),
        ("户籍所在乡镇（街道）", "town"),
        ("监护人手机号", "guardian_phone"),
        ("监护人联系方式", "guardian_phone"),
        ("是否留守", "is_left_behind"),
        ("是否孤儿", "is_scattered_orphan"),
    ],
)
def test_headers_with_a_remark_or_an_extra_word_are_recognised(header, key):
    assert match_header(header) == key


def test_a_header_that_is_no_column_is_still_not_recognised():
    assert match_header("所在学校班主任") is None
    assert match_header("（备注说明）") is None


@pytest.mark.parametrize(
    ("header", "limit"), [("年级", 20), ("民族", 20), ("就读学校", 100), ("监护人姓名", 50)]
)
def test_a_cell_longer_than_its_field_is_refused_with_the_limit(header, limit):
    exc = rejected(**{header: "很" * (limit + 1)})
    assert exc.column == header
    assert exc.reason.startswith(f"内容过长（{limit + 1}字），最多{limit}字")
    assert parse(**{header: "很" * limit}).values


def test_a_name_longer_than_its_field_is_refused():
    assert rejected(姓名="张" * 51).reason == "姓名过长（51字），最多50字"


def test_a_name_of_exactly_fifty_characters_is_accepted():
    assert parse(姓名="张" * 50).values["name"] == "张" * 50


def test_the_column_limits_are_the_lengths_of_the_fields_they_are_stored_in():
    from aixin.ingest.columns import COLUMNS_BY_KEY
    from aixin.registry.models import Child, Guardian

    stored = {
        "name": Child._meta.get_field("name"),
        "ethnicity": Child._meta.get_field("ethnicity"),
        "school": Child._meta.get_field("school"),
        "grade": Child._meta.get_field("grade"),
        "guardian_name": Guardian._meta.get_field("name"),
        "guardian_relation": Guardian._meta.get_field("relation"),
    }
    assert {k: COLUMNS_BY_KEY[k].max_length for k in stored} == {k: f.max_length for k, f in stored.items()}


def test_two_phone_numbers_in_one_cell_are_refused_saying_to_keep_one():
    exc = rejected(监护人电话="13811112222/13933334444")
    assert "多个号码" in exc.reason and "备注" in exc.reason


@pytest.mark.parametrize(("cell", "flag"), [("×", False), ("✓", True), ("√", True)])
def test_ticks_and_crosses_read_as_yes_and_no(cell, flag):
    assert parse(是否散居孤儿=cell).values["is_scattered_orphan"] is flag


def test_kunjing_alone_names_an_other_difficulty_child():
    assert parse(儿童类别="困境").values["is_other_difficulty"] is True


def test_a_village_name_found_in_several_districts_is_the_one_in_the_uploaders_district():
    villages = [
        *VILLAGES,
        VillageRef(5, "500242100202", "桂桥村", "500242100", "龙潭镇", *YOUYANG),
        VillageRef(6, "500113101202", "桂桥村", "500113101", "界石镇", "500113", "巴南区"),
    ]
    with pytest.raises(RegionError, match="不唯一"):
        RegionResolver(villages).resolve(village="桂桥村")
    youyang = RegionResolver(villages)
    youyang.prefer_within(RegionLevel.DISTRICT, "500242")
    assert youyang.resolve(village="桂桥村") == 5
    # It travels to the build workers with the resolver.
    assert pickle.loads(pickle.dumps(youyang)).resolve(village="桂桥村") == 5  # noqa: S301
    # A town's worker: a village elsewhere in the district is not theirs to prefer.
    town = RegionResolver(villages)
    town.prefer_within(RegionLevel.TOWN, "500242001")
    with pytest.raises(RegionError, match="不唯一"):
        town.resolve(village="桂桥村")


def test_a_yes_no_dropout_column_of_an_education_ledger_sets_the_school_stage():
    assert parse(是否辍学="是").values["school_stage"] == "dropped_out"
    assert "school_stage" not in parse(是否辍学="否").values
    assert "is_dropped_out" not in parse(是否辍学="否").values
    exc = rejected(是否辍学="是", 就学情况="初中")
    assert exc.column == "是否辍学"
    assert exc.reason == "“是否辍学”为“是”，但“就学情况”不是辍学"
