"""docs/architecture.md against the code: the names it lists exist, and the import arrows hold.

(a) every ``module.name`` written on the page imports, and every name exported by
``discovery`` and by each family is on the page; (b) the dependency arrows between the packages, by an AST scan
of every module's imports; (c) no discovery family imports another family's private modules.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
import re

import pytest

import discovery

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "architecture.md").read_text()
PACKAGES = ("scm", "discovery", "estimators", "scmkit")
# A dotted reference in backticks: `discovery.constraint.PC`, `discovery._jax.jit`, `scm.d_separated`.
REFERENCE = re.compile(rf"`((?:{'|'.join(PACKAGES)})(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`")
REFERENCES = sorted(set(REFERENCE.findall(PAGE)))


def _resolve(dotted: str):
    """The object ``dotted`` names: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as exc:
            if exc.name is None or not ".".join(parts[:cut]).startswith(exc.name):
                raise  # the module exists but one of its own imports is missing
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


# ------------------------------------------------------------------------------ (a) the names
def test_the_page_lists_the_families_and_their_names():
    assert len(REFERENCES) > 80, REFERENCES  # the tables were parsed, not an empty match


@pytest.mark.parametrize("dotted", REFERENCES)
def test_every_name_on_the_page_imports(dotted):
    try:
        _resolve(dotted)
    except (ImportError, AttributeError) as exc:
        raise AssertionError(f"docs/architecture.md lists `{dotted}`, which does not import: {exc!r}") from exc


def test_every_public_name_of_discovery_and_every_family_is_on_the_page():
    families = {f"discovery.{name}" for name in discovery._SUBPACKAGES}
    assert families <= set(REFERENCES), sorted(families - set(REFERENCES))
    for name in discovery._EXPORTS:
        homes = [r for r in REFERENCES if r.endswith(f".{name}")]
        assert homes, f"discovery.{name} is exported but docs/architecture.md does not say where it lives"
        assert all(_resolve(r) is getattr(discovery, name) for r in homes), homes


@pytest.mark.parametrize("family", sorted(discovery._SUBPACKAGES))
def test_every_name_a_family_exports_is_on_the_page(family):
    module = importlib.import_module(f"discovery.{family}")
    missing = [name for name in module.__all__ if f"discovery.{family}.{name}" not in REFERENCES]
    assert not missing, f"discovery.{family} exports {missing}, which docs/architecture.md does not list"


# ------------------------------------------------------------------------------ (b) the arrows
# package -> the packages of this repository it must never import
FORBIDDEN = {
    "scm": {"discovery", "estimators", "scmkit"},
    "discovery": {"estimators", "scmkit"},
    "estimators": {"discovery", "scmkit"},
    "scmkit": set(),
}


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        yield path, ".".join(parts), is_package


def _imports(path: pathlib.Path, module: str, is_package: bool):
    """``(line, imported module, imported names)`` of every import in the file, relative ones resolved,
    including imports inside functions and ``importlib.import_module("...")`` with a constant."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            names = tuple(a.name for a in node.names)
            yield node.lineno, target, names
            if not node.module:  # "from .. import x": x may be a module
                for name in names:
                    yield node.lineno, f"{target}.{name}", ()
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            yield node.lineno, node.args[0].value, ()


@pytest.mark.parametrize("package", PACKAGES)
def test_dependency_arrows(package):
    bad = []
    for path, module, is_package in _modules(package):
        for line, target, _ in _imports(path, module, is_package):
            if target.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not bad, f"{package} must not import {sorted(FORBIDDEN[package])}:\n" + "\n".join(bad)


# ------------------------------------------------------------------------------ (c) the families
FAMILIES = sorted(p.name for p in (ROOT / "discovery").iterdir() if (p / "__init__.py").is_file())

# Imports of another family's private modules or names that the code makes (none today); an
# exception would be listed here, so that the list can only shrink: a new one fails, and so does an
# entry that no longer occurs.
KNOWN_CROSS_FAMILY_PRIVATE: set = set()


def _cross_family_private_imports() -> set:
    found = set()
    for path, module, is_package in _modules("discovery"):
        parts = module.split(".")
        if len(parts) < 2 or parts[1] not in FAMILIES:
            continue  # discovery/__init__.py and the shared discovery/_*.py modules
        family = parts[1]
        for _, target, names in _imports(path, module, is_package):
            tparts = target.split(".")
            if len(tparts) < 2 or tparts[0] != "discovery" or tparts[1] not in FAMILIES or tparts[1] == family:
                continue
            private_module = any(p.startswith("_") for p in tparts[2:])
            for name in names or ("",):
                if private_module or name.startswith("_"):
                    found.add((module, f"{target}.{name}" if name else target))
    return found


def test_families_import_each_other_only_through_their_init():
    found = _cross_family_private_imports()
    new = found - KNOWN_CROSS_FAMILY_PRIVATE
    assert not new, "a family imports another family's private modules or names:\n" + "\n".join(map(str, sorted(new)))
    gone = KNOWN_CROSS_FAMILY_PRIVATE - found
    assert not gone, "no longer imported, drop from KNOWN_CROSS_FAMILY_PRIVATE:\n" + "\n".join(map(str, sorted(gone)))


def test_the_scan_sees_imports_inside_functions_and_relative_ones(tmp_path):
    """The scanner itself: a lazy relative import of a private module of another family is caught."""
    src = tmp_path / "mod.py"
    src.write_text("def f():\n    from ..metrics._sid import sid\n    import estimators\n")
    got = list(_imports(src, "discovery.evaluation.mod", False))
    assert (2, "discovery.metrics._sid", ("sid",)) in got and (3, "estimators", ()) in got
