"""What every process run is given and returns: the runtime's session options and result.

``ProcessOptions`` and ``ProcessResult`` are the agent runtime's
:class:`~caramba.agents.runtime.SessionOptions` and :class:`~caramba.agents.runtime.SessionResult`
under the names the process layer uses.
"""

from __future__ import annotations

from caramba.agents.runtime.options import EXIT_CODES, SessionOptions as ProcessOptions, SessionResult as ProcessResult, Status

__all__ = ["EXIT_CODES", "ProcessOptions", "ProcessResult", "Status"]
