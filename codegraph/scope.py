"""Lexical scopes of one file, and how a name written in a scope becomes a candidate.

A *candidate* is the absolute dotted name that a written name most likely refers to,
derived from the file alone: its imports (with aliases), its definitions, ``self``/``cls``
inside methods, ``super()``, and local constructor types (``x = Foo(); x.run()`` →
``<Foo>.run``). Whether the candidate exists, and what it finally is after following
re-exports and base classes, is decided globally by ``caramba.codegraph.symbols``.

Python's rules are followed where they matter: a class body's names are not visible from
the methods inside it, parameters and local assignments shadow module names, and the
binding analysis is flow-insensitive (a name bound to two different types has none).
"""

from __future__ import annotations

#: Marks a candidate that must be looked up in the *bases* of a class (``super().f``).
SUPER = "^"
#: A local binding that hides outer names but has no known target (a parameter, say).
SHADOW = ""


class Scope:
    """A module, class or function body: the names it binds and the types it knows."""

    __slots__ = ("kind", "qualname", "key", "label", "parent", "names", "types", "self_name", "class_scope")

    def __init__(
        self,
        kind: str,
        qualname: str,
        key: str,
        label: str,
        parent: Scope | None,
        self_name: str | None = None,
        class_scope: Scope | None = None,
    ) -> None:
        """Create a scope; ``self_name`` is a method's first parameter (``self``/``cls``)."""
        self.kind = kind
        self.qualname = qualname
        self.key = key
        self.label = label
        self.parent = parent
        self.names: dict[str, str] = {}
        self.types: dict[str, str | None] = {}
        self.self_name = self_name
        self.class_scope = class_scope

    def bind(self, name: str, target: str) -> None:
        """Bind ``name`` in this scope to the absolute name ``target`` (first binding wins)."""
        if name not in self.names or self.names[name] == SHADOW:
            self.names[name] = target

    def shadow(self, name: str) -> None:
        """Mark ``name`` as a local whose target is unknown (unless already bound)."""
        self.names.setdefault(name, SHADOW)

    def set_type(self, name: str, type_candidate: str) -> None:
        """Record that ``name`` was assigned an instance of ``type_candidate``.

        Two different types for one name cancel each other out (flow-insensitive).
        """
        known = self.types.get(name, type_candidate)
        self.types[name] = type_candidate if known == type_candidate else None

    def lookup(self, name: str) -> str | None:
        """Return the absolute name ``name`` refers to here, or None when unknown.

        Class scopes are skipped except when the lookup starts in the class body itself.
        """
        scope: Scope | None = self
        first = True
        while scope is not None:
            if first or scope.kind != "class":
                target = scope.names.get(name)
                if target is not None:
                    return target or None
            first = False
            scope = scope.parent
        return None

    def type_of(self, name: str) -> str | None:
        """Return the constructor type of variable ``name`` seen from here, if known.

        Function scopes are searched outwards, then the module; class bodies are skipped.
        A parameter or any other binding of the name in a nearer scope hides outer types.
        """
        scope: Scope | None = self
        while scope is not None:
            if scope.kind != "class":
                if name in scope.types:
                    return scope.types[name]
                if scope.names.get(name, SHADOW) != SHADOW or (name in scope.names and scope.kind == "function"):
                    return None
            scope = scope.parent
        return None


class Candidates:
    """Turns written dotted names into candidates, using a file's scopes.

    ``stars`` are the modules star-imported at module level: a name found nowhere else
    may come from one of them. ``attr_types`` map ``<class qualname>.<attr>`` to the type
    assigned to ``self.<attr>`` in any method of that class.
    """

    def __init__(self, stars: list[str], attr_types: dict[str, str | None]) -> None:
        """Keep the module's star imports and the classes' attribute types."""
        self._stars = stars
        self._attr_types = attr_types

    def of(self, scope: Scope, parts: list[str], is_super: bool = False) -> tuple[str, ...]:
        """Return the candidates for the dotted name ``parts`` written in ``scope``.

        ``is_super`` means ``parts`` is ``[attr]`` of a ``super().attr`` expression.
        """
        method_class = _method_class(scope)
        if is_super:
            if method_class is None:
                return ()
            return (f"{SUPER}{method_class.qualname}.{parts[0]}",)
        root, rest = parts[0], parts[1:]
        self_name = _self_name(scope)
        if method_class is not None and root == self_name:
            if len(rest) == 1:
                return (f"{method_class.qualname}.{rest[0]}",)
            if len(rest) == 2:
                attr_type = self._attr_types.get(f"{method_class.qualname}.{rest[0]}")
                if attr_type:
                    return (f"{attr_type}.{rest[1]}",)
            return ()
        local_type = scope.type_of(root)
        if local_type:
            return (".".join([local_type, *rest]),)
        target = scope.lookup(root)
        if target is not None:
            return (".".join([target, *rest]),)
        if _is_shadowed(scope, root):
            return ()
        return tuple(".".join([star, *parts]) for star in self._stars)


def _enclosing_method(scope: Scope) -> Scope | None:
    """Return the method scope ``scope`` is in (itself, or the method a nested function is in)."""
    current: Scope | None = scope
    while current is not None and current.kind == "function":
        if current.class_scope is not None:
            return current
        current = current.parent
    return None


def _method_class(scope: Scope) -> Scope | None:
    """Return the class whose method body ``scope`` is in (directly or nested)."""
    method = _enclosing_method(scope)
    return method.class_scope if method is not None else None


def _self_name(scope: Scope) -> str | None:
    """Return the name of the enclosing method's first parameter (``self``/``cls``)."""
    method = _enclosing_method(scope)
    return method.self_name if method is not None else None


def _is_shadowed(scope: Scope, name: str) -> bool:
    """Return True when ``name`` is a local (parameter, assignment) of an enclosing scope."""
    current: Scope | None = scope
    first = True
    while current is not None:
        if (first or current.kind != "class") and current.names.get(name) == SHADOW:
            return True
        first = False
        current = current.parent
    return False
