"""``${var}`` substitution.

A value that is exactly ``${x}`` takes x's value with its type (an int stays an int, a
list stays a list); inside a longer string the value is interpolated as text. Variables
may refer to other variables. ``$${`` escapes a literal ``${``. Undefined and cyclic
variables are errors that name the field, the variable and the closest defined names.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from caramba.engine.compiler.errors import ManifestError, format_path
from caramba.engine.compiler.source import Document, Path

PATTERN = re.compile(r"\$\$\{|\$\{([^}]*)\}")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Substitution:
    """Resolves the document's ``vars`` and substitutes them everywhere else."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.errors: list[ManifestError] = []
        raw = document.data.get("vars", {})
        self.raw: dict[str, Any] = raw if isinstance(raw, dict) else {}
        self.resolved: dict[str, Any] = {}
        self._stack: list[str] = []

    def _error(self, path: Path, message: str, hint: str) -> None:
        pos = self.document.position(path)
        self.errors.append(ManifestError("references", format_path(path), message, hint, pos.file, pos.line, pos.column))

    def variable(self, name: str, path: Path) -> Any:
        """The fully resolved value of variable ``name`` referenced at ``path``."""
        if name in self.resolved:
            return self.resolved[name]
        if name in self._stack:
            cycle = " → ".join([*self._stack[self._stack.index(name):], name])
            self._error(("vars", name), f"variables refer to each other in a cycle: {cycle}",
                        "give one of them a literal value")
            return None
        if name not in self.raw:
            close = difflib.get_close_matches(name, list(self.raw), n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join('${' + c + '}' for c in close)}?" if close else f"define it under vars: ({name}: <value>)"
            self._error(path, f"undefined variable ${{{name}}}", hint)
            return None
        self._stack.append(name)
        value = self.substitute(self.raw[name], ("vars", name))
        self._stack.pop()
        self.resolved[name] = value
        return value

    def substitute(self, value: Any, path: Path) -> Any:
        """Return ``value`` with every ``${var}`` replaced (recursively)."""
        if isinstance(value, dict):
            return {k: self.substitute(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v, (*path, i)) for i, v in enumerate(value)]
        if not isinstance(value, str) or "$" not in value:
            return value
        whole = PATTERN.fullmatch(value)
        if whole and whole.group(0) != "$${":
            return self._lookup(whole.group(1), path)
        return PATTERN.sub(lambda m: "${" if m.group(0) == "$${" else _text(self._lookup(m.group(1), path)), value)

    def _lookup(self, name: str, path: Path) -> Any:
        name = name.strip()
        if not NAME.match(name):
            self._error(path, f"bad variable reference ${{{name}}}", "variable names are letters, digits and _; write ${name}")
            return None
        return self.variable(name, path)

    def run(self) -> dict[str, Any]:
        """Substitute the whole document; ``vars`` comes back fully resolved."""
        if "vars" in self.document.data and not isinstance(self.document.data["vars"], dict):
            self._error(("vars",), "vars must be a mapping of names to values", "write vars: {d_model: 512}")
        out = {k: v for k, v in self.document.data.items() if k != "vars"}
        out = self.substitute(out, ())
        if self.raw:
            out["vars"] = {name: self.variable(name, ("vars", name)) for name in self.raw}
        return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
