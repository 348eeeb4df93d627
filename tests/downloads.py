"""Downloading an export in a test: every export of personal data asks for an archive password
(aixin.audit.exports) and answers an AES-256 zip holding the workbook."""

from __future__ import annotations

import io
from typing import Any

import pyzipper

PASSWORD = "Test-export-2025"


def post_export(client: Any, url: str) -> Any:
    """The export at `url` (its filters in the query string), with the archive password set."""
    return client.post(url, {"password": PASSWORD, "password_confirm": PASSWORD})


def workbook_in(response: Any) -> bytes:
    """The .xlsx inside an export's encrypted zip."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/zip"
    with pyzipper.AESZipFile(io.BytesIO(response.content)) as archive:
        archive.setpassword(PASSWORD.encode())
        (name,) = archive.namelist()
        assert name.endswith(".xlsx")
        return bytes(archive.read(name))
