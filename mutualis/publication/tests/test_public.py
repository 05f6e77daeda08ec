"""The public pages, without login: the list, an act, its PDF, « vérifier un acte », the embed, JSON, Atom."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mutualis.publication import services
from mutualis.publication.models import PublishedAct
from mutualis.publication.tests.helpers import T0, pdf_bytes, publish, set_author


@pytest.fixture
def acts(world) -> list[PublishedAct]:
    set_author(world)
    set_author(world, world.member_b)
    first = publish(world.member_a, "2026_DE_001", at=T0)
    budget = publish(world.member_a, "2026_BF_001", nature=5, at=T0 + dt.timedelta(hours=1))
    publish(world.member_b, "2026_DE_777", at=T0)
    return [first, budget]


def test_the_list_is_public_and_shows_only_the_members_acts(client, world, acts):
    response = client.get(reverse("publication:list", args=["alpha"]))

    assert response.status_code == 200
    body = response.content.decode()
    for expected in (
        "2026_DE_001",
        "2026_BF_001",
        "Document budgétaire et financier",
        "Claire Martin, maire",
        "20/02/2026",
    ):
        assert expected in body
    assert "2026_DE_777" not in body  # Bravo's
    assert '<th scope="col">' in body and "<caption>" in body


def test_the_list_filters_by_nature_and_year(client, acts):
    url = reverse("publication:list", args=["alpha"])
    body = client.get(url, {"nature": 5}).content.decode()
    assert "2026_BF_001" in body and "2026_DE_001" not in body
    assert "2026_DE_001" in client.get(url, {"annee": 2026}).content.decode()
    assert client.get(reverse("publication:list", args=["nobody"])).status_code == 404


def _list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_lists_query_count_does_not_grow_with_the_acts(client, world):
    set_author(world)
    for n in range(5):
        publish(world.member_a, f"A_{n}")
    url, embed = reverse("publication:list", args=["alpha"]), reverse("publication:embed", args=["alpha"])
    client.get(url)  # the site's once-per-process reads (the platform's settings) out of the count
    small, small_embed = _list_queries(client, url), _list_queries(client, embed)
    first = PublishedAct.objects.get(number="A_0")
    services.act_correct(actor=world.staff, act=first, content=pdf_bytes("v2"), file_name="v2.pdf", reason="r", now=T0)
    for n in range(5, 50):
        publish(world.member_a, f"A_{n}")

    assert _list_queries(client, url) == small
    assert _list_queries(client, embed) == small_embed


def test_an_acts_page_gives_its_digest_and_its_pdf(client, world, acts):
    act = acts[0]
    page = client.get(reverse("publication:act", args=["alpha", act.pk]))
    assert page.status_code == 200
    assert act.sha256 in page.content.decode()

    download = client.get(reverse("publication:pdf", args=["alpha", act.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="2026_DE_001.pdf"'
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == act.sha256
    # Another member's act is not on Alpha's pages.
    bravo = PublishedAct.objects.get(number="2026_DE_777")
    assert client.get(reverse("publication:act", args=["alpha", bravo.pk])).status_code == 404
    assert client.get(reverse("publication:pdf", args=["alpha", bravo.pk])).status_code == 404


def test_a_corrected_act_says_it_was_replaced_and_the_new_one_what_it_corrects(client, world, acts):
    second = services.act_correct(
        actor=world.staff, act=acts[0], content=pdf_bytes("v2"), file_name="a.pdf", reason="coquille", now=T0
    )
    old = client.get(reverse("publication:act", args=["alpha", acts[0].pk])).content.decode()
    assert "Remplacé par la version 2" in old
    new = client.get(reverse("publication:act", args=["alpha", second.pk])).content.decode()
    assert "corrige la version 1" in new and "coquille" in new
    listing = client.get(reverse("publication:list", args=["alpha"])).content.decode()
    assert "remplacé par la version 2" in listing


def _verify(client, content: bytes, name: str = "acte.pdf", slug: str = "alpha"):
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(reverse("publication:verify", args=[slug]), {"file": upload})


def test_verify_names_the_act_and_version_of_a_matching_pdf(client, acts, settings, tmp_path):
    assert client.get(reverse("publication:verify", args=["alpha"])).status_code == 200
    files_before = sorted(p.name for p in (tmp_path).iterdir())

    response = _verify(client, pdf_bytes("2026_DE_001"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Oui : ce fichier est un acte publié." in body
    assert "2026_DE_001" in body and "version 1" in body and "en ligne depuis le 02/03/2026" in body
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before  # nothing kept
    assert PublishedAct.objects.count() == 3


def test_verify_says_no_for_a_changed_byte_and_for_another_members_act(client, acts):
    altered = pdf_bytes("2026_DE_001").replace(b"1.4", b"1.5")
    assert "Non : ce fichier n" in _verify(client, altered).content.decode()
    assert "Non : ce fichier n" in _verify(client, pdf_bytes("2026_DE_777")).content.decode()  # Bravo's act


def test_verify_refuses_a_non_pdf_and_an_oversized_file_with_a_message(client, acts, monkeypatch):
    response = _verify(client, b"MZ\x90\x00 not a pdf", name="acte.pdf")
    assert response.status_code == 400
    assert "n&#x27;est pas un PDF" in response.content.decode()

    monkeypatch.setattr("mutualis.publication.views.MAX_PDF_BYTES", 100)
    response = _verify(client, pdf_bytes("x" * 200))
    assert response.status_code == 400
    assert "Le fichier dépasse" in response.content.decode()
    assert "Oui" not in response.content.decode()


def test_the_embed_page_may_be_framed_and_the_others_may_not(client, acts):
    embed = client.get(reverse("publication:embed", args=["alpha"]))
    assert embed.status_code == 200
    assert "frame-ancestors *" in embed["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed
    assert "2026_DE_001" in embed.content.decode() and 'target="_top"' in embed.content.decode()
    listing = client.get(reverse("publication:list", args=["alpha"]))
    assert "frame-ancestors 'none'" in listing["Content-Security-Policy"]
    assert listing["X-Frame-Options"] == "DENY"


def test_the_json_lists_the_latest_publications(client, acts):
    response = client.get(reverse("publication:json", args=["alpha"]))
    data = json.loads(response.content)
    assert response["Content-Type"].startswith("application/json")
    assert [a["number"] for a in data["acts"]] == ["2026_BF_001", "2026_DE_001"]
    first = data["acts"][1]
    assert first["sha256"] == acts[0].sha256 and first["author"] == {"name": "Claire Martin", "title": "maire"}
    assert first["pdf"].startswith("http://testserver/actes/alpha/")


def test_the_atom_feed_is_well_formed(client, acts):
    response = client.get(reverse("publication:atom", args=["alpha"]))
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    entries = root.findall("a:entry", ns)
    assert len(entries) == 2
    assert "2026_BF_001" in entries[0].find("a:title", ns).text
    assert acts[0].sha256 in ElementTree.tostring(root, encoding="unicode")
