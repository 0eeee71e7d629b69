"""The model library: typed configs (torch-free), torch modules, and the builder between them.

``config/`` holds the pydantic configs the manifest validates against; ``layers/``,
``topologies/`` and ``systems/`` hold the ``nn.Module`` implementations; ``build.py`` turns
a validated config tree into modules (flat constructor arguments: modules never see
manifest types).
"""
