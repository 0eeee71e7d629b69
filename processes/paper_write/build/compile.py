"""``compile_pdf(paper_dir)``: pdflatex (+ bibtex) in a scratch copy; ``paper.pdf`` replaced only on success.

The paper folder is copied to a temporary folder and compiled there with
``pdflatex -interaction=nonstopmode -halt-on-error -file-line-error paper.tex``, then
``bibtex paper`` and pdflatex twice more when ``paper.tex`` has a ``\\bibliography`` (else
once more, for references). LaTeX runs without shell escape and may read only files inside
the paper folder (kpathsea's ``openin_any=p``/``openout_any=p``, :mod:`.tools`), so prose
cannot pull in or write files elsewhere. Failure is read from the log:

* ``file:line: message`` lines (``-file-line-error``) with the ``l.N`` context LaTeX prints;
* undefined references and citations (``LaTeX Warning: Reference `x' … undefined``)
  after the last pass — a ``??`` in the PDF is a failed build;
* bibtex's errors and missing entries (``paper.blg``).

Any of them raises :class:`~caramba.processes.paper_write.build.issues.PaperBuildError`
and the paper folder is untouched: the previous good ``paper.pdf`` stays. On success
the new PDF replaces ``paper.pdf`` atomically and ``build/paper.log`` and
``build/paper.aux`` are kept for the PDF check (section and equation numbers).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from caramba.engine.store.atomic import write_bytes
from caramba.processes.paper_write.build.issues import BuildIssue, PaperBuildError
from caramba.processes.paper_write.build.tools import require, run

FILE_LINE = re.compile(r"^(?:\./)?(?P<file>[^\s:][^:]*\.(?:tex|sty|cls|bbl|aux)):(?P<line>\d+): (?P<msg>.*)$", re.M)
UNDEFINED = re.compile(r"LaTeX Warning: (?P<what>Reference|Citation) `(?P<key>[^']*)' on page \d+ undefined"
                       r"(?: on input line (?P<line>\d+))?")
PAGES = re.compile(r"Output written on \S+ \((\d+) pages?")
IGNORED = ("paper.pdf", "paper.aux", "paper.log", "paper.out", "paper.bbl", "paper.blg", "paper.toc", "build")


@dataclass(frozen=True)
class Compiled:
    """A successful compile in a scratch folder: the PDF, its page count, the log and aux texts."""

    pdf: Path
    pages: int
    log: str
    aux: str


def _log_issues(log: str) -> list[BuildIssue]:
    issues = []
    for m in FILE_LINE.finditer(log):
        context = re.search(r"^l\.\d+ (.*)$", log[m.end():m.end() + 600], re.M)
        hint = f"at: {context.group(1).strip()[:120]}" if context else ""
        msg = m.group("msg").strip()
        if "unknown result key" in msg:
            hint = "use a key of results.tex (provenance.json lists them)"
        issues.append(BuildIssue(m.group("file"), int(m.group("line")), "latex", msg, hint))
    if not issues and "! " in log:
        line = log[log.index("! "):].splitlines()[0]
        issues.append(BuildIssue("paper.tex", 0, "latex", line[2:].strip(), "see build/paper.log"))
    return issues


def _where(folder: Path, key: str) -> tuple[str, int]:
    """The first ``.tex`` file and line under ``folder`` that refers to ``key`` (LaTeX's warning names no file)."""
    for path in sorted(folder.rglob("*.tex")):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            if re.search(r"\\\w*(?:ref|cite\w*)\*?(?:\[[^\]]*\])*\{[^}]*\b" + re.escape(key) + r"\b", line):
                return str(path.relative_to(folder)), number
    return "paper.tex", 0


def _undefined(log: str, folder: Path) -> list[BuildIssue]:
    issues = []
    for m in UNDEFINED.finditer(log):
        what = m.group("what").lower()
        hint = ("label it with \\label{…} or use an existing label (tables: tab:…, figures: fig:…, sections: sec:…)"
                if what == "reference" else "add the entry to the .bib file")
        file, line = _where(folder, m.group("key"))
        issues.append(BuildIssue(file, line or int(m.group("line") or 0), "latex",
                                 f"undefined {what} {m.group('key')!r} (it would print as ??)", hint))
    return issues


def _bibtex(folder: Path) -> list[BuildIssue]:
    done = run("bibtex", ["paper"], folder)
    blg = (folder / "paper.blg").read_text(errors="replace") if (folder / "paper.blg").is_file() else done.stdout
    issues = [BuildIssue("refs.bib", 0, "citation", line.strip(), "fix the entry in the .bib file")
              for line in blg.splitlines() if "---line" in line or line.startswith("I couldn't") or
              "didn't find a database entry" in line]
    if done.returncode >= 2 and not issues:
        issues.append(BuildIssue("refs.bib", 0, "citation", f"bibtex failed: {done.stdout.strip()[-300:]}", ""))
    return issues


def compile_in(paper_dir: Path, scratch: Path) -> Compiled:
    """Copy ``paper_dir`` into ``scratch`` and compile it there; :class:`PaperBuildError` on any failure."""
    require("pdflatex")
    root = str(Path(paper_dir))
    shutil.copytree(paper_dir, scratch, dirs_exist_ok=True,
                    ignore=lambda d, names: [n for n in names if n in IGNORED] if d == root else [])
    if not (scratch / "paper.tex").is_file():
        raise PaperBuildError([BuildIssue(str(paper_dir / "paper.tex"), 0, "input", "no paper.tex to compile",
                                          "build_paper writes it from the template")])
    args = ["-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "paper.tex"]
    cites = re.search(r"^[^%\n]*\\bibliography\{", (scratch / "paper.tex").read_text(errors="replace"), re.M)
    passes = [("pdflatex", args), ("bibtex", []), ("pdflatex", args), ("pdflatex", args)] \
        if cites else [("pdflatex", args), ("pdflatex", args)]
    log = ""
    for program, arguments in passes:
        if program == "bibtex":
            issues = _bibtex(scratch)
            if issues:
                raise PaperBuildError(issues, "bibtex failed; paper.pdf was not replaced")
            continue
        try:
            done = run(program, arguments, scratch)
        except TimeoutError as exc:
            raise PaperBuildError([BuildIssue("paper.tex", 0, "latex", str(exc), "see build/paper.log")],
                                  "pdflatex did not finish; paper.pdf was not replaced") from None
        log_file = scratch / "paper.log"
        log = log_file.read_text(errors="replace") if log_file.is_file() else done.stdout
        if done.returncode != 0 or not (scratch / "paper.pdf").is_file():
            raise PaperBuildError(_log_issues(log) or [BuildIssue("paper.tex", 0, "latex", "pdflatex failed",
                                                                  done.stdout[-300:])],
                                  "pdflatex failed; paper.pdf was not replaced")
    undefined = _undefined(log, scratch)
    if undefined:
        raise PaperBuildError(undefined, "the PDF would show ?? for these; paper.pdf was not replaced")
    pages = PAGES.search(log)
    aux = scratch / "paper.aux"
    return Compiled(scratch / "paper.pdf", int(pages.group(1)) if pages else 0, log,
                    aux.read_text(errors="replace") if aux.is_file() else "")


def install(compiled: Compiled, paper_dir: Path) -> Path:
    """Replace ``paper_dir/paper.pdf`` atomically with the compiled PDF; keep its log and aux under ``build/``."""
    write_bytes(paper_dir / "build" / "paper.log", compiled.log.encode())
    write_bytes(paper_dir / "build" / "paper.aux", compiled.aux.encode())
    return write_bytes(paper_dir / "paper.pdf", compiled.pdf.read_bytes())


def compile_pdf(paper_dir: Path) -> Path:
    """Compile ``paper_dir/paper.tex`` (module docstring); the path of the new ``paper.pdf``."""
    paper_dir = Path(paper_dir)
    with tempfile.TemporaryDirectory(prefix="caramba-paper-") as tmp:
        return install(compile_in(paper_dir, Path(tmp) / "paper"), paper_dir)
