"""``caramba data prepare``: tokenise local text into a ``.npy`` token file for ``dataset.tokens``.

Input is one text file or a folder (every ``.txt``/``.md``/``.rst``/``.jsonl`` file under
it, sorted, read as plain text). Files are encoded in chunks of lines and streamed to a
temporary raw file, so memory stays flat; the ``.npy`` is then assembled next to the
output and renamed into place (atomic: a crash never leaves a half-written token file).
Ids are stored as ``uint16`` when the vocabulary fits, ``uint32`` otherwise.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from caramba.engine.data.tokenizers import Tokenizer

TEXT_SUFFIXES = (".txt", ".md", ".rst", ".jsonl", ".text")
CHUNK_BYTES = 1 << 20


def text_files(source: Path) -> list[Path]:
    """The files to read: ``source`` itself, or the text files under a folder (sorted)."""
    if source.is_file():
        return [source]
    if source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES)
        if files:
            return files
        raise FileNotFoundError(f"{source} holds no text files ({', '.join(TEXT_SUFFIXES)})")
    raise FileNotFoundError(f"{source} does not exist; give a text file or a folder of text files")


def _chunks(path: Path) -> list[str]:
    """The file as ~1 MiB pieces cut at line ends (tokens never straddle a cut mid-line)."""
    pieces, current, size = [], [], 0
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            current.append(line)
            size += len(line)
            if size >= CHUNK_BYTES:
                pieces.append("".join(current))
                current, size = [], 0
    if current:
        pieces.append("".join(current))
    return pieces


def prepare(source: Path, out: Path, tokenizer: Tokenizer,
            progress: Callable[[int, int], None] | None = None) -> dict[str, object]:
    """Tokenise ``source`` into ``out`` (.npy); ``progress(bytes_done, bytes_total)`` after each chunk.

    Returns a summary: tokens, files, bytes, dtype and vocabulary size.
    """
    if out.suffix != ".npy":
        raise ValueError(f"--out {out}: the token file must end in .npy (it records its own dtype)")
    files = text_files(source)
    total = sum(f.stat().st_size for f in files)
    dtype = np.uint16 if tokenizer.vocab_size <= 1 << 16 else np.uint32
    out.parent.mkdir(parents=True, exist_ok=True)
    done, count = 0, 0
    raw_fd, raw_path = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".raw", dir=out.parent)
    final_fd, final_path = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(raw_fd, "wb") as raw:
            for path in files:
                for piece in _chunks(path):
                    ids = np.asarray(tokenizer.encode(piece), dtype=np.int64)
                    if ids.size and (ids.min() < 0 or ids.max() >= tokenizer.vocab_size):
                        raise ValueError(f"{path}: tokenizer produced ids outside [0, {tokenizer.vocab_size})")
                    raw.write(ids.astype(dtype).tobytes())
                    count += int(ids.size)
                    done += len(piece.encode("utf-8"))
                    if progress is not None:
                        progress(min(done, total), total)
        with os.fdopen(final_fd, "wb") as final, open(raw_path, "rb") as raw:
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": (count,)}
            np.lib.format.write_array_header_1_0(final, header)
            shutil.copyfileobj(raw, final, length=CHUNK_BYTES)
            final.flush()
            os.fsync(final.fileno())
        os.replace(final_path, out)
    finally:
        Path(raw_path).unlink(missing_ok=True)
        Path(final_path).unlink(missing_ok=True)
    return {"out": str(out), "tokens": count, "files": len(files), "bytes": total,
            "dtype": np.dtype(dtype).name, "vocab_size": tokenizer.vocab_size, "tokenizer": tokenizer.name}
