"""The tenancy gate holds: no view, API module or export reads a tenant model around `visible_to`.

Tenant models are found at run time (their default manager's queryset is a `TenantQuerySet`), and
every views, API and export module of the package is parsed: `Ticket.objects.get(…)`,
`get_object_or_404(Ticket, …)`, `Ticket._default_manager` and the like are reported with their
file and line. Reads through a selector, or `Ticket.objects.visible_to(user)…`, pass."""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import models

from mutualis.core.tenancy import TenantQuerySet

PACKAGE = Path(__file__).resolve().parents[2]

# Reads of a tenant model that skip the gate on purpose, by "path:line-free code" → why. Keep it
# short: for operator staff `visible_to` returns every row, so an operator page costs nothing to
# route through it.
ALLOWED: dict[str, str] = {}

SHORTCUTS = {"get_object_or_404", "get_list_or_404"}
# Calls that take a model class without reading its rows. Any other call handed a tenant model
# (a module's own `_get(Ticket, …)` helper) would read it out of the checker's sight.
HARMLESS_CALLS = {"isinstance", "issubclass", "get_for_model", "cast", "type", "str", "repr"}
BYPASSING_MANAGERS = {"_default_manager", "_base_manager"}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code}"


def tenant_models() -> set[type[models.Model]]:
    return {m for m in apps.get_models() if issubclass(m._default_manager._queryset_class, TenantQuerySet)}


def gated_modules() -> list[Path]:
    """Views (`views.py`, `views_*.py`, `views/` packages), API modules (`api.py`, `api_*.py`)
    and exports (any module named `*export*`, commands included)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "tests" in parts or "migrations" in parts:
            continue
        name = path.stem
        if name in {"views", "api"} or name.startswith(("views_", "api_")) or "views" in parts[:-1] or "export" in name:
            found.append(path)
    return found


def _imported_names(tree: ast.Module, module_name: str) -> dict[str, object]:
    """What each name bound by a `from … import …` or `import …` refers to, when it imports."""
    names: dict[str, object] = {}
    package = module_name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            try:
                source = importlib.import_module(base)
            except ImportError:
                continue
            for alias in node.names:
                target = getattr(source, alias.name, None)
                if target is None:
                    try:
                        target = importlib.import_module(f"{base}.{alias.name}")
                    except ImportError:
                        continue
                names[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    try:
                        names[alias.asname] = importlib.import_module(alias.name)
                    except ImportError:
                        continue
    return names


def violations_in(source: str, *, module_name: str, path: str, tenants: set[type[models.Model]]) -> list[Violation]:
    """The reads of a tenant model in `source` that do not go through `visible_to`."""
    tree = ast.parse(source)
    names = _imported_names(tree, module_name)

    def model_of(node: ast.expr) -> object:
        """The tenant model `node` names (`Ticket`, `models.Ticket`), or None."""
        target = None
        if isinstance(node, ast.Name):
            target = names.get(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = getattr(names.get(node.value.id), node.attr, None)
        return target if isinstance(target, type) and target in tenants else None

    found: list[Violation] = []

    def report(node: ast.AST) -> None:
        code = ast.unparse(node)
        if f"{path}: {code}" not in ALLOWED:
            found.append(Violation(path, getattr(node, "lineno", 0), code))

    used_further = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            # Model.objects.<method>: only visible_to passes.
            if isinstance(node.value, ast.Attribute) and node.value.attr == "objects" and model_of(node.value.value):
                if node.attr != "visible_to":
                    report(node)
            elif node.attr in BYPASSING_MANAGERS and model_of(node.value):
                report(node)
            elif node.attr == "objects" and id(node) not in used_further and model_of(node.value):
                report(node)  # the manager handed on whole: to a form field, a helper…
        elif isinstance(node, ast.Call):
            func = node.func
            func_name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if func_name in SHORTCUTS and node.args and model_of(node.args[0]):
                report(node)
            elif func_name not in HARMLESS_CALLS and any(model_of(arg) for arg in node.args):
                report(node)  # the model handed to a helper that may query it
    return sorted(set(found), key=lambda v: (v.path, v.line, v.code))


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_it_finds_the_tenant_models():
    labels = {m._meta.label for m in tenant_models()}
    assert {"helpdesk.Ticket", "catalog.Subscription", "identity.Agent", "members.Organisation"} <= labels


def test_it_parses_the_views_api_and_export_modules():
    names = {str(p.relative_to(PACKAGE)) for p in gated_modules()}
    assert {"catalog/views.py", "helpdesk/api.py", "identity/exports.py"} <= names
    assert any(name.startswith("helpdesk/views") for name in names)


def test_it_finds_no_read_of_a_tenant_model_around_the_gate():
    tenants = tenant_models()
    found = []
    for path in gated_modules():
        found += violations_in(
            path.read_text(), module_name=_module_name(path), path=str(path.relative_to(PACKAGE)), tenants=tenants
        )
    assert not found, "reads around visible_to(user):\n" + "\n".join(map(str, found))


def test_it_reports_a_view_that_reads_a_tenant_model_around_the_gate():
    source = """
from django.shortcuts import get_object_or_404
from mutualis.helpdesk.models import Ticket
from mutualis.helpdesk import models as hd


def ticket_detail(request, pk):
    ticket = Ticket.objects.get(pk=pk)
    other = get_object_or_404(Ticket, pk=pk)
    every = hd.Ticket.objects.all()
    raw = Ticket._default_manager.filter(pk=pk)
    helped = _get(Ticket, pk)
    allowed = Ticket.objects.visible_to(request.user).get(pk=pk)
    return ticket, other, every, raw, helped, allowed, isinstance(ticket, Ticket)
"""
    found = violations_in(source, module_name="fake.views", path="fake/views.py", tenants=tenant_models())
    assert [v.code for v in found] == [
        "Ticket.objects.get",
        "get_object_or_404(Ticket, pk=pk)",
        "hd.Ticket.objects.all",
        "Ticket._default_manager",
        "_get(Ticket, pk)",
    ]


def test_it_accepts_reads_through_the_gate_or_of_other_models():
    source = """
from mutualis.helpdesk.models import Category, Ticket


def view(request):
    return Ticket.objects.visible_to(request.user).filter(status="new"), Category.objects.all()
"""
    assert violations_in(source, module_name="fake.views", path="fake/views.py", tenants=tenant_models()) == []
