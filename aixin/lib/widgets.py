"""Form widgets shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms

ISO_DATE_FORMAT = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """A browser date picker. `<input type="date">` accepts only ISO yyyy-mm-dd, so the value is
    always written that way, whatever the active language's DATE_INPUT_FORMATS (zh-hans: 2026/11/29,
    which Chromium rejects and shows an empty field)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATE_FORMAT)
