"""The reviewer's structured review (a NeurIPS-style form) and the writer's answers to it.

The reviewer hands in a :class:`Review` through the ``submit_review`` process tool: a
summary, strengths, weaknesses (each pointing at a section of the paper or at a
comparison claim by its key), questions, and the form's scores: soundness, presentation
and contribution (1 poor … 4 excellent), overall (1 strong reject … 10 award quality)
and the reviewer's confidence (1 … 5). Weaknesses and questions are numbered ``W1…``,
``Q1…``; the writer answers each by its id (``answer_point``), and :func:`changes_markdown`
writes those answers as ``changes-N.md`` (a point left unanswered says so).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

SCALES = {"soundness": (1, 4), "presentation": (1, 4), "contribution": (1, 4), "overall": (1, 10), "confidence": (1, 5)}
OVERALL = {1: "very strong reject", 2: "strong reject", 3: "reject", 4: "borderline reject", 5: "borderline accept",
           6: "weak accept", 7: "accept", 8: "strong accept", 9: "very strong accept", 10: "award quality"}


class Weakness(BaseModel):
    """One weakness, pinned to where it is."""

    where: str = Field(description="the section (e.g. results) or comparison claim key (e.g. gqa-vs-mha-ppl) it is about")
    point: str = Field(description="what is wrong and what would fix it")


class Review(BaseModel):
    """A whole review (see the module docstring)."""

    summary: str
    strengths: list[str]
    weaknesses: list[Weakness]
    questions: list[str]
    soundness: int
    presentation: int
    contribution: int
    overall: int
    confidence: int

    def problems(self, places: set[str]) -> list[str]:
        """What is wrong with the form: scores off their scale, a weakness pointing nowhere."""
        found = [f"{name} = {getattr(self, name)} is outside {low}..{high}"
                 for name, (low, high) in SCALES.items() if not low <= getattr(self, name) <= high]
        found += [f"weakness {i} points at {w.where!r}, which is no section or claim; use one of: "
                  f"{', '.join(sorted(places))}" for i, w in enumerate(self.weaknesses, 1) if w.where not in places]
        if not self.summary.strip():
            found.append("the summary is empty")
        return found

    def points(self) -> dict[str, str]:
        """Every point the writer must answer, by id (``W1``…, then ``Q1``…)."""
        out = {f"W{i}": f"[{w.where}] {w.point}" for i, w in enumerate(self.weaknesses, 1)}
        out.update({f"Q{i}": q for i, q in enumerate(self.questions, 1)})
        return out


def review_markdown(number: int, review: dict[str, Any]) -> str:
    """``review-N.md``: the form as a reader sees it."""
    r = Review.model_validate(review)
    lines = [f"# Review {number}", "", "## Summary", "", r.summary, "", "## Strengths", ""]
    lines += [f"- {s}" for s in r.strengths] or ["(none given)"]
    lines += ["", "## Weaknesses", ""]
    lines += [f"- **W{i}** ({w.where}): {w.point}" for i, w in enumerate(r.weaknesses, 1)] or ["(none given)"]
    lines += ["", "## Questions", ""]
    lines += [f"- **Q{i}**: {q}" for i, q in enumerate(r.questions, 1)] or ["(none given)"]
    lines += ["", "## Scores", "", "| criterion | score | scale |", "|---|---|---|"]
    for name, (low, high) in SCALES.items():
        extra = f" ({OVERALL[r.overall]})" if name == "overall" and r.overall in OVERALL else ""
        lines.append(f"| {name} | {getattr(r, name)}{extra} | {low}–{high} |")
    return "\n".join(lines) + "\n"


def changes_markdown(number: int, review: dict[str, Any], answers: dict[str, str], sections: list[str]) -> str:
    """``changes-N.md``: each point of review N with the writer's answer, and the sections rewritten."""
    points = Review.model_validate(review).points()
    lines = [f"# Changes after review {number}", "",
             f"Sections rewritten: {', '.join(sections) if sections else '(none)'}", ""]
    for pid, point in points.items():
        lines += [f"## {pid}: {point}", "", answers.get(pid, "(not answered)"), ""]
    return "\n".join(lines)
