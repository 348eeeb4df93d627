"""The shared date picker: browsers accept only yyyy-mm-dd in <input type="date">."""

from __future__ import annotations

import datetime

from django.utils import translation

from aixin.lib.widgets import IsoDateInput


def test_a_date_picker_shows_its_date_as_yyyy_mm_dd_in_chinese():
    with translation.override("zh-hans"):
        html = IsoDateInput().render("on", datetime.date(2026, 11, 29))
    assert 'type="date"' in html
    assert 'value="2026-11-29"' in html
