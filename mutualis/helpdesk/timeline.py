"""The ticket page's single timeline and its live state: messages, private notes, status changes,
tasks, loose attachments and merged duplicates in time order, each with who wrote it (initials,
name, role); the latest activity the page polls for; and who else has the ticket open, kept in
Django's cache. Reads only: the ticket has already passed the tenancy gate (selectors.ticket_get)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.helpdesk import selectors
from mutualis.helpdesk.models import Ticket

SYSTEM, STAFF, REQUESTER, WATCHER, MEMBER = "system", "staff", "requester", "watcher", "member"


def role_labels() -> dict[str, str]:
    return {
        SYSTEM: _("système"),
        STAFF: _("opérateur"),
        REQUESTER: _("demandeur"),
        WATCHER: _("observateur"),
        MEMBER: _("collectivité"),
    }


@dataclass(frozen=True)
class Person:
    name: str
    initials: str
    role: str
    role_label: str


@dataclass(frozen=True)
class Entry:
    kind: str  # followup, transition, task, attachment, merged
    at: dt.datetime
    item: Any
    person: Person | None
    private: bool


def initials(user: User) -> str:
    """« Camille Durand » → « CD »; an account without a name: the first two letters of its login."""
    parts = [p for p in (user.first_name, user.last_name) if p.strip()]
    if parts:
        return "".join(p.strip()[0] for p in parts).upper()
    return user.get_username()[:2].upper()


class People:
    """Who each author is on this ticket, from the ticket and its watchers' ids (one query)."""

    def __init__(self, ticket: Ticket) -> None:
        self.requester_id = ticket.requester_id
        self.watcher_ids = set(ticket.watchers.values_list("pk", flat=True))
        self.labels = role_labels()

    def of(self, user: User | None) -> Person:
        if user is None:
            return Person(self.labels[SYSTEM], "∗", SYSTEM, self.labels[SYSTEM])
        if user.is_operator:
            role = STAFF
        elif user.pk == self.requester_id:
            role = REQUESTER
        elif user.pk in self.watcher_ids:
            role = WATCHER
        else:
            role = MEMBER
        return Person(user.display_name, initials(user), role, self.labels[role])


def ticket_timeline(*, actor: User, ticket: Ticket, merged: Any = None) -> list[Entry]:
    """Everything that happened to the ticket that `actor` may read, oldest first, in a fixed
    number of queries whatever its length. A member never gets a private note (nor its files), a
    private task or the merged duplicates' list."""
    staff = actor.is_operator
    people = People(ticket)
    entries = [
        Entry("followup", f.created_at, f, people.of(f.author), f.is_private)
        for f in selectors.followups_for(actor=actor, ticket=ticket)
    ]
    entries += [
        Entry("transition", t.created_at, t, people.of(t.actor), False)
        for t in ticket.transitions.select_related("actor")
    ]
    tasks = ticket.tasks.select_related("author")
    if not staff:
        tasks = tasks.filter(is_private=False)
    entries += [Entry("task", t.created_at, t, people.of(t.author), t.is_private) for t in tasks]
    entries += [
        Entry("attachment", a.created_at, a, people.of(a.uploaded_by), False)
        for a in ticket.attachments.filter(followup__isnull=True).select_related("uploaded_by")
    ]
    if staff:
        if merged is None:
            merged = ticket.merged.only("reference", "title", "closed_at", "updated_at", "merged_into_id")
        entries += [Entry("merged", t.closed_at or t.updated_at, t, None, False) for t in merged]
    return sorted(entries, key=lambda e: (e.at, e.kind, e.item.pk))


# -- live updates -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Activity:
    stamp: str  # changes whenever something the reader may see happens
    actor_id: int | None
    actor_name: str


def latest_activity(*, actor: User, ticket: Ticket) -> Activity:
    """The last thing that happened to the ticket as `actor` may see it: the newest followup,
    status change, task or loose attachment (one indexed row each), and for operator staff the
    ticket's own changes (assignment, requalification) by its updated_at. A member's stamp ignores
    private notes and tasks, so an internal note never tells the member something happened."""
    staff = actor.is_operator
    candidates: list[tuple[dt.datetime, str, User | None]] = []
    followups = ticket.followups.all() if staff else ticket.followups.filter(is_private=False)
    tasks = ticket.tasks.all() if staff else ticket.tasks.filter(is_private=False)
    for kind, qs, field in (
        ("f", followups.select_related("author"), "author"),
        ("s", ticket.transitions.select_related("actor"), "actor"),
        ("t", tasks.select_related("author"), "author"),
        ("a", ticket.attachments.filter(followup__isnull=True).select_related("uploaded_by"), "uploaded_by"),
    ):
        row = qs.order_by("-created_at", "-id").first()
        if row is not None:
            candidates.append((row.created_at, f"{kind}{row.pk}", getattr(row, field)))
    parts = sorted(key for _at, key, _who in candidates)
    newest = max(candidates, key=lambda c: c[0], default=None)
    who: User | None = newest[2] if newest else None
    if staff:
        parts.append(str(int(ticket.updated_at.timestamp())))
    return Activity(
        stamp="-".join(parts),
        actor_id=who.pk if who else None,
        actor_name=who.display_name if who else _("système"),
    )


# -- presence -----------------------------------------------------------------------------------
PRESENCE_SECONDS = 30


def presence_key(ticket: Ticket) -> str:
    return f"helpdesk:presence:{ticket.pk}"


def presence_touch(*, actor: User, ticket: Ticket, now: dt.datetime | None = None) -> list[str]:
    """Note that `actor` has the ticket open and return the others seen in the last 30 s, by
    name. One cache entry per ticket ({account id: [name, seconds]}), shared by every process when
    the cache is Redis; two polls at the same instant may drop one mark, renewed 10 s later."""
    moment = (now or timezone.now()).timestamp()
    key = presence_key(ticket)
    seen: dict[str, list[Any]] = cache.get(key) or {}
    seen = {who: mark for who, mark in seen.items() if moment - mark[1] < PRESENCE_SECONDS}
    seen[str(actor.pk)] = [actor.display_name, moment]
    cache.set(key, seen, PRESENCE_SECONDS * 2)
    return sorted(name for who, (name, _at) in seen.items() if who != str(actor.pk))
