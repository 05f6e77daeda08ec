"""Demo code stays in the top `demo` app: no module outside it imports `mutualis.demo`, and no
`demo.py` or `fixtures/demo` folder lives anywhere else in the package."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]  # the `mutualis` package
DEMO = PACKAGE / "demo"


def demo_imports(package: Path) -> list[str]:
    """Every `file:line` outside `package/demo` that imports the demo app (tests and conftest included)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if (package / "demo") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            if any(name == "mutualis.demo" or name.startswith("mutualis.demo.") for name in names):
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    return found


def demo_leftovers(package: Path) -> list[str]:
    """Every `demo.py` file or `fixtures/demo` folder outside `package/demo`."""
    found = list(package.rglob("demo.py")) + [p for p in package.rglob("fixtures/demo") if p.is_dir()]
    return sorted(str(p.relative_to(package)) for p in found if (package / "demo") not in p.parents)


def test_it_finds_no_import_of_the_demo_app_outside_it():
    assert demo_imports(PACKAGE) == []


def test_it_finds_no_demo_module_or_fixtures_outside_the_demo_app():
    assert demo_leftovers(PACKAGE) == []


def test_it_keeps_the_data_set_in_the_demo_app():
    assert (DEMO / "fixtures" / "sitiv-2022.json").is_file()
    assert (DEMO / "fixtures" / "supplement.json").is_file()


def test_it_catches_every_way_of_importing_the_demo_app(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "loader.py").write_text("from mutualis.demo.errors import DemoFileError\n")
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "a.py").write_text("from mutualis.demo.loader import load_demo\n")
    (tmp_path / "core" / "b.py").write_text("def f():\n    import mutualis.demo.generator\n")
    (tmp_path / "core" / "c.py").write_text("from mutualis import demo\n")
    (tmp_path / "core" / "d.py").write_text("from mutualis.core import demo_banner\nimport mutualis.demolition\n")

    assert demo_imports(tmp_path) == ["core/a.py:1", "core/b.py:2", "core/c.py:1"]


def test_it_catches_a_demo_module_or_fixtures_left_in_an_app(tmp_path):
    (tmp_path / "demo" / "fixtures").mkdir(parents=True)
    (tmp_path / "demo" / "demo.py").touch()
    (tmp_path / "finance").mkdir()
    (tmp_path / "finance" / "demo.py").touch()
    (tmp_path / "fixtures" / "demo").mkdir(parents=True)

    assert demo_leftovers(tmp_path) == ["finance/demo.py", "fixtures/demo"]
