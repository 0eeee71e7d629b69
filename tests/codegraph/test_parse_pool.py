"""Parsing in worker processes gives the same facts as parsing in this process."""

from __future__ import annotations

from pathlib import Path

import pytest

from caramba.codegraph.parse import POOL_THRESHOLD, parse_all

pytestmark = pytest.mark.slow


def test_pool_and_in_process_parsing_agree(tmp_path: Path) -> None:
    paths = []
    for index in range(POOL_THRESHOLD + 6):
        path = f"pkg/mod{index}.py"
        (tmp_path / "pkg").mkdir(exist_ok=True)
        (tmp_path / path).write_text(f"import os\n\n\ndef f{index}(x):\n    return os.path.join(x, f{index - 1}(x))\n")
        paths.append(path)
    (tmp_path / "pkg" / "bad.py").write_text("def (:\n")
    paths.append("pkg/bad.py")
    pooled = parse_all(str(tmp_path), paths, "", workers=2)
    local = parse_all(str(tmp_path), paths, "", workers=1)
    assert [item.path for item in pooled] == paths
    assert [(f.path, f.error, f.nodes, f.edges, f.refs, f.symbols) for f in pooled] == [
        (f.path, f.error, f.nodes, f.edges, f.refs, f.symbols) for f in local]
    assert pooled[-1].error.startswith("SyntaxError")
