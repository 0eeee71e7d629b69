"""The settings of one paper_write session, where they come from, and the checks on them.

A paper is written from one **source**: a development session folder (``--from DIR``),
a comparison manifest whose runs are in the store (``--manifest M.yml``), or a list of
run ids (``--runs ID…``). Optional inputs: notes (a text file the writer reads), a
BibTeX file (the only citation keys the paper may use) and a LaTeX template. Every path
is stored resolved, so a resumed or replayed session reads the same files.

:meth:`PaperConfig.check_files` runs before any model call: a missing source, notes,
bibliography or template file is a :class:`PaperInputError` (``caramba paper`` exits 2
with the message and a hint, no traceback, nothing written).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from caramba.agents.errors import AgentSetupError
from caramba.agents.runtime.team import check_team, session_slug

SourceKind = Literal["session", "manifest", "runs"]
WRITER, REVIEWER = "writer", "reviewer"
DEFAULT_TEAM: tuple[tuple[str, str], ...] = ((WRITER, "writer"), (REVIEWER, "reviewer"))


class PaperInputError(AgentSetupError):
    """A paper's input cannot be used (the message says which and how to fix it); exit 2."""


@dataclass(frozen=True)
class PaperConfig:
    """Everything that defines the paper session (a resumed or replayed session must match).

    ``rounds``: review rounds (each a review, then a revision; fewer when the reviewer's
    overall score stops rising); ``fix_attempts``: writer turns given to fix a failed
    build before the session ends ``failed`` with the build's issues.
    """

    source_kind: SourceKind
    source: tuple[str, ...]
    notes: str | None = None
    bib: str | None = None
    template: str | None = None
    rounds: int = 1
    fix_attempts: int = 1
    team: tuple[tuple[str, str], ...] = DEFAULT_TEAM

    def __post_init__(self) -> None:
        roles = [role for role, _ in self.team]
        if roles != [WRITER, REVIEWER]:
            raise PaperInputError(f"a paper team has the roles writer and reviewer, in that order (got {roles})",
                                  "team: {writer: writer, reviewer: reviewer}")
        check_team(self.team)
        if self.rounds < 1 or self.fix_attempts < 0:
            raise PaperInputError("rounds must be at least 1 and fix_attempts at least 0", "pass --rounds 1 or more")
        if not self.source:
            raise PaperInputError("no source given", "pass --from DIR, --manifest M.yml or --runs ID [ID …]")

    # ── where it comes from ────────────────────────────────────────────────────────────
    @classmethod
    def from_command(cls, base: Path, session: Path | None, manifest: Path | None, runs: list[str] | None,
                     notes: Path | None, bib: Path | None, template: Path | None, rounds: int) -> "PaperConfig":
        """The config of ``caramba paper`` (exactly one of ``session``/``manifest``/``runs``)."""
        given = [kind for kind, value in (("--from", session), ("--manifest", manifest), ("--runs", runs)) if value]
        if len(given) != 1:
            raise PaperInputError(f"give exactly one source (got {', '.join(given) or 'none'})",
                                  "pass --from DIR (a development session), --manifest M.yml or --runs ID [ID …]")
        kind: SourceKind = "session" if session else "manifest" if manifest else "runs"
        source = tuple(runs) if runs else (_resolve(base, session or manifest),)  # type: ignore[arg-type]
        return cls(kind, source, _resolve(base, notes), _resolve(base, bib), _resolve(base, template), rounds)

    @classmethod
    def from_target(cls, target: Any, workspace: Path) -> "PaperConfig":
        """The config of a manifest's ``type: paper_write`` target (paths already resolved at
        validation; ``team`` maps writer and reviewer to personas, default ``writer``/``reviewer``)."""
        p = target.process
        team = tuple((role, target.team.get(role, role)) for role in (WRITER, REVIEWER))
        if set(target.team) - {WRITER, REVIEWER}:
            raise PaperInputError(f"target {target.name!r}: a paper team has only the roles writer and reviewer "
                                  f"(got {', '.join(target.team)})", "team: {writer: writer, reviewer: reviewer}")
        base = Path(workspace)
        kind: SourceKind = "session" if p.session else "manifest" if p.manifest else "runs"
        source = tuple(p.runs) if p.runs else (_resolve(base, Path(p.session or p.manifest)),)
        paths = [_resolve(base, Path(x)) if x else None for x in (p.notes, p.bib, p.template)]
        return cls(kind, source, *paths, rounds=p.rounds, team=team)  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PaperConfig":
        """Inverse of :meth:`to_json`."""
        return cls(**{**data, "source": tuple(data["source"]), "team": tuple(tuple(p) for p in data["team"])})

    def to_json(self) -> dict[str, Any]:
        """JSON form (stored in the checkpoint and the recording header)."""
        return {**asdict(self), "source": list(self.source), "team": [list(p) for p in self.team]}

    def slug(self) -> str:
        """The default output folder name: the source's name plus a digest of the config."""
        name = Path(self.source[0]).stem if self.source_kind != "runs" else self.source[0]
        return session_slug(f"paper {name}", self.to_json())

    @property
    def title(self) -> str:
        """How the session is shown (live view, summary)."""
        what = {"session": "development session", "manifest": "comparison", "runs": "runs"}[self.source_kind]
        return f"paper from {what} {', '.join(Path(s).name for s in self.source)}"

    # ── checks before any model call ───────────────────────────────────────────────────
    def check_files(self) -> None:
        """Raise :class:`PaperInputError` for a source, notes, bib or template file that is not usable."""
        if self.source_kind == "session" and not Path(self.source[0]).is_dir():
            raise PaperInputError(f"--from {self.source[0]}: no such folder",
                                  "pass the folder of a development session (it holds its tree and runs)")
        if self.source_kind == "manifest" and not Path(self.source[0]).is_file():
            raise PaperInputError(f"--manifest {self.source[0]}: no such file",
                                  "pass the comparison manifest whose runs you ran (caramba run M.yml)")
        for flag, path, suffix in (("--notes", self.notes, None), ("--bib", self.bib, ".bib"),
                                   ("--template", self.template, ".tex")):
            if path is None:
                continue
            if not Path(path).is_file():
                raise PaperInputError(f"{flag} {path}: no such file", f"pass an existing file to {flag}, or leave it out")
            if suffix and Path(path).suffix != suffix:
                raise PaperInputError(f"{flag} {path}: expected a {suffix} file", f"pass a {suffix} file to {flag}")
            try:
                Path(path).read_text(encoding="utf-8")
            except UnicodeDecodeError as error:
                raise PaperInputError(f"{flag} {path}: not UTF-8 text ({error.reason} at byte {error.start})",
                                      "save the file as UTF-8") from None


def _resolve(base: Path, path: Path | None) -> str | None:
    """``path`` resolved against ``base`` (a str for the JSON config), or None."""
    return None if path is None else str((base / path).resolve())
