"""Packaging an export (framework-free): the watermark line, the password-protected archive for
files with personal data, and the download response.

The policy — who may export what, the audit event, when a password is asked for — lives in
aixin.audit.exports, the one path every export takes. Cells are neutralised by the workbook
writers themselves (aixin.lib.excel.neutralise, used by aixin.lib.xlsx_stream too).
"""

from __future__ import annotations

import datetime
import io
import string
from urllib.parse import quote

import pyzipper
from django.http import HttpResponse
from django.views.decorators.debug import sensitive_variables

ZIP_TYPE = "application/zip"
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
# Unzip programs disagree on how to encode a non-ASCII password (7-Zip, WinRAR and Bandizip
# each have their own idea), so an archive password is printable ASCII: letters, digits, symbols.
PASSWORD_CHARACTERS = frozenset(string.ascii_letters + string.digits + string.punctuation)


def watermark(*, who: str, role: str, region: str, at: datetime.datetime) -> str:
    """The line under an export's title: who exported it, as what, where and when."""
    return f"导出人：{who}（{role}，{region}） 导出时间：{at:%Y-%m-%d %H:%M}  仅限工作使用，请勿外传"


@sensitive_variables("password")
def encrypted_zip(*, name: str, content: bytes, password: str) -> bytes:
    """A zip archive holding one file, encrypted with AES-256 (WinZip AE-2, opened by 7-Zip,
    WinRAR, Bandizip and macOS's Archive Utility; not by Windows Explorer's built-in zip)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError("archive password too short")
    buf = io.BytesIO()
    with pyzipper.AESZipFile(
        buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.encode("ascii"))
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        archive.writestr(name, content)
    return buf.getvalue()


def attachment_response(content: bytes, *, filename: str, ascii_name: str, content_type: str) -> HttpResponse:
    """A download: the Chinese file name for browsers that read RFC 5987, an ASCII one for the
    rest, and never cached (exports hold personal data)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response["Cache-Control"] = "no-store"
    return response
