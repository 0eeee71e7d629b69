"""Which fields of an AST node type can hold sub-trees (cached per type).

The extractor walks only these fields, skipping scalar ones (names, line numbers,
contexts), which keeps the walk over a large repository cheap.
"""

from __future__ import annotations

#: Fields that never hold a sub-tree worth visiting (``ctx`` is an AST object, but empty).
SCALAR_FIELDS = frozenset({"ctx", "id", "attr", "arg", "name", "module", "level", "kind", "conversion",
                           "is_async", "type_comment", "lineno", "col_offset", "asname"})
CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(kind: type) -> tuple[str, ...]:
    """Return (and cache) the fields of AST node type ``kind`` that may hold sub-trees.

    They come in *reverse* order: the walker pushes them on a stack, so the first field
    is visited first.
    """
    fields = tuple(name for name in reversed(getattr(kind, "_fields", ())) if name not in SCALAR_FIELDS)
    CHILD_FIELDS[kind] = fields
    return fields
