"""What a paper build reports when something is wrong: :class:`BuildIssue` and :class:`PaperBuildError`.

Every check of the build (numbers, claims, citations, the LaTeX compile, the PDF's text)
returns a list of :class:`BuildIssue`. An issue says *where* (file and line; line 0 when
the issue is about a whole file, e.g. the PDF), *what kind* it is, *what* is wrong and
*how to fix it*. :func:`caramba.processes.paper_write.build.build_paper` raises
:class:`PaperBuildError` with all of them at once, so a writer fixes every problem in
one revision instead of one per build.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: The kinds of issue, by the check that finds them.
KINDS = ("number", "claim", "citation", "latex", "pdf-number", "key", "command", "input")


@dataclass(frozen=True)
class BuildIssue:
    """One problem: ``file:line: message — hint``; ``kind`` is one of :data:`KINDS`."""

    file: str
    line: int
    kind: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}" + (f" — {self.hint}" if self.hint else "")

    def to_json(self) -> dict[str, Any]:
        """The issue as a JSON-ready dict (``file``, ``line``, ``kind``, ``message``, ``hint``)."""
        return asdict(self)


class PaperBuildError(RuntimeError):
    """The build refused to produce (or replace) ``paper.pdf``; ``issues`` says why, each with file:line."""

    def __init__(self, issues: list[BuildIssue], what: str = "the paper does not build") -> None:
        self.issues = list(issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"{what} ({len(self.issues)} issue{'s' if len(self.issues) != 1 else ''}):\n{lines}")


class MissingTool(RuntimeError):
    """A program the build needs (pdflatex, bibtex, pdftotext) is not installed; the message names its package."""
