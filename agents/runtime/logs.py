"""Library logs of a session go to ``session.log`` in its folder, not to the terminal.

ADK logs a model error with its traceback before handing it back, and LiteLLM logs
retries and provider errors; a session reports each of those itself, in one line with
what to do. :func:`session_log` routes the ``google_adk`` and ``LiteLLM`` loggers into
``<session folder>/session.log`` (appended; the details stay available for debugging)
for the duration of the session and restores them afterwards. It also silences
LiteLLM's "Give Feedback / Get Help" banner, which LiteLLM prints (not logs) on errors.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

from caramba.agents.usage import import_litellm

LOGGERS = ("google_adk", "LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
LOG_FILE = "session.log"


@contextlib.contextmanager
def session_log(folder: Path) -> Iterator[Path]:
    """Route library logs into ``folder/session.log`` while the block runs."""
    import_litellm().suppress_debug_info = True
    handler = logging.FileHandler(folder / LOG_FILE, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), logger.propagate))
        logger.handlers = [handler]
        logger.propagate = False
    try:
        yield folder / LOG_FILE
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers, logger.propagate = handlers, propagate
        handler.close()
