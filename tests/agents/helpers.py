"""Constants shared by the agent tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "scripts"
E2E_SCRIPT = SCRIPTS / "brainstorm_e2e.yml"
E2E_TEAM = ["architect", "ml_expert", "developer"]
E2E_TOPIC = "DBA or GQA: which buys more KV-cache saving per parameter?"
