"""The sections the writer writes, and the sections of a checkpoint.

The writer writes the bodies of the template's sections (``build.template.SECTIONS``:
title, abstract, introduction, method, results, limitations) as
``sections/<name>.tex``; the template gives them their headings and labels
(``sec:<name>``), and everything else is generated from the record: the macros
(``results.tex``), the experimental setup (``setup.tex``, label ``sec:setup``), the
comparison's tables and figures (``floats.tex``) and the reproducibility appendix.
``build_paper`` renders ``paper.tex`` from the template.

:func:`current_sections` folds the writer's turns in order (each ``write_section`` call
lands in its turn's actions), so the sections of any checkpoint, and of a replay, are a
pure function of its turns.
"""

from __future__ import annotations

from pathlib import Path

from caramba.agents.runtime.state import SessionState
from caramba.engine.store.atomic import write_text

#: Section name → what the writer is asked to put there (the template's sections, in order).
SECTIONS: dict[str, str] = {
    "title": "one line of plain text: the finding, exactly as strong as the evidence",
    "abstract": "the question, what was compared, the main result through \\cmp/\\res macros, what it means",
    "introduction": "the question, why it matters, what this paper contributes, related work (\\cite)",
    "method": "the architectures from their manifests and the one thing that differs between the arms, "
              "with the code that implements it (the setup section after it is generated)",
    "results": "the comparisons with their confidence intervals; refer to the tables and figures by \\ref "
               "(they are placed for you)",
    "limitations": "what the evidence does not show (seeds, scale, data, hardware, from the record), and the next "
                   "experiment",
}
WRITER_KINDS = frozenset({"draft", "revise", "fix"})


def current_sections(state: SessionState) -> dict[str, str]:
    """The latest text of each section written so far (in :data:`SECTIONS` order)."""
    latest: dict[str, str] = {}
    for turn in state.turns:
        if turn.kind in WRITER_KINDS:
            latest.update(turn.actions.get("sections", {}))
    return {name: latest[name] for name in SECTIONS if name in latest}


def section_file(name: str) -> str:
    """The path of section ``name`` relative to the paper folder."""
    return f"sections/{name}.tex"


def write_sections(folder: Path, sections: dict[str, str]) -> list[str]:
    """Write every section file; returns their paths relative to ``folder``."""
    for name, text in sections.items():
        write_text(folder / section_file(name), text.rstrip() + "\n")
    return [section_file(name) for name in sections]
