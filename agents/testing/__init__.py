"""Test doubles for the one stand-in the project allows: the LLM.

:mod:`caramba.agents.testing.openai_server` is a small OpenAI-compatible
chat-completions server that answers from a script (tool calls, texts, usage numbers,
HTTP errors, delays) and logs every request it receives. Tests start it on 127.0.0.1
and point LiteLLM at it (``--model openai/<name> --api-base <server.url>``), so every
process is exercised through LiteLLM's real HTTP code path. The ADK-level scripted model
(:mod:`caramba.agents.scripted`) stays for fast unit tests; a script written for it can
drive this server too (:func:`caramba.agents.testing.script.from_adk_script`).
"""
