"""House style, enforced where it has been cleaned up: every module, public class and public
function or method has a docstring, and every public function has type hints.

Scoped to the packages listed in ``CHECKED`` (extend the list as other packages are brought
up to the rule). An override counts as public: it says what *this* class does.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHECKED = ("codegraph", "memory", "workspace", "engine/data", "engine/model/config", "engine/store")


def _missing_hints(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[str]:
    args = fn.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if method and params and params[0].arg in ("self", "cls"):
        params = params[1:]
    missing = [a.arg for a in params if a.annotation is None]
    missing += [f"*{a.arg}" for a in (args.vararg, args.kwarg) if a is not None and a.annotation is None]
    if fn.returns is None and fn.name != "__init__":
        missing.append("return")
    return missing


def gaps(path: Path, root: Path = REPO) -> list[str]:
    """What ``path`` lacks: ``file:line name: what`` (relative to ``root``) per missing docstring or hint."""
    tree = ast.parse(path.read_text(), str(path))
    where = path.relative_to(root)
    found = [] if ast.get_docstring(tree) or not tree.body else [f"{where}:1 module: no docstring"]

    def walk(node: ast.AST, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef) and not child.name.startswith("_"):
                if not ast.get_docstring(child):
                    found.append(f"{where}:{child.lineno} class {child.name}: no docstring")
                walk(child, True)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and not child.name.startswith("_"):
                if not ast.get_docstring(child):
                    found.append(f"{where}:{child.lineno} {child.name}: no docstring")
                missing = _missing_hints(child, in_class)
                if missing:
                    found.append(f"{where}:{child.lineno} {child.name}: no type hint for {', '.join(missing)}")

    walk(tree, False)
    return found


def test_checked_packages_have_docstrings_and_type_hints() -> None:
    files = sorted(p for folder in CHECKED for p in (REPO / folder).rglob("*.py"))
    assert len(files) > 50, "the checked packages moved: update CHECKED"
    problems = [gap for path in files for gap in gaps(path)]
    assert not problems, "add a docstring that teaches / type hints:\n" + "\n".join(problems)


def test_the_scan_finds_a_missing_docstring_and_hint(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text('"""A module."""\n\n\nclass Shown:\n    def run(self, x):\n        return x\n\n\n'
                      'def _private(y):\n    return y\n')
    assert gaps(sample, tmp_path) == ["probe.py:4 class Shown: no docstring", "probe.py:5 run: no docstring",
                                      "probe.py:5 run: no type hint for x, return"]
