"""`caramba --version` prints the package and engine versions, with and without Typer."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

import caramba
from caramba.cli.app import app


def test_version_names_the_package_and_the_engine() -> None:
    expected = f"caramba {caramba.__version__} (engine {caramba.ENGINE_VERSION})"
    fast = subprocess.run([sys.executable, "-m", "caramba", "--version"], capture_output=True, text=True, timeout=60)
    assert fast.returncode == 0 and fast.stdout.strip() == expected
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == expected
