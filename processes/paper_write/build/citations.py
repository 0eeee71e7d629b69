"""``check_citations``: every ``\\cite`` key must be an entry of the given BibTeX file.

Keys are read from the ``.bib`` file as ``@type{key,`` (``@string``, ``@preamble`` and
``@comment`` are not entries). Every citing command (``\\cite``, ``\\citep``, ``\\citet``,
``\\citealp``, ``\\citeauthor``, ``\\citeyear``, ``\\nocite``… with optional ``[…]``
notes) and every comma-separated key in it is checked; an unknown key is an issue naming
file:line and the closest known keys (difflib). Without a ``.bib`` every citation is an
issue: no network is assumed, so a reference exists only when the bibliography holds it.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from caramba.processes.paper_write.build.issues import BuildIssue
from caramba.processes.paper_write.build.provenance_check import display
from caramba.processes.paper_write.build.texscan import line_of, strip_comments

ENTRY = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s{}()]+)\s*,")
CITE = re.compile(r"\\(?:no)?cite[A-Za-z]*\*?\s*(?:\[[^\]]*\]\s*){0,2}\{([^}]*)\}")
NOT_ENTRIES = ("string", "preamble", "comment")


def bib_keys(bib: Path) -> list[str]:
    """The entry keys of a BibTeX file, in file order."""
    text = Path(bib).read_text(encoding="utf-8", errors="replace")
    return [m.group(2) for m in ENTRY.finditer(text) if m.group(1).lower() not in NOT_ENTRIES]


def cited(text: str) -> list[tuple[str, int]]:
    """(key, offset) of every cited key in ``text`` (comments stripped)."""
    out = []
    for m in CITE.finditer(text):
        for part in m.group(1).split(","):
            if part.strip() and part.strip() != "*":
                out.append((part.strip(), m.start()))
    return out


def check_citations(tex_files: list[Path], bib: Path | None, base: Path | None = None) -> list[BuildIssue]:
    """Issues for every citation whose key is not in ``bib`` (module docstring)."""
    known = bib_keys(bib) if bib is not None else []
    issues = []
    for path in tex_files:
        text = strip_comments(Path(path).read_text(encoding="utf-8"))
        for key, offset in cited(text):
            if key in known:
                continue
            if bib is None:
                hint = "no bibliography was given: pass a .bib file (--bib refs.bib) that holds this entry, or remove the citation"
            else:
                close = difflib.get_close_matches(key, known, n=3, cutoff=0.4)
                hint = (f"closest keys in {Path(bib).name}: {', '.join(close)}" if close
                        else f"{Path(bib).name} has {len(known)} entries, none close; add the entry or remove the citation")
            issues.append(BuildIssue(display(path, base), line_of(text, offset), "citation",
                                     f"unknown citation key {key!r}", hint))
    return issues
