"""Package discovery for a repository whose root *is* the ``caramba`` package.

pyproject.toml maps ``caramba`` onto the repository root (``package-dir``); this file
only lists every sub-package under that name, so new folders need no edit here.
"""

from setuptools import find_packages, setup

SUBPACKAGES = find_packages(where=".", exclude=("tests", "tests.*", "build", "build.*"))
setup(packages=["caramba", *(f"caramba.{name}" for name in SUBPACKAGES)])
