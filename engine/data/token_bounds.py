"""What a token file holds, read cheaply for validation: its length and its vocabulary bound.

``describe(path, dtype)`` reads a ``.npy`` header (or a raw ``.bin`` file's size and the
manifest's ``dtype``) without importing NumPy, and returns the number of tokens and an
exclusive upper bound on the ids. The bound is the element type's range when that already
fits the model; otherwise (:func:`scan`) the file is scanned once for its largest id, in
chunks through a memory map, and the answer is cached in the workspace
(``.caramba/cache/token_bounds.json``, keyed by path, size and modification time) so
that a second validation reads one small JSON file instead.
"""

from __future__ import annotations

import ast
import json
import struct
from dataclasses import dataclass
from pathlib import Path

NPY_MAGIC = b"\x93NUMPY"
ITEMSIZE = {"u1": 1, "u2": 2, "u4": 4, "u8": 8, "i1": 1, "i2": 2, "i4": 4, "i8": 8}
BIN_CODES = {"uint16": "u2", "uint32": "u4", "int32": "i4", "int64": "i8"}
CHUNK = 1 << 24


class TokenFileError(ValueError):
    """The file is not a 1-D integer token array (the message says why and how to fix it)."""


@dataclass(frozen=True)
class TokenFile:
    """A token file's element type (NumPy code such as ``u2``), length and data offset."""

    path: Path
    code: str
    count: int
    offset: int

    @property
    def type_bound(self) -> int:
        """The exclusive upper bound the element type allows (``u2``: 65536)."""
        return 1 << (8 * ITEMSIZE[self.code] - (self.code[0] == "i"))


def describe(path: Path, dtype: str | None) -> TokenFile:
    """Read the header of a ``.npy`` file, or size a ``.bin`` file of ``dtype`` (default uint16)."""
    if path.suffix != ".npy":
        code = BIN_CODES.get(dtype or "uint16")
        if code is None:
            raise TokenFileError(f"dtype {dtype!r} is not one of {', '.join(BIN_CODES)}")
        return TokenFile(path, code, path.stat().st_size // ITEMSIZE[code], 0)
    with path.open("rb") as handle:
        head = handle.read(10)
        if not head.startswith(NPY_MAGIC) or len(head) < 10:
            raise TokenFileError("not a .npy file (no NumPy header); write it with numpy.save or `caramba data prepare`")
        if head[6] == 1:
            size, start = struct.unpack("<H", head[8:10])[0], 10
        else:
            size, start = struct.unpack("<I", head[8:10] + handle.read(2))[0], 12
        try:
            header = ast.literal_eval(handle.read(size).decode("latin-1"))
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            raise TokenFileError(f"unreadable .npy header ({type(exc).__name__})") from None
    descr, shape = str(header.get("descr", "")), header.get("shape")
    code = descr.lstrip("<|=")
    if code not in ITEMSIZE or descr.startswith(">"):
        raise TokenFileError(f"element type {descr!r} is not a little-endian integer type; save token ids as uint16 or uint32")
    if not isinstance(shape, tuple) or len(shape) != 1:
        raise TokenFileError(f"expected a 1-D array of token ids, got shape {shape}; flatten it before saving")
    return TokenFile(path, code, int(shape[0]), start + size)


def scan(token_file: TokenFile, cache_dir: Path | None) -> int:
    """The exclusive bound ``max id + 1`` (cached in ``cache_dir`` when given)."""
    stat = token_file.path.stat()
    key = f"{token_file.path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = cache_dir / "token_bounds.json" if cache_dir is not None else None
    cached = _read(cache_file)
    if key in cached:
        return int(cached[key])
    import numpy as np

    ids = np.memmap(token_file.path, dtype=np.dtype(token_file.code).newbyteorder("<"), mode="r",
                    offset=token_file.offset, shape=(token_file.count,))
    bound = max((int(ids[i:i + CHUNK].max()) + 1 for i in range(0, token_file.count, CHUNK)), default=0)
    if cache_file is not None:
        cached[key] = bound
        try:
            _write(cache_file, cached)
        except OSError:
            pass  # a read-only workspace: the file is scanned again next time, which is only slower
    return bound


def _read(cache_file: Path | None) -> dict[str, int]:
    if cache_file is None or not cache_file.is_file():
        return {}
    try:
        data = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        return {}  # a damaged cache is rebuilt, never trusted
    return data if isinstance(data, dict) else {}


def _write(cache_file: Path, data: dict[str, int]) -> None:
    """Atomic replace, so concurrent validations never read half a file."""
    from caramba.engine.store.atomic import write_text

    write_text(cache_file, json.dumps(data))  # a unique temporary per call: concurrent threads never share one
