"""The properties every node label and edge type carries, in the order writers send them.

One table for both ways of writing (Cypher rows in ``caramba.codegraph.writer``, binary
records in ``caramba.codegraph.bulk``), so a full and an incremental sync cannot disagree
on what a node holds. The ``unresolved_*`` properties are known only after linking, so a
bulk record is the parse worker's pre-encoded ``FIXED`` part followed by ``UNRESOLVED``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from caramba.codegraph.facts import CALLS, CLASS, FUNCTION, IMPORTS, METHOD, MODULE, TYPENAME, FileFacts

if TYPE_CHECKING:  # pragma: no cover - typing only
    from caramba.codegraph.link import LinkRecord

_CODE = ("key", "name", "qualname", "file", "line", "end_line", "signature", "docstring", "decorators",
         "unresolved_calls")
#: The properties written for each label, in row order.
PROPERTIES: dict[str, tuple[str, ...]] = {
    MODULE: (*_CODE, "hash", "unresolved_imports"),
    CLASS: (*_CODE, "bases"),
    FUNCTION: _CODE,
    METHOD: _CODE,
    TYPENAME: ("key", "name", "kind", "qualname", "file", "line", "end_line", "target", "docstring"),
}
#: The properties of resolved edges (``REGISTERS`` adds ``role``).
EDGE_PROPERTIES = ("line", "count", "name")
#: Per label, the properties linking fills in (last in a bulk record).
UNRESOLVED: dict[str, tuple[str, ...]] = {
    label: tuple(name for name in names if name.startswith("unresolved_")) for label, names in PROPERTIES.items()
}
#: Per label, the properties known when a file is parsed (first in a bulk record).
FIXED: dict[str, tuple[str, ...]] = {
    label: tuple(name for name in names if not name.startswith("unresolved_")) for label, names in PROPERTIES.items()
}
#: The node property that keeps the unresolved names of each reference kind.
UNRESOLVED_PROPERTY = {CALLS: "unresolved_calls", IMPORTS: "unresolved_imports"}


def set_unresolved(facts: FileFacts, record: "LinkRecord") -> None:
    """Copy a parsed file's unresolved names (from its link ``record``) onto its nodes."""
    by_key = {node.key: node for node in facts.nodes}
    for source, _, kind, names in record[1]:
        by_key[source].props[UNRESOLVED_PROPERTY[kind]] = names
