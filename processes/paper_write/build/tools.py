"""The programs a paper build runs, found once per call, each with the Debian package that provides it.

``pdflatex`` (texlive-latex-base), ``bibtex`` (texlive-binaries), ``pdftotext``
(poppler-utils). The default template also needs texlive-latex-recommended (booktabs,
listings, xcolor). A missing program is a :class:`~caramba.processes.paper_write.build.issues.MissingTool`
naming the package to install — never a silent skip of a check.
"""

from __future__ import annotations

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


def run(program: str, args: list[str], cwd: Path, timeout_s: float = 180.0) -> subprocess.CompletedProcess[str]:
    """Run ``program args`` in ``cwd`` (stdin closed, output captured); never raises on a non-zero exit."""
    return subprocess.run([require(program), *args], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          errors="replace", timeout=timeout_s, check=False)


def pdf_text(pdf: Path) -> str:
    """The text of ``pdf`` by ``pdftotext`` (pages separated by form feeds)."""
    done = run("pdftotext", ["-enc", "UTF-8", str(pdf), "-"], Path(pdf).parent)
    if done.returncode != 0:
        raise RuntimeError(f"pdftotext could not read {pdf}: {done.stderr.strip()[:300]}")
    return done.stdout
