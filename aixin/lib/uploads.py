"""Uploaded files (children's data): check type, content and size, and name them at random.

Framework-free. A file is accepted only when its extension AND its first bytes (magic number)
agree on one of the allowed kinds, so an .exe renamed .jpg is refused. Stored names are random
(the original name, which may contain a child's name, is never kept on disk). `delete_on_failure`
removes files a failed write already stored, so a rolled-back transaction leaves nothing behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from aixin.lib.errors import InvalidInput

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    ext: str  # canonical extension
    label: str  # as shown to users
    content_type: str
    signatures: tuple[bytes, ...]


KINDS: dict[str, FileKind] = {
    "jpg": FileKind("jpg", "JPG", "image/jpeg", (b"\xff\xd8\xff",)),
    "png": FileKind("png", "PNG", "image/png", (b"\x89PNG\r\n\x1a\n",)),
    "pdf": FileKind("pdf", "PDF", "application/pdf", (b"%PDF-",)),
}
# Other spellings of a canonical extension.
ALIASES = {"jpeg": "jpg", "jpe": "jpg"}

PHOTO_KINDS = frozenset({"jpg", "png"})
EVIDENCE_KINDS = frozenset({"jpg", "png", "pdf"})

_HEAD_BYTES = 16
_NAME_SHOWN = 60


class UploadRejected(InvalidInput):
    """A refused upload; `reason` is "type", "size", "content" or "empty"."""

    def __init__(self, message: str, *, reason: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.reason = reason


def extension_of(name: str) -> str:
    """The canonical extension of `name` ("" when there is none)."""
    base = os.path.basename(str(name or ""))
    ext = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    return ALIASES.get(ext, ext)


def content_type_for(name: str) -> str | None:
    """The content type a stored file is served with, or None if it is not an allowed kind."""
    kind = KINDS.get(extension_of(name))
    return kind.content_type if kind else None


def random_name(ext: str) -> str:
    """A random file name with the canonical extension, e.g. "3f2a….pdf"."""
    return f"{uuid.uuid4().hex}.{ALIASES.get(ext, ext)}"


def _shown_name(name: str) -> str:
    base = os.path.basename(str(name or "")).strip() or "未命名"
    return base if len(base) <= _NAME_SHOWN else base[: _NAME_SHOWN - 1] + "…"


def _labels(kinds: Iterable[str]) -> str:
    return "、".join(KINDS[k].label for k in KINDS if k in kinds)


def _size(file: Any) -> int:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    pos = file.tell()
    file.seek(0, os.SEEK_END)
    end = int(file.tell())
    file.seek(pos)
    return end


def check_upload(
    file: Any,
    *,
    kinds: set[str] | frozenset[str],
    max_bytes: int = MAX_UPLOAD_BYTES,
    field: str | None = None,
) -> str:
    """Check an uploaded file's extension, size and first bytes; return its canonical extension.

    Raises UploadRejected (an InvalidInput) with a Chinese message naming the file.
    """
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown upload kinds {sorted(unknown)}")
    name = _shown_name(getattr(file, "name", ""))
    ext = extension_of(getattr(file, "name", ""))
    if ext not in kinds:
        raise UploadRejected(f"文件「{name}」不是允许的类型（{_labels(kinds)}）", reason="type", field=field)
    size = _size(file)
    if size > max_bytes:
        mb = max_bytes / (1024 * 1024)
        shown = f"{mb:g}"
        raise UploadRejected(f"文件「{name}」超过 {shown} MB", reason="size", field=field)
    if size == 0:
        raise UploadRejected(f"文件「{name}」是空文件，请重新选择", reason="empty", field=field)
    file.seek(0)
    head = file.read(_HEAD_BYTES)
    file.seek(0)
    if not any(head.startswith(sig) for sig in KINDS[ext].signatures):
        raise UploadRejected(
            f"文件「{name}」的内容不是 {KINDS[ext].label} 格式（可能是改了扩展名的其他文件），请重新选择",
            reason="content",
            field=field,
        )
    return ext


@contextmanager
def delete_on_failure() -> Iterator[list[Any]]:
    """Yield a list; append each stored file (anything with `.storage` and `.name`, such as a
    Django FieldFile) right after storing it. If the block raises, the files are deleted and
    the exception goes on. Enter it OUTSIDE the transaction, so a failed commit is covered too."""
    stored: list[Any] = []
    try:
        yield stored
    except BaseException:
        for f in stored:
            name = getattr(f, "name", "")
            if name:
                with suppress(OSError):
                    f.storage.delete(name)
        raise


__all__ = [
    "EVIDENCE_KINDS",
    "KINDS",
    "MAX_UPLOAD_BYTES",
    "PHOTO_KINDS",
    "FileKind",
    "UploadRejected",
    "check_upload",
    "content_type_for",
    "delete_on_failure",
    "extension_of",
    "random_name",
]
