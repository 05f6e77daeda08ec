"""The iCalendar feed (RFC 5545): the serializer's rules, then the feed read back as a calendar
client would, reached by its secret address without a session, per member, revocable."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from mutualis.notices import ical, services
from mutualis.notices.tests.conftest import publish

PARIS = ZoneInfo("Europe/Paris")


def unfold(data: bytes) -> list[str]:
    """Content lines as a client reads them (§3.1): CRLF + one space or tab continues a line."""
    text = data.decode("utf-8")
    assert "\n" not in text.replace("\r\n", ""), "a bare LF or CR"
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def events(data: bytes) -> list[dict[str, str]]:
    """Each VEVENT's properties by name, values unescaped; checks that the nesting is right."""
    lines = unfold(data)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines[1:-1]:
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            assert current is None
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None:
            current[name.split(";")[0]] = unescape(value)
    assert current is None
    return found


def event(**overrides: object) -> ical.Event:
    values: dict[str, object] = {
        "uid": "avis-1@mutualis",
        "stamp": dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC),
        "start": dt.datetime(2026, 12, 10, 20, 0, tzinfo=PARIS),
        "end": dt.datetime(2026, 12, 10, 22, 0, tzinfo=PARIS),
        "summary": "[Maintenance planifiée] Montée de version",
        "description": "Arrêt de 20 h à 22 h.",
        "status": "CONFIRMED",
    }
    return ical.Event(**{**values, **overrides})  # type: ignore[arg-type]


def test_it_writes_instants_in_utc_with_a_z():
    assert ical.utc(dt.datetime(2026, 12, 10, 20, 0, tzinfo=PARIS)) == "20261210T190000Z"
    assert ical.utc(dt.datetime(2026, 7, 14, 20, 0, tzinfo=PARIS)) == "20260714T180000Z"
    with pytest.raises(ValueError, match="aware"):
        ical.utc(dt.datetime(2026, 7, 14, 20, 0))  # noqa: DTZ001 — the naive value refused


def test_it_escapes_text_values():
    assert ical.escape_text("a;b,c\\d\ne\r\nf") == "a\\;b\\,c\\\\d\\ne\\nf"


@pytest.mark.parametrize("text", ["x" * 200, "é" * 120, "Maintenance 🛠 " * 20, "a" * 74 + "é" * 3])
def test_it_folds_at_75_octets_without_cutting_a_character(text):
    folded = ical.fold(f"DESCRIPTION:{text}")
    physical = folded.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)
    assert all(line.startswith(" ") for line in physical[1:])
    assert "".join([physical[0], *(line[1:] for line in physical[1:])]) == f"DESCRIPTION:{text}"


def test_it_writes_a_calendar_a_client_reads_back():
    long = "Ligne une; avec, ponctuation\n" + "Une description très longue, accentuée : " * 6
    data = ical.calendar([event(description=long)], name="Avis — Alpha")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    (found,) = events(data)
    assert found["UID"] == "avis-1@mutualis"
    assert found["DTSTAMP"] == "20261205T120000Z"
    assert found["DTSTART"] == "20261210T190000Z"
    assert found["DTEND"] == "20261210T210000Z"
    assert found["SUMMARY"] == "[Maintenance planifiée] Montée de version"
    assert found["DESCRIPTION"] == long
    assert found["STATUS"] == "CONFIRMED"
    assert "VERSION:2.0" in unfold(data) and any(line.startswith("PRODID:") for line in unfold(data))


def test_it_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="status"):
        ical.calendar([event(status="DONE")], name="x")


def feed_url(secret: str) -> str:
    return reverse("notices:feed", kwargs={"secret": secret})


def test_it_serves_the_members_feed_without_a_session(client, catalogue):
    world = catalogue.world
    about_a = publish(world, [catalogue.mail])
    publish(world, [catalogue.finance], title="Finances : coupure chez B")
    cancelled = publish(world, [catalogue.mail], kind="maintenance", title="Reportée", in_progress=False)
    services.notice_transition(actor=world.staff, notice=cancelled, action="cancel")
    _token, secret = services.calendar_token_create(actor=world.agent_a)

    response = client.get(feed_url(secret))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    found = {e["UID"]: e for e in events(response.content)}
    assert set(found) == {f"avis-{about_a.pk}@mutualis", f"avis-{cancelled.pk}@mutualis"}  # nothing of B's
    assert found[f"avis-{cancelled.pk}@mutualis"]["STATUS"] == "CANCELLED"
    mine = found[f"avis-{about_a.pk}@mutualis"]
    assert mine["SUMMARY"] == "[Incident majeur] Messagerie indisponible"
    assert mine["DTSTART"] == ical.utc(about_a.starts_at)
    assert mine["DTEND"] == ical.utc(about_a.planned_end_at)
    assert f"/avis/{about_a.pk}/" in mine["URL"]
    assert b"Finances : coupure" not in response.content


def test_it_refuses_a_revoked_or_unknown_token(client, catalogue):
    world = catalogue.world
    _token, secret = services.calendar_token_create(actor=world.agent_a)
    assert client.get(feed_url(secret)).status_code == 200
    services.calendar_token_revoke(actor=world.agent_a)
    assert client.get(feed_url(secret)).status_code == 404
    assert client.get(feed_url("pas-un-jeton")).status_code == 404


def test_it_stops_the_feed_of_a_deactivated_account(client, catalogue):
    world = catalogue.world
    _token, secret = services.calendar_token_create(actor=world.agent_a)
    world.agent_a.is_active = False
    world.agent_a.save(update_fields=["is_active"])
    assert client.get(feed_url(secret)).status_code == 404


def test_it_shows_the_address_once_on_the_calendar_page(client, world):
    client.force_login(world.agent_a)
    page = client.post(reverse("notices:calendar"), {"action": "create"})
    shown = re.search(r'value="(https?://[^"]+/avis/agenda/([^/"]+)/avis\.ics)"', page.content.decode())
    assert shown is not None
    assert client.get(feed_url(shown.group(2))).status_code == 200
    again = client.get(reverse("notices:calendar")).content.decode()
    assert shown.group(2) not in again
    client.post(reverse("notices:calendar"), {"action": "revoke"})
    assert client.get(feed_url(shown.group(2))).status_code == 404
