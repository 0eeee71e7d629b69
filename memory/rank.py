"""Hybrid ranking: reciprocal-rank fusion of BM25 and vector hits, then a coverage rerank.

RRF (Cormack et al., 2009) adds ``1 / (k + rank)`` from each list a chunk appears in, so
neither score scale dominates. The rerank then orders the fused top candidates by how
many of the query's content words (and their simple stems) the chunk contains, with the
fused score breaking ties: a chunk that says *all* of "lowest validation perplexity
attention variant" beats one that is merely near in embedding space.
"""

from __future__ import annotations

import re
from typing import Any

RRF_K = 60
STOP = frozenset("a an and are as at be by did do does for from had has have how i in is it of on or our the "
                 "that this to was we were what when where which who why with".split())


def words(text: str) -> set[str]:
    """Lower-case content words of ``text`` and their stems (plural/-ing/-ed stripped)."""
    out: set[str] = set()
    for word in re.findall(r"[a-z0-9_]+", text.lower()):
        if word in STOP:
            continue
        out.add(word)
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                out.add(word[: -len(suffix)])
                break
    return out


def fuse(lists: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Reciprocal-rank fusion of ranked hit lists (hits keyed by ``id``), best first."""
    scores: dict[str, float] = {}
    hits: dict[str, dict[str, Any]] = {}
    for ranked in lists:
        for rank, hit in enumerate(ranked):
            scores[hit["id"]] = scores.get(hit["id"], 0.0) + 1.0 / (RRF_K + rank + 1)
            hits.setdefault(hit["id"], hit)
    order = sorted(scores, key=lambda key: -scores[key])
    return [{**hits[key], "score": scores[key]} for key in order]


def rerank(query: str, hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Order ``hits`` by the share of the query's content words they contain, then by score."""
    wanted = words(query)
    if not wanted:
        return hits
    def coverage(hit: dict[str, Any]) -> float:
        have = words(hit["text"])
        return sum(1 for word in wanted if word in have) / len(wanted)
    scored = [{**hit, "coverage": round(coverage(hit), 3)} for hit in hits]
    return sorted(scored, key=lambda hit: (-hit["coverage"], -hit["score"]))
