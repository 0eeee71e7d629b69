"""What stops a paper: bad input before any model call, and a revision the build refuses.

A writer turn that types a number, claims significance on an interval that includes
zero, or cites an unknown key makes the build fail with each issue's file, line and
what to do (the typed number with the recorded value nearest to it); the session ends
``failed`` (exit 1) with no traceback, and the previous good ``paper.pdf`` is kept.
The revision runs on the ADK-level scripted model, resumed from the end-to-end paper's
checkpoint after its review (the runtime's own resume: completed turns are not re-run).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.processes.paper_write.conftest import SCRIPTS, Written, invoke


def resume_after_review(e2e: Written, dest: Path) -> Path:
    """A copy of the e2e paper folder whose checkpoint ends after ``review-1``."""
    shutil.copytree(e2e.folder, dest)
    state = json.loads((dest / "state.json").read_text())
    state["turns"] = [t for t in state["turns"] if t["id"] in ("draft", "review-1")]
    state["data"]["builds"] = state["data"]["builds"][:1]
    state["data"].pop("remember", None)
    state["status"], state["message"] = "running", ""
    (dest / "state.json").write_text(json.dumps(state))
    return dest


def test_a_revision_that_types_a_number_overclaims_and_cites_nothing_fails_keeping_the_pdf(
        e2e: Written, comparison: Path) -> None:
    folder = resume_after_review(e2e, comparison / "bad")
    pdf_before = (folder / "paper.pdf").read_bytes()
    result = invoke(comparison, "paper", "--manifest", "cmp.yml", "--bib", "paper_refs.bib", "--out", "bad",
                    "--model", f"script:{SCRIPTS / 'paper_bad_revision.yml'}")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "error:" in result.output
    state = json.loads((folder / "state.json").read_text())
    message = state["message"]
    assert state["status"] == "failed" and message.startswith("failed: the paper does not build after revise-1")
    assert "The previous good paper.pdf is kept." in message
    issues = state["data"]["builds"][-1]["issues"]
    where = {(issue["kind"], issue["file"], issue["line"]) for issue in issues}
    assert {("number", "sections/results.tex", 2), ("claim", "sections/results.tex", 3),
            ("citation", "sections/results.tex", 4)} <= where, issues
    typed = next(i for i in issues if i["kind"] == "number")
    assert "17.2" in typed["message"] and "\\res{" in typed["message"] + typed["hint"]  # the nearest recorded value
    claim = next(i for i in issues if i["kind"] == "claim" and i["line"] == 3)
    assert "gqa-vs-mha-ppl" in claim["message"]
    cite = next(i for i in issues if i["kind"] == "citation")
    assert "smith2099unknown" in cite["message"]
    assert "sections/results.tex:2" in message and "17.2" in message
    # the writer was told at once, inside its turn, and got one turn to fix it
    revise = next(t for t in state["turns"] if t["id"] == "revise-1")
    assert not revise["tools"][0]["ok"] and "17.2" in revise["tools"][0]["result"]
    assert [t["id"] for t in state["turns"]] == ["draft", "review-1", "revise-1", "fix-revise-1-1"]
    assert (folder / "paper.pdf").read_bytes() == pdf_before


def test_bad_input_is_refused_before_any_model_call(comparison: Path) -> None:
    cases = [
        (["--manifest", "missing.yml"], "--manifest"),
        (["--runs", "nosuch-train-s1-00000000"], "nosuch-train-s1-00000000"),
        (["--manifest", "cmp.yml", "--bib", "nothere.bib"], "--bib"),
        (["--manifest", "cmp.yml", "--runs", "x"], "exactly one source"),
    ]
    import os

    from typer.testing import CliRunner

    from caramba.cli.app import app

    before = Path.cwd()
    os.chdir(comparison)
    try:  # in this process: the command stops before it would start the MCP server or call a model
        results = [(CliRunner().invoke(app, ["paper", *args, "--out", "refused", "--model", "openai/none",
                                             "--api-base", "http://127.0.0.1:9/v1"], env={"OPENAI_API_KEY": "sk-local",
                                                                                           "COLUMNS": "200"}), said)
                   for args, said in cases]
    finally:
        os.chdir(before)
    for result, said in results:
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code == 2, result.output
        assert said in result.output and "hint:" in result.output and "Traceback" not in result.output
        assert not (comparison / "refused").exists()
