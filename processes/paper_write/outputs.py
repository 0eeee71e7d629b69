"""The paper session's own files and what it leaves in memory.

:func:`write_rounds` writes, from the checkpoint, the sections and every round's
``review-N.md`` (+ ``review-N.json``, the form as submitted) and ``changes-N.md`` (each
point with the writer's answer); ``paper.tex``/``paper.pdf`` are the build's.
:func:`remember_parts` gives the memory the paper's claims (each sentence that states a
``\\cmp`` comparison, with the comparison's numbers) and the reviews (summary, scores,
weaknesses), which the runtime records with the session (``remember`` kinds ``claim``
and ``review``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from caramba.agents.runtime.state import SessionState
from caramba.engine.store.atomic import write_text
from caramba.processes.paper_write.review import changes_markdown, review_markdown
from caramba.processes.paper_write.sections import current_sections, write_sections

CMP = re.compile(r"\\cmp\{([^}]+)\}")


def reviews(state: SessionState) -> list[tuple[int, dict[str, Any]]]:
    """(round, review form) of every review handed in."""
    return [(t.round, t.actions["review"]) for t in state.turns if t.kind == "review" and "review" in t.actions]


def write_rounds(folder: Path, state: SessionState) -> list[str]:
    """Write the sections, reviews and changes; returns their paths relative to ``folder``."""
    files = write_sections(folder, current_sections(state))
    revisions = {t.round: t for t in state.turns if t.kind == "revise"}
    for number, review in reviews(state):
        write_text(folder / f"review-{number}.md", review_markdown(number, review))
        write_text(folder / f"review-{number}.json", json.dumps(review, indent=1, ensure_ascii=False) + "\n")
        files += [f"review-{number}.md", f"review-{number}.json"]
        if number in revisions:
            turn = revisions[number]
            write_text(folder / f"changes-{number}.md", changes_markdown(number, review, turn.actions.get("answers", {}),
                                                                         sorted(turn.actions.get("sections", {}))))
            files.append(f"changes-{number}.md")
    return files + [name for name in ("paper.tex", "paper.pdf") if (folder / name).is_file()]


def summary_lines(state: SessionState) -> list[str]:
    """The summary's lines: sections, builds, review scores per round."""
    builds = state.data.get("builds", [])
    good = sum(b["ok"] for b in builds)
    lines = [f"- sections: {', '.join(current_sections(state)) or '(none yet)'}",
             f"- builds: {good} of {len(builds)} succeeded" + ("" if not builds or builds[-1]["ok"]
                                                              else " (the last failed; the previous good PDF is kept)")]
    for number, review in reviews(state):
        lines.append(f"- review {number}: overall {review['overall']}/10 (confidence {review['confidence']}/5), "
                     f"soundness {review['soundness']}, presentation {review['presentation']}, "
                     f"contribution {review['contribution']}; {len(review['weaknesses'])} weaknesses")
    return lines


def claims(sections: dict[str, str], comparisons: dict[str, Any]) -> list[dict[str, str]]:
    """Each sentence of the paper that states a comparison, with that comparison's record."""
    found: list[dict[str, str]] = []
    for name, text in sections.items():
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
            for key in CMP.findall(sentence):
                c = comparisons.get(key)
                record = (f" [{c.arms[1]} - {c.arms[0]} on {c.metric}: {c.text} (95% CI), p={c.p}, "
                          f"{'CI includes zero' if c.ci_includes_zero else 'CI excludes zero'}; runs "
                          f"{', '.join(c.run_ids)}]") if c else ""
                found.append({"speaker": "writer", "text": f"claim ({name}): {sentence}{record}"})
    return found


def remember_parts(state: SessionState, record: Any) -> dict[str, list[dict[str, str]]]:
    """The claims and reviews to remember (see the module docstring)."""
    reviewed = [{"speaker": "reviewer",
                 "text": (f"review {n}: overall {r['overall']}/10, soundness {r['soundness']}/4, presentation "
                          f"{r['presentation']}/4, contribution {r['contribution']}/4. {r['summary']} Weaknesses: "
                          + " ".join(f"({w['where']}) {w['point']}" for w in r["weaknesses"]))} for n, r in reviews(state)]
    return {"claim": claims(current_sections(state), record.results.comparisons), "review": reviewed}
