"""Helpers of the tests that migrate back and forth (data migrations)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings

# A migration test: a transactional test on SQLite (it ends with a flush, and PostgreSQL refuses
# to TRUNCATE the append-only audit log).
migration_test = pytest.mark.skipif(
    "postgresql" in settings.DATABASES["default"]["ENGINE"],
    reason="a transactional test ends with a flush, and PostgreSQL refuses to TRUNCATE the audit log",
)


def old_child(model: Any, village: Any, n: int, **fields: Any) -> int:
    """A child made through a historical model of the registry (the fields every version has,
    `fields` added or instead); its pk."""
    values = {
        "name": f"王小花{n}",
        "name_pinyin": "wangxiaohua wxh",
        "id_number_encrypted": "x",
        "id_number_index": f"i{n}",
        "id_number_masked": "5001**",
        "birth_date": datetime.date(2015, 1, 1),
        "sex": "F",
        "region_id": village.pk,
        "town_id": village.pk,
        "district_id": village.pk,
        "derived_tier": "group",
        "care_tier": "group",
    }
    return model.objects.create(**{**values, **fields}).pk
