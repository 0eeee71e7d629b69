"""``caramba.yml`` is validated like a manifest: file, line, field path and a did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from caramba.engine.compiler.errors import ManifestInvalid
from caramba.workspace.config import load_workspace


def test_a_misspelt_key_in_caramba_yml_names_its_line_and_the_closest_key(tmp_path: Path) -> None:
    (tmp_path / "caramba.yml").write_text("memory:\n  record_run: false\ngraph:\n  db: 3.5\n")
    with pytest.raises(ManifestInvalid) as caught:
        load_workspace(tmp_path)
    by_path = {e.path: e for e in caught.value.errors}
    unknown = by_path["memory.record_run"]
    assert (unknown.file, unknown.line) == (str(tmp_path / "caramba.yml"), 2)
    assert unknown.hint.startswith("did you mean 'record_runs'?")
    assert by_path["graph.db"].line == 4 and "WorkspaceConfig" in by_path["graph.db"].hint
