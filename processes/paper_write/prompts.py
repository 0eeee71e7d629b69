"""What each turn of the paper session asks, built only from the checkpoint and the record.

Every turn is a fresh conversation, so each message carries what its speaker needs: the
writer gets the facts (:mod:`~caramba.processes.paper_write.context`: macros with their
values and meaning, comparisons with their intervals, tables, figures, the arms'
manifests and their diff, the code that implements them, notes, citation keys) and the
sections written so far; the reviewer gets the paper as a reader sees it (the PDF's
text) and its LaTeX; a fix turn gets the build's issues with file and line.
"""

from __future__ import annotations

import json
from typing import Any

from caramba.processes.paper_write.sections import SECTIONS

RULES = """You are writing or reviewing a research paper inside caramba, where every number comes
from a recorded run. Writing rules (the build enforces them and fails otherwise):
- Never type a number from the results. Write \\res{key} for a quantity and \\cmp{key} for a
  comparison; the macros print the recorded value with its uncertainty. Section, table and
  figure numbers come from \\ref; do not type them either.
- A comparative claim ("X reduces Y", "significantly better") needs a \\cmp{key} whose
  confidence interval excludes zero; when it does not, say that the difference is not
  resolved by the evidence.
- \\cite only keys of the given bibliography.
- The comparison's tables and figures are placed for you: refer to them with Table~\\ref{LABEL} and
  Figure~\\ref{LABEL}. The experimental setup (Section~\\ref{sec:setup}) and the reproducibility appendix are
  generated from the record; do not write them, and do not repeat hyperparameters: refer to the setup."""


def section_list() -> str:
    """The sections the writer writes, with what goes in each."""
    return "\n".join(f"- {name}: {what}" for name, what in SECTIONS.items())


def draft_task(context: str) -> str:
    """The first writer turn: every section."""
    return (f"{context}\n\n## Your task\nWrite the paper: call write_section once per section below, fix every "
            f"issue a call returns, then reply with one line saying the draft is done.\n{section_list()}")


def review_task(number: int, pdf_text: str, sections: dict[str, str], comparisons: list[str]) -> str:
    """Reviewer turn ``review-N``: the paper as read, its source, where weaknesses may point."""
    places = ", ".join([*SECTIONS, *comparisons])
    return (f"# Paper to review (round {number})\n\n## As the reader sees it (text of the PDF)\n\n{pdf_text}\n\n"
            f"## Its LaTeX sections\n\n{_sources(sections)}\n\n## Your task\nReview the paper as a demanding "
            f"NeurIPS referee and hand in the form with submit_review. Each weakness names where it is: "
            f"one of {places}. Then reply with one line.")


def revise_task(context: str, number: int, review_md: str, points: dict[str, str], sections: dict[str, str]) -> str:
    """Writer turn ``revise-N``: the review, the current sections, and the facts again."""
    ids = ", ".join(points) or "(none)"
    return (f"{context}\n\n## The paper so far\n\n{_sources(sections)}\n\n## Review {number}\n\n{review_md}\n\n"
            f"## Your task\nRevise the paper: rewrite the sections the review asks about with write_section "
            f"(fix every issue a call returns), and answer every point ({ids}) with answer_point, saying what you "
            f"changed or why not. Then reply with one line.")


def fix_task(context: str, issues: list[dict[str, Any]], sections: dict[str, str]) -> str:
    """Writer turn after a failed build: its issues, and the sections they are in."""
    listed = "\n".join(f"- {json.dumps(issue, ensure_ascii=False)}" for issue in issues)
    return (f"{context}\n\n## The paper so far\n\n{_sources(sections)}\n\n## The build failed\n\n{listed}\n\n"
            "## Your task\nFix every issue with write_section (the whole section, corrected), then reply with one line.")


def _sources(sections: dict[str, str]) -> str:
    return "\n\n".join(f"### {name} ({'sections/' + name + '.tex'})\n```latex\n{text}\n```"
                       for name, text in sections.items()) or "(nothing written yet)"
