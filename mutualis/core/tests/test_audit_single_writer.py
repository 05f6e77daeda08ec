"""Only `core/audit.py` inserts audit entries: every other module goes through `audit_record` or
`audit_many`, so one place decides what an entry holds."""

from __future__ import annotations

import ast
from pathlib import Path

import mutualis

ROOT = Path(mutualis.__file__).parent
WRITER = ROOT / "core" / "audit.py"
# Model methods and manager calls that create rows.
_CREATING = {"create", "bulk_create", "get_or_create", "update_or_create", "save"}


def _audit_names(tree: ast.AST) -> set[str]:
    """Local names bound to the AuditEntry model (`from ... import AuditEntry as X`)."""
    names = {"AuditEntry"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {alias.asname for alias in node.names if alias.name == "AuditEntry" and alias.asname}
    return names


def _writes(source: str) -> list[int]:
    """Lines of `source` that create audit rows: instantiating the model, its manager's creating
    calls, handing the model to another writer (a bulk insert helper), or SQL naming its table."""
    tree = ast.parse(source)
    names = _audit_names(tree)

    def is_model(node: ast.AST) -> bool:
        return (isinstance(node, ast.Name) and node.id in names) or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get_model"
            and any(isinstance(a, ast.Constant) and a.value in {"AuditEntry", "core.AuditEntry"} for a in node.args)
        )

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if is_model(func):
                lines.append(node.lineno)  # AuditEntry(...)
            elif isinstance(func, ast.Attribute) and func.attr in _CREATING:
                owner = func.value
                if isinstance(owner, ast.Attribute) and owner.attr in {"objects", "_default_manager"}:
                    owner = owner.value
                if is_model(owner):
                    lines.append(node.lineno)  # AuditEntry.objects.create(...)
            elif any(is_model(arg) for arg in node.args) and not (
                isinstance(func, ast.Name) and func.id in {"isinstance", "issubclass", "type"}
            ):
                # e.g. insert_rows(AuditEntry, ...); reads (filter, get_for_model) take the model as keyword-less
                # argument too, so only helpers whose name says they write are counted.
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if any(word in name.lower() for word in ("insert", "create", "write", "copy", "save")):
                    lines.append(node.lineno)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "core_auditentry" in node.value.lower()
            and any(word in node.value.upper() for word in ("INSERT", "COPY"))
        ):
            lines.append(node.lineno)
    return lines


def test_it_finds_the_ways_of_writing_an_entry() -> None:
    source = """
from mutualis.core.models import AuditEntry
from mutualis.core.models import AuditEntry as Entry
AuditEntry(action="x").save()
AuditEntry.objects.create(action="x")
Entry.objects.bulk_create([])
apps.get_model("core", "AuditEntry").objects.create()
insert_rows(AuditEntry, (), [])
cursor.execute("INSERT INTO core_auditentry (action) VALUES ('x')")
AuditEntry.objects.filter(action="x").count()
ContentType.objects.get_for_model(AuditEntry)
"""
    assert sorted(set(_writes(source))) == [4, 5, 6, 7, 8, 9]


def test_it_leaves_the_audit_writer_alone_in_writing_entries() -> None:
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if path in {WRITER, Path(__file__)} or "migrations" in path.parts:
            continue
        for line in _writes(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(ROOT.parent)}:{line}")
    assert offenders == [], "audit entries are written by mutualis.core.audit only: " + ", ".join(offenders)
