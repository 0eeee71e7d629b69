"""Tagged unions built from the registry: the bridge between registration and the schema.

Once every type is registered, :func:`finalize` builds

* ``NodeConfig``: any layer or topology config, discriminated by ``type``;
* ``EmbedderConfig`` / ``ModelConfig``: embedders and model networks by ``type``;
* ``process``: the registered process configs, discriminated by ``type``;
* one *component* union per ref-kind (``task``, ``dataset``, ``system``, ``objective``,
  ``trainer``): ``{ref: <name>, config: <that name's config>}``, where a bare string is
  shorthand for ``{ref: <string>}``;

and completes every config model that referred to those unions by forward reference.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from caramba.engine.registry.store import Registry

UNIONS: dict[str, Any] = {}
COMPONENT_KINDS = ("task", "dataset", "system", "objective", "trainer")
_CONFIG_PACKAGES = ("caramba.engine.model.config",)


def tagged(models: list[type[BaseModel]], tag: str) -> Any:
    """A pydantic union of ``models`` discriminated by the literal field ``tag``."""
    if len(models) == 1:
        return models[0]
    return Annotated[Union[tuple(models)], Field(discriminator=tag)]


def _ref_shorthand(value: Any) -> Any:
    """Let ``task: task.language_modeling`` stand for ``task: {ref: task.language_modeling}``."""
    return {"ref": value} if isinstance(value, str) else value


def _component_model(kind: str, name: str, config: type[BaseModel]) -> type[BaseModel]:
    required = any(field.is_required() for field in config.model_fields.values())
    default = ... if required else Field(default_factory=config)
    return create_model(
        f"{config.__name__}_{kind}_ref",
        __config__=ConfigDict(extra="forbid", title=name, defer_build=True),
        ref=(Literal[name], Field(description=f"the registered {kind} name")),
        config=(config, default),
    )


def component(registry: Registry, kind: str) -> Any:
    """The ``{ref, config}`` union of one component kind."""
    models = [_component_model(kind, e.name, e.config) for e in registry.entries(kind)]
    return Annotated[tagged(models, "ref"), BeforeValidator(_ref_shorthand)]


def finalize(registry: Registry) -> None:
    """Build every union and complete every config model that refers to one."""
    UNIONS["NodeConfig"] = tagged([e.config for e in registry.entries("layer") + registry.entries("topology")], "type")
    UNIONS["EmbedderConfig"] = tagged([e.config for e in registry.entries("embedder")], "type")
    UNIONS["ModelConfig"] = tagged([e.config for e in registry.entries("model")], "type")
    # Config modules name the unions by forward reference; publishing the unions in those
    # modules lets pydantic resolve them when it builds the (deferred) schemas.
    for name, module in list(sys.modules.items()):
        if name.startswith(_CONFIG_PACKAGES):
            for union_name, union in UNIONS.items():
                setattr(module, union_name, union)
    for kind in COMPONENT_KINDS:
        UNIONS[kind] = component(registry, kind)
    UNIONS["process"] = tagged([e.config for e in registry.entries("process")], "type")
