"""The sealed container: whatever goes in comes out, and any change to the file is refused."""

from __future__ import annotations

import io
import os
import struct

import pytest

from aixin.ops.sealed import HEADER_SIZE, WRONG_KEY, BackupUnreadable, SealedReader, SealedWriter

KEY = bytes(range(32))
PREFIX = struct.Struct(">BI")


def seal(lines: list[bytes], *, chunk_bytes: int = 64, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    writer = SealedWriter(out, key=key, chunk_bytes=chunk_bytes)
    for line in lines:
        writer.write(line)
    writer.close()
    return out.getvalue()


def unseal(data: bytes, *, key: bytes = KEY) -> list[bytes]:
    return list(SealedReader(io.BytesIO(data), key=key).lines())


def chunk_spans(data: bytes) -> list[tuple[int, int]]:
    spans, at = [], HEADER_SIZE
    while at < len(data):
        _flag, length = PREFIX.unpack_from(data, at)
        end = at + PREFIX.size + 12 + length
        spans.append((at, end))
        at = end
    return spans


# Random bytes do not compress: several chunks for a few kilobytes.
LINES = [os.urandom(40).hex().encode() + b"\n" for _ in range(60)]


def test_what_is_sealed_comes_back_line_by_line():
    data = seal(LINES)
    assert len(chunk_spans(data)) > 3
    assert unseal(data) == LINES


def test_the_key_is_not_in_the_file():
    assert KEY not in seal(LINES)


def test_an_empty_stream_is_one_final_chunk():
    data = seal([])
    assert len(chunk_spans(data)) == 1
    assert unseal(data) == []


def test_a_wrong_key_is_refused_with_the_wrong_key_message():
    with pytest.raises(BackupUnreadable) as exc:
        unseal(seal(LINES), key=bytes(32))
    assert exc.value.message == WRONG_KEY


@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_one_changed_byte_in_any_chunk_is_refused(which):
    data = bytearray(seal(LINES))
    spans = chunk_spans(bytes(data))
    _start, end = {"first": spans[0], "middle": spans[len(spans) // 2], "last": spans[-1]}[which]
    data[end - 5] ^= 0x01
    with pytest.raises(BackupUnreadable):
        unseal(bytes(data))


def test_a_file_cut_after_any_whole_chunk_is_refused_as_incomplete():
    data = seal(LINES)
    for _start, end in chunk_spans(data)[:-1]:
        with pytest.raises(BackupUnreadable, match="不完整"):
            unseal(data[:end])


def test_a_file_cut_inside_a_chunk_is_refused():
    data = seal(LINES)
    with pytest.raises(BackupUnreadable, match="不完整"):
        unseal(data[:-3])


def test_a_dropped_chunk_is_refused():
    data = seal(LINES)
    spans = chunk_spans(data)
    start, end = spans[1]
    with pytest.raises(BackupUnreadable):
        unseal(data[:start] + data[end:])


def test_swapped_chunks_are_refused():
    data = seal(LINES)
    (a0, a1), (b0, b1) = chunk_spans(data)[1:3]
    with pytest.raises(BackupUnreadable):
        unseal(data[:a0] + data[b0:b1] + data[a0:a1] + data[b1:])


def test_a_chunk_from_another_backup_is_refused():
    mine, other = seal(LINES), seal(LINES)
    (m0, m1), (o0, o1) = chunk_spans(mine)[1], chunk_spans(other)[1]
    with pytest.raises(BackupUnreadable):
        unseal(mine[:m0] + other[o0:o1] + mine[m1:])


def test_bytes_after_the_final_chunk_are_refused():
    with pytest.raises(BackupUnreadable, match="多余"):
        unseal(seal(LINES) + b"\0")


def test_a_file_that_is_not_a_backup_is_refused():
    with pytest.raises(BackupUnreadable, match="不是"):
        unseal(b"SQLite format 3\0" + bytes(100))


def test_a_cut_file_whose_last_chunk_is_relabelled_final_is_refused():
    data = bytearray(seal(LINES))
    start, end = chunk_spans(bytes(data))[-2]
    data[start] = 1
    with pytest.raises(BackupUnreadable):
        unseal(bytes(data[:end]))
