"""The paper's process tools, given only to the turns that need them.

* ``write_section(name, latex)`` (writer): stores a section and writes its file, then runs
  the cheap checks of the paper build on it at once (numbers only through ``\\res``/
  ``\\cmp``, comparative claims backed by a significant comparison, citation keys in the
  BibTeX) and returns the issues with their line, so the model fixes them in the same turn.
* ``answer_point(point, response)`` (writer, revisions): the answer to one review point.
* ``submit_review(...)`` (reviewer): the structured review (:class:`~.review.Review`).

What they receive is written to the turn's ``actions`` and so checkpointed and replayed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from google.adk.tools import FunctionTool

from caramba.processes.paper_write.review import Review, Weakness
from caramba.processes.paper_write.sections import SECTIONS, section_file, write_sections

Checker = Callable[[Path], list[dict[str, Any]]]


def write_section_tool(actions: dict[str, Any], folder: Path, check: Checker) -> FunctionTool:
    """``write_section``: store a section in ``actions["sections"]``, write it, return its issues."""
    sections: dict[str, str] = actions.setdefault("sections", {})

    def write_section(name: str, latex: str) -> dict[str, Any]:
        """Write (or rewrite) one section of the paper; it is checked at once.

        Numbers only through the macros listed in your task (\\res{key}, \\cmp{key});
        a comparative claim only on a comparison whose interval excludes zero; \\cite only
        keys of the bibliography. Fix every issue returned and write the section again.

        Args:
            name: one of title, abstract, introduction, method, results, limitations, conclusion.
            latex: the section's body in LaTeX, without its \\section line (the title: plain text).
        """
        if name not in SECTIONS:
            return {"ok": False, "error": f"unknown section {name!r}; write one of {', '.join(SECTIONS)}"}
        if not latex.strip():
            return {"ok": False, "error": f"section {name!r} is empty; write its text"}
        sections[name] = latex
        write_sections(folder, {name: latex})
        issues = check(folder / section_file(name))
        if issues:
            return {"ok": False, "section": name, "issues": issues,
                    "note": "the section is stored but the paper will not build: fix these and write it again"}
        return {"ok": True, "section": name}

    return FunctionTool(write_section)


def answer_point_tool(actions: dict[str, Any], points: dict[str, str]) -> FunctionTool:
    """``answer_point``: record the answer to one review point in ``actions["answers"]``."""
    answers: dict[str, str] = actions.setdefault("answers", {})

    def answer_point(point: str, response: str) -> dict[str, Any]:
        """Answer one point of the review: what you changed (and where), or why you did not.

        Args:
            point: the point's id from the review (W1, W2, …, Q1, …).
            response: your answer, one short paragraph.
        """
        if point not in points:
            return {"ok": False, "error": f"no point {point!r} in the review; points: {', '.join(points)}"}
        answers[point] = response
        left = [p for p in points if p not in answers]
        return {"ok": True, "unanswered": left}

    return FunctionTool(answer_point)


def submit_review_tool(actions: dict[str, Any], places: set[str]) -> FunctionTool:
    """``submit_review``: check and store the review form in ``actions["review"]``."""

    def submit_review(summary: str, strengths: list[str], weaknesses: list[Weakness], questions: list[str],
                      soundness: int, presentation: int, contribution: int, overall: int,
                      confidence: int) -> dict[str, Any]:
        """Submit your review of the paper (NeurIPS form). Call it once, at the end.

        Args:
            summary: what the paper claims and how it supports it, in your words.
            strengths: each strength, one sentence.
            weaknesses: each weakness with `where` = the section name or comparison key it concerns.
            questions: what the authors should answer.
            soundness: 1 poor, 2 fair, 3 good, 4 excellent.
            presentation: 1 poor, 2 fair, 3 good, 4 excellent.
            contribution: 1 poor, 2 fair, 3 good, 4 excellent.
            overall: 1 very strong reject ... 5 borderline accept, 6 weak accept ... 10 award quality.
            confidence: 1 educated guess ... 5 certain.
        """
        review = Review(summary=summary, strengths=list(strengths),
                        weaknesses=[w if isinstance(w, Weakness) else Weakness.model_validate(w) for w in weaknesses],
                        questions=list(questions), soundness=soundness, presentation=presentation,
                        contribution=contribution, overall=overall, confidence=confidence)
        problems = review.problems(places)
        if problems:
            return {"ok": False, "errors": problems, "note": "fix these and submit the review again"}
        actions["review"] = review.model_dump()
        return {"ok": True, "points": list(review.points())}

    return FunctionTool(submit_review)
