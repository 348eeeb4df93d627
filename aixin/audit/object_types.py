"""What the audit log's object types are called for people.

`AuditEvent.object_type` stores a short code ("case", "import_batch" …) written by the code that
calls `audit_log`. The stored codes are part of the hash-chained log and never change; pages and
files for people show the label from here instead. Every code written anywhere in aixin/ must
have a label (tests/audit/test_object_type_labels.py finds them in the source); a stored code
without one (say, from an older version) is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from aixin.lib.pinyin import sort_key

OBJECT_TYPE_LABELS: dict[str, str | Promise] = {
    # Children and their care
    "child": _("儿童档案"),
    "care_record": _("关爱记录"),
    "care_photo": _("关爱照片"),
    "care_rule": _("“6+1”条目"),
    "school_term": _("学期"),
    "festival": _("节日"),
    "alert": _("预警"),
    "retention": _("个人信息最小化"),
    # Loving mothers, pairing and matching
    "volunteer": _("爱心妈妈"),
    "pairing": _("结对"),
    "pairing_status": _("结对状态（共享民政）"),
    "consent_evidence": _("监护人同意附件"),
    "match_run": _("智能匹配"),
    "match_proposal": _("匹配建议"),
    "activity": _("团体活动"),
    # Risk reports and task forces
    "case": _("风险事件"),
    "case_file": _("风险事件附件"),
    "taskforce": _("工作专班"),
    # Imports and data exchange
    "import_batch": _("导入批次"),
    "duplicate_suspect": _("疑似重复档案"),
    "department_credential": _("部门接口凭据"),
    "evaluation_records": _("去标识化儿童数据"),
    # Accounts, audit and operations
    "user": _("用户"),
    "ip": _("网络地址"),
    "api_token": _("API 令牌"),
    "access_report": _("年度访问报告"),
    "backup": _("整库备份"),
    "backup_restore": _("备份恢复"),
    "field_keys": _("字段加密密钥"),
}


def object_type_label(code: str) -> str:
    """The label of an object type for people; an unknown code as it is."""
    label = OBJECT_TYPE_LABELS.get(code)
    return str(label) if label is not None else code


def object_type_choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    """(code, label) for each code, ordered by the label's pinyin as Chinese lists are."""
    labelled = {(code, object_type_label(code)) for code in codes if code}
    return sorted(labelled, key=lambda choice: (sort_key(choice[1]), choice[1], choice[0]))
