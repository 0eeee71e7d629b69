"""``ChunkStore``: the memory's text chunks in a DeepLake dataset, with BM25 and vector indexes.

One row per chunk: ``id`` (stable key, e.g. ``run:<run id>`` or a content hash),
``digest`` (sha256 of what was embedded: an unchanged chunk is never rewritten), ``kind``
(``run``, ``finding``, ``turn``, ``note``…), ``text`` (BM25-indexed), ``source`` (JSON:
run id, session and turn, file and line), ``subject`` (what the chunk is about),
``valid_at``/``invalid_at`` (ISO dates; ``invalid_at`` is empty while the chunk holds)
and ``embedding``. The dataset's metadata records the embedder identity: opening it with
another embedder is refused, so vectors of two models never mix.

Writes hold ``<dataset>.lock`` and end with one commit, so a writer killed part-way
leaves the previous commit intact (uncommitted rows are dropped by DeepLake) and two
processes never commit over each other.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from caramba.memory.embedder import Embedder
from caramba.memory.errors import MemoryUnavailable

TEXT_COLUMNS = ("id", "digest", "kind", "source", "subject", "valid_at", "invalid_at")


@dataclass
class Chunk:
    """One piece of text to remember, and where it came from."""

    id: str
    kind: str
    text: str
    source: dict[str, Any]
    subject: str = ""
    valid_at: str = ""
    invalid_at: str = ""
    digest: str = field(default="")

    def __post_init__(self) -> None:
        import hashlib

        if not self.digest:
            self.digest = hashlib.sha256(self.text.encode()).hexdigest()[:24]


class ChunkStore:
    """The chunk dataset at ``location`` (a folder or an object-store URL)."""

    def __init__(self, location: str, embedder: Embedder, check: bool = True) -> None:
        """Open (or create) the dataset; refuse it if it was built with another embedder (unless not ``check``)."""
        self.location = location
        self.url = location if "://" in location else f"file://{Path(location).resolve()}"
        self.embedder = embedder
        self._lexical: tuple[tuple[str, int], tuple[Any, Any, list[dict[str, Any]]]] | None = None  # see bm25()
        self._lock_path = Path(location).with_name(Path(location).name + ".lock") if "://" not in location else None
        with self._locked():
            self.ds = self._open()
        if check:
            self._check_embedder()

    def _open(self, url: str | None = None) -> Any:
        import deeplake
        from deeplake import types

        url = url or self.url
        if deeplake.exists(url):
            return deeplake.open(url)
        ds = deeplake.create(url)
        for name in TEXT_COLUMNS:
            ds.add_column(name, types.Text())
        ds.add_column("text", types.Text(types.BM25))
        ds.add_column("embedding", types.Embedding(self.embedder.dim))
        ds.metadata["embedder"] = self.embedder.identity
        ds.commit("caramba memory: created")
        return ds

    def _check_embedder(self) -> None:
        built = self.ds.metadata["embedder"]
        if built != self.embedder.identity:
            raise MemoryUnavailable(
                f"the memory chunks at {self.location} were embedded with {built}, but the configured embedder is "
                f"{self.embedder.identity}; run `caramba memory sync --reembed` to re-embed them all, or set "
                "memory.embedder back in caramba.yml")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock_path is None:
            yield
            return
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def reembed(self) -> int:
        """Rebuild the dataset with this store's embedder (every chunk re-embedded); return the chunk count.

        The new dataset is written beside the old one and swapped in by renaming, so a
        crash leaves the old dataset whole. Object-store datasets are refused.
        """
        import shutil

        if "://" in self.location:
            raise MemoryUnavailable(f"re-embedding {self.location} in place is not supported; point memory.deeplake at a "
                                    "new location and run `caramba memory sync` (notes and transcripts must be re-added)")
        folder = Path(self.location).resolve()
        fresh, old = folder.with_name(folder.name + ".reembed"), folder.with_name(folder.name + ".old")
        with self._locked():
            self.ds.refresh()
            rows = self.rows()
            shutil.rmtree(fresh, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)
            ds = self._open(f"file://{fresh}")
            if rows:
                ds.append({**{name: [self._column(Chunk(**r), name) for r in rows] for name in (*TEXT_COLUMNS, "text")},
                           "embedding": self.embedder.embed([r["text"] for r in rows])})
                ds.commit(f"caramba memory: re-embedded with {self.embedder.identity}")
            folder.rename(old)
            fresh.rename(folder)
            shutil.rmtree(old)
            self.ds = self._open()
        return len(rows)

    def __len__(self) -> int:
        """The number of chunks."""
        return len(self.ds)

    def upsert(self, chunks: list[Chunk], message: str) -> int:
        """Write ``chunks`` (new ids appended, changed ones updated, unchanged skipped); one commit.

        Returns how many chunks were written.
        """
        with self._locked():
            self.ds.refresh()
            ids = list(self.ds["id"][:])
            hashes = list(self.ds["digest"][:])
            row_of = {key: row for row, key in enumerate(ids)}
            unique = list({chunk.id: chunk for chunk in chunks}.values())
            fresh = [c for c in unique if c.id not in row_of]
            changed = [c for c in unique if c.id in row_of and (hashes[row_of[c.id]] != c.digest or self._meta_differs(row_of[c.id], c))]
            to_embed = [c for c in fresh + changed if c.id not in row_of or hashes[row_of[c.id]] != c.digest]
            vectors = dict(zip((c.id for c in to_embed), self.embedder.embed([c.text for c in to_embed])))
            if fresh:
                self.ds.append({**{name: [self._column(c, name) for c in fresh] for name in (*TEXT_COLUMNS, "text")},
                                "embedding": np.stack([vectors[c.id] for c in fresh])})
            for chunk in changed:
                row = row_of[chunk.id]
                for name in (*TEXT_COLUMNS, "text"):
                    self.ds[name][row] = self._column(chunk, name)
                if chunk.id in vectors:
                    self.ds["embedding"][row] = vectors[chunk.id]
            if fresh or changed:
                self.ds.commit(message)
            return len(fresh) + len(changed)

    def _meta_differs(self, row: int, chunk: Chunk) -> bool:
        return ((self.ds["invalid_at"][row] or "") != chunk.invalid_at or (self.ds["valid_at"][row] or "") != chunk.valid_at
                or (self.ds["source"][row] or "") != self._column(chunk, "source"))

    @staticmethod
    def _column(chunk: Chunk, name: str) -> str:
        value = getattr(chunk, name)
        return json.dumps(value, sort_keys=True) if name == "source" else str(value)

    def refresh(self) -> None:
        """See what other processes committed since this one opened the dataset."""
        self.ds.refresh()

    def hashes(self) -> dict[str, str]:
        """``{chunk id: content hash}`` of every stored chunk."""
        return dict(zip(self.ds["id"][:], self.ds["digest"][:]))

    def rows(self, where: str | None = None) -> list[dict[str, Any]]:
        """Every chunk (optionally matching a TQL ``WHERE`` clause), without embeddings."""
        columns = ", ".join((*TEXT_COLUMNS, "text"))
        view = self.ds.query(f"SELECT {columns}" + (f" WHERE {where}" if where else ""))
        return [self._row(row) for row in view]

    def bm25(self, query: str, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` chunks whose text best matches ``query`` by BM25 (score descending).

        Answered by an in-process ``bm25s`` index of the chunk texts (about 1 ms a query,
        against ~100 ms for DeepLake's own BM25 query), rebuilt when the dataset's version
        or row count changes, so a commit by another process is seen after :meth:`refresh`.
        Chunks matching no query word are left out.
        """
        if not len(self.ds):
            return []
        tokenizer, index, rows = self._lexical_index()
        ids = tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)
        found, scores = index.retrieve(ids, k=min(limit, len(rows)), show_progress=False)
        return [{**rows[int(row)], "score": float(score)} for row, score in zip(found[0], scores[0]) if score > 0]

    def _lexical_index(self) -> tuple[Any, Any, list[dict[str, Any]]]:
        """``(tokenizer, BM25 index, rows)`` of the current dataset version, built on first use after a change."""
        import bm25s
        from bm25s.tokenization import Tokenizer

        key = (self.ds.version, len(self.ds))
        if self._lexical is None or self._lexical[0] != key:
            rows = self.rows()
            tokenizer = Tokenizer(stopwords="en")
            index = bm25s.BM25()
            index.index(tokenizer.tokenize([r["text"] for r in rows], update_vocab=True, return_as="ids",
                                           show_progress=False), show_progress=False)
            self._lexical = (key, (tokenizer, index, rows))
        return self._lexical[1]

    def vector(self, vector: np.ndarray, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` chunks nearest to ``vector`` by cosine similarity (descending)."""
        if not len(self.ds):
            return []
        array = "ARRAY[" + ",".join(f"{x:.6f}" for x in vector.tolist()) + "]"
        expr = f"COSINE_SIMILARITY(embedding, {array})"
        return self._scored(f"{expr} AS score ORDER BY {expr} DESC LIMIT {limit}")

    def _scored(self, tail: str) -> list[dict[str, Any]]:
        columns = ", ".join((*TEXT_COLUMNS, "text"))
        view = self.ds.query(f"SELECT {columns}, {tail}")
        return [{**self._row(row), "score": float(row["score"])} for row in view]

    @staticmethod
    def _row(row: Any) -> dict[str, Any]:
        out = {name: row[name] or "" for name in (*TEXT_COLUMNS, "text")}  # DeepLake reads "" back as None
        out["source"] = json.loads(out["source"]) if out["source"] else {}
        return out
