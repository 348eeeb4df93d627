"""Helpers for the region tests: CSV text in the loader's format."""

from __future__ import annotations

HEADER = "code,name,level,parent_code,valid_from,valid_to"


def csv_bytes(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode(encoding)
