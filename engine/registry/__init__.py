"""Registries: every manifest type name maps to one typed config and one implementation.

The compiler, the JSON Schema and the model builder all read the same registry, so a type
that exists is always documented and validated. Implementations are referenced by an
import path string and loaded only when something is built, which keeps validation free
of torch.
"""

from caramba.engine.registry.entry import Entry, UnknownName
from caramba.engine.registry.store import REGISTRY, Registry

__all__ = ["Entry", "REGISTRY", "Registry", "UnknownName"]
