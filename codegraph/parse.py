"""Parse Python files into ``FileFacts``, in this process or in a pool of worker processes.

A file that cannot be read, decoded or parsed is not an error of the sync: it comes back
as ``FileFacts`` with ``error`` set (``"SyntaxError: … (line 3)"``), so the sync reports
it and carries on with the rest. Parsing is CPU-bound, so large batches go to a
``ProcessPoolExecutor`` in chunks (one pickled round trip per chunk, not per file).
"""

from __future__ import annotations

import ast
import gc
import hashlib
import marshal
import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager

from caramba.codegraph.bulk import encode
from caramba.codegraph.extract import Extractor
from caramba.codegraph.facts import FileFacts
from caramba.codegraph.naming import is_package, module_name
from caramba.codegraph.properties import FIXED
from caramba.codegraph.source import SourceText
from caramba.codegraph.text import clean, clean_props, clean_refs, has_odd

_BOM = b"\xef\xbb\xbf"
#: Below this many files a pool costs more (process start-up) than it saves.
POOL_THRESHOLD = 24
CHUNK_FILES = 48
#: Chunks per worker when splitting by bytes (more: better balance, more messages).
CHUNKS_PER_WORKER = 24


def digest(data: bytes) -> str:
    """Return the content hash the sync index keeps per file."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def parse_file(root: str, path: str, prefix: str, blobs: bool = False) -> FileFacts:
    """Read ``root/path`` and return its facts (or the reason it was skipped).

    With ``blobs`` (a full sync) every node comes with its bulk-load ``blob`` and without
    its ``props`` (see ``caramba.codegraph.facts.Node``), and the facts come with their
    ``encoded`` sync-index records.
    """
    full = os.path.join(root, path)
    module = module_name(path, prefix)
    try:
        with open(full, "rb") as handle:
            data = handle.read()
        info = os.stat(full)
    except OSError as error:
        return FileFacts(path, module, "", 0, 0, error=f"unreadable: {error.strerror}")
    facts = FileFacts(path, module, digest(data), info.st_size, info.st_mtime_ns)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        facts.error = f"not UTF-8: {error.reason} at byte {error.start}"
        return facts
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        facts.error = f"SyntaxError: {error.msg} (line {error.lineno})"
        return facts
    except (ValueError, RecursionError) as error:
        facts.error = f"{type(error).__name__}: {error}"
        return facts
    source = SourceText(data)
    extractor = Extractor(path, module, is_package(path), source)
    try:
        extractor.run(tree)
    except RecursionError:
        facts.error = "RecursionError: the file nests too deeply to walk"
        return facts
    facts.lines = source.line_count
    if has_odd(text):  # raw odd characters: anything taken from the source may hold them
        for node in extractor.nodes:
            clean_props(node.props)
        extractor.refs = clean_refs(extractor.refs)
    else:  # only evaluated string literals can (registrations clean theirs)
        for node in extractor.nodes:
            docstring = node.props.get("docstring")
            if docstring:
                node.props["docstring"] = clean(docstring)  # type: ignore[arg-type]
    facts.nodes = extractor.nodes
    facts.edges = extractor.edges
    facts.refs = extractor.refs
    facts.symbols = extractor.symbols
    facts.nodes[0].props["hash"] = facts.digest
    if blobs:
        for node in facts.nodes:
            props = node.props
            node.blob = b"".join([encode(props[name]) for name in FIXED[node.label]])
            node.props = {}
        facts.encoded = (marshal.dumps(facts.symbols.as_tuple()), marshal.dumps(facts.refs))
    return facts


def parse_chunk(root: str, paths: Sequence[str], prefix: str, blobs: bool = False) -> bytes:
    """Parse several files (the unit of work sent to one pool worker) into ``marshal`` bytes.

    The facts travel as ``FileFacts.to_wire`` tuples encoded with ``marshal``, several
    times cheaper on both ends than pickling the dataclasses.
    """
    with gc_paused():
        return marshal.dumps([parse_file(root, path, prefix, blobs).to_wire() for path in paths])


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while parsing.

    ASTs are large, acyclic and short-lived (reference counting frees them), and the
    collector's passes over millions of fresh objects would cost about a third of the
    parse time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_all(
    root: str,
    paths: Sequence[str],
    prefix: str,
    workers: int,
    progress: Callable[[int], None] | None = None,
    blobs: bool = False,
) -> list[FileFacts]:
    """Parse ``paths`` (repository-relative) and return their facts in the same order.

    ``progress`` is called with the number of files just finished. Small batches are
    parsed in this process; larger ones in ``workers`` processes. ``blobs``: see
    ``parse_file``.
    """
    if len(paths) < POOL_THRESHOLD or workers <= 1:
        results = []
        with gc_paused():
            for path in paths:
                results.append(parse_file(root, path, prefix, blobs))
                if progress is not None:
                    progress(1)
        return results
    chunks = _balanced_chunks(root, paths, workers)
    by_path: dict[str, FileFacts] = {}
    # forkserver: workers start from a clean single-threaded process, never from a fork of
    # this one (which may run threads: a progress bar, a database client).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["caramba.codegraph.parse"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(parse_chunk, root, chunk, prefix, blobs): chunk for chunk in chunks}
        for future in as_completed(futures):
            for facts in _unwire(future.result()):
                by_path[facts.path] = facts
            if progress is not None:
                progress(len(futures[future]))
    return [by_path[path] for path in paths]


def _balanced_chunks(root: str, paths: Sequence[str], workers: int) -> list[list[str]]:
    """Split ``paths`` into chunks of similar size, the largest files first.

    Parse time grows with file size, and a big file parsed last would leave the other
    workers idle at the end; so files go out largest first (longest-processing-time
    order), in chunks of about ``1 / (CHUNKS_PER_WORKER * workers)`` of the bytes, and
    never more than ``CHUNK_FILES`` files (one result message per chunk).
    """
    sizes = {}
    for path in paths:
        try:
            sizes[path] = os.stat(os.path.join(root, path)).st_size
        except OSError:
            sizes[path] = 0  # parse_file reports why
    target = max(sum(sizes.values()) // (CHUNKS_PER_WORKER * workers), 1)
    chunks: list[list[str]] = []
    chunk: list[str] = []
    size = 0
    for path in sorted(paths, key=lambda item: -sizes[item]):
        chunk.append(path)
        size += sizes[path]
        if size >= target or len(chunk) >= CHUNK_FILES:
            chunks.append(chunk)
            chunk, size = [], 0
    if chunk:
        chunks.append(chunk)
    return chunks


def _unwire(data: bytes) -> list[FileFacts]:
    """Decode ``parse_chunk``'s bytes back into facts."""
    return [FileFacts.from_wire(wire) for wire in marshal.loads(data)]
