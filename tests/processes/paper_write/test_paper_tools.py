"""The paper's process tools, called the way ADK calls them (fast: no session, no model).

``write_section`` stores the section, writes its file and answers with the build's issues
at once (a typed number with the nearest recorded value); ``submit_review`` refuses a
form off its scales or pointing nowhere; ``answer_point`` refuses an unknown point; the
review renders as ``review-N.md`` and the answers as ``changes-N.md``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from caramba.processes.paper_write import build
from caramba.processes.paper_write.review import changes_markdown, review_markdown
from caramba.processes.paper_write.sections import SECTIONS
from caramba.processes.paper_write.tools import answer_point_tool, submit_review_tool, write_section_tool
from tests.processes.paper_write.build_fixtures import build_workspace, results  # noqa: F401  (fixtures)


def call(tool: Any, **args: Any) -> dict[str, Any]:
    return asyncio.run(tool.run_async(args=args, tool_context=None))


def test_the_writer_writes_exactly_the_sections_the_template_inputs() -> None:
    assert tuple(SECTIONS) == tuple(build.SECTIONS)


def test_write_section_answers_with_the_issues_at_once(results: Any, tmp_path: Path) -> None:
    from caramba.processes.paper_write.record import PaperRecord

    record = PaperRecord(tmp_path, tmp_path, results, None, None)
    actions: dict[str, Any] = {}
    tool = write_section_tool(actions, tmp_path, record.check_section)
    good = call(tool, name="results", latex="The perplexity of MHA is \\res{mha-ppl}.")
    assert good == {"ok": True, "section": "results"}
    bad = call(tool, name="results", latex="The perplexity of MHA is \\res{mha-ppl}.\nGQA reaches 17.2 perplexity.")
    assert not bad["ok"] and bad["issues"][0]["line"] == 2 and bad["issues"][0]["kind"] == "number"
    assert "17.2" in bad["issues"][0]["message"] and "\\res{" in bad["issues"][0]["hint"]  # the nearest recorded value
    assert actions["sections"]["results"].endswith("17.2 perplexity.")  # stored: the build will refuse it
    assert (tmp_path / "sections" / "results.tex").read_text().endswith("17.2 perplexity.\n")
    assert "unknown section" in call(tool, name="conclusions", latex="x")["error"]


def test_submit_review_checks_the_form_and_answers_are_per_point() -> None:
    actions: dict[str, Any] = {}
    tool = submit_review_tool(actions, {"results", "gqa-vs-mha-ppl"})
    form = dict(summary="s", strengths=["a"], questions=["q?"], soundness=3, presentation=3, contribution=2,
                overall=11, confidence=3, weaknesses=[{"where": "discussion", "point": "p"}])
    refused = call(tool, **form)
    assert not refused["ok"] and "review" not in actions
    assert any("overall = 11 is outside 1..10" in e for e in refused["errors"])
    assert any("'discussion', which is no section or claim" in e for e in refused["errors"])
    accepted = call(tool, **{**form, "overall": 6, "weaknesses": [{"where": "gqa-vs-mha-ppl", "point": "p"}]})
    assert accepted == {"ok": True, "points": ["W1", "Q1"]}
    answers: dict[str, Any] = {}
    answer = answer_point_tool(answers, {"W1": "p", "Q1": "q?"})
    assert not call(answer, point="W3", response="x")["ok"]
    assert call(answer, point="W1", response="done")["unanswered"] == ["Q1"]
    assert "- **W1** (gqa-vs-mha-ppl): p" in review_markdown(1, actions["review"])
    assert "| overall | 6 (weak accept) | 1–10 |" in review_markdown(1, actions["review"])
    changes = changes_markdown(1, actions["review"], answers["answers"], ["results"])
    assert "## W1: [gqa-vs-mha-ppl] p\n\ndone" in changes and "## Q1: q?\n\n(not answered)" in changes
