"""Token usage and cost per agent and per session, priced by LiteLLM, with a budget.

Every model response carries ``usage_metadata`` (prompt and completion tokens): ADK's
``LiteLlm`` fills it from the provider's usage, the scripted model from its script, a
replayed session from the recording. :meth:`UsageMeter.after_model` reads it there (an
ADK ``after_model_callback``), so real, scripted and replayed sessions are accounted by
the same code. Cost comes from LiteLLM's cost map (``litellm.cost_per_token``); a model
the map does not know is reported with its tokens and "cost unknown", never guessed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Usage:
    """Tokens and cost of one agent (or of a whole session)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0

    @property
    def cost_known(self) -> bool:
        """False when any call's model has no price in LiteLLM's cost map."""
        return self.unpriced_calls == 0

    def add(self, other: "Usage") -> None:
        """Accumulate ``other`` into this record."""
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
        self.unpriced_calls += other.unpriced_calls

    def to_json(self) -> dict[str, Any]:
        """Plain JSON, with ``cost_known``."""
        return {**asdict(self), "cost_known": self.cost_known}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Usage":
        """Inverse of :meth:`to_json`."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        """``1,234 tokens, $0.0012`` (or ``cost unknown``)."""
        tokens = f"{self.prompt_tokens + self.completion_tokens:,} tokens"
        if self.calls and not self.cost_known:
            priced = f"≥ ${self.cost_usd:.4f}, " if self.cost_usd else ""
            return f"{tokens}, {priced}cost unknown for {self.unpriced_calls} call(s) (model not in LiteLLM's cost map)"
        return f"{tokens}, ${self.cost_usd:.4f}"


def price(model: str | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for the tokens through LiteLLM's cost map; None when the model is not priced."""
    if model is None:
        return None
    import litellm
    from litellm.exceptions import ModelNotMappedError

    try:
        prompt_cost, completion_cost = litellm.cost_per_token(model=model, prompt_tokens=prompt_tokens,
                                                               completion_tokens=completion_tokens)
    except ModelNotMappedError:
        return None
    return float(prompt_cost) + float(completion_cost)


@dataclass
class UsageMeter:
    """Usage per agent (role) and in total; ``budget_usd`` ends a session once reached."""

    budget_usd: float | None = None
    per_agent: dict[str, Usage] = field(default_factory=dict)

    def record(self, role: str, pricing_model: str | None, prompt_tokens: int, completion_tokens: int) -> Usage:
        """Account one model call of ``role``; returns that call's usage."""
        cost = price(pricing_model, prompt_tokens, completion_tokens)
        call = Usage(1, prompt_tokens, completion_tokens, cost or 0.0, int(cost is None))
        self.per_agent.setdefault(role, Usage()).add(call)
        return call

    def callback(self, role: str, pricing_model: str | None):  # noqa: ANN201 (ADK callback type)
        """An ADK ``after_model_callback`` that records every response's usage for ``role``."""

        def after_model(callback_context: Any, llm_response: Any) -> None:
            meta = llm_response.usage_metadata
            if meta is not None:
                self.record(role, pricing_model, meta.prompt_token_count or 0, meta.candidates_token_count or 0)
            return None

        return after_model

    @property
    def total(self) -> Usage:
        """The whole session's usage."""
        total = Usage()
        for usage in self.per_agent.values():
            total.add(usage)
        return total

    @property
    def exhausted(self) -> bool:
        """True once the session's known cost reached ``budget_usd``."""
        return self.budget_usd is not None and self.total.cost_usd >= self.budget_usd

    def to_json(self) -> dict[str, Any]:
        """``{budget_usd, total, per_agent}``."""
        return {"budget_usd": self.budget_usd, "total": self.total.to_json(),
                "per_agent": {role: u.to_json() for role, u in self.per_agent.items()}}

    def restore(self, per_agent: dict[str, dict[str, Any]]) -> None:
        """Load usage checkpointed by an interrupted session."""
        self.per_agent = {role: Usage.from_json(data) for role, data in per_agent.items()}
