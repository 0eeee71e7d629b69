"""The manifest compiler: parse → extends → overrides → vars → schema → checks → lower.

Validation happens once, here; everything downstream trusts a :class:`Compiled`.
"""

from caramba.engine.compiler.compile import Compiled, Report, check, compile_manifest
from caramba.engine.compiler.errors import ManifestError, ManifestInvalid

__all__ = ["Compiled", "ManifestError", "ManifestInvalid", "Report", "check", "compile_manifest"]
