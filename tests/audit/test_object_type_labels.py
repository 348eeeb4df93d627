"""The audit log shows object types by their Chinese names; the stored codes never change."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.urls import reverse

import aixin
from aixin.audit.models import AuditAction, AuditEvent
from aixin.audit.object_types import OBJECT_TYPE_LABELS, object_type_label
from aixin.audit.services import audit_log

URL = "audit:event_list"
SOURCE = Path(aixin.__file__).parent
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def events(tree, users):
    actor = users["district_admin"]
    return {
        object_type: audit_log(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=object_type,
            object_id=object_id,
            region=tree.village_a1,
            summary=f"测试{object_type}",
        )
        for object_type, object_id in (("case", 2), ("pairing", 301), ("import_batch", 7))
    }


def _options(html: str) -> dict[str, str]:
    select = re.search(r'<select name="object_type"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))


def _object_cells(html: str) -> list[str]:
    rows = re.findall(r"<tr data-event=\"\d+\">(.*?)</tr>", html, re.S)
    return [re.findall(r"<td>(.*?)</td>", row, re.S)[3] for row in rows]


def test_the_object_type_filter_lists_chinese_names_and_filters_by_the_stored_code(users, events, login):
    client = login(users["city_admin"])

    options = _options(client.get(reverse(URL)).content.decode())
    filtered = client.get(reverse(URL), {"object_type": "case"})

    assert options == {"": "全部", "case": "风险事件", "import_batch": "导入批次", "pairing": "结对"}
    assert [e.pk for e in filtered.context["events"]] == [events["case"].pk]
    stored = set(AuditEvent.objects.values_list("object_type", flat=True))
    assert stored == {"case", "pairing", "import_batch"}  # the hash-chained rows keep their codes


def test_the_object_column_shows_the_chinese_name_and_number(tree, users, events, login):
    # A code no current code writes (say, from an older version) is shown as stored.
    audit_log(actor=users["city_admin"], action=AuditAction.VIEW, object_type="legacy_thing", object_id=5)

    html = login(users["city_admin"]).get(reverse(URL)).content.decode()

    assert _object_cells(html) == ["legacy_thing #5", "导入批次 #7", "结对 #301", "风险事件 #2"]
    assert "case #2" not in html
    assert _options(html)["legacy_thing"] == "legacy_thing"


def test_an_event_without_an_object_number_shows_only_the_name(tree, users, login):
    audit_log(actor=None, action=AuditAction.UPDATE, object_type="retention", summary="最小化")

    html = login(users["city_admin"]).get(reverse(URL)).content.decode()

    assert _object_cells(html) == ["个人信息最小化"]


# ---------------------------------------------------------------------------------------------
# Every object type the code writes has a label


def _written_object_types() -> tuple[dict[str, list[str]], list[str]]:
    """The object types written in aixin/: string literals given as `object_type=` to any call,
    or positionally to a function of the same module with an `object_type` parameter (such as
    aixin.care.config_services._audit). Also answers the places that give something other than a
    literal and are not passing on their own `object_type` parameter: those cannot be checked."""
    found: dict[str, list[str]] = {}
    unchecked: list[str] = []
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(SOURCE.parent)
        positional: dict[str, int] = {}
        passing_on: set[int] = set()  # ids of the calls inside functions with `object_type`
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
                if "object_type" in params:
                    positional[node.name] = params.index("object_type")
                if "object_type" in params or any(a.arg == "object_type" for a in node.args.kwonlyargs):
                    passing_on.update(id(n) for n in ast.walk(node) if isinstance(n, ast.Call))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            given = [k.value for k in node.keywords if k.arg == "object_type"]
            if isinstance(node.func, ast.Name) and node.func.id in positional:
                index = positional[node.func.id]
                if len(node.args) > index:
                    given.append(node.args[index])
            for value in given:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.setdefault(value.value, []).append(f"{where}:{value.lineno}")
                elif not (
                    isinstance(value, ast.Name) and value.id == "object_type" and id(node) in passing_on
                ):
                    unchecked.append(f"{where}:{value.lineno} object_type={ast.unparse(value)}")
    return found, unchecked


def test_every_object_type_the_code_writes_has_a_chinese_name():
    found, unchecked = _written_object_types()
    assert {"case", "pairing", "import_batch", "child", "user"} <= set(found)  # the scan works …
    assert {"care_rule", "school_term", "festival"} <= set(found)  # … by position too (_audit(…))

    missing = {code: places for code, places in found.items() if code not in OBJECT_TYPE_LABELS}
    assert missing == {}, "add these to aixin/audit/object_types.py OBJECT_TYPE_LABELS"
    assert unchecked == [], "write object types as string literals so their labels can be checked"
    assert all(HAN.search(object_type_label(code)) for code in found)
