from __future__ import annotations

import io
import json
import re
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aixin.accounts.models import ApiToken, User, hash_token
from aixin.audit.models import AuditEvent
from aixin.regions.models import Region
from tests.regions.helpers import csv_bytes

GOOD = "Qiao-mai-2026!"


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    if stdin is None:
        call_command(*args, stdout=out)
    else:
        with mock.patch("sys.stdin", io.StringIO(stdin)):
            call_command(*args, stdout=out)
    return out.getvalue()


def test_create_user_with_password_from_stdin_places_her_at_the_region(tree):
    out = run(
        "create-user",
        "wz_admin",
        "--role",
        "district_admin",
        "--region",
        "500101",
        "--name",
        "陈红",
        "--password-stdin",
        stdin=GOOD + "\n",
    )
    user = User.objects.get(username="wz_admin")
    assert (user.role, user.region, user.display_name) == ("district_admin", tree.district_a, "陈红")
    assert user.check_password(GOOD)
    assert "已创建用户 wz_admin：区县妇联工作人员，万州区" in out
    assert GOOD not in out
    assert AuditEvent.objects.filter(object_type="user", object_id=str(user.pk), action="create").count() == 1


def test_create_user_generate_prints_a_strong_password_once(tree):
    out = run(
        "create-user", "town1", "--role", "town_supervisor", "--region", tree.town_a1.code, "--generate"
    )
    password = re.search(r"初始密码（只显示这一次，请妥善转交）：(\S+)", out).group(1)
    assert len(password) >= 16
    assert out.count(password) == 1
    assert User.objects.get(username="town1").check_password(password)


def test_create_user_asks_twice_interactively(tree):
    with mock.patch("getpass.getpass", side_effect=[GOOD, GOOD]):
        run("create-user", "v1", "--role", "volunteer", "--region", tree.village_a1.code)
    assert User.objects.get(username="v1").check_password(GOOD)


def test_create_user_refuses_two_different_passwords(tree):
    with mock.patch("getpass.getpass", side_effect=[GOOD, GOOD + "x"]), pytest.raises(CommandError) as exc:
        run("create-user", "v2", "--role", "volunteer", "--region", tree.village_a1.code)
    assert str(exc.value) == "两次输入的密码不一致，未创建用户"
    assert not User.objects.filter(username="v2").exists()


@pytest.mark.parametrize(
    ("role", "code", "message"),
    [
        (
            "district_admin",
            "500101101",
            "角色「区县妇联工作人员」必须设在区县一级，而 500101101 万州1镇 是乡镇/街道",
        ),
        ("city_admin", "500101", "角色「市妇联管理员」必须设在市一级，而 500101 万州区 是区县"),
        ("volunteer", "500101101", "角色「爱心妈妈」必须设在村/社区一级，而 500101101 万州1镇 是乡镇/街道"),
        ("village_director", "500101", "角色「儿童主任」必须设在村/社区一级，而 500101 万州区 是区县"),
        (
            "director",
            "500101",
            "角色「director」不存在，可选：city_admin（市妇联管理员）、district_admin（区县妇联工作人员）、"
            "town_supervisor（儿童督导员）、village_director（儿童主任）、volunteer（爱心妈妈）、"
            "department_liaison（部门联络员）、taskforce_member（专班成员）、system_admin（系统管理员）、"
            "security_admin（安全管理员）、audit_admin（审计管理员）、evaluator（第三方评估人员）",
        ),
        ("district_admin", "599999", "区划代码 599999 不存在：请先用 aixin load-regions 导入区划"),
    ],
)
def test_create_user_refuses_a_role_at_the_wrong_region_level(tree, role, code, message):
    with pytest.raises(CommandError) as exc:
        run("create-user", "wrong", "--role", role, "--region", code, "--generate")
    assert str(exc.value) == message
    assert not User.objects.filter(username="wrong").exists()


def test_create_user_refuses_an_abolished_district_and_names_its_successor(db):
    call_command("load-regions", stdout=io.StringIO())
    with pytest.raises(CommandError) as exc:
        run("create-user", "jb", "--role", "district_admin", "--region", "500105", "--generate")
    assert str(exc.value) == "区划 500105 江北区 已于 2025-11-05 撤销，请改用 500157 两江新区"
    assert not User.objects.filter(username="jb").exists()


def test_create_user_runs_the_password_validators(tree):
    with pytest.raises(CommandError) as exc:
        run(
            "create-user",
            "weak",
            "--role",
            "district_admin",
            "--region",
            "500101",
            "--password-stdin",
            stdin="12345\n",
        )
    assert str(exc.value) == (
        "密码不符合要求，未创建用户：密码太短，至少需要 10 个字符；"
        "密码须包含大写字母、小写字母、数字、符号中的至少 3 类，当前只有 1 类；密码太常见，容易被猜到"
    )
    assert not User.objects.filter(username="weak").exists()


def test_create_user_refuses_an_existing_username(tree, users):
    with pytest.raises(CommandError) as exc:
        run("create-user", "dist_a", "--role", "district_admin", "--region", "500101", "--generate")
    assert str(exc.value) == "用户名 dist_a 已存在，请换一个"
    assert User.objects.get(username="dist_a").region == tree.district_a


def test_create_token_prints_a_token_once_and_stores_only_its_hash(tree, users):
    out = run("create-token", "dist_a", "--name", "数据对接")
    raw = out.strip().splitlines()[-1]
    assert raw.startswith("axn_")
    token = ApiToken.objects.get(user=users["district_admin"])
    assert token.token_hash == hash_token(raw)
    assert token.name == "数据对接"
    assert token.prefix == raw[:12]
    assert raw not in {token.token_hash, token.name, token.prefix}


def test_created_token_opens_the_api(tree, users, client):
    raw = run("create-token", "town_a1").strip().splitlines()[-1]
    response = client.get("/api/v1/regions", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_create_token_for_an_unknown_user_fails(db):
    with pytest.raises(CommandError) as exc:
        run("create-token", "nobody")
    assert str(exc.value) == "用户 nobody 不存在"
    assert ApiToken.objects.count() == 0


def test_load_regions_without_file_loads_the_builtin_list_and_prints_json(db):
    out = run("load-regions", "--json")
    assert json.loads(out) == {
        "created": 42,
        "updated": 0,
        "unchanged": 0,
        "restamped": 0,
        "records_restamped": 0,
        "errors": [],
    }
    assert json.loads(run("load-regions", "--json"))["unchanged"] == 42


def test_load_regions_with_an_invalid_file_fails_with_the_chinese_error_list(db, tmp_path):
    run("load-regions")
    path = tmp_path / "towns.csv"
    path.write_bytes(csv_bytes("500101100,分水镇,3,500101,,", "500101100200,石桥村,4,500199100,,"))
    with pytest.raises(CommandError) as exc:
        run("load-regions", str(path))
    assert str(exc.value) == (
        "导入失败，未写入任何数据。共 1 处错误：\n"
        "  第 3 行「parent_code」列：上级代码 500199100 不存在：请先导入上级区划，或检查代码是否录错"
    )
    assert not Region.objects.filter(code="500101100").exists()


def test_load_regions_with_a_file_reports_counts(db, tmp_path):
    run("load-regions")
    path = tmp_path / "towns.csv"
    path.write_bytes(csv_bytes("500101100,分水镇,3,500101,,", "500101100200,石桥村,4,500101100,,"))
    assert "导入完成：新增 2，更新 0，未变 0" in run("load-regions", str(path))
    assert "导入完成：新增 0，更新 0，未变 2" in run("load-regions", str(path))
