"""``check_claims``: comparative wording must rest on a comparison, and say what its CI says.

A sentence (or clause) that compares — *reduces, improves, outperforms, exceeds,
significant, better/lower/larger… than* (:data:`COMPARATIVE`), or a bare *better, lower,
larger…* (:data:`ADJECTIVE`) next to a measured result — must carry a ``\\cmp{key}`` (or a ``\\res`` of that comparison's difference, ratio or
p-value). Then, per clause (split at ``;``, *but*, *while*, *whereas*, *although*):

Wording is looked for in the prose only (arguments of ``\\ref``, ``\\label``… are masked).

* a claim of a difference whose 95% CI includes 0 (or that was not tested: one seed) is
  an issue — say there is no significant difference, or remove the claim;
* a denial (*no significant difference*, *not significantly*, *comparable*, *similar*,
  *indistinguishable* — :data:`DENIAL`) whose CI excludes 0 is an issue too: the data
  show a difference.

A sentence that cites (``\\cite…``) reports others' work and is not checked. Which arm is
better is left to the reader of the sentence: the check is about whether the record
supports *a* difference, not its direction.
"""

from __future__ import annotations

import re
from pathlib import Path

from caramba.processes.paper_write.build.issues import BuildIssue
from caramba.processes.paper_write.build.model import ComparisonClaim, ResultSet
from caramba.processes.paper_write.build.provenance_check import display
from caramba.processes.paper_write.build.texscan import line_of, mask_non_prose, refs, sentences, strip_comments

COMPARATIVE = re.compile(
    r"\b(reduc\w*|improv\w*|outperform\w*|beats?|exceed\w*|surpass\w*|superior|inferior|significant\w*|less than"
    r"|more than|cuts?|shrinks?|halves|doubles|(?:better|worse|lower|higher|smaller|larger|fewer|faster|slower)\s+"
    r"(?:\w+\s+){0,4}?than)\b", re.I)
ADJECTIVE = re.compile(r"\b(better|worse|lower|higher|smaller|larger|fewer|faster|slower)\b", re.I)
DENIAL = re.compile(r"\b(no|not|nor|never|without)\b[^.;]{0,40}\b(significant\w*|differen\w*|better|worse|improv\w*|"
                    r"reduc\w*|lower|higher|outperform\w*)|\b(comparable|similar|indistinguishable|on par|within noise|"
                    r"inconclusive)\b", re.I)
CLAUSE = re.compile(r";|,?\s+\b(?:but|while|whereas|although|though)\b", re.I)
CITE = re.compile(r"\\cite\w*\s*(\[[^\]]*\]\s*)*\{")


def claim_of(command: str, key: str, results: ResultSet) -> ComparisonClaim | None:
    """The comparison a ``\\cmp{key}`` — or a ``\\res`` of its difference, p-value or ratio — refers to."""
    if command == "cmp":
        return results.comparisons.get(key)
    base = key[:-2] if key.endswith("-p") else key[:-4] if key.endswith("-pct") else key
    base = base.replace("-over-", "-vs-", 1)
    return results.comparisons.get(base) if base in results.comparisons and base in results.quantities else None


def _judge(clause: str, claim: ComparisonClaim) -> str | None:
    """Why ``clause`` misstates ``claim`` (None when it does not)."""
    ci = f"[{claim.ci_low:.3g}, {claim.ci_high:.3g}]" if claim.ci_low is not None and claim.ci_high is not None else None
    denies = DENIAL.search(clause) is not None
    if claim.test == "none":
        return None if denies else (f"\\cmp{{{claim.key}}} was not tested (fewer than two seeds per arm); say the "
                                    "difference is untested or run more seeds")
    if claim.ci_includes_zero and not denies:
        return (f"the 95% CI {ci} of \\cmp{{{claim.key}}} includes 0: say 'no significant difference' or remove the claim")
    if denies and not claim.ci_includes_zero:
        return (f"the 95% CI {ci or claim.text} of \\cmp{{{claim.key}}} excludes 0: the runs show a difference, "
                "do not deny it")
    return None


def _wording(text: str, results: ResultSet, raw: str | None = None) -> re.Match[str] | None:
    """The comparative (or denying) wording of ``text``: strong words always; a bare comparative
    adjective (*lower*, *larger*…) only next to a result (a metric/difference ``\\res`` or a
    ``\\cmp``) — "larger models" in a limitation compares nothing measured."""
    strong = COMPARATIVE.search(text) or DENIAL.search(text)
    if strong:
        return strong
    measured = any(r.command == "cmp" or (r.key in results.quantities and results.quantities[r.key].kind in
                                           ("metric", "difference", "ratio")) for r in refs(raw or text))
    return ADJECTIVE.search(text) if measured else None


def _clauses(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of ``sentence`` (split at ``;``, *but*, *while*, *whereas*, *although*)."""
    spans, start = [], 0
    for m in CLAUSE.finditer(sentence):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(sentence)))
    return [(a, b) for a, b in spans if sentence[a:b].strip()]


def check_sentence(sentence: str, results: ResultSet, prose: str | None = None) -> list[tuple[str, str]]:
    """(message, hint) for each problem of one sentence (module docstring); ``prose``: the
    sentence with non-prose masked (same length), where wording is looked for."""
    prose = sentence if prose is None else prose
    if CITE.search(sentence):
        return []
    found = [(r, claim_of(r.command, r.key, results)) for r in refs(sentence)]
    linked = [(r, c) for r, c in found if c is not None]
    wording = _wording(prose, results, sentence)
    if wording and not linked:
        word = wording.group(0)
        return [(f"comparative claim ('{word}') without a comparison",
                 "add the \\cmp{key} of the comparison it rests on (difference and 95% CI), or rephrase without comparing")]
    problems = []
    for start, end in _clauses(sentence):
        clause = sentence[start:end]
        if _wording(prose[start:end], results, clause) is None:
            continue  # e.g. "while its cache is \res{b-over-a-…} times a's": states a number, claims nothing
        for _, claim in [(r, c) for r, c in linked if f"{{{r.key}}}" in clause]:
            why = _judge(clause, claim)
            if why is not None and (why, "") not in problems:
                problems.append((why, ""))
    return problems


def check_claims(tex_files: list[Path], results: ResultSet, base: Path | None = None) -> list[BuildIssue]:
    """Issues for every comparative sentence the record does not support (module docstring)."""
    issues = []
    for path in tex_files:
        text = strip_comments(Path(path).read_text(encoding="utf-8"))
        prose = mask_non_prose(text)
        for line, start, sentence in sentences(text):
            for message, hint in check_sentence(sentence, results, prose[start:start + len(sentence)]):
                issues.append(BuildIssue(display(path, base), line_of(text, start), "claim", message, hint))
    return issues
