"""No private names of third-party packages: our code uses what libraries publish, so an upgrade of
trafilatura or datasketch cannot break it behind its changelog's back.

Every module under ``include/``, ``dags/`` and ``plugins/`` is read with ``ast`` (nothing is imported):
``from x import _y``, ``import x._y``, ``from x._y import z`` and ``x._y`` on a name bound to a
third-party module are refused. Our own packages may use their own private names; dunder names
(``__future__``, ``__version__``) are public. The standard library is left out: some of its types are
only named privately (``zlib._Decompress`` in an annotation).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.dag

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("include", "dags", "plugins")


def _sources() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py"))


def _not_third_party() -> set[str]:
    """Top-level names importable from our own folders (the packages and modules in them) and the
    standard library's."""
    names = set(sys.stdlib_module_names)
    for d in SOURCE_DIRS:
        for child in (ROOT / d).iterdir():
            if child.suffix == ".py" or (child / "__init__.py").exists():
                names.add(child.stem)
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(source: str, own: set[str]) -> list[str]:
    """The private names of packages other than ``own`` that ``source`` imports or reads, as written."""
    found = []
    foreign: set[str] = set()  # local names bound to third-party modules
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in own:
                    continue
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"import {alias.name}")
                foreign.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in own:
                continue
            if any(_private(part) for part in node.module.split(".")):
                found.append(f"from {node.module} import ...")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"from {node.module} import {alias.name}")
                else:
                    foreign.add(alias.asname or alias.name)  # may be a module: its attributes are checked
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                and node.value.id in foreign):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_the_check_finds_each_form() -> None:
    source = ("import trafilatura.core._x\nfrom trafilatura.core import _forum_thread_page\n"
              "from _pytest import main\nimport datasketch as ds\nds._private\nimport zlib\nzlib._Decompress\n"
              "from media_monitoring.extract import _norm\nfrom __future__ import annotations\nx = 1\nx._y\n")
    assert private_uses(source, {"media_monitoring", "zlib", "__future__"}) == [
        "import trafilatura.core._x", "from trafilatura.core import _forum_thread_page", "from _pytest import ...",
        "ds._private"]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_names_of_third_party_packages(path: Path) -> None:
    assert private_uses(path.read_text("utf-8"), _not_third_party()) == []
