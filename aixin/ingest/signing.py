"""Signed requests of the push API (R-4.4).

A department system sends three headers with each request:

    X-Aixin-Key        its credential's key id ("ak_…")
    X-Aixin-Timestamp  the time of signing, in Unix seconds
    X-Aixin-Signature  lower-case hex HMAC-SHA256, keyed with the credential's secret (its text,
                       UTF-8), over  f"{timestamp}.".encode() + raw_body

The server accepts a timestamp within 300 seconds of its own clock, compares signatures in
constant time and refuses a signature it has already seen (IngestNonce), so a captured request
cannot be replayed. `sign()` is the client side, for department developers and tests.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import itertools
import re
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils import timezone

from aixin.accounts.models import Role
from aixin.ingest.credentials import credential_secret
from aixin.ingest.models import DepartmentCredential, IngestNonce
from aixin.lib.errors import DomainError

HEADER_KEY = "X-Aixin-Key"
HEADER_TIMESTAMP = "X-Aixin-Timestamp"
HEADER_SIGNATURE = "X-Aixin-Signature"

MAX_SKEW_SECONDS = 300
MAX_BODY_BYTES = 20 * 1024 * 1024
NONCE_RETENTION = datetime.timedelta(minutes=10)
# Old nonces are purged inline on every PURGE_EVERY-th verified request (per process).
PURGE_EVERY = 100

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_verified = itertools.count(1)


class SignatureRejected(DomainError):
    """The request is not authenticated: 401 with a Chinese message naming the header."""

    status = 401
    code = "unauthorized"


class BodyTooLarge(DomainError):
    status = 413
    code = "too_large"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature of `body` sent at `timestamp` (lower-case hex HMAC-SHA256)."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(*, key_id: str, secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The three headers of a signed request (for clients and tests)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {HEADER_KEY: key_id, HEADER_TIMESTAMP: str(ts), HEADER_SIGNATURE: sign(secret, ts, body)}


def read_body(request: Any) -> bytes:
    """The raw body, at most MAX_BODY_BYTES (413 beyond). Read once and kept on the request.

    Read from the stream rather than `request.body`, whose limit (DATA_UPLOAD_MAX_MEMORY_SIZE)
    is that of forms, smaller than a pushed batch may be."""
    cached = getattr(request, "_aixin_body", None)
    if cached is not None:
        return bytes(cached)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise _too_large()
    try:
        body = request.read(MAX_BODY_BYTES + 1)
    except RawPostDataException:  # already read through request.body (e.g. by a middleware)
        body = request.body
    if len(body) > MAX_BODY_BYTES:
        raise _too_large()
    request._aixin_body = body
    return bytes(body)


def _too_large() -> BodyTooLarge:
    return BodyTooLarge(
        f"请求体超过 {MAX_BODY_BYTES // (1024 * 1024)} MB，请把数据分成多个批次推送（每批最多 5000 条）"
    )


def verify(request: Any) -> DepartmentCredential:
    """The credential that signed `request`, or SignatureRejected (401).

    Headers, key and timestamp are checked before the body is read, so an unsigned caller cannot
    make the server read a large body. A good signature is recorded as used, and the credential's
    last use is updated."""
    headers = request.headers
    key_id = (headers.get(HEADER_KEY) or "").strip()
    timestamp = (headers.get(HEADER_TIMESTAMP) or "").strip()
    signature = (headers.get(HEADER_SIGNATURE) or "").strip().lower()
    missing = [
        name
        for name, value in (
            (HEADER_KEY, key_id),
            (HEADER_TIMESTAMP, timestamp),
            (HEADER_SIGNATURE, signature),
        )
        if not value
    ]
    if missing:
        raise SignatureRejected(
            f"缺少请求头 {'、'.join(missing)}：部门接口的请求须带凭据编号、时间戳和签名",
            field=missing[0],
        )

    credential = DepartmentCredential.objects.filter(key_id=key_id).first()
    if credential is None:
        raise SignatureRejected(f"凭据编号 {key_id[:40]} 不存在，请核对 {HEADER_KEY}", field=HEADER_KEY)
    if credential.revoked_at is not None:
        # Only the system administrator creates and revokes credentials (credentials.py).
        raise SignatureRejected(
            f"凭据 {key_id} 已被吊销，不能再推送数据；请联系本平台的{Role.SYSTEM_ADMIN.label}重新创建凭据",
            field=HEADER_KEY,
        )

    if not _TIMESTAMP.match(timestamp):
        raise SignatureRejected(
            f"{HEADER_TIMESTAMP} 应为 Unix 时间戳（整数秒），例如 {int(time.time())}", field=HEADER_TIMESTAMP
        )
    skew = int(time.time()) - int(timestamp)
    if skew > MAX_SKEW_SECONDS:
        raise SignatureRejected(
            f"请求已过期：时间戳比服务器时间早 {skew} 秒（最多允许 {MAX_SKEW_SECONDS} 秒），"
            "请校准系统时钟后重新签名",
            field=HEADER_TIMESTAMP,
        )
    if -skew > MAX_SKEW_SECONDS:
        raise SignatureRejected(
            f"请求时间戳比服务器时间晚 {-skew} 秒（最多允许 {MAX_SKEW_SECONDS} 秒），"
            "请校准系统时钟后重新签名",
            field=HEADER_TIMESTAMP,
        )

    # A push signs its body; a read (GET) signs its query string, as sent (what follows "?").
    body = read_body(request) if request.method != "GET" else request.META.get("QUERY_STRING", "").encode()
    expected = sign(credential_secret(credential), timestamp, body)
    if not _SIGNATURE.match(signature) or not hmac.compare_digest(expected, signature):
        raise SignatureRejected(
            f"签名不正确：{HEADER_SIGNATURE} 应为以凭据密钥对“时间戳.请求体”（GET 请求为“时间戳.查询字符串”）"
            "计算的 HMAC-SHA256（64位小写十六进制），请确认签名所用的内容与发送的完全一致",
            field=HEADER_SIGNATURE,
        )

    try:
        with transaction.atomic():
            IngestNonce.objects.create(credential=credential, signature=signature)
    except IntegrityError as exc:
        raise SignatureRejected("重复的请求（签名已使用），已拒绝", field=HEADER_SIGNATURE) from exc

    now = timezone.now()
    DepartmentCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
    credential.last_used_at = now
    if next(_verified) % PURGE_EVERY == 0:
        purge_nonces(now=now)
    return credential


def purge_nonces(*, now: datetime.datetime | None = None) -> int:
    """Forget signatures older than NONCE_RETENTION (their timestamps are refused anyway)."""
    cutoff = (now or timezone.now()) - NONCE_RETENTION
    deleted, _ = IngestNonce.objects.filter(created_at__lt=cutoff).delete()
    return deleted
