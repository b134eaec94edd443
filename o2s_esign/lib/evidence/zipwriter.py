"""The ZIP writer of the evidence file: stored entries, append-only, reproducible bytes."""

from __future__ import annotations

import hashlib
import struct
import zlib
from datetime import datetime
from typing import BinaryIO

from ..errors import EvidenceError
from .inputs import Source

CHUNK = 1 << 20


def _open_source(source: Source) -> BinaryIO:
    if callable(source):
        stream = source()
        if stream is None:
            raise EvidenceError("document_missing", {"document": repr(source)})
        return stream
    return open(source, "rb")


_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_ZIP_VERSION = 20                       # version needed to extract (and made by, with Unix)
_ZIP_MADE_BY = (3 << 8) | _ZIP_VERSION  # Unix
_ZIP_ATTR = 0o100644 << 16              # regular file, rw-r--r--
_ZIP_LIMIT = 0xFFFFFFFF


class _ZipBuilder:
    """Minimal ZIP writer: stored entries (no compression), sizes and CRC in the local headers
    (no data descriptors, no seeking), ASCII names, fixed attributes and one date for all
    entries. So the archive is append-only, the same inputs give the same bytes on any machine,
    every reader accepts it, and every byte is either a header field that verify.py cross-checks
    or content that it hashes (compressed streams would let some bits go unchecked)."""

    def __init__(self, out: BinaryIO, moment: datetime):
        self.out = out
        self.sha = hashlib.sha256()
        self.pos = 0
        self.date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
        self.time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
        self.central: list[bytes] = []
        self.files: dict[str, str] = {}
        self.names: set[str] = set()

    def _write(self, data: bytes):
        self.out.write(data)
        self.sha.update(data)
        self.pos += len(data)

    def _header(self, name: str, crc: int, size: int):
        if name in self.names:
            raise EvidenceError("duplicate_entry", {"name": name})
        if size > _ZIP_LIMIT or self.pos > _ZIP_LIMIT or len(self.names) >= 0xFFFF:
            raise EvidenceError("too_large", {"name": name, "size": size})
        self.names.add(name)
        raw = name.encode("ascii")
        self.central.append(_CENTRAL.pack(
            0x02014B50, _ZIP_MADE_BY, _ZIP_VERSION, 0, 0, self.time, self.date, crc, size, size,
            len(raw), 0, 0, 0, 0, _ZIP_ATTR, self.pos) + raw)
        self._write(_LOCAL.pack(0x04034B50, _ZIP_VERSION, 0, 0, self.time, self.date, crc, size,
                                size, len(raw), 0) + raw)

    def add_bytes(self, name: str, data: bytes, *, listed: bool = True) -> str:
        data = bytes(data)
        self._header(name, zlib.crc32(data), len(data))
        self._write(data)
        digest = hashlib.sha256(data).hexdigest()
        if listed:
            self.files[name] = digest
        return digest

    def add_source(self, name: str, source: Source, *, document: str,
                   prefix_size: int | None = None) -> tuple[str, int, str | None]:
        """Copy a document in 1 MiB chunks, reading it twice (first for its size and CRC, which
        the local header needs, then to copy it; both passes must agree). Returns (sha256,
        size, sha256 of the first ``prefix_size`` bytes or None if it is shorter)."""
        crc, size, digest = 0, 0, hashlib.sha256()
        prefix = hashlib.sha256() if prefix_size is not None else None
        with _open_source(source) as stream:
            while chunk := stream.read(CHUNK):
                if prefix is not None and size < prefix_size:
                    prefix.update(chunk[:prefix_size - size])
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                digest.update(chunk)
        self._header(name, crc, size)
        copied, again = 0, hashlib.sha256()
        with _open_source(source) as stream:
            while copied < size and (chunk := stream.read(min(CHUNK, size - copied))):
                again.update(chunk)
                copied += len(chunk)
                self._write(chunk)
            grew = bool(stream.read(1))
        if grew or copied != size or again.digest() != digest.digest():
            raise EvidenceError("document_changed", {"document": document})
        self.files[name] = digest.hexdigest()
        prefix_hex = prefix.hexdigest() if prefix is not None and size >= prefix_size else None
        return self.files[name], size, prefix_hex

    def abort(self):
        """Give up: no central directory is written (the partial output is not a ZIP)."""
        self.central = []

    def close(self) -> tuple[str, int]:
        directory = b"".join(self.central)
        offset = self.pos
        if offset > _ZIP_LIMIT:
            raise EvidenceError("too_large", {"name": "(archive)", "size": offset})
        self._write(directory)
        self._write(_EOCD.pack(0x06054B50, 0, 0, len(self.central), len(self.central),
                               len(directory), offset, 0))
        flush = getattr(self.out, "flush", None)
        if flush:
            flush()
        return self.sha.hexdigest(), self.pos
