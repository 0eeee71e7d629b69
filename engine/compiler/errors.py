"""Manifest errors: what, where (file, line, column, field path) and how to fix it.

Every stage of the compiler reports :class:`ManifestError` records; they are collected
(all of them, not only the first) and raised together as :class:`ManifestInvalid`. The
JSON form is what ``caramba validate --format json`` prints and what the MCP tools return.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

STAGES = ("syntax", "schema", "references", "limits", "dimensions", "runs", "files", "data", "comparability")


@dataclass(frozen=True)
class ManifestError:
    """One problem in a manifest.

    Attributes:
        stage: the checklist stage that found it (one of :data:`STAGES`).
        path: the field path, e.g. ``targets[0].runs[0].train.lr`` (empty: the document).
        message: what is wrong, including what was expected.
        hint: how to fix it in one step.
        file: the manifest file (or ``<text>``, ``--set``) the value came from.
        line, column: 1-based position of the field in ``file`` when known.
    """

    stage: str
    path: str
    message: str
    hint: str
    file: str = "<text>"
    line: int | None = None
    column: int | None = None

    def to_json(self) -> dict[str, object]:
        """The public JSON shape: path, line, column, message, hint (plus file and stage)."""
        data = asdict(self)
        return {k: data[k] for k in ("path", "line", "column", "message", "hint", "file", "stage")}

    def render(self) -> str:
        """One human-readable line: ``file:line:col: path: message (hint)``."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}\n    hint: {self.hint}"


class ManifestInvalid(Exception):
    """Raised with every error found; the CLI turns it into exit code 2."""

    def __init__(self, errors: list[ManifestError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.render() for e in errors))


def format_path(parts: tuple[object, ...]) -> str:
    """``("targets", 0, "runs")`` → ``targets[0].runs``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_path(text: str) -> tuple[object, ...]:
    """``targets[0].runs`` → ``("targets", 0, "runs")``; raises ValueError on bad syntax."""
    parts: list[object] = []
    for chunk in text.split("."):
        if not chunk:
            raise ValueError(f"empty segment in path {text!r}")
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, sep, rest = rest.partition("]")
            if not sep or not index.lstrip("-").isdigit():
                raise ValueError(f"bad index in path {text!r}: use name[0]")
            parts.append(int(index))
            if rest:
                if not rest.startswith("["):
                    raise ValueError(f"unexpected {rest!r} in path {text!r}")
                rest = rest[1:]
    return tuple(parts)
