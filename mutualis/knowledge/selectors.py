"""Reads of the knowledge base, each scoped by the acting account through `Article.objects.visible_to`."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from mutualis.accounts.models import User
from mutualis.core.actors import Visitor
from mutualis.knowledge import search
from mutualis.knowledge.models import Article, ArticleVersion, ArticleVote

SEARCH_LIMIT = 20
SUGGESTION_LIMIT = 5


def article_scope(
    *, actor: Visitor | None, application: int | None = None, category: int | None = None, published_only: bool = False
) -> QuerySet[Article]:
    articles = Article.objects.visible_to(actor)
    if published_only:
        articles = articles.published()
    if application is not None:
        articles = articles.filter(application_id=application)
    if category is not None:
        articles = articles.filter(category_id=category)
    return articles


def article_search(
    *,
    actor: Visitor | None,
    text: str,
    application: int | None = None,
    category: int | None = None,
    published_only: bool = False,
    limit: int = SEARCH_LIMIT,
) -> list[Article]:
    """The articles `actor` may read that match `text` (French full text, best first), each with
    `snippet` (HTML, the words found marked); without words, the most read ones. The engine
    (PostgreSQL or SQLite FTS5) is `knowledge.search`'s business."""
    scope = article_scope(actor=actor, application=application, category=category, published_only=published_only)
    if not search.words_of(text):
        articles = list(scope.select_related("application", "category").order_by("-read_count", "title")[:limit])
        for article in articles:
            article.snippet = search.snippet(article.body, "")  # type: ignore[attr-defined]
        return articles
    ids = search.ranked_ids(scope, text, limit=limit)
    found = Article.objects.filter(pk__in=ids).select_related("application", "category").in_bulk()
    articles = [found[pk] for pk in ids if pk in found]
    for article in articles:
        article.snippet = search.snippet(article.body, text)  # type: ignore[attr-defined]
    return articles


def article_get(*, actor: Visitor | None, slug: str) -> Article:
    """The article, or 404 for one the account may not read (a draft, an internal article, an
    application its organisation does not subscribe to)."""
    return Article.objects.select_related("application", "category", "author").get_visible(actor, slug=slug)


def article_votes(*, article: Article) -> dict[str, int]:
    counts = ArticleVote.objects.filter(article=article).aggregate(
        yes=Count("pk", filter=Q(useful=True)), no=Count("pk", filter=Q(useful=False))
    )
    return {"useful": counts["yes"], "useless": counts["no"]}


def vote_of(*, actor: User, article: Article) -> bool | None:
    return ArticleVote.objects.filter(article=article, user=actor).values_list("useful", flat=True).first()


def version_list(*, article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("author").order_by("-number")


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added", "removed", "same", "hunk"
    text: str


def version_diff(*, article: Article, number: int) -> tuple[ArticleVersion, ArticleVersion | None, list[DiffLine]]:
    """Version `number` of the article, the one before it, and the lines that changed between them."""
    version = article.versions.select_related("author").get(number=number)
    previous = article.versions.filter(number__lt=number).order_by("-number").first()
    before = f"# {previous.title}\n\n{previous.body}" if previous else ""
    after = f"# {version.title}\n\n{version.body}"
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            lines.append(DiffLine("added", line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine("removed", line[1:]))
        else:
            lines.append(DiffLine("same", line[1:]))
    return version, previous, lines
