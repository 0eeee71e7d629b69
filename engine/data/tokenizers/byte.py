"""The embedded byte-level tokenizer: UTF-8 bytes are the token ids (vocabulary 256).

No files, no training, lossless on any text — the default for local experiments and
the synthetic-text tests. Decoding replaces invalid UTF-8 sequences (a model may emit
them) with U+FFFD instead of failing.
"""

from __future__ import annotations


class ByteTokenizer:
    """``encode(text) -> list[int]`` over UTF-8 bytes; ``vocab_size == 256``."""

    name = "byte"
    vocab_size = 256

    def encode(self, text: str) -> list[int]:
        """UTF-8 bytes of ``text``."""
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int]) -> str:
        """Bytes back to text (invalid sequences become U+FFFD)."""
        return bytes(i for i in ids if 0 <= i < 256).decode("utf-8", errors="replace")
