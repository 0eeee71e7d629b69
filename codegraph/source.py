"""Source text of AST nodes: signatures and decorators as written, without ``ast.unparse``.

``ast.unparse`` is pure Python and slow (tens of microseconds per expression), which would
dominate parsing a large repository. ``ast`` already records where every expression
starts and ends (as UTF-8 byte offsets), so slicing the encoded source is exact and cheap.
"""

from __future__ import annotations

import ast


class SourceText:
    """The encoded source of one file, sliceable by an AST node's position."""

    def __init__(self, data: bytes) -> None:
        """Index the start offset of every line of ``data`` (the file's raw bytes)."""
        self._data = data
        starts = [0]
        find = data.find
        position = find(b"\n")
        while position != -1:
            starts.append(position + 1)
            position = find(b"\n", position + 1)
        self._starts = starts

    @property
    def line_count(self) -> int:
        """Number of lines in the file (a trailing newline does not start a new line)."""
        count = len(self._starts)
        return count - 1 if self._data.endswith(b"\n") else count

    def segment(self, node: ast.expr) -> str:
        """Return the source text of expression ``node``, whitespace runs collapsed."""
        end_line = node.end_lineno if node.end_lineno is not None else node.lineno
        end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        start = self._starts[node.lineno - 1] + node.col_offset
        stop = self._starts[end_line - 1] + end_col
        text = self._data[start:stop].decode("utf-8", errors="replace")
        if "\n" in text:
            text = " ".join(text.split())
        return text

    def signature(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        """Return ``name(params) -> returns`` as written in the source."""
        args = node.args
        parts: list[str] = []
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults.extend(args.defaults)
        for index, (arg, default) in enumerate(zip(positional, defaults)):
            parts.append(self._param(arg, default))
            if args.posonlyargs and index == len(args.posonlyargs) - 1:
                parts.append("/")
        if args.vararg is not None:
            parts.append("*" + self._param(args.vararg, None))
        elif args.kwonlyargs:
            parts.append("*")
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            parts.append(self._param(arg, default))
        if args.kwarg is not None:
            parts.append("**" + self._param(args.kwarg, None))
        prefix = "async def " if isinstance(node, ast.AsyncFunctionDef) else "def "
        text = f"{prefix}{node.name}({', '.join(parts)})"
        if node.returns is not None:
            text += " -> " + self.segment(node.returns)
        return text

    def class_signature(self, node: ast.ClassDef) -> str:
        """Return ``class Name(bases, keywords)`` as written in the source."""
        items = [self.segment(base) for base in node.bases]
        items.extend(
            f"{kw.arg}={self.segment(kw.value)}" if kw.arg else f"**{self.segment(kw.value)}"
            for kw in node.keywords
        )
        return f"class {node.name}({', '.join(items)})" if items else f"class {node.name}"

    def _param(self, arg: ast.arg, default: ast.expr | None) -> str:
        text = arg.arg
        if arg.annotation is not None:
            text += ": " + self.segment(arg.annotation)
            if default is not None:
                return text + " = " + self.segment(default)
        elif default is not None:
            return text + "=" + self.segment(default)
        return text


def dotted(node: ast.expr) -> list[str] | None:
    """Return ``["a", "b", "c"]`` for the expression ``a.b.c``; None for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    parts.reverse()
    return parts
