"""The records that parsing one file yields, before anything global is known.

A parse worker sees one file at a time, so everything here is *file-local*: the nodes the
file defines, the edges between them (``DEFINES``, ``CONTAINS``), and ``Ref`` records
for the edges that need the whole repository to resolve (``CALLS``, ``IMPORTS``,
``INHERITS``, ``REGISTERS``). A ``Ref`` carries *candidates*: absolute dotted names the
parser derived from the file's own imports, aliases, ``self``/``cls`` and local
constructor types; ``caramba.codegraph.symbols`` turns them into node keys later.

Everything is plain data (strings, ints, tuples, dicts), so it pickles cheaply between
processes and fits ``marshal`` for the sync index (``caramba.codegraph.index``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MODULE = "Module"
CLASS = "Class"
FUNCTION = "Function"
METHOD = "Method"
TYPENAME = "TypeName"
#: Every node label the code graph writes.
LABELS: tuple[str, ...] = (MODULE, CLASS, FUNCTION, METHOD, TYPENAME)
#: Labels of nodes that hold code (and so may call things).
CODE_LABELS: tuple[str, ...] = (MODULE, CLASS, FUNCTION, METHOD)

DEFINES = "DEFINES"
CONTAINS = "CONTAINS"
IMPORTS = "IMPORTS"
INHERITS = "INHERITS"
CALLS = "CALLS"
REGISTERS = "REGISTERS"
#: Every relationship type the code graph writes.
EDGE_TYPES: tuple[str, ...] = (DEFINES, CONTAINS, IMPORTS, INHERITS, CALLS, REGISTERS)
#: Relationship types whose target is found through the global symbol table.
RESOLVED_TYPES: tuple[str, ...] = (IMPORTS, INHERITS, CALLS, REGISTERS)


@dataclass(slots=True)
class Node:
    """One node to write: its label, its unique ``key`` and its properties.

    ``key`` is ``<file>`` for a module and ``<file>:<local qualname>`` for everything
    else (``#2``, ``#3`` … appended to repeated definitions such as property setters), so
    it depends on the file alone and never changes when other files change. For a full
    sync the parse worker encodes the properties it knows into ``blob`` (the bulk-load
    record minus the ``unresolved_*`` properties) and sends no ``props`` dict at all.
    """

    label: str
    key: str
    props: dict[str, object]
    blob: bytes = b""


#: A reference to resolve globally into an edge ``source -[kind]-> target``:
#: ``(kind, source key, source label, candidates, name, line, role)``. ``candidates`` are
#: tried in order; the first that resolves to a node of an accepted label wins (see
#: ``caramba.codegraph.symbols.ACCEPTS``). ``name`` is the text as written (``self.norm``,
#: ``np.zeros``), kept as the unresolved name when nothing resolves; ``role`` tells the two
#: ``REGISTERS`` edges apart (``target``/``config``). A plain tuple, not a class: hundreds
#: of thousands cross from the parse workers and into the sync index per sync.
RefTuple = tuple[str, str, str, tuple[str, ...], str, int, str]


@dataclass(slots=True)
class Symbols:
    """What one file contributes to the global symbol table.

    ``defs`` are ``(qualname, key, label, rank)``; ``aliases`` map ``module.name`` to the
    absolute name it is bound to by an import or a module-level ``x = a.b``;
    ``stars`` are modules star-imported by this module; ``bases`` map a class qualname to
    the candidates of its base classes.
    """

    defs: list[tuple[str, str, str, int]] = field(default_factory=list)
    aliases: list[tuple[str, str]] = field(default_factory=list)
    stars: list[str] = field(default_factory=list)
    bases: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def as_tuple(self) -> tuple[list, list, list, list]:
        """Return the record as a tuple, the form stored in the sync index."""
        return (self.defs, self.aliases, self.stars, self.bases)


@dataclass(slots=True)
class FileFacts:
    """Everything one Python file contributes, or why it was skipped (``error``)."""

    path: str
    module: str
    digest: str
    size: int
    mtime_ns: int
    error: str = ""
    lines: int = 0
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    refs: list[RefTuple] = field(default_factory=list)
    symbols: Symbols = field(default_factory=Symbols)
    #: For a full sync, the sync-index records of ``symbols`` and ``refs``, marshal-encoded
    #: by the parse worker (so the main process need not encode them again).
    encoded: tuple[bytes, bytes] | None = None

    def to_wire(self) -> tuple:
        """Return the facts as nested builtin tuples/lists, the form that crosses processes.

        ``marshal`` encodes that form several times faster than ``pickle`` encodes the
        dataclasses, which matters for the tens of megabytes a full sync moves.
        """
        nodes = [(node.label, node.key, node.props, node.blob) for node in self.nodes]
        return (self.path, self.module, self.digest, self.size, self.mtime_ns, self.error, self.lines,
                nodes, self.edges, self.refs, self.symbols.as_tuple(), self.encoded)

    @classmethod
    def from_wire(cls, wire: tuple) -> "FileFacts":
        """Rebuild facts from ``to_wire``'s form."""
        path, module, digest, size, mtime_ns, error, lines, nodes, edges, refs, symbols, encoded = wire
        return cls(path, module, digest, size, mtime_ns, error, lines,
                   [Node(*node) for node in nodes], edges, refs, Symbols(*symbols), encoded)
