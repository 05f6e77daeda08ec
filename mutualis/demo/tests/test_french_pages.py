"""No English text and no curator's note of the source data reaches a user, on any page of any role.

The demo data set (`demo/fixtures/sitiv-2022.json`) is a curated transcription: beside the report's
French facts it holds the curator's notes in English (reading notes, evidence, confidence remarks).
Those stay in the file; the pages show French only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.db import models

from mutualis.accounts.models import User
from mutualis.catalog.models import Subscription
from mutualis.demo.generator import generate
from mutualis.demo.loader import DEFAULT_FILE, demo_accounts, load_demo
from mutualis.flows.localservers.launcher import start_all, stop_all
from mutualis.flows.models import ConnectorInstance
from mutualis.procurement.models import Contract
from mutualis.testing.crawl import crawl

pytestmark = pytest.mark.django_db

REFERENCE = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))

# Keys under which the data set keeps the curator's notes, whatever their language.
CURATION_KEYS = {
    "note",
    "evidence",
    "_comment",
    "comment",
    "source",
    "source_file",
    "ambiguities",
    "figures_and_facts",
    "reconstruction_notes",
    "commentary",
    "confidence_levels",
    "description",
    "amount_conventions",
    "events_2022",
    "rule",
}
# Remarks on the source file that earlier loaders wrote into the database themselves (French, but
# about the file, not the data): a contract's notes, every subscription's note.
LOADER_SOURCE_NOTES = {
    "Date du tableau des marchés du rapport d'activité 2022 (retenue comme notification et début).",
    "Rapport d'activité 2022 de l'opérateur, tableau des déploiements par ville.",
}
ENGLISH_WORDS = re.compile(
    r"\b(the|and|with|since|not|from|is|are|to|of|for|per|which|only|by|or|was|were|its|this|that|be|may|but|on|"
    r"in|at|after|before|other|see|also|named|listed|probably|presumably|guess|given|each|both|than|into)\b",
    re.IGNORECASE,
)
FRENCH_WORDS = re.compile(r"\b(le|la|les|des|du|de|et|pour|une|un|est|sont|avec|dans|sur|au|aux|en|à|par|ou)\b", re.I)
# Words a French page never shows: English function words, curation vocabulary, untranslated UI.
MARKERS = re.compile(
    r"(?<![\w'’=_-])(the|and|with|since|which|is|are|not|from|see|probably|presumably|narrative|evidence|"
    r"confidence|inferred|unknown|ambiguities|shared|seconded|guess|derived|approx|download|edit|delete|save|"
    r"cancel|search|next|previous|submit|none|null|undefined|nan)(?![\w'’-])",
    re.IGNORECASE,
)


def _strings(node: Any, curated: bool = False) -> list[tuple[str, bool]]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(value, curated or key in CURATION_KEYS)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value, curated)]
    return [(node, curated)] if isinstance(node, str) else []


def _is_english(text: str) -> bool:
    english = len(ENGLISH_WORDS.findall(text))
    return english >= 1 and english > len(FRENCH_WORDS.findall(text))


def never_shown() -> list[str]:
    """The source file's strings no user may see: curation notes and English text (20 characters or more),
    and the loader's own remarks on the file."""
    curation = {text for text, curated in _strings(REFERENCE) if len(text) >= 20 and (curated or _is_english(text))}
    return sorted(curation | LOADER_SOURCE_NOTES)


def _fragment(text: str) -> str:
    return text[:40]


def test_it_knows_the_source_files_english_notes():
    hidden = never_shown()
    assert any(text.startswith("Probably the deliberating council") for text in hidden)
    assert any(text.startswith("Per-service counts add up") for text in hidden)
    assert not any(text.startswith("Syndicat Intercommunal de Technologies") for text in hidden)


def test_it_keeps_curation_notes_in_the_data_set_and_out_of_the_database():
    load_demo()
    fragments = {_fragment(text) for text in never_shown()}
    found = []
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))]
        if not fields or model._meta.app_label in ("sessions", "contenttypes", "auth"):
            continue
        for row in model.objects.values_list("pk", *fields):
            for name, value in zip(fields, row[1:], strict=True):
                if value and any(fragment in value for fragment in fragments):
                    found.append(f"{model._meta.label}#{row[0]}.{name}: {value[:80]!r}")
    assert found == []


def test_it_removes_the_source_notes_an_earlier_load_wrote():
    load_demo()
    Contract.objects.filter(code="2022M06").update(notes=min(LOADER_SOURCE_NOTES))
    Subscription.objects.update(note=max(LOADER_SOURCE_NOTES))
    Subscription.objects.filter(pk=Subscription.objects.order_by("pk").values("pk")[:1]).update(note="Note du DSI")
    load_demo()
    assert Contract.objects.get(code="2022M06").notes == ""
    assert set(Subscription.objects.values_list("note", flat=True)) == {"", "Note du DSI"}


@pytest.fixture
def flow_servers() -> Iterator[dict[str, str]]:
    """The flows' local servers on free ports: the demo's Pastell page reads one live, and the test
    must not depend on `mutualis flows_localservers` running on the demo's fixed ports."""
    kinds = ("s2low", "iparapheur", "asalae", "pastell")
    running = start_all(dict.fromkeys(kinds, 0), auto_after=1)
    try:
        yield {kind: item.url for kind, item in zip(kinds, running, strict=True)}
    finally:
        stop_all(running)


def _point_demo_connectors_to(urls: dict[str, str]) -> None:
    for instance in ConnectorInstance.objects.all():
        instance.config = {**instance.config, "url": urls[instance.kind]}
        instance.save(update_fields=["config"])


def test_it_shows_every_page_of_every_demo_account_in_french(client, flow_servers):
    load_demo()
    _point_demo_connectors_to(flow_servers)
    generate(months=1, seed=42)
    fragments = {_fragment(text) for text in never_shown()}
    problems: list[str] = []
    crawled = 0
    # One account of each role the demo has, and a second member to vary the data.
    roles_seen: set[str] = set()
    accounts = []
    for account in demo_accounts(REFERENCE):
        if account.role not in roles_seen or account.username == "dsi-corbas":
            roles_seen.add(account.role)
            accounts.append(account)
    for account in accounts:
        client.force_login(User.objects.get(username=account.username))
        for page in crawl(client):
            crawled += 1
            if page.status >= 500:
                problems.append(f"{account.username} {page.url}: {page.status}")
            text = page.text
            for match in MARKERS.finditer(text):
                context = text[max(0, match.start() - 50) : match.end() + 50]
                if "MUTUALIS_" in context:  # a setting's name, quoted as such
                    continue
                problems.append(f"{account.username} {page.url}: «{match.group(0)}» in …{context}…")
                break
            problems += [f"{account.username} {page.url}: source note {f!r}" for f in fragments if f in text]
        client.logout()
    assert crawled > 100
    assert problems == []
