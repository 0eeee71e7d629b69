"""Which target runs: one rule, used by the CLI, the dry run, the run and the MCP tools.

``select_target(manifest, name)``:

* a ``name`` is an entrypoint (resolved first) or a target name; anything else is an
  error listing the valid names;
* without a name, a manifest with a ``comparison:`` block runs every arm's target (in
  order, once each: an arm ``target/run`` names one run of its target);
  otherwise ``entrypoints.default`` runs; a manifest with a single target runs that
  target; a manifest with several targets, no ``default`` entrypoint and no comparison
  is ambiguous, which validation already refuses (``ambiguity``), so the fronts never
  meet it with a valid manifest.

``select_targets`` returns that list (several targets only for comparison arms);
``select_target`` is the single-target form for callers that run one target per call
(it refuses a comparison without a name, listing the arms). Running another target is
``--target NAME`` (CLI) or ``target=NAME`` (MCP tools).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caramba.engine.manifest.manifest import Manifest
    from caramba.engine.manifest.targets import Target


class TargetChoiceError(ValueError):
    """The requested target does not exist, or none was requested and several could run."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"{message}; {hint}")
        self.message, self.hint = message, hint


def choices(manifest: "Manifest") -> list[str]:
    """Every name a caller may pass: target names, then entrypoint names."""
    names = [t.name for t in manifest.targets]
    return names + [e for e in manifest.entrypoints if e not in names]


def ambiguity(manifest: "Manifest") -> str | None:
    """Why the default choice is ambiguous (several targets, no ``default``, no comparison), or None."""
    if len(manifest.targets) > 1 and "default" not in manifest.entrypoints and getattr(manifest, "comparison", None) is None:
        names = ", ".join(t.name for t in manifest.targets)
        return f"the manifest has {len(manifest.targets)} targets ({names}) and no default entrypoint, so which one runs is ambiguous"
    return None


def select_targets(manifest: "Manifest", name: str | None = None) -> list["Target"]:
    """The targets that run for ``name``, in order (see the module docstring)."""
    comparison = getattr(manifest, "comparison", None)
    if name is None and comparison is not None:
        from caramba.engine.manifest.comparison import arm_parts

        targets = [_named(manifest, arm_parts(arm)[0]) for arm in comparison.arms]
        return [t for i, t in enumerate(targets) if t not in targets[:i]]  # student/blockwise, student/global: one target
    if name is None:
        problem = ambiguity(manifest)
        if problem is not None:
            first = manifest.targets[0].name
            raise TargetChoiceError(problem, f"add `entrypoints: {{default: {first}}}` or pass a target name "
                                             f"(one of: {', '.join(choices(manifest))})")
        name = "default" if "default" in manifest.entrypoints else manifest.targets[0].name
    return [_named(manifest, name)]


def select_target(manifest: "Manifest", name: str | None = None) -> "Target":
    """The one target that runs for ``name``; a comparison without a name is refused (it runs
    several targets), with the arms to choose from."""
    chosen = select_targets(manifest, name)
    if len(chosen) > 1:
        arms = ", ".join(t.name for t in chosen)
        raise TargetChoiceError(f"the manifest compares {len(chosen)} arms ({arms}), which run as one target each",
                                f"pass one arm as the target (one of: {arms}), or run the whole comparison with `caramba run`")
    return chosen[0]


def _named(manifest: "Manifest", name: str) -> "Target":
    resolved = manifest.entrypoints.get(name, name)
    for target in manifest.targets:
        if target.name == resolved:
            return target
    raise TargetChoiceError(f"no target or entrypoint {name!r}", f"choose one of: {', '.join(choices(manifest))}")
