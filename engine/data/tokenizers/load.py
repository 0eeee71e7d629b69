"""Resolve a tokenizer spec to a local tokenizer, or explain exactly what file is missing.

Specs:

* ``byte`` — the embedded byte-level tokenizer (no files);
* a path to a ``tokenizer.json`` (Hugging Face ``tokenizers`` format, e.g. a Llama or
  GPT-2 checkpoint's), or to a folder holding one;
* ``tiktoken`` / ``gpt2`` — tiktoken's GPT-2 BPE, usable only when tiktoken already has
  its file in its local cache (caramba never downloads it);
* ``llama`` — needs the file: give the path of the model's ``tokenizer.json`` instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Protocol

from caramba.engine.data.tokenizers.byte import ByteTokenizer

GPT2_BLOBS = ("https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/vocab.bpe",
              "https://openaipublic.blob.core.windows.net/gpt-2/encodings/main/encoder.json")


class Tokenizer(Protocol):
    """What caramba needs from a tokenizer."""

    name: str
    vocab_size: int

    def encode(self, text: str) -> list[int]:
        """Text → token ids."""
        ...

    def decode(self, ids: list[int]) -> str:
        """Token ids → text."""
        ...


class TokenizerUnavailable(FileNotFoundError):
    """The tokenizer's files are not on this machine (nothing is downloaded)."""


class JsonTokenizer:
    """A Hugging Face ``tokenizer.json`` (BPE, Unigram, WordPiece …) through ``tokenizers``."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer as HfTokenizer

        self._tok = HfTokenizer.from_file(str(path))
        self.name = str(path)
        self.vocab_size = self._tok.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        """Text → ids, without special tokens (documents are concatenated raw)."""
        return self._tok.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        """Ids → text."""
        return self._tok.decode(ids)


class TiktokenTokenizer:
    """tiktoken's GPT-2 encoding, loaded from tiktoken's local cache only."""

    name = "tiktoken:gpt2"

    def __init__(self) -> None:
        import tiktoken

        self._enc = tiktoken.get_encoding("gpt2")
        self.vocab_size = self._enc.n_vocab

    def encode(self, text: str) -> list[int]:
        """Text → GPT-2 BPE ids (special-token text is encoded as ordinary text)."""
        return self._enc.encode_ordinary(text)

    def decode(self, ids: list[int]) -> str:
        """Ids → text."""
        return self._enc.decode(ids)


def tiktoken_cached() -> bool:
    """True when tiktoken's cache already holds the GPT-2 files (it reads the same folder)."""
    cache = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
                 or Path(tempfile.gettempdir()) / "data-gym-cache")
    return all((cache / hashlib.sha1(url.encode()).hexdigest()).is_file() for url in GPT2_BLOBS)


def load_tokenizer(spec: str, base_dir: Path | None = None) -> Tokenizer:
    """The tokenizer named by ``spec`` (see the module docstring); relative paths resolve against ``base_dir``."""
    if spec == "byte":
        return ByteTokenizer()
    if spec in ("tiktoken", "gpt2"):
        if importlib.util.find_spec("tiktoken") is None:
            raise TokenizerUnavailable("tokenizer 'tiktoken' needs the tiktoken package: pip install tiktoken")
        if not tiktoken_cached():
            raise TokenizerUnavailable(
                "tiktoken's GPT-2 files are not in its local cache and caramba does not download; on a machine with "
                "network run `python -c \"import tiktoken; tiktoken.get_encoding('gpt2')\"` once (or copy the cache, "
                "TIKTOKEN_CACHE_DIR), or give the path of a GPT-2 tokenizer.json, or use tokenizer: byte")
        return TiktokenTokenizer()
    if spec == "llama":
        raise TokenizerUnavailable("tokenizer 'llama' needs the model's files: give the path of its tokenizer.json "
                                   "(e.g. tokenizer: ./Llama-3.2-1B/tokenizer.json), or use tokenizer: byte")
    path = Path(spec)  # `~` is not expanded (workspace paths, engine/manifest/paths.py)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise TokenizerUnavailable(f"tokenizer {spec!r}: no file at {path}; use byte, tiktoken (cached), or a local "
                                   "tokenizer.json path")
    if path.suffix == ".model":
        raise TokenizerUnavailable(f"{path}: SentencePiece .model files are not read directly; use the tokenizer.json "
                                   "next to it (Hugging Face checkpoints ship one)")
    return JsonTokenizer(path)
