"""Every setting the code reads from the environment is documented where an operator looks for it:
the README's settings table, the production env file example (deploy/mutualis.env.example) and
the production guide's settings by concern (docs/operations.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# Set by the framework or by systemd for the process, never by the operator.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE", "RUNTIME_DIRECTORY"}
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]+")


def _read_names(tree: ast.AST) -> set[str]:
    """Names passed to os.environ.get/[]/setdefault, os.getenv, and the typed readers (env_int,
    parse_email_url…), whose first argument is the variable's name."""
    names: set[str] = set()
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value if isinstance(func, ast.Attribute) else None
            owner_name = (owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")) if owner else ""
            if (
                (called in {"get", "pop", "setdefault"} and owner_name == "environ")
                or called == "getenv"
                or called.startswith("env_")
                or (called.startswith("parse_") and isinstance(func, ast.Name))
            ):
                name = node.args[0].value
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            value = node.value
            if (isinstance(value, ast.Attribute) and value.attr == "environ") or getattr(value, "id", "") == "environ":
                name = node.slice.value
        if isinstance(name, str) and _ENV_NAME.fullmatch(name):
            names.add(name)
    return names


def settings_read() -> set[str]:
    files = [*(REPO / "config").rglob("*.py"), *(REPO / "mutualis").rglob("*.py"), REPO / "deploy" / "gunicorn.conf.py"]
    names: set[str] = set()
    for path in files:
        if {"tests", "migrations"} & set(path.parts) or path.name == "settings_test.py":
            continue
        names |= _read_names(ast.parse(path.read_text(), filename=str(path)))
    # The units' own variables (ExecStart=… ${NAME}, Environment=NAME=…).
    for unit in (REPO / "deploy" / "systemd").iterdir():
        text = unit.read_text()
        names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)\}", text))
        names |= set(re.findall(r"^Environment=([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    return names - NOT_SETTINGS - {"PYTHONUNBUFFERED", "XDG_CACHE_HOME", "MPLCONFIGDIR"}


def readme_table() -> set[str]:
    text = (REPO / "README.md").read_text()
    table = text[text.index("## Settings") :]
    table = table[: table.index("\n\n", table.index("| variable"))]
    return {name for row in table.splitlines()[2:] for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_it_finds_the_settings_it_checks():
    names = settings_read()
    # The reader sees each way settings are read: typed readers, os.environ, another module's
    # reader (identity's OIDC settings), a command, gunicorn's config, a unit's ${VAR}.
    assert {"DATABASE_URL", "MUTUALIS_REQUIRE_2FA", "OIDC_RP_CLIENT_SECRET", "MUTUALIS_LDAP_PASSWORD"} <= names
    assert {"MUTUALIS_WEB_WORKERS", "PROMETHEUS_MULTIPROC_DIR"} <= names


def test_it_documents_every_setting_in_the_readme_table():
    missing = settings_read() - readme_table()
    assert not missing, f"add a row to README.md's settings table for: {sorted(missing)}"


def test_it_lists_every_setting_in_the_production_env_file_example():
    example = (REPO / "deploy" / "mutualis.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    missing = settings_read() - listed
    assert not missing, f"add to deploy/mutualis.env.example (commented when the default fits): {sorted(missing)}"


def test_it_groups_every_setting_by_concern_in_the_production_guide():
    guide = (REPO / "docs" / "operations.md").read_text()
    section = guide[guide.index("## Settings") : guide.index("## Upgrading")]
    missing = {name for name in settings_read() if f"`{name}`" not in section}
    assert not missing, f"add to docs/operations.md, « Settings »: {sorted(missing)}"
