"""The official schemas ship with the package and compile from it; incoming XML reaches nothing outside."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mutualis.flows.formats import xml
from mutualis.flows.formats.xml import FormatError

ROOT = Path(__file__).resolve().parents[3]


def test_the_schemas_compile_from_the_package_folder() -> None:
    for name in ("actes", "seda-2.1"):
        assert xml.schema(name) is xml.schema(name)  # compiled once
    assert xml.SCHEMAS_DIR.is_relative_to(Path(xml.__file__).resolve().parent)


def test_every_copied_schema_is_installed_with_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["mutualis.flows.formats"]
    package_dir = Path(xml.__file__).resolve().parent
    shipped = {path for pattern in patterns for path in package_dir.glob(pattern)}
    copied = set(xml.SCHEMAS_DIR.rglob("*.xsd"))
    assert copied
    assert copied <= shipped


def test_it_never_loads_an_external_entity(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    content = f"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file://{secret}">]><r>&e;</r>""".encode()
    root = xml.parse(content, what="Le test")
    assert "do not read me" not in (root.text or "")
    assert b"do not read me" not in xml.serialize(root)


def test_a_syntax_error_names_the_document_and_the_line() -> None:
    with pytest.raises(FormatError) as caught:
        xml.parse(b"<a>\n<b>\n</a>", what="Le document")
    assert caught.value.message.startswith("Le document n'est pas un XML bien formé (ligne 3)")
    assert caught.value.detail
