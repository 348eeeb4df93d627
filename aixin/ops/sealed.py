"""The encrypted container of a backup: a compressed byte stream sealed in AES-256-GCM chunks.

Framework-free. Layout:

    header  = MAGIC (8) | format version (1) | file id (16 random bytes)
    chunk   = final flag (1) | ciphertext length (4, big-endian) | nonce (12) | ciphertext + tag

Each file gets its own key, derived from the backup key and the file id with HKDF, so random
nonces never meet across files. Every chunk is authenticated together with the header, its
number and its final flag: a chunk cannot be changed, moved to another file, reordered or
dropped, and a file cut short (no final chunk) or with bytes after the final chunk is refused.
The key itself is never written.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from aixin.lib.errors import InvalidInput

MAGIC = b"AIXINBAK"
VERSION = 1
HEADER_SIZE = len(MAGIC) + 1 + 16
CHUNK_BYTES = 1024 * 1024  # plaintext (compressed) bytes per chunk
_MAX_SEALED = CHUNK_BYTES + 16
_PREFIX = struct.Struct(">BI")  # final flag, ciphertext length
_NONCE = 12

WRONG_KEY = "备份文件无法解密：密钥不对或文件已损坏"


class BackupUnreadable(InvalidInput):
    """The file is not a backup, is damaged, cut short, or sealed under another key."""


def _file_key(key: bytes, file_id: bytes) -> AESGCM:
    if len(key) != 32:
        raise ValueError("the backup key must be 32 bytes")
    derived = HKDF(algorithm=SHA256(), length=32, salt=file_id, info=b"aixin-backup-v1").derive(key)
    return AESGCM(derived)


def _aad(header: bytes, number: int, final: bool) -> bytes:
    return header + number.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


class SealedWriter:
    """Compress and seal what is written to it; `close()` writes the final chunk."""

    def __init__(self, raw: BinaryIO, *, key: bytes, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._raw = raw
        self._header = MAGIC + bytes([VERSION]) + os.urandom(16)
        self._aead = _file_key(key, self._header[-16:])
        self._zip = zlib.compressobj(6)
        self._buffer = bytearray()
        self._chunk_bytes = min(chunk_bytes, CHUNK_BYTES)
        self._number = 0
        self.bytes_in = 0
        raw.write(self._header)

    def write(self, data: bytes) -> None:
        self.bytes_in += len(data)
        self._buffer += self._zip.compress(data)
        while len(self._buffer) >= self._chunk_bytes:
            self._seal(bytes(self._buffer[: self._chunk_bytes]), final=False)
            del self._buffer[: self._chunk_bytes]

    def close(self) -> None:
        self._buffer += self._zip.flush()
        while len(self._buffer) > self._chunk_bytes:
            self._seal(bytes(self._buffer[: self._chunk_bytes]), final=False)
            del self._buffer[: self._chunk_bytes]
        self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()

    def _seal(self, plaintext: bytes, *, final: bool) -> None:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext, _aad(self._header, self._number, final))
        self._raw.write(_PREFIX.pack(1 if final else 0, len(sealed)) + nonce + sealed)
        self._number += 1


class SealedReader:
    """Open, check and decompress a sealed stream; `lines()` yields it line by line."""

    def __init__(self, raw: BinaryIO, *, key: bytes) -> None:
        self._raw = raw
        header = raw.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE or not header.startswith(MAGIC):
            raise BackupUnreadable("这不是爱心平台的备份文件（文件头不对）")
        if header[len(MAGIC)] != VERSION:
            raise BackupUnreadable(
                f"备份文件格式版本 {header[len(MAGIC)]} 不受支持（本程序读取版本 {VERSION}），"
                "请用生成它的程序版本恢复"
            )
        self._header = header
        self._aead = _file_key(key, header[-16:])
        self.chunks = 0

    def chunks_plain(self) -> Iterator[bytes]:
        """The decrypted chunks in order; raises BackupUnreadable on any damage."""
        number = 0
        while True:
            prefix = self._raw.read(_PREFIX.size)
            if len(prefix) < _PREFIX.size:
                raise BackupUnreadable("备份文件不完整：文件在结尾之前就断了（可能复制或写入时被中断）")
            flag, length = _PREFIX.unpack(prefix)
            if flag not in (0, 1) or length < 16 or length > _MAX_SEALED:
                raise BackupUnreadable(_damaged(number))
            body = self._raw.read(_NONCE + length)
            if len(body) < _NONCE + length:
                raise BackupUnreadable("备份文件不完整：文件在结尾之前就断了（可能复制或写入时被中断）")
            try:
                plain = self._aead.decrypt(
                    body[:_NONCE], body[_NONCE:], _aad(self._header, number, flag == 1)
                )
            except InvalidTag:
                raise BackupUnreadable(WRONG_KEY if number == 0 else _damaged(number)) from None
            number += 1
            self.chunks = number
            yield plain
            if flag == 1:
                if self._raw.read(1):
                    raise BackupUnreadable("备份文件已损坏：结尾之后还有多余的数据")
                return

    def lines(self) -> Iterator[bytes]:
        """The decompressed stream split into lines, each with its trailing newline."""
        unzip = zlib.decompressobj()
        pending = b""
        for plain in self.chunks_plain():
            try:
                data = unzip.decompress(plain)
            except zlib.error:
                raise BackupUnreadable(_damaged(self.chunks - 1)) from None
            pending += data
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line + b"\n"
        pending += unzip.flush()
        if not unzip.eof or pending:
            raise BackupUnreadable("备份文件已损坏：数据流没有正常结束")


def _damaged(number: int) -> str:
    return f"备份文件已损坏或被改动（第 {number + 1} 块校验不通过），不能用于恢复"
