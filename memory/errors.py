"""The memory's errors: each message says what went wrong and how to fix it."""

from __future__ import annotations


class MemoryUnavailable(RuntimeError):
    """The memory cannot be opened or used as asked (the message says how to fix it)."""


class NeedsModel(MemoryUnavailable):
    """Free-text fact extraction was asked for with no LLM configured."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} needs an LLM to extract facts from free text; set `llm.model` in caramba.yml "
                         "(e.g. openai/gpt-4o-mini, or ollama_chat/llama3.1 with llm.api_base). Structured memory "
                         "(runs, metrics, findings) and search work without one.")
