"""A paper from a real CPU comparison, through LiteLLM's real HTTP path, reviewed once and revised.

The writer and the reviewer are answered by the scripted OpenAI-compatible server; the
MCP server, the run store, results.tex, the checks and pdflatex are real. What a user
relies on: the paper builds to a PDF whose every number traces to provenance.json, the
review and the answers to it are written, all rounds are kept, the claims and the
review reach memory, and a replay writes the same paper.tex without any model.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.processes.paper_write.conftest import Written, invoke

#: A number as printed: not part of a word or identifier (run ids, hashes); versions keep every part.
NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)*(?:e[-+]?\d+)?(?![\w])")


def test_the_paper_is_written_reviewed_revised_and_built(e2e: Written) -> None:
    assert e2e.result.exit_code == 0, e2e.result.output
    assert "completed: paper.pdf after 1 review round(s)" in e2e.result.output
    folder = e2e.folder
    for name in ("paper.tex", "paper.pdf", "results.tex", "provenance.json", "review-1.md", "review-1.json",
                 "changes-1.md", "summary.md", "transcript.md", "recording.jsonl"):
        assert (folder / name).is_file(), name
    assert sorted(p.name for p in (folder / "sections").glob("*.tex")) == sorted(
        f"{n}.tex" for n in ("title", "abstract", "introduction", "method", "results", "limitations"))
    assert list((folder / "figures").glob("*.pdf"))
    state = json.loads((folder / "state.json").read_text())
    assert [t["id"] for t in state["turns"]] == ["draft", "review-1", "revise-1"]
    assert [(b["stage"], b["ok"]) for b in state["data"]["builds"]] == [("draft", True), ("revise-1", True)]
    # the revision is in the paper: the limitations now quote the perplexity interval
    assert "\\cmp{gqa-vs-mha-ppl}" in (folder / "sections" / "limitations.tex").read_text()
    tex = (folder / "paper.tex").read_text()
    assert "\\input{results}" in tex and "\\input{setup}" in tex and "\\input{appendix}" in tex


def test_the_review_and_the_answers_are_written_point_by_point(e2e: Written) -> None:
    review = (e2e.folder / "review-1.md").read_text()
    assert "- **W1** (limitations): An interval that includes zero" in review
    assert "- **W2** (gqa-vs-mha-kv-bytes-fp16-b-1-l-1024):" in review
    assert "| overall | 4 (borderline reject) | 1–10 |" in review and "| confidence | 3 | 1–5 |" in review
    changes = (e2e.folder / "changes-1.md").read_text()
    assert "Sections rewritten: limitations, results" in changes
    for point in ("W1", "W2", "Q1"):
        assert f"## {point}: " in changes
    assert "(not answered)" not in changes
    assert json.loads((e2e.folder / "review-1.json").read_text())["overall"] == 4


def test_each_persona_was_asked_through_litellm_with_its_process_tools(e2e: Written) -> None:
    by_role = {r.role for r in e2e.requests}
    assert by_role == {"writer", "reviewer"}
    assert all(r.status == 200 and r.model == "scripted" and r.token == "sk-local" for r in e2e.requests)
    writer_tools = {t for r in e2e.requests if r.role == "writer" for t in r.tools}
    assert {"write_section", "answer_point"} <= writer_tools and "submit_review" not in writer_tools
    assert "submit_review" in {t for r in e2e.requests if r.role == "reviewer" for t in r.tools}
    # the writer's task lists the macros with the values they print, and the arms' diff
    first = json.dumps(next(r for r in e2e.requests if r.role == "writer").body)
    assert "gqa-vs-mha-ppl" in first and "n_kv_heads" in first
    # the reviewer read the PDF's text: the recorded perplexity of mha as printed
    provenance = json.loads((e2e.folder / "provenance.json").read_text())
    assert provenance  # the build's map of every macro to its runs
    state = json.loads((e2e.folder / "state.json").read_text())
    usage = sum(u["prompt_tokens"] for u in state["usage"].values())
    assert usage == sum(r.usage["prompt_tokens"] for r in e2e.requests)


def pdf_lines(pdf: Path) -> list[str]:
    """The PDF's text (pdftotext), line by line."""
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.splitlines()


def plain(number: str) -> str:
    """A printed number without its sign and thousands separators (how provenance.json lists it)."""
    return number.lstrip("-−").replace(",", "")


def recorded(provenance: object) -> set[str]:
    """Every number provenance.json gives a source for (its ``numbers`` lists, and the constants)."""
    found: set[str] = set()
    if isinstance(provenance, dict):
        for key, value in provenance.items():
            if key.startswith("numbers") and isinstance(value, list):
                found |= {plain(str(v)) for v in value}
            else:
                found |= recorded(value)
        found |= {plain(k) for k in provenance.get("constants", {})}
    elif isinstance(provenance, list):
        for item in provenance:
            found |= recorded(item)
    return found


STRUCTURE = re.compile(r"(?:Figure|Table|Section|Appendix|page)\s*$")


def test_every_number_of_the_pdf_traces_to_provenance(e2e: Written, comparison: Path) -> None:
    """pdftotext of the PDF: each number is recorded in provenance.json, printed by a figure
    (its own PDF's text: axis ticks), a number LaTeX gave a section/figure/table/page, or the
    bibliography's (a number of refs.bib: years); a software version (x.y.z) is the generated
    setup's, from the runs' environment.json."""
    folder = e2e.folder
    allowed = recorded(json.loads((folder / "provenance.json").read_text()))
    for figure in (folder / "figures").glob("*.pdf"):
        allowed |= {plain(n) for line in pdf_lines(figure) for n in NUMBER.findall(line)}
    bib_numbers = {plain(n) for n in NUMBER.findall((comparison / "paper_refs.bib").read_text())}
    setup = (folder / "setup.tex").read_text()
    untraced = []
    for line in pdf_lines(folder / "paper.pdf"):
        for match in NUMBER.finditer(line):
            number = plain(match.group())
            heading = re.match(r"\s*(?:[A-Z]\.)?[\d.]+\s+[A-Z]", line) is not None and match.start() < 6
            version = number.count(".") >= 2 and number in setup
            if number in allowed or number in bib_numbers or heading or version or line.strip() == match.group() \
                    or STRUCTURE.search(line[:match.start()]):
                continue
            untraced.append((number, line))
    assert not untraced, untraced
    printed = " ".join(pdf_lines(folder / "paper.pdf"))
    ppl = json.loads((folder / "provenance.json").read_text())["macros"]["\\res{mha-ppl}"]
    assert ppl["numbers"][0] in printed  # the check is not vacuous: the recorded perplexity is printed


def test_replay_writes_the_same_paper_without_a_model(e2e: Written, comparison: Path) -> None:
    result = invoke(comparison, "paper", "--replay", "written/recording.jsonl", "--out", "replayed")
    assert result.exit_code == 0, result.output
    replayed = comparison / "replayed"
    assert (replayed / "paper.tex").read_bytes() == (e2e.folder / "paper.tex").read_bytes()
    for section in (e2e.folder / "sections").glob("*.tex"):
        assert (replayed / "sections" / section.name).read_bytes() == section.read_bytes()
    assert (replayed / "changes-1.md").read_text() == (e2e.folder / "changes-1.md").read_text()
    assert (replayed / "paper.pdf").is_file()


def test_the_claims_and_the_review_are_remembered(e2e: Written, comparison: Path) -> None:
    from caramba.memory.api import Memory

    memory = Memory(comparison)
    try:
        claims = memory.search("claim gqa-vs-mha-ppl perplexity", k=20, mode="bm25")["hits"]
        reviews = memory.search("review overall soundness presentation contribution", k=20, mode="bm25")["hits"]
    finally:
        memory.close()
    said = [h for h in claims if h["kind"] == "claim" and "\\cmp{gqa-vs-mha-ppl}" in h["text"]]
    assert said and "CI includes zero" in said[0]["text"] and "mha-train-s1-" in said[0]["text"]
    reviewed = [h for h in reviews if h["kind"] == "review"]
    assert reviewed and "overall 4/10" in reviewed[0]["text"] and "(limitations)" in reviewed[0]["text"]
