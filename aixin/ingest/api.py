"""POST /api/v1/ingest/{source}: a department system pushes a batch of child records (R-4.4).

The operation takes no session or token (`auth=None`) and is declared `@public` on the
ScopedRouter: it is authenticated by the request's signature (aixin.ingest.signing.verify),
checked before anything else is done. The body is read from the stream by the handler (up to
20 MB), not parsed by ninja, because the signature is computed over its exact bytes.

The record schema in openapi.json and the field table of /api/v1/docs (`docs_page`) are both
built here from aixin/ingest/columns.py by `record_fields`: every field key with its Chinese
column label (the template's header), type, format, allowed values and whether it is required.

No `from __future__ import annotations` here: django-ninja resolves annotations at import time.
"""

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import Field, Schema

from aixin.accounts.access import ScopedRouter, public
from aixin.ingest import services, signing, workbooks
from aixin.ingest.columns import COLUMNS, SOURCE_LABELS, Column, Source
from aixin.ingest.models import DepartmentCredential
from aixin.lib.errors import InvalidInput, NotAllowed
from aixin.pairing.api import SharedPairingPage, audit_shared, check_filters, shared_page
from aixin.pairing.selectors import pairings_read_back

router = ScopedRouter(tags=["ingest"])

MAX_BATCH_ID = 100
MAX_PUSH_RECORDS = services.MAX_PUSH_RECORDS
_SCALARS = (str, int, float, bool, type(None))
_SOURCES_TEXT = "、".join(f"{k}（{v}）" for k, v in SOURCE_LABELS.items())


# ---------------------------------------------------------------------------------------------
# The record fields (from columns.py)


@dataclass(frozen=True)
class RecordField:
    """One field of a pushed record, as documented in openapi.json and on /api/v1/docs."""

    key: str
    label: str  # the column's Chinese name: the template's header, the batch page's 列
    type_text: str  # what the docs page says of its type and format
    required: bool
    required_text: str  # 必填 / 选填 / 区划代码与区县、乡镇、村名称二选一
    values: tuple[str, ...]  # the allowed words of a coded field (empty: free text)
    description: str
    example: Any
    schema: dict[str, Any]

    @property
    def example_json(self) -> str:
        return json.dumps(self.example, ensure_ascii=False)


_TYPE_TEXT = {
    "text": "文字",
    "id": "文字：18位居民身份证号",
    "date": "文字：日期 YYYY-MM-DD",
    "sex": "文字：男 / 女",
    "bool": "true / false（或文字“是”“否”）",
    "list": "文字数组（或用顿号“、”分隔的文字）",
    "choice": "文字：取值之一",
    "region_code": "文字：12位统计用区划代码",
    "region_name": "文字",
    "phone": "文字：手机或固定电话",
    "int": "整数",
}


def _value_schema(column: Column, words: list[str]) -> dict[str, Any]:
    kind = column.kind
    if kind == "id":
        return {"type": "string", "pattern": "^[0-9]{17}[0-9Xx]$", "minLength": 18, "maxLength": 18}
    if kind == "date":
        return {"type": "string", "format": "date"}
    if kind in ("sex", "choice"):
        return {"type": "string", "enum": words}
    if kind == "bool":
        return {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": words}]}
    if kind == "list":
        return {
            "anyOf": [
                {"type": "array", "items": {"type": "string", "enum": words}},
                {"type": "string"},
            ]
        }
    if kind == "region_code":
        return {"type": "string", "pattern": "^[0-9]{12}$"}
    if kind == "int":
        return {"type": "integer"}
    longest = column.max_length
    return {"type": "string", "maxLength": longest} if longest else {"type": "string"}


def _example(column: Column) -> Any:
    text = workbooks.EXAMPLES.get(column.key, "")
    if not text:
        return None
    if column.kind == "bool":
        return text == "是"
    if column.kind == "list":
        return text.split(workbooks.LIST_SEPARATOR)
    return text


def _describe(column: Column, words: list[str]) -> str:
    """What a field holds and which values it takes (the docs page's 说明 column)."""
    parts: list[str] = []
    if column.kind == "id":
        parts.append("18位居民身份证号，末位X可大写或小写；请以文字传送，不要用数字")
    elif column.key in workbooks.DESCRIPTIONS:
        parts.append(workbooks.DESCRIPTIONS[column.key])
    longest = column.max_length
    if longest:
        parts.append(f"不超过{longest}个字")
    if column.kind == "date":
        parts.append("格式 YYYY-MM-DD，如 2015-01-01（也接受 2015/1/1、2015年1月1日、20150101）")
    if column.kind == "list":
        parts.append("可填多项：文字数组，或用顿号“、”分隔的文字")
    if words:
        parts.append("可填写的值：" + "、".join(words))
    if column.help and column.kind not in ("list", "id"):
        parts.append(column.help)
    return "；".join(parts)


def record_fields() -> list[RecordField]:
    """Every field of a pushed record, in the order of the template's columns."""
    found: list[RecordField] = []
    for column in COLUMNS:
        words = workbooks.list_words(column) if column.kind in ("bool", "choice", "sex", "list") else []
        description = _describe(column, words)
        required = workbooks.required_text(column)
        schema = {
            "title": column.label,
            "description": "；".join(p for p in (f"列名“{column.label}”", required, description) if p),
            **_value_schema(column, words),
        }
        example = _example(column)
        if example is not None:
            schema["examples"] = [example]
        found.append(
            RecordField(
                key=column.key,
                label=column.label,
                type_text=_TYPE_TEXT.get(column.kind, "文字"),
                required=column.required,
                required_text=required,
                values=tuple(words),
                description=description,
                example=example,
                schema=schema,
            )
        )
    return found


RECORD_DESCRIPTION = (
    "一条儿童记录：以字段键为键（见各字段的 title，即导入模板中的中文列名）。必填：name、id_number；"
    "所在地区填 region_code（12位区划代码），或同时填 district、town、village 名称。"
    "不推送、null 或空文字的字段视为未填，不会清空已有信息。含未知字段、不是 JSON 对象或内容有误的记录"
    "单独拒绝（其余记录照常写入），原因见应答的 results"
)


def record_schema() -> dict[str, Any]:
    fields = record_fields()
    return {
        "type": "object",
        "title": "儿童记录",
        "description": RECORD_DESCRIPTION,
        "required": [f.key for f in fields if f.required],
        "properties": {f.key: f.schema for f in fields},
        "additionalProperties": False,
    }


# ---------------------------------------------------------------------------------------------
# The answer


class PushCounts(Schema):
    created: int = Field(description="新增的儿童")
    updated: int = Field(description="更新的儿童")
    unchanged: int = Field(description="与上次推送相同、未变化的记录")
    rejected: int = Field(description="被拒绝的记录")
    suspects: int = Field(
        description="疑似重复：新增儿童中，姓名拼音、出生日期和村（社区）与已有儿童相同但身份证号不同的，"
        "已新增并交由工作人员核实"
    )


class PushRecordError(Schema):
    field: str = Field(description="出错的字段键（如 id_number）；与某个字段无关时为空文字")
    reason: str = Field(description="原因（中文）")


class PushResult(Schema):
    index: int = Field(description="该记录在 records 数组中的位置，从 0 开始")
    row: int = Field(
        description="记录序号，从 1 开始（= index + 1）：即批次页面和“未导入的行”Excel 中的“行号”，"
        "原因中的“第N行”也指这个序号"
    )
    status: str = Field(description="created 新增 / updated 更新 / unchanged 未变化 / rejected 拒绝")
    child_id: int | None = Field(description="平台内的儿童编号；被拒绝的记录为 null")
    errors: list[PushRecordError] = Field(description="被拒绝的原因；其他状态为空数组")


class PushOut(Schema):
    batch: int = Field(description="平台内的批次编号（工作人员在“数据导入”页面按此查看）")
    batch_id: str = Field(description="部门的批次号（请求中的 batch_id）")
    status: str = Field(description="done 已完成")
    counts: PushCounts
    results: list[PushResult] = Field(description="每条记录一项，顺序与 records 相同")


class ErrorOut(Schema):
    detail: str = Field(description="原因（中文）")
    code: str
    field: str | None = Field(description="出错的请求头或字段")


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
            "description": f"1至{MAX_PUSH_RECORDS}条儿童记录；记录序号从 1 开始（应答中的 row）",
            "items": record_schema(),
        },
    },
}


PUSH_DESCRIPTION = (
    f"部门系统推送一批儿童数据。地址中的 source 为凭据所属部门：{_SOURCES_TEXT}。\n\n"
    f"请求头须带 {signing.HEADER_KEY}（凭据编号）、{signing.HEADER_TIMESTAMP}"
    f"（Unix 秒，与服务器时间相差不超过{signing.MAX_SKEW_SECONDS}秒）和 {signing.HEADER_SIGNATURE}"
    "（以凭据密钥对“时间戳.请求体”计算的 HMAC-SHA256，64位小写十六进制；每个签名只能用一次）。\n\n"
    "每条记录单独接受或拒绝；应答的 results 与 records 一一对应：index 为数组位置（从 0 开始），"
    "row 为记录序号（从 1 开始，即批次页面和“未导入的行”Excel 中的“行号”）。"
    "字段说明见 /api/v1/docs。\n\n"
    "错误：401 签名问题，403 凭据不能推送该部门的数据，400 请求体有误，409 同一批次号正在处理，"
    f"413 请求体超过 {signing.MAX_BODY_BYTES // (1024 * 1024)} MB。"
)


def _parse(body: bytes) -> tuple[str, list[Any]]:
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
    response={200: PushOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 413: ErrorOut},
    url_name="ingest_push",
    summary="部门系统推送儿童数据（签名认证）",
    description=PUSH_DESCRIPTION,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}}
    },
)
@public
def ingest_push(request: HttpRequest, source: str) -> dict[str, Any]:
    credential = signing.verify(request)
    _check_source(credential, source)
    batch_id, records = _parse(signing.read_body(request))
    batch = services.ingest_records(credential=credential, external_id=batch_id, records=records)
    return services.push_answer(batch)


# ---------------------------------------------------------------------------------------------
# Reading the pairing status back (R-4.6)

# The departments to whom the pairing status is shared: civil affairs, the master source of
# these children (the 结对状态（共享民政） workbook's audience).
READ_BACK_SOURCES = (Source.CIVIL_AFFAIRS,)

READ_BACK_DESCRIPTION = (
    "民政部门系统以推送数据的同一凭据读取其数据范围内的结对状态（与“结对状态（共享民政）”导出相同）。"
    f"请求头与推送相同（{signing.HEADER_KEY}、{signing.HEADER_TIMESTAMP}、{signing.HEADER_SIGNATURE}），"
    "签名内容为“时间戳.查询字符串”：查询字符串即地址中问号之后的部分，与发送的完全一致（没有则为空）；"
    "每个签名只能用一次。\n\n"
    "changed_since（ISO 8601，如 2026-03-01T08:00:00+08:00；只写日期为当天零点，不带时区为北京时间；"
    "也可为 Unix 时间戳（秒））：只列此后有变化的结对，按变化先后排列；"
    "按 offset 翻页取完 count 条后，以收到的最后一个 updated_at 再次轮询。limit 每页条数，1至200，默认50。"
    "status：open（未结束的）或 proposed、awaiting_consent、active、declined、cancelled、ended；"
    "tier：one_to_one、many_to_one、group。"
    "with_id_number=true：每项带儿童完整身份证号（用于与民政台账比对），每次返回都记入审计日志。\n\n"
    "错误：401 签名问题，403 凭据不属于民政部门或与地址中的部门不符，400 参数值有误（如未知的 status），"
    "422 参数格式有误（如 limit 不是整数）。"
)


@router.get(
    "/{source}/pairings",
    auth=None,
    response={200: SharedPairingPage, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    url_name="ingest_pairings",
    summary="民政部门系统读取结对状态（签名认证）",
    description=READ_BACK_DESCRIPTION,
)
@public
def ingest_pairings(
    request: HttpRequest,
    source: str,
    changed_since: str = "",
    status: str = "",
    tier: str = "",
    limit: int = 50,
    offset: int = 0,
    with_id_number: bool = False,
) -> SharedPairingPage:
    credential = signing.verify(request)
    if credential.source not in READ_BACK_SOURCES:
        raise NotAllowed(
            "结对状态只向民政部门共享：请使用民政部门的接口凭据"
            "（地址 /api/v1/ingest/civil_affairs/pairings）",
            field="source",
        )
    _check_source(credential, source, reading=True)
    check_filters(status, tier)
    qs = pairings_read_back(credential, status=status, tier=tier)
    page = shared_page(
        qs, changed_since=changed_since, limit=limit, offset=offset, with_id_number=with_id_number
    )
    if with_id_number and page.items:
        audit_shared(
            request,
            len(page.items),
            {
                "status": status,
                "tier": tier,
                "changed_since": changed_since,
                "limit": limit,
                "offset": offset,
            },
            actor=None,
            region=credential.region,
            who=f"部门接口凭据“{credential.name}”（{credential.key_id}）",
            details={"credential": credential.key_id},
        )
    return page


def _check_source(credential: DepartmentCredential, source: str, *, reading: bool = False) -> None:
    """The department in the address is the credential's own."""
    if source != credential.source:
        label = SOURCE_LABELS.get(credential.source, credential.source)
        said = f"该凭据属于{label}" if reading else f"该凭据只能推送{label}数据"
        path = f"/api/v1/ingest/{credential.source}{'/pairings' if reading else ''}"
        raise NotAllowed(f"{said}（地址应为 {path}）", field="source")


# ---------------------------------------------------------------------------------------------
# The documentation page (/api/v1/docs): rendered on the server (see aixin/api.py)


def docs_page(request: HttpRequest) -> HttpResponse:
    """The push API's documentation for department programmers: addresses, signing, the body,
    every record field (from columns.py), the answer, and the pairing status read-back."""
    return render(
        request,
        "ingest/api_docs.html",
        {
            "fields": record_fields(),
            "sources": list(SOURCE_LABELS.items()),
            "headers": (signing.HEADER_KEY, signing.HEADER_TIMESTAMP, signing.HEADER_SIGNATURE),
            "max_skew": signing.MAX_SKEW_SECONDS,
            "max_records": MAX_PUSH_RECORDS,
            "max_mb": signing.MAX_BODY_BYTES // (1024 * 1024),
        },
    )
