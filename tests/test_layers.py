"""The import contract of design.md §3: each layer imports only the layers below it, and only ``store`` touches
SQLAlchemy (and the database drivers), only ``cache`` touches redis. Imports inside functions count too."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import clinx

PACKAGE_ROOT = Path(clinx.__file__).parent

_LOWER = frozenset({"store", "cache", "config", "core"})
_DOMAIN = frozenset({"routing", "billing", "auth"})
_EDGE_BELOW = _DOMAIN | _LOWER | {"relay", "app_state"}
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "config": frozenset({"core"}),
    "store": frozenset({"config", "core"}),
    "cache": frozenset({"config", "core"}),
    # Domain services stay independent of each other: shared needs go down into store/cache/config/core.
    "auth": _LOWER,
    "billing": _LOWER,
    "routing": _LOWER,
    "relay": _DOMAIN | _LOWER,
    # Cluster coordination (change propagation, leader lease, leader jobs) decides over store/cache/routing.
    "cluster": _LOWER | {"routing"},
    "api": _EDGE_BELOW,
    "web": _EDGE_BELOW,
    # The typed state holds the relay, the channel index and the cluster view the routes share.
    "app_state": _DOMAIN | _LOWER | {"relay", "cluster"},
    "app": frozenset({"api", "web", "app_state", "cluster"}) | _DOMAIN | _LOWER | {"relay"},
    "cli": frozenset({"app", "api", "web", "app_state", "relay", "http_protocol"}) | _DOMAIN | _LOWER,
    # The HTTP server protocol `clinx serve` runs (uvicorn's, with coalesced writes): below everything.
    "http_protocol": frozenset(),
}
LAYERS = frozenset(ALLOWED)
# ``clinx/__init__.py`` holds only the version: any layer may read it, and it imports nothing of clinx.
PACKAGE_META = "meta"
# Third-party packages owned by one layer.
OWNED_THIRD_PARTY = {
    "sqlalchemy": "store",
    "aiosqlite": "store",
    "asyncpg": "store",
    "aiomysql": "store",
    "asyncmy": "store",
    "redis": "cache",
}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # the module that contains the import, dotted
    target: str  # what it imports, dotted (a module, or a package when the name is an attribute)

    def __str__(self) -> str:
        return f"{self.path.relative_to(PACKAGE_ROOT.parent)}:{self.line}: {self.module} imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(dotted: str) -> str:
    """``clinx.store.repos.users`` → ``store``; ``clinx`` (the version holder) → ``meta``."""
    parts = dotted.split(".")
    if len(parts) == 1:
        return PACKAGE_META
    if parts[1] == "__main__":
        return "cli"  # ``python -m clinx`` is the command line
    return parts[1]


def _resolve_relative(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _from_targets(node: ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    source = _resolve_relative(node, module, is_package) if node.level else (node.module or "")
    if source != "clinx":
        return [source]
    # ``from clinx import cli`` imports a submodule; ``from clinx import __version__`` an attribute.
    submodules = LAYERS | {"__main__"}
    return [f"clinx.{alias.name}" if alias.name in submodules else "clinx" for alias in node.names]


def imports_in(path: Path, source: str | None = None) -> list[Import]:
    """Every import statement in the file (or in ``source`` standing for it), wherever it sits."""
    module = module_name(path)
    text = path.read_text(encoding="utf-8") if source is None else source
    found: list[Import] = []
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, module, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = _from_targets(node, module, path.name == "__init__.py")
            found += [Import(path, node.lineno, module, target) for target in targets]
    return found


def all_imports() -> list[Import]:
    return [imp for path in sorted(PACKAGE_ROOT.rglob("*.py")) for imp in imports_in(path)]


def layering_violations(imports: list[Import]) -> list[str]:
    bad: list[str] = []
    for imp in imports:
        if imp.target.split(".")[0] != "clinx":
            continue
        source, target = layer_of(imp.module), layer_of(imp.target)
        if source == PACKAGE_META:
            bad.append(f"{imp}  (clinx/__init__.py must not import clinx modules)")
        elif source not in ALLOWED:
            bad.append(f"{imp}  (module {imp.module} is in no known layer: add it to tests/test_layers.py)")
        elif target not in {source, PACKAGE_META} and target not in ALLOWED[source]:
            bad.append(f"{imp}  ({source} may import only {sorted(ALLOWED[source]) or 'nothing of clinx'})")
    return bad


def third_party_violations(imports: list[Import]) -> list[str]:
    bad: list[str] = []
    for imp in imports:
        owner = OWNED_THIRD_PARTY.get(imp.target.split(".")[0])
        if owner is not None and layer_of(imp.module) != owner:
            bad.append(f"{imp}  (only clinx/{owner} may import {imp.target.split('.')[0]})")
    return bad


def test_every_module_is_in_a_known_layer() -> None:
    unknown = {
        module_name(p) for p in PACKAGE_ROOT.rglob("*.py") if layer_of(module_name(p)) not in LAYERS | {PACKAGE_META}
    }
    assert not unknown, f"modules outside every layer: {sorted(unknown)}"


def test_layers_import_only_downwards() -> None:
    bad = layering_violations(all_imports())
    if bad:
        pytest.fail("layering violations (design.md §3):\n" + "\n".join(bad), pytrace=False)


def test_only_store_imports_sqlalchemy_and_only_cache_imports_redis() -> None:
    bad = third_party_violations(all_imports())
    if bad:
        pytest.fail("third-party ownership violations:\n" + "\n".join(bad), pytrace=False)


def test_the_checker_sees_imports_inside_functions_and_relative_imports() -> None:
    # Guard the guard: a checker that silently missed these would pass on any code.
    fake = PACKAGE_ROOT / "store" / "_layers_probe.py"
    source = (
        "from __future__ import annotations\n"
        "def f() -> None:\n"
        "    from clinx.api import deps\n"
        "    import redis\n"
        "from ..relay import pipeline\n"
        "from clinx import __version__\n"
    )
    tree_imports = imports_in(fake, source)
    rendered = layering_violations(tree_imports) + third_party_violations(tree_imports)
    assert any("clinx/store/_layers_probe.py:3: clinx.store._layers_probe imports clinx.api" in b for b in rendered)
    assert any(":4:" in b and "only clinx/cache may import redis" in b for b in rendered)
    assert any(":5:" in b and "imports clinx.relay  (store may import only" in b for b in rendered)
    assert not any(":6:" in b for b in rendered)
