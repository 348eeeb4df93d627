"""POST /api/v1/ingest/{source}: a department system pushes a batch of child records (R-4.4).

The operation takes no session or token (`auth=None`) and is declared `@public` on the
ScopedRouter: it is authenticated by the request's signature (aixin.ingest.signing.verify),
checked before anything else is done. The body is read from the stream by the handler (up to
20 MB), not parsed by ninja, because the signature is computed over its exact bytes.

No `from __future__ import annotations` here: django-ninja resolves annotations at import time.
"""

import json
from typing import Any

from django.http import HttpRequest
from ninja import Schema

from aixin.accounts.access import ScopedRouter, public
from aixin.ingest import services, signing
from aixin.ingest.columns import SOURCE_LABELS
from aixin.lib.errors import InvalidInput, NotAllowed

router = ScopedRouter(tags=["ingest"])

MAX_BATCH_ID = 100
MAX_PUSH_RECORDS = services.MAX_PUSH_RECORDS
_SCALARS = (str, int, float, bool, type(None))


class PushCounts(Schema):
    created: int
    updated: int
    unchanged: int
    rejected: int


class PushOut(Schema):
    batch: int
    batch_id: str
    status: str
    counts: PushCounts
    results: list[dict[str, Any]]


_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["batch_id", "records"],
    "properties": {
        "batch_id": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_BATCH_ID,
            "description": "部门自己的批次号；同一批次号重复推送时返回第一次的结果，不再写入",
        },
        "records": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PUSH_RECORDS,
            "items": {
                "type": "object",
                "description": "以列键为键（见 aixin/ingest/columns.py），例如 id_number、name、region_code；"
                "多值列（如 categories）可为文字数组。有问题的记录单独拒绝，并在 results 中说明原因",
                "additionalProperties": {
                    "anyOf": [
                        {"type": ["string", "number", "boolean", "null"]},
                        {"type": "array", "items": {"type": "string"}},
                    ]
                },
            },
        },
    },
}


def _parse(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    """batch_id and records from the JSON body, or InvalidInput (400) saying what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput("请求体须为 UTF-8 编码的 JSON") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"请求体不是有效的 JSON（第{exc.lineno}行第{exc.colno}列：{exc.msg}）") from exc
    if not isinstance(data, dict):
        raise InvalidInput('请求体应为 JSON 对象：{"batch_id": "…", "records": […]}')
    batch_id = data.get("batch_id")
    if not isinstance(batch_id, str) or not batch_id.strip():
        raise InvalidInput("缺少批次号 batch_id（1至100个字符的文字）", field="batch_id")
    batch_id = batch_id.strip()
    if len(batch_id) > MAX_BATCH_ID:
        raise InvalidInput(f"批次号 batch_id 不能超过{MAX_BATCH_ID}个字符", field="batch_id")
    records = data.get("records")
    if not isinstance(records, list):
        raise InvalidInput("缺少记录列表 records（JSON 数组）", field="records")
    if not records:
        raise InvalidInput("records 为空：每批至少推送 1 条记录", field="records")
    if len(records) > MAX_PUSH_RECORDS:
        raise InvalidInput(
            f"每批最多推送 {MAX_PUSH_RECORDS} 条记录，本批有 {len(records)} 条，请分成多个批次推送",
            field="records",
        )
    for i, record in enumerate(records):
        # A record that is not an object is rejected on its own by the service; a value that is an
        # object or a nested array breaks the contract of the whole body.
        if isinstance(record, dict):
            for key, value in record.items():
                if not _is_cell(value):
                    raise InvalidInput(
                        f"records 第{i + 1}条的 {key} 应为文字、数字、true/false 或 null"
                        "（多值列可为文字数组），不能是对象或嵌套数组",
                        field="records",
                    )
    return batch_id, records


def _is_cell(value: Any) -> bool:
    if isinstance(value, list):
        return all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value)
    return isinstance(value, _SCALARS)


@router.post(
    "/{source}",
    auth=None,
    response={200: PushOut},
    url_name="ingest_push",
    summary="部门系统推送儿童数据（签名认证）",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}}
    },
)
@public
def ingest_push(request: HttpRequest, source: str) -> dict[str, Any]:
    """部门系统推送一批儿童数据。请求头须带 X-Aixin-Key（凭据编号）、X-Aixin-Timestamp（Unix 秒）和
    X-Aixin-Signature（以凭据密钥对“时间戳.请求体”计算的 HMAC-SHA256，小写十六进制）。"""
    credential = signing.verify(request)
    if source != credential.source:
        raise NotAllowed(
            f"该凭据只能推送{SOURCE_LABELS.get(credential.source, credential.source)}数据"
            f"（地址应为 /api/v1/ingest/{credential.source}）",
            field="source",
        )
    batch_id, records = _parse(signing.read_body(request))
    batch = services.ingest_records(credential=credential, external_id=batch_id, records=records)
    return {
        "batch": batch.pk,
        "batch_id": batch.external_id,
        "status": batch.status,
        "counts": batch.counts,
        "results": batch.results,
    }
