"""The programs a paper build runs, found once per call, each with the Debian package that provides it.

``pdflatex`` (texlive-latex-base), ``bibtex`` (texlive-binaries), ``pdftotext``
(poppler-utils). The default template also needs texlive-latex-recommended (booktabs,
listings, xcolor). A missing program is a :class:`~caramba.processes.paper_write.build.issues.MissingTool`
naming the package to install — never a silent skip of a check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from caramba.processes.paper_write.build.issues import MissingTool

PACKAGES = {"pdflatex": "texlive-latex-base (and texlive-latex-recommended for booktabs/listings)",
            "bibtex": "texlive-binaries", "pdftotext": "poppler-utils"}


def require(program: str) -> str:
    """The full path of ``program``; :class:`MissingTool` naming its Debian package when it is not installed."""
    path = shutil.which(program)
    if path is None:
        raise MissingTool(f"{program} is not installed; the paper build needs it. Install the Debian package "
                          f"{PACKAGES.get(program, program)} (e.g. apt-get install {PACKAGES.get(program, program).split()[0]})")
    return path


#: kpathsea's own switches: TeX may open files for reading and writing only below the folder it runs in.
#: ``max_print_line`` keeps TeX from wrapping log lines, so ``file:line: message`` stays whole.
PARANOID = {"openin_any": "p", "openout_any": "p", "shell_escape": "f", "max_print_line": "10000"}


def run(program: str, args: list[str], cwd: Path, timeout_s: float = 180.0) -> subprocess.CompletedProcess[str]:
    """Run ``program args`` in ``cwd`` (stdin closed, output captured, :data:`PARANOID` file access).

    A non-zero exit is returned, not raised; a program that runs past ``timeout_s`` is a
    :class:`TimeoutError` saying which and how long.
    """
    try:
        return subprocess.run([require(program), *args], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="replace", timeout=timeout_s, check=False,
                              env={**os.environ, **PARANOID})
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"{program} {' '.join(args)} did not finish in {timeout_s:.0f} s (in {cwd}); a LaTeX "
                           "source that loops (e.g. a recursive macro) is the usual cause") from None


def pdf_text(pdf: Path) -> str:
    """The text of ``pdf`` by ``pdftotext`` (pages separated by form feeds)."""
    done = run("pdftotext", ["-enc", "UTF-8", str(pdf), "-"], Path(pdf).parent)
    if done.returncode != 0:
        raise RuntimeError(f"pdftotext could not read {pdf}: {done.stderr.strip()[:300]}")
    return done.stdout
