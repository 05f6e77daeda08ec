"""Reads of the publication of acts: the public lists (no login: the data is public by law), an act,
the acts matching a digest, and the chain's verification."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from mutualis.members.models import Organisation
from mutualis.publication.models import PublicationLogEntry, PublishedAct
from mutualis.publication.services import GENESIS, chain_digest


def public_member(slug: str) -> Organisation:
    return get_object_or_404(Organisation, slug=slug)


def published_acts(
    *, member: Organisation, nature: int | None = None, year: int | None = None
) -> QuerySet[PublishedAct]:
    """Every version online of the member's acts, newest first, with what replaced each (one query)."""
    acts = PublishedAct.objects.filter(member=member).select_related("replaced_by")
    if nature is not None:
        acts = acts.filter(nature=nature)
    if year is not None:
        acts = acts.filter(decision_date__year=year)
    return acts.order_by("-published_at", "-pk")


def published_years(member: Organisation) -> list[int]:
    dates = PublishedAct.objects.filter(member=member).dates("decision_date", "year", order="DESC")
    return [d.year for d in dates]


def published_act(*, member: Organisation, pk: int) -> PublishedAct:
    return get_object_or_404(
        PublishedAct.objects.select_related("member", "replaced_by", "replaces"), member=member, pk=pk
    )


def acts_with_digest(*, member: Organisation, sha256: str) -> list[PublishedAct]:
    return list(published_acts(member=member).filter(sha256=sha256))


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    broken_seq: int | None = None  # the first entry broken, or missing
    reason: str = ""


def verify_chain(member: Organisation) -> ChainCheck:
    """Walk the member's log in order: each entry's number follows the previous one (else one is
    missing), holds the previous digest, and its digest is SHA-256(previous + content); every act
    online has its entry (else the end of the log was cut)."""
    previous, expected, count = GENESIS, 1, 0
    logged: set[int] = set()
    for entry in PublicationLogEntry.objects.filter(member=member).order_by("seq").iterator():
        count += 1
        if entry.seq != expected:
            return ChainCheck(False, count, expected, f"entrée {expected} manquante")
        if entry.previous_digest != previous:
            return ChainCheck(False, count, entry.seq, f"entrée {entry.seq} : l'empreinte précédente ne suit pas")
        if chain_digest(previous, entry.content) != entry.digest:
            return ChainCheck(False, count, entry.seq, f"entrée {entry.seq} : contenu ou empreinte altéré")
        logged.add(entry.act_id)
        previous, expected = entry.digest, expected + 1
    unlogged = PublishedAct.objects.filter(member=member).exclude(pk__in=logged).order_by("pk").first()
    if unlogged is not None:
        return ChainCheck(False, count, expected, f"entrée {expected} manquante (acte {unlogged} sans entrée)")
    return ChainCheck(True, count)
