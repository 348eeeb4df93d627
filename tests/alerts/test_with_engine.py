"""The triggers as the import engine calls them: a real department file, imported."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

from aixin.alerts.models import Alert, AlertKind, AlertStatus
from aixin.ingest import services
from aixin.ingest.models import BatchStatus
from aixin.registry.models import Child, ChildStatus
from tests import factories

HEADER = [
    "姓名",
    "身份证号码",
    "村(社区)代码",
    "监护人",
    "联系电话",
    "父亲情况",
    "母亲情况",
    "困难类型",
    "儿童状态",
]
BIRTH = datetime.date(2015, 3, 4)


def _import(tmp_path: Path, name: str, rows: list[list[str]], actor, source: str = "civil_affairs"):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    writer.writerows(rows)
    path = tmp_path / name
    path.write_bytes(buf.getvalue().encode("utf-8"))
    batch = services.start_file_import(actor=actor, source=source, upload=path, run_now=True)
    assert batch.status == BatchStatus.DONE, batch.error
    return batch


def _row(tree, n: int, *, father="外出务工", mother="外出务工", difficulty="", status="") -> list[str]:
    return [
        f"王{n}娃",
        factories.id_number(BIRTH, seq=n),
        tree.village_a1.code,
        "王奶奶",
        "13800001234",
        father,
        mother,
        difficulty,
        status,
    ]


def _open(kind: str) -> dict[str, str]:
    return {a.child.name: a.message for a in Alert.objects.filter(kind=kind, status=AlertStatus.OPEN)}


def test_an_imported_ledger_raises_the_alerts_staff_must_act_on(tree, users, tmp_path):
    admin = users["district_admin"]
    _import(
        tmp_path,
        "first.csv",
        [_row(tree, 1, difficulty="生活困难"), _row(tree, 2), _row(tree, 3)],
        admin,
    )

    assert _open(AlertKind.UNPAIRED) == {"王1娃": "新纳入一对一关爱，尚未结对爱心妈妈"}

    batch = _import(
        tmp_path,
        "second.csv",
        [
            _row(tree, 1, difficulty="生活困难"),
            _row(tree, 2, father="在家", mother="在家"),
            _row(tree, 3, status="迁出"),
        ],
        admin,
    )

    proposals = _open(AlertKind.CLOSE_PROPOSAL)
    assert proposals == {
        "王2娃": "父母已返乡，不再符合留守儿童条件，建议退出台账",
        "王3娃": "民政数据显示该儿童已迁出，建议核实后退出台账",
    }
    assert set(Alert.objects.filter(batch=batch).values_list("kind", flat=True)) == {AlertKind.CLOSE_PROPOSAL}
    assert set(Child.objects.values_list("status", flat=True)) == {ChildStatus.ACTIVE}
    assert Alert.objects.filter(kind=AlertKind.UNPAIRED).count() == 1
