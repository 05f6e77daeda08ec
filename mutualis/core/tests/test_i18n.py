"""The interface is French by default and English on request; the English catalog is complete.

The catalog (mutualis/locale/en/LC_MESSAGES/django.po, French msgids) and its compiled .mo are both
committed, so a machine without gettext serves English. After adding or changing a string:
`mutualis makemessages -l en --ignore=.venv --ignore=bench --ignore='*/tests/*'`, translate, then
`mutualis compilemessages --ignore=.venv`.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.urls import reverse

LC_MESSAGES = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")

PAGES = ["core:home", "members:list", "catalog:matrix"]


def choose_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": reverse("core:home")})
    assert response.status_code == 302


@pytest.mark.parametrize("name", PAGES)
def test_pages_are_french_by_default(client, world, name):
    client.force_login(world.staff)
    html = client.get(reverse(name)).content.decode()
    assert '<html lang="fr">' in html
    assert "Matrice des déploiements" in html  # main navigation
    assert "Adhérents" in html
    assert "Deployment matrix" not in html


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("core:home", ["Hello", "Applications in the catalogue", "Service commitments"]),
        ("members:list", ["Members and partners", "Name", "Population"]),
        ("catalog:matrix", ["Filter the matrix", "Counted status", "Export as CSV"]),
    ],
)
def test_pages_switch_to_english_on_request(client, world, name, expected):
    client.force_login(world.staff)
    choose_english(client)
    html = client.get(reverse(name)).content.decode()
    assert '<html lang="en">' in html
    assert "Deployment matrix" in html  # main navigation
    assert ">Members<" in html
    assert "Sign out" in html
    for text in expected:
        assert text in html
    assert "Matrice des déploiements" not in html
    assert "Se déconnecter" not in html


def test_choosing_french_again_goes_back_to_french(client, world):
    client.force_login(world.staff)
    choose_english(client)
    client.post("/i18n/setlang/", {"language": "fr"})
    html = client.get(reverse("catalog:matrix")).content.decode()
    assert '<html lang="fr">' in html
    assert "Matrice des déploiements" in html


def test_messages_and_form_errors_follow_the_chosen_language(client, world):
    client.force_login(world.agent_a)
    choose_english(client)
    html = client.post(reverse("accounts:token_create"), {"name": "   "}, follow=True).content.decode()
    assert "give the token a name" in html
    assert "donnez un nom au jeton" not in html
    assert "Personal API tokens" in html


# --- The catalog itself ----------------------------------------------------------------------


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr (list: one per plural form), flags."""
    entries: list[dict] = []
    entry: dict = {}
    field = None

    def close():
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {}

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
            field = None
        elif line.startswith("#~"):  # obsolete entry: not served, not checked
            continue
        elif line.startswith("#,"):
            close()
            entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if field == "msgstr":
                entry["msgstr"][-1] += _unquote(line)
            else:
                entry[field] += _unquote(line)
        else:
            keyword, _, value = line.partition(" ")
            if keyword in ("msgid", "msgid_plural", "msgctxt"):
                if keyword == "msgid" and "msgid" in entry:
                    close()
                field = keyword
                entry[field] = _unquote(value)
            elif keyword == "msgstr" or keyword.startswith("msgstr["):
                field = "msgstr"
                entry.setdefault("msgstr", []).append(_unquote(value))
            else:
                raise AssertionError(f"unexpected line in {path.name}: {raw!r}")
    close()
    for item in entries:
        item.setdefault("flags", set())
    return [item for item in entries if item["msgid"]]  # the header has an empty msgid


@pytest.fixture(scope="module")
def catalog() -> list[dict]:
    assert PO.exists(), f"missing English catalog {PO}"
    entries = read_po(PO)
    assert len(entries) > 400
    return entries


def test_every_message_has_an_english_translation(catalog):
    untranslated = [e["msgid"] for e in catalog if not all(s.strip() for s in e["msgstr"])]
    assert not untranslated, f"{len(untranslated)} untranslated message(s), e.g. {untranslated[:5]}"
    fuzzy = [e["msgid"] for e in catalog if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy (unchecked) translation(s): {fuzzy[:5]}"
    plurals = [e for e in catalog if "msgid_plural" in e]
    assert plurals and all(len(e["msgstr"]) == 2 for e in plurals)


def test_translations_keep_the_placeholders(catalog):
    for entry in catalog:
        source = set(PLACEHOLDER.findall(entry["msgid"])) | set(PLACEHOLDER.findall(entry.get("msgid_plural", "")))
        for translated in entry["msgstr"]:
            assert set(PLACEHOLDER.findall(translated)) <= source, (entry["msgid"], translated)
        # The singular may drop the count ("one month"); the plural form must keep every variable.
        assert set(PLACEHOLDER.findall(entry["msgstr"][-1])) == source, (entry["msgid"], entry["msgstr"])


def test_the_compiled_catalog_is_up_to_date(catalog):
    """The .mo holds every translation of the .po (a stale .mo fails here).

    The contents are compared rather than the modification times: a git checkout writes both
    files at once in no guaranteed order.
    """
    assert MO.exists(), f"missing {MO}: run compilemessages"
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in catalog:
        if "msgctxt" in entry:
            continue  # not used yet; pgettext would be needed to read it
        if "msgid_plural" in entry:
            got = [compiled.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
        else:
            got = [compiled.gettext(entry["msgid"])]
        if got != entry["msgstr"]:
            stale.append(entry["msgid"])
    assert not stale, f"django.mo is older than django.po ({len(stale)} message(s)): run compilemessages"
