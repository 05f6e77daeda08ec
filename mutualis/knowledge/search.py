"""The full-text engines behind `selectors.article_search`: PostgreSQL's `french` configuration
(stemmed: « imprimantes » finds « imprimante ») over `Article.search_vector`, or SQLite's FTS5
table `knowledge_article_fts` (accents folded; no stemming, so a word's plural `s`/`x` is dropped
and every word is matched as a prefix). The services keep the index in step with each write."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, QuerySet

from mutualis.knowledge.models import Article

FTS_TABLE = "knowledge_article_fts"
REBUILD_FTS = f"INSERT INTO {FTS_TABLE} (rowid, title, body) SELECT id, title, body FROM knowledge_article"  # noqa: S608
MAX_WORDS = 12
# A word is matched as a prefix (the agent may still be typing it) from this length: « pa »
# would match half the base.
PREFIX_FROM = 3
WORD = re.compile(r"\w+")
# Words too common to tell articles apart. PostgreSQL's french configuration drops its own list;
# FTS5 has none, and a suggestion query joins the words with OR, so « de » would match them all.
STOP_WORDS = frozenset({
    "au", "aux", "avec", "ce", "ces", "cette", "dans", "de", "des", "du", "elle", "en", "est", "et",
    "il", "ils", "je", "la", "le", "les", "leur", "lui", "ma", "mais", "me", "mes", "moi", "mon",
    "ne", "nos", "notre", "nous", "on", "ou", "par", "pas", "plus", "pour", "qu", "que", "qui", "sa",
    "se", "ses", "son", "sur", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre",
    "vous", "été", "être", "avoir", "ai", "as", "avons", "avez", "ont", "suis", "es", "sommes",
    "êtes", "sont", "bonjour", "merci", "cordialement",
})  # fmt: skip


def words_of(text: str) -> list[str]:
    """The words a search is made of: two characters or more, not a stop word, each once, at most
    `MAX_WORDS`."""
    found: list[str] = []
    for word in WORD.findall((text or "").lower()):
        if len(word) >= 2 and word not in STOP_WORDS and word not in found:
            found.append(word)
            if len(found) == MAX_WORDS:
                break
    return found


_ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝ"
_PLAIN = "aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUY"
_FOLD = str.maketrans(_ACCENTED, _PLAIN)


def _folded(text: str) -> str:
    """Accents off, one character for one (positions in the folded text are the original's):
    a translation table, about 30 times faster than Unicode decomposition on an article."""
    return text.translate(_FOLD)


def _stem(word: str) -> str:
    """A plural's `s` or `x` dropped: matched as a prefix, « imprimantes » finds « imprimante »."""
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


def index_articles(articles: Iterable[Article]) -> None:
    """Write the articles' current title and text into the engine's index."""
    items = list(articles)
    if not items:
        return
    if connection.vendor == "postgresql":
        Article.objects.filter(pk__in=[a.pk for a in items]).update(
            search_vector=SearchVector("title", weight="A", config="french")
            + SearchVector("body", weight="B", config="french")
        )
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [(a.pk,) for a in items])  # noqa: S608
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (%s, %s, %s)",  # noqa: S608
                [(a.pk, a.title, a.body) for a in items],
            )


def index_rebuild() -> int:
    """Index every article again (bulk loads: the demo data, the benchmark); returns the count."""
    if connection.vendor == "postgresql":
        return Article.objects.update(
            search_vector=SearchVector("title", weight="A", config="french")
            + SearchVector("body", weight="B", config="french")
        )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608
            cursor.execute(REBUILD_FTS)
            return Article.objects.count()
    return 0


def _fts5_match(words: Sequence[str]) -> str:
    """Any of the words, each quoted and a prefix from `PREFIX_FROM` letters (the words are \\w+
    only, so nothing reaches FTS5's query syntax); a plural mark is dropped so the singular matches."""
    terms = []
    for word in words:
        terms.append(f'"{_stem(_folded(word))}"' + ("*" if len(word) >= PREFIX_FROM else ""))
    return " OR ".join(terms)


def _postgresql_query(words: Sequence[str]) -> SearchQuery:
    # Any of the words, each stemmed by the French configuration and matched as a prefix
    # (an agent is still typing the last one); ranking puts the articles with most words first.
    terms = (f"{word}:*" if len(word) >= PREFIX_FROM else word for word in words)
    return SearchQuery(" | ".join(terms), config="french", search_type="raw")


def ranked_ids(scope: QuerySet[Article], text: str, *, limit: int) -> list[int]:
    """The ids of the articles of `scope` matching `text`, best first, at most `limit`."""
    words = words_of(text)
    if not words:
        return []
    if connection.vendor == "postgresql":
        query = _postgresql_query(words)
        return list(
            scope.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "pk")
            .values_list("pk", flat=True)[:limit]
        )
    if connection.vendor == "sqlite":
        try:
            visible_sql, visible_params = scope.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # `.none()`: an account that may read nothing
            return []
        # The matches first, materialised, then the visibility: with `rowid IN (…)` next to MATCH,
        # SQLite probes the FTS index once per visible article (bench.kb, 2,000 articles: 218 ms
        # a search, 1.6 ms with the CTE).
        sql = (
            f"WITH hits AS MATERIALIZED (SELECT rowid AS id, bm25({FTS_TABLE}, 4.0, 1.0) AS score"  # noqa: S608
            f" FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"
            f" SELECT id FROM hits WHERE id IN ({visible_sql}) ORDER BY score, id LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [_fts5_match(words), *visible_params, limit])
            return [row[0] for row in cursor.fetchall()]
    raise NotImplementedError(f"no full-text search for {connection.vendor}")


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"(^|\s)(#{1,6}|[-*+>]|\d+\.)\s+|[*_`~|]+", re.MULTILINE)


def plain_text(body: str) -> str:
    """The article's words without Markdown's marks, on one line: links keep their text. Cheaper
    than rendering (`lib.markup.markdown_text`, about 0.5 ms an article): the search page shows
    up to 20 extracts (bench.kb)."""
    return " ".join(_MARKS.sub(" ", _LINK.sub(r"\1", body or "")).split())


def snippet(body: str, text: str, *, width: int = 180) -> str:
    """An extract of the article's text around the first word searched, as HTML with the words
    found in <mark> (each piece escaped: the text is the author's)."""
    plain = plain_text(body)
    stems = [_stem(_folded(word)) for word in words_of(text)]
    folded = _folded(plain).lower()
    if len(folded) != len(plain):  # a character whose lower case is longer (rare): no folding
        folded = plain.lower()
    start = min((i for i in (folded.find(s) for s in stems) if i >= 0), default=0)
    begin = max(0, start - width // 3)
    if begin:
        space = plain.find(" ", begin)
        begin = space + 1 if 0 <= space < start else begin
    end = min(len(plain), begin + width)
    pieces: list[str] = []
    last = begin
    if stems:
        pattern = re.compile("|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)))
        for match in pattern.finditer(folded, begin, end):
            pieces += [
                html.escape(plain[last : match.start()]),
                "<mark>",
                html.escape(plain[match.start() : match.end()]),
                "</mark>",
            ]
            last = match.end()
    pieces.append(html.escape(plain[last:end]))
    return ("… " if begin else "") + "".join(pieces) + (" …" if end < len(plain) else "")
