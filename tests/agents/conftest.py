"""Fixtures of the agent tests: a workspace holding the code graph of this repository.

The graph is built by the code-graph component's own command (``caramba
codegraph-sync``) into the workspace's default database, under the graph name the MCP
server of that workspace looks up, so the persona agents query the real graph of the
real repository through the real ``caramba mcp`` server. The workspace's ``data.npy``
(the token file the scripted manifests name) is Python's own ``textwrap.py``, byte-tokenised.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.agents.helpers import REPO


@pytest.fixture(scope="session")
def graph_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty workspace whose code graph is this repository's."""
    from caramba.codegraph.api import default_graph_name

    workspace = tmp_path_factory.mktemp("workspace")
    graph = default_graph_name(workspace.resolve())
    done = subprocess.run([sys.executable, "-m", "caramba", "codegraph-sync", str(REPO), "--graph", graph,
                           "--db", str(workspace / ".caramba" / "codegraph.db"), "--format", "json"],
                          cwd=workspace, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    import textwrap

    from caramba.engine.data.prepare import prepare
    from caramba.engine.data.tokenizers.byte import ByteTokenizer

    prepare(Path(textwrap.__file__), workspace / "data.npy", ByteTokenizer())
    return workspace
