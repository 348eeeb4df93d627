from __future__ import annotations

import datetime

import pytest

from aixin.regions.models import Region, RegionLevel
from aixin.regions.services import regions_load, regions_load_builtin
from tests import factories
from tests.regions.helpers import csv_bytes

TOWNS = csv_bytes(
    "500101001,高笋塘街道,3,500101,,",
    "500101001001,白岩社区,村,500101001,,",
    "500101100,分水镇,乡镇,500101,,",
    "500101100200,石桥村,4,500101100,,",
    "500101100201,龙泉村,4,500101100,2020-01-01,",
)


@pytest.fixture
def districts(db):
    result = regions_load_builtin()
    assert result.errors == []
    return result


def test_builtin_list_has_39_current_district_level_units(districts):
    current = Region.objects.filter(level=RegionLevel.DISTRICT).current()
    assert current.count() == 39
    assert districts.created == 42
    assert current.filter(statutory=False).count() == 2
    assert current.filter(statutory=True).count() == 37


def test_builtin_list_keeps_jiangbei_and_yubei_as_abolished_with_successor(districts):
    liangjiang = Region.objects.get(code="500157")
    assert liangjiang.name == "两江新区"
    assert liangjiang.valid_from == datetime.date(2025, 11, 6)
    for code, name in (("500105", "江北区"), ("500112", "渝北区")):
        old = Region.objects.get(code=code)
        assert old.name == name
        assert old.level == RegionLevel.DISTRICT
        assert old.parent.code == "500000"
        assert old.valid_to == datetime.date(2025, 11, 5)
        assert old.successor == liangjiang
    assert Region.objects.valid_on(datetime.date(2025, 11, 5)).filter(code="500157").count() == 0
    assert Region.objects.valid_on(datetime.date(2025, 11, 5)).filter(code="500105").count() == 1


def test_functional_zones_have_namespaced_codes_and_their_host_district(districts):
    gxq = Region.objects.get(code="CQ-GXQ")
    wsjk = Region.objects.get(code="CQ-WSJK")
    assert (gxq.name, gxq.kind, gxq.statutory) == ("西部科学城重庆高新区", "功能区", False)
    assert gxq.host.code == "500106"
    assert (wsjk.name, wsjk.kind, wsjk.statutory, wsjk.host.code) == ("万盛经开区", "功能区", False, "500110")
    assert wsjk.path == "/500000/CQ-WSJK/"


def test_reloading_the_builtin_list_changes_nothing(districts):
    again = regions_load_builtin()
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 42, [])


def test_towns_and_villages_load_with_stamped_ancestors_and_levels_as_words(districts):
    result = regions_load(data=TOWNS)
    assert (result.created, result.updated, result.unchanged, result.errors) == (5, 0, 0, [])
    village = Region.objects.get(code="500101100200")
    assert village.path == "/500000/500101/500101100/500101100200/"
    assert village.district.code == "500101"
    assert village.town.code == "500101100"
    assert village.kind == "村委会"
    assert Region.objects.get(code="500101001001").kind == "社区"
    assert Region.objects.get(code="500101100").kind == "镇"
    assert Region.objects.get(code="500101100201").valid_from == datetime.date(2020, 1, 1)


def test_reloading_the_same_file_reports_nothing_created_or_updated(districts):
    regions_load(data=TOWNS)
    again = regions_load(data=TOWNS)
    assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 5, [])


def test_a_renamed_village_counts_as_updated(districts):
    regions_load(data=TOWNS)
    result = regions_load(data=TOWNS.replace("石桥村".encode(), "新石桥村".encode()))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    assert Region.objects.get(code="500101100200").name == "新石桥村"


def test_children_may_come_before_their_parents_in_the_file(districts):
    data = csv_bytes("500102100200,石桥村,4,500102100,,", "500102100,龙潭镇,3,500102,,")
    result = regions_load(data=data)
    assert result.errors == []
    assert Region.objects.get(code="500102100200").town.code == "500102100"


def test_utf8_with_bom_and_gb18030_files_are_read(districts):
    bom = b"\xef\xbb\xbf" + csv_bytes("500103001,解放碑街道,3,500103,,")
    assert regions_load(data=bom).created == 1
    gbk = csv_bytes("500103002,朝天门街道,3,500103,,", encoding="gb18030")
    assert regions_load(data=gbk).created == 1
    assert Region.objects.get(code="500103002").name == "朝天门街道"


def test_an_invalid_file_writes_nothing_and_reports_every_error_with_line_and_column(districts):
    before = Region.objects.count()
    data = csv_bytes(
        "500101100,分水镇,3,500101,,",  # line 2: fine
        "500101100200,石桥村,4,599999999,,",  # line 3: unknown parent
        "500101101,龙驹镇,4,500101,,",  # line 4: level not parent level + 1
        "500101102,余家镇,3,500101,2025-13-01,",  # line 5: bad date
        "500101103,大周镇,3,500101,2025-06-01,2024-01-01",  # line 6: valid_to before valid_from
        "500101100,分水镇,3,500101,,",  # line 7: duplicate code
        "500101104,,镇,500101,,",  # line 8: empty name
        "500101105,孙家镇,县城,500101,,",  # line 9: unknown level word
    )
    result = regions_load(data=data)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
    assert [str(e) for e in result.errors] == [
        "第 3 行「parent_code」列：上级代码 599999999 不存在：请先导入上级区划，或检查代码是否录错",
        "第 4 行「level」列：层级 4 与上级 500101 的层级 2 不衔接：应为上级层级加 1",
        "第 5 行「valid_from」列：日期「2025-13-01」格式不正确：应为 YYYY-MM-DD，例如 2025-11-06",
        "第 6 行「valid_to」列：失效日期 2024-01-01 早于生效日期 2025-06-01",
        "第 7 行「code」列：代码 500101100 在文件中重复（第 2 行已出现）",
        "第 8 行「name」列：名称不能为空",
        "第 9 行「level」列：层级「县城」无法识别：应为 1-4 或 市、区县、乡镇、村",
    ]
    assert Region.objects.count() == before
    assert not Region.objects.filter(code="500101100").exists()


def test_a_file_without_the_required_columns_is_rejected(districts):
    result = regions_load(data="code,name\n500101100,分水镇\n".encode())
    assert [str(e) for e in result.errors] == [
        "第 1 行：表头缺少列：level, parent_code, valid_from, valid_to"
        "（应包含 code,name,level,parent_code,valid_from,valid_to）"
    ]


def test_rows_can_be_given_as_dicts(districts):
    result = regions_load(
        rows=[
            {
                "code": "500104001",
                "name": "新山村街道",
                "level": "3",
                "parent_code": "500104",
                "valid_from": "",
                "valid_to": "",
            },
            {
                "code": "500104002",
                "name": "",
                "level": "3",
                "parent_code": "500104",
                "valid_from": "",
                "valid_to": "",
            },
        ]
    )
    assert [str(e) for e in result.errors] == ["第 3 行「name」列：名称不能为空"]
    assert not Region.objects.filter(code="500104001").exists()


def test_moving_a_town_to_liangjiang_restamps_its_villages_and_the_records_in_them(districts):
    from aixin.care.models import CareRecord
    from aixin.pairing.models import Pairing

    regions_load(
        data=csv_bytes(
            "500112100,龙兴镇,3,500112,,",
            "500112100200,龙兴村,4,500112100,,",
            "500112101,石船镇,3,500112,,",
            "500112101200,石船村,4,500112101,,",
        )
    )
    yubei = Region.objects.get(code="500112")
    village = Region.objects.get(code="500112100200")
    child = factories.make_child(village)
    volunteer = factories.make_volunteer(village)
    pairing = factories.make_active_pairing(child, volunteer)
    ended = Pairing.objects.create(
        child=factories.make_child(village, name="王小红"),
        volunteer=volunteer,
        tier="one_to_one",
        status="ended",
        start_date=datetime.date(2024, 1, 1),
        end_date=datetime.date(2024, 6, 1),
        district=yubei,
        town=village.town,
        village=village,
    )
    record = CareRecord.objects.create(
        pairing=pairing,
        child=child,
        volunteer=volunteer,
        district=yubei,
        town=village.town,
        village=village,
        date=datetime.date(2025, 10, 1),
        kind="home_visit",
    )
    assert child.district_id == yubei.pk

    # The town file after the 2025 change: 龙兴镇 now belongs to 两江新区, 石船镇 is not in the file.
    result = regions_load(data=csv_bytes("500112100,龙兴镇,3,500157,,", "500112100200,龙兴村,4,500112100,,"))
    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (0, 2, 0)

    liangjiang = Region.objects.get(code="500157")
    town = Region.objects.get(code="500112100")
    village.refresh_from_db()
    assert town.district == liangjiang
    assert town.path == "/500000/500157/500112100/"
    assert village.path == "/500000/500157/500112100/500112100200/"
    assert village.district == liangjiang
    child.refresh_from_db()
    volunteer.refresh_from_db()
    pairing.refresh_from_db()
    assert (child.district_id, child.town_id) == (liangjiang.pk, town.pk)
    assert (volunteer.district_id, volunteer.town_id) == (liangjiang.pk, town.pk)
    assert (pairing.district_id, pairing.town_id) == (liangjiang.pk, town.pk)
    # History stays under the old unit: an ended pairing and a care record keep 渝北区.
    ended.refresh_from_db()
    assert ended.district_id == yubei.pk
    assert CareRecord.objects.get(pk=record.pk).district_id == yubei.pk
    # The town that was not moved stays under 渝北区.
    assert Region.objects.get(code="500112101").district == yubei


def test_moving_a_town_without_its_villages_in_the_file_still_moves_them(districts):
    regions_load(data=csv_bytes("500112102,静观镇,3,500112,,", "500112102200,素心村,4,500112102,,"))
    village = Region.objects.get(code="500112102200")
    child = factories.make_child(village)

    result = regions_load(data=csv_bytes("500112102,静观镇,3,500109,,"))
    assert (result.updated, result.restamped, result.records_restamped) == (1, 1, 1)
    village.refresh_from_db()
    child.refresh_from_db()
    assert village.path == "/500000/500109/500112102/500112102200/"
    assert child.district.code == "500109"


def test_a_town_can_be_placed_under_a_functional_zone(districts):
    result = regions_load(
        data=csv_bytes(
            "500110004,万盛街道,3,CQ-WSJK,,",
            "500110004001,万新社区,4,500110004,,",
        )
    )
    assert result.errors == []
    village = Region.objects.get(code="500110004001")
    assert village.district.code == "CQ-WSJK"
    assert village.path == "/500000/CQ-WSJK/500110004/500110004001/"
