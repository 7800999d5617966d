"""Documentation completeness: every environment variable Clinx reads and every option key appears in
docs/configuration.md, and the generated option tables are current."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

from clinx.config import settings
from clinx.config.option_keys import build_registry

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "configuration.md"
ENV_READERS = {"text", "integer", "number", "flag"}


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _env_names_in(call: ast.Call) -> list[str]:
    func = call.func
    first = _literal(call.args[0]) if call.args else None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env":
        return [first] if func.attr in ENV_READERS and first else []
    if isinstance(func, ast.Name) and func.id == "_rate_limit" and len(call.args) >= 2:
        prefix = _literal(call.args[1])
        return [prefix, f"{prefix}_ENABLE", f"{prefix}_DURATION"] if prefix else []
    return []


def env_var_names() -> list[str]:
    """Names passed to the ``_Env`` readers in clinx/config/settings.py, plus the rate-limit triples."""
    tree = ast.parse(Path(settings.__file__).read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            names += [name for name in _env_names_in(node) if name not in names]
    return names


def _documented(name: str, page: str) -> bool:
    return f"`{name}`" in page


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_option_docs", ROOT / "scripts" / "gen_option_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_env_var_parser_finds_the_known_names() -> None:
    names = env_var_names()
    for expected in ("PORT", "SQL_DSN", "CountToken", "GLOBAL_API_RATE_LIMIT_DURATION", "CRITICAL_RATE_LIMIT_ENABLE"):
        assert expected in names
    assert len(names) > 40


def test_every_env_var_is_documented() -> None:
    page = DOC.read_text(encoding="utf-8")
    missing = [name for name in env_var_names() if not _documented(name, page)]
    assert not missing, f"environment variables missing from docs/configuration.md: {', '.join(missing)}"


def test_every_option_key_is_documented() -> None:
    page = DOC.read_text(encoding="utf-8")
    missing = [spec.key for spec in build_registry() if not _documented(spec.key, page)]
    assert not missing, f"option keys missing from docs/configuration.md: {', '.join(missing)}"


def test_generated_option_tables_are_current() -> None:
    gen = _generator()
    page = DOC.read_text(encoding="utf-8")
    assert gen.updated(page, gen.render(build_registry())) == page, "run: python scripts/gen_option_docs.py"


def test_conversion_table_is_current() -> None:
    path = Path(__file__).resolve().parents[1] / "scripts" / "gen_conversion_docs.py"
    spec = importlib.util.spec_from_file_location("gen_conversion_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.DOC.read_text(encoding="utf-8") == module.render(), "run python scripts/gen_conversion_docs.py"
