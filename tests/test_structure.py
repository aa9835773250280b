"""The package's structure: no module uses another module's private (``_name``) names.

A helper that two modules share is an interface: it gets a public name in one place (its own
module, or a shared private module such as ``geo3d/_numeric.py`` whose names are public).
Checked with :mod:`ast` over every file of ``geo3d/``: ``from x import _name``, and
``x._name`` where ``x`` is a geo3d module bound by an import. Private *modules* (``_compat``,
``_config`` …) may be imported; dunder names (``__version__``) are not private.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "geo3d"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_module(dotted: str, root: Path) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _module_name(path: Path, root: Path) -> tuple[str, list[str]]:
    """Dotted name of a file, and the package its relative imports start from."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), parts
    return ".".join(parts), parts[:-1]


def private_uses(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line: what`` for every use of another geo3d module's private name in ``path``."""
    _, package = _module_name(path, root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: dict[str, str] = {}   # local name -> geo3d module it is bound to
    found = []
    where = path.relative_to(root)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "geo3d":
                continue
            for alias in node.names:
                if _is_module(f"{target}.{alias.name}", root):
                    modules[alias.asname or alias.name] = f"{target}.{alias.name}"
                elif _private(alias.name):
                    found.append(f"{where}:{node.lineno}: from {target} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "geo3d":
                    modules[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in modules
                and not _is_module(f"{modules[node.value.id]}.{node.attr}", root)):
            found.append(f"{where}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = [use for path in sorted(PACKAGE.rglob("*.py")) for use in private_uses(path)]
    assert not found, ("private names used across modules (give the helper a public name in "
                       "its own module):\n" + "\n".join(found))


def test_the_check_sees_both_forms(tmp_path):
    """The checker itself: it must report a from-import and an attribute use."""
    pkg = tmp_path / "geo3d"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("__version__ = '0'\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "_shared.py").write_text("def helper():\n    pass\n")
    (pkg / "sub" / "a.py").write_text("def _x():\n    pass\n")
    (pkg / "sub" / "b.py").write_text(
        "from . import a\nfrom .a import _x\nfrom .. import _shared, __version__\n"
        "from .._shared import helper\na._x()\n_shared.helper()\n")
    found = private_uses(pkg / "sub" / "b.py", tmp_path)
    assert [f.split(": ", 1)[1] for f in found] == ["from geo3d.sub.a import _x", "a._x"]
