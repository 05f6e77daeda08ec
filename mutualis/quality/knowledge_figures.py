"""What the knowledge base saves the helpdesk: requests deflected (« ma question est résolue »)
per month and member next to the tickets filed, and the most read articles with their usefulness
votes. Set-based: a fixed number of grouped queries whatever the data, each read through the
tenancy gate (a member's managers see their collectivity's figures)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncMonth

from mutualis.accounts.models import User
from mutualis.helpdesk.models import Ticket
from mutualis.knowledge.models import Article, ArticleVote, DeflectedTicket
from mutualis.members.models import Organisation
from mutualis.quality.kpis import TZ, Month

MOST_READ = 20


@dataclass(frozen=True)
class DeflectionRow:
    month: Month
    collectivity: str
    deflected: int
    filed: int

    @property
    def per_hundred(self) -> float | None:
        """Requests deflected for 100 tickets filed (none when nothing was filed)."""
        return 100 * self.deflected / self.filed if self.filed else None


def deflection_by_month(*, actor: User, first: Month, last: Month) -> list[DeflectionRow]:
    """Per month and member with a deflected request or a ticket: both counts, in three queries."""
    start, end = first.start(), last.next().start()
    deflected = (
        DeflectedTicket.objects.visible_to(actor)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(month=TruncMonth("created_at", tzinfo=TZ))
        .values("month", "organisation_id")
        .annotate(n=Count("pk"))
    )
    filed = (
        Ticket.objects.visible_to(actor)
        .filter(opened_at__gte=start, opened_at__lt=end)
        .annotate(month=TruncMonth("opened_at", tzinfo=TZ))
        .values("month", "collectivity_id")
        .annotate(n=Count("pk"))
    )
    counts: dict[tuple[Month, int], list[int]] = {}
    for row in deflected:
        key = (Month(row["month"].year, row["month"].month), row["organisation_id"])
        counts.setdefault(key, [0, 0])[0] = row["n"]
    for filed_row in filed:
        key = (Month(filed_row["month"].year, filed_row["month"].month), filed_row["collectivity_id"])
        counts.setdefault(key, [0, 0])[1] = filed_row["n"]
    names = dict(
        Organisation.objects.visible_to(actor).filter(pk__in={pk for _, pk in counts}).values_list("pk", "name")
    )
    rows = [
        DeflectionRow(month=month, collectivity=names.get(pk, "—"), deflected=d, filed=f)
        for (month, pk), (d, f) in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.month.year, -r.month.month, r.collectivity))


def deflection_totals(rows: list[DeflectionRow]) -> DeflectionRow | None:
    if not rows:
        return None
    return DeflectionRow(
        month=rows[0].month,
        collectivity="",
        deflected=sum(r.deflected for r in rows),
        filed=sum(r.filed for r in rows),
    )


def _count(queryset: QuerySet[Any]) -> Coalesce:
    return Coalesce(Subquery(queryset, output_field=IntegerField()), Value(0))


def most_read_articles(*, actor: User, limit: int = MOST_READ) -> list[Article]:
    """The articles the account may read, most read first, each with `useful`, `useless` (votes)
    and `deflected` (requests it answered, of the members the account sees): one query."""
    votes = ArticleVote.objects.filter(article=OuterRef("pk")).order_by().values("article")
    deflections = DeflectedTicket.objects.visible_to(actor).filter(article=OuterRef("pk")).order_by().values("article")
    return list(
        Article.objects.visible_to(actor)
        .filter(read_count__gt=0)
        .select_related("application")
        .annotate(
            useful=_count(votes.annotate(n=Count("pk", filter=Q(useful=True))).values("n")),
            useless=_count(votes.annotate(n=Count("pk", filter=Q(useful=False))).values("n")),
            deflected=_count(deflections.annotate(n=Count("pk")).values("n")),
        )
        .order_by("-read_count", "title")[:limit]
    )
