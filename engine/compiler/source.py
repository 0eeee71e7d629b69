"""Read YAML into plain data while keeping every field's position.

``load`` returns a :class:`Document`: the data (dicts, lists, scalars) and a map from
field path (``("targets", 0, "name")``) to :class:`Position` (file, line, column). Any
input is handled without a traceback: empty, binary, huge, tabs, a list at top level,
duplicate keys, several documents. Problems raise :class:`ManifestInvalid`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from caramba.engine.compiler.errors import ManifestError, ManifestInvalid, format_path

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 100
Path = tuple[object, ...]


@dataclass(frozen=True)
class Position:
    """Where a value came from: a file (or ``--set``) and a 1-based line and column."""

    file: str
    line: int | None = None
    column: int | None = None


@dataclass
class Document:
    """Plain YAML data plus the position of every mapping key and list item."""

    data: dict[str, Any]
    positions: dict[Path, Position] = field(default_factory=dict)
    file: str = "<text>"

    def position(self, path: Path) -> Position:
        """The position of ``path``, or of its closest ancestor that has one (the document's
        start, line 1, for a missing top-level field)."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.positions:
                return self.positions[path[:cut]]
        return Position(self.file, 1, 1)


def _fail(file: str, message: str, hint: str, line: int | None = None, column: int | None = None) -> ManifestInvalid:
    return ManifestInvalid([ManifestError("syntax", "", message, hint, file, line, column)])


def decode(raw: bytes | str, file: str) -> str:
    """Bytes → text, refusing binary and oversized input with a clear error."""
    size = len(raw)
    if size > MAX_BYTES:
        raise _fail(file, f"the manifest is {size / 1e6:.1f} MB; the limit is {MAX_BYTES // 2**20} MB",
                    "a manifest describes an experiment; keep data in token files referenced by path", 1, 1)
    if isinstance(raw, bytes):
        if b"\x00" in raw:
            raise _fail(file, "the file is binary (it contains NUL bytes), not YAML text", "pass the YAML manifest, not a data file",
                        raw[: raw.index(b"\x00")].count(b"\n") + 1, 1)
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(file, f"the file is not UTF-8 text (byte {exc.start})", "save the manifest as UTF-8",
                        raw[: exc.start].count(b"\n") + 1, 1) from None
    if "\x00" in raw:
        raise _fail(file, "the text contains NUL characters", "pass YAML text", raw[: raw.index("\x00")].count("\n") + 1, 1)
    return raw


def load(raw: bytes | str, file: str = "<text>") -> Document:
    """Parse one YAML mapping document, keeping positions."""
    text = decode(raw, file)
    try:
        nodes = list(yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        hint = "fix the YAML syntax at this position"
        if "tab" in problem or "\t" in problem:
            hint = "YAML indentation must use spaces, not tabs: replace the tab characters"
        raise _fail(file, f"YAML syntax error: {problem}", hint,
                    mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise _fail(file, "the manifest is empty", "start from a preset: caramba init --template standard_transformer", 1, 1)
    if len(nodes) > 1:
        raise _fail(file, f"the file holds {len(nodes)} YAML documents; a manifest is one",
                    "remove the extra '---' separators", nodes[1].start_mark.line + 1, 1)
    root = nodes[0]
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise _fail(file, f"the manifest is {kind}; it must be a mapping with version, defaults and targets",
                    "start from a preset: caramba init --template standard_transformer", root.start_mark.line + 1, 1)
    builder = _Builder(file)
    data = builder.build(root, ())
    if builder.errors:
        raise ManifestInvalid(builder.errors)
    return Document(data, builder.positions, file)


def load_value(text: str, file: str = "--set") -> Any:
    """One YAML value of any type (an override's value), with the same limits and errors as
    :func:`load`; raises :class:`ManifestInvalid`."""
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise _fail(file, f"YAML syntax error: {getattr(exc, 'problem', None) or exc}", "quote text values") from None
    if node is None:
        return None
    builder = _Builder(file)
    value = builder.build(node, ())
    if builder.errors:
        raise ManifestInvalid(builder.errors)
    return value


class _Builder:
    """Walks a composed YAML node tree into plain data, recording positions."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[Path, Position] = {}
        self.errors: list[ManifestError] = []
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def _pos(self, node: yaml.Node) -> Position:
        return Position(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES or len(path) > MAX_DEPTH:
            raise _fail(self.file, "the manifest is too large or too deeply nested (alias expansion?)",
                        "remove recursive or exploding YAML aliases", node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.positions[(*path, index)] = self._pos(item)
                items.append(self.build(item, (*path, index)))
            return items
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.errors.append(ManifestError("syntax", format_path(path), f"bad YAML value: {exc}",
                                             "quote the value if it is meant as text", self.file, *self._line_col(node)))
        except ValueError as exc:  # e.g. an integer of more than 4300 digits (Python's conversion limit)
            self.errors.append(ManifestError("syntax", format_path(path), f"unreadable value: {str(exc).split(';')[0]}",
                                             "use a number of sensible size, or quote the value if it is meant as text",
                                             self.file, *self._line_col(node)))
        return None

    def _line_col(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
            where = format_path(path)
            if key == "<<":
                self.errors.append(ManifestError("syntax", where, "YAML merge keys (<<) are not supported",
                                                 "use `extends:` or `${vars}` to share values", self.file, *self._line_col(key_node)))
                continue
            if not isinstance(key, str):
                self.errors.append(ManifestError("syntax", where, f"mapping keys must be text, got {key!r}",
                                                 "quote the key", self.file, *self._line_col(key_node)))
                continue
            child = (*path, key)
            if key in out:
                self.errors.append(ManifestError("syntax", format_path(child), f"duplicate key {key!r}",
                                                 f"remove one of the two {key!r} entries (YAML would silently keep the last)",
                                                 self.file, *self._line_col(key_node)))
                continue
            self.positions[child] = self._pos(key_node)
            out[key] = self.build(value_node, child)
        return out
