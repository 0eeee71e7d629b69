"""Token usage and cost per agent and per session, priced by LiteLLM, with a budget.

Every model response carries ``usage_metadata`` (prompt and completion tokens): ADK's
``LiteLlm`` fills it from the provider's usage, the scripted model from its script, a
replayed session from the recording. :meth:`UsageMeter.after_model` reads it there (an
ADK ``after_model_callback``), so real, scripted and replayed sessions are accounted by
the same code. Cost comes from LiteLLM's cost map (``litellm.cost_per_token``); a model
the map does not know is reported with its tokens and "cost unknown", never guessed,
unless the user gives its price (``price_per_mtok``). A budget (USD or tokens) is
checked before every model call against the call's projected size.
"""

from __future__ import annotations

import os
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


def import_litellm() -> Any:
    """Import LiteLLM with its bundled cost map (``LITELLM_LOCAL_MODEL_COST_MAP``).

    Prices then come from the LiteLLM version installed (reproducible, no network at
    import); without the flag LiteLLM fetches the map at import and, offline, waits for
    several retries first. A user who sets the variable keeps their choice.
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    return litellm


def price(model: str | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    """USD for the tokens through LiteLLM's cost map; None when the model is not priced."""
    if model is None:
        return None
    litellm = import_litellm()
    from litellm.exceptions import ModelNotMappedError

    try:
        prompt_cost, completion_cost = litellm.cost_per_token(model=model, prompt_tokens=prompt_tokens,
                                                               completion_tokens=completion_tokens)
    except ModelNotMappedError:
        return None
    return float(prompt_cost) + float(completion_cost)


@dataclass(frozen=True)
class Pricing:
    """How one role's tokens are priced: an explicit price per million tokens, else
    LiteLLM's cost map for ``model``; neither → the cost is unknown."""

    model: str | None = None
    per_mtok: tuple[float, float] | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD, or None when unknown."""
        if self.per_mtok is not None:
            return (prompt_tokens * self.per_mtok[0] + completion_tokens * self.per_mtok[1]) / 1e6
        return price(self.model, prompt_tokens, completion_tokens)

    @property
    def known(self) -> bool:
        """True when this pricing gives a cost."""
        return self.cost(1, 1) is not None

    def to_json(self) -> dict[str, Any]:
        """``{model, per_mtok}`` (stored in recordings)."""
        return {"model": self.model, "per_mtok": list(self.per_mtok) if self.per_mtok else None}

    @classmethod
    def from_json(cls, data: dict[str, Any] | str | None) -> "Pricing":
        """Inverse of :meth:`to_json` (a bare model name from older recordings too)."""
        if data is None or isinstance(data, str):
            return cls(model=data)
        return cls(data.get("model"), tuple(data["per_mtok"]) if data.get("per_mtok") else None)  # type: ignore[arg-type]


@dataclass
class Budget:
    """A session's limit: USD (priced models) and/or total tokens; None means no limit."""

    usd: float | None = None
    tokens: int | None = None

    def describe(self) -> str:
        """``$0.50`` / ``20,000 tokens`` / both."""
        parts = ([f"${self.usd:g}"] if self.usd is not None else []) + \
                ([f"{self.tokens:,} tokens"] if self.tokens is not None else [])
        return " and ".join(parts) or "none"

    def to_json(self) -> dict[str, Any]:
        """``{usd, tokens}``."""
        return {"usd": self.usd, "tokens": self.tokens}


@dataclass
class UsageMeter:
    """Usage per agent (role) and in total, and the budget every model call must fit.

    :meth:`check` runs *before* each model call with the call's projected size (its
    prompt tokens, counted, plus ``max_tokens`` of completion): when the projection does
    not fit what is left of the budget the call is not made (``BudgetReached``), so a
    session never spends more than its budget, give or take the prompt estimate.
    """

    budget: Budget = field(default_factory=Budget)
    per_agent: dict[str, Usage] = field(default_factory=dict)

    @property
    def budget_usd(self) -> float | None:
        """The USD budget (None: no USD limit)."""
        return self.budget.usd

    def record(self, role: str, pricing: Pricing | str | None, prompt_tokens: int, completion_tokens: int) -> Usage:
        """Account one model call of ``role``; returns that call's usage."""
        pricing = pricing if isinstance(pricing, Pricing) else Pricing(pricing)
        cost = pricing.cost(prompt_tokens, completion_tokens)
        call = Usage(1, prompt_tokens, completion_tokens, cost or 0.0, int(cost is None))
        self.per_agent.setdefault(role, Usage()).add(call)
        return call

    def check(self, role: str, pricing: Pricing, prompt_tokens: int, max_tokens: int) -> None:
        """Raise BudgetReached when a call of this size could exceed the budget."""
        from caramba.agents.errors import BudgetReached

        total = self.total
        if self.budget.tokens is not None:
            projected = total.prompt_tokens + total.completion_tokens + prompt_tokens + max_tokens
            if projected > self.budget.tokens:
                raise BudgetReached(f"stopped: budget of {self.budget.tokens:,} tokens reached (the next call of {role} "
                                    f"could bring the session to {projected:,} tokens)")
        if self.budget.usd is not None:
            cost = pricing.cost(prompt_tokens, max_tokens)
            if cost is None:
                raise BudgetReached(f"stopped: {role}'s model has no price, so the budget of ${self.budget.usd:g} "
                                    "cannot be kept")
            if total.cost_usd + cost > self.budget.usd:
                raise BudgetReached(f"stopped: budget of ${self.budget.usd:g} reached (spent ${total.cost_usd:.4f}; "
                                    f"the next call of {role} could cost up to ${cost:.4f})")

    @property
    def total(self) -> Usage:
        """The whole session's usage."""
        total = Usage()
        for usage in self.per_agent.values():
            total.add(usage)
        return total

    def to_json(self) -> dict[str, Any]:
        """``{budget_usd, budget_tokens, total, per_agent}``."""
        return {"budget_usd": self.budget.usd, "budget_tokens": self.budget.tokens, "total": self.total.to_json(),
                "per_agent": {role: u.to_json() for role, u in self.per_agent.items()}}

    def restore(self, per_agent: dict[str, dict[str, Any]]) -> None:
        """Load usage checkpointed by an interrupted session."""
        self.per_agent = {role: Usage.from_json(data) for role, data in per_agent.items()}
