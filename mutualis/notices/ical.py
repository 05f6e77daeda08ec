"""A small iCalendar (RFC 5545) writer for the notices feed: VCALENDAR with one VEVENT per notice.

The `icalendar` library is not installed, and the feed needs little: text values escaped
(§3.3.11: backslash, semicolon, comma, newline), instants in UTC with the Z form (§3.3.5, form
#2), lines folded at 75 octets without splitting a UTF-8 character (§3.1), CRLF line ends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

LINE_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value (§3.3.11): backslash first, then ; and , and newlines as \\n."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def utc(value: dt.datetime) -> str:
    """A DATE-TIME in UTC (§3.3.5, form #2): 20261205T130000Z. Refuses a naive value, whose
    instant is unknown."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("an iCalendar instant needs an aware datetime")
    at = value.astimezone(dt.UTC)
    return f"{at.year:04d}{at.month:02d}{at.day:02d}T{at.hour:02d}{at.minute:02d}{at.second:02d}Z"


def fold(line: str) -> str:
    """One content line folded (§3.1): no physical line longer than 75 octets, a continuation
    starts with one space, and a multi-octet UTF-8 character is never cut in two."""
    pieces: list[str] = []
    current = ""
    size = 0
    limit = LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
            limit = LINE_OCTETS - 1  # the leading space of a continuation counts
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


@dataclass(frozen=True)
class Event:
    uid: str
    stamp: dt.datetime
    start: dt.datetime
    end: dt.datetime
    summary: str
    description: str
    status: str  # TENTATIVE, CONFIRMED or CANCELLED (§3.8.1.11)
    url: str = ""
    categories: str = ""
    sequence: int = 0


def calendar(events: Iterable[Event], *, name: str, prodid: str = "-//Mutualis//Avis//FR") -> bytes:
    """The whole VCALENDAR object, UTF-8 with CRLF line ends."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{escape_text(prodid)}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        if event.status not in {"TENTATIVE", "CONFIRMED", "CANCELLED"}:
            raise ValueError(f"unknown VEVENT status {event.status!r}")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape_text(event.uid)}",
            f"DTSTAMP:{utc(event.stamp)}",
            f"DTSTART:{utc(event.start)}",
            f"DTEND:{utc(event.end)}",
            f"SEQUENCE:{event.sequence}",
            f"SUMMARY:{escape_text(event.summary)}",
            f"DESCRIPTION:{escape_text(event.description)}",
            f"STATUS:{event.status}",
        ]
        if event.categories:
            lines.append(f"CATEGORIES:{escape_text(event.categories)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("".join(f"{fold(line)}\r\n" for line in lines)).encode("utf-8")
