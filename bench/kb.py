"""Knowledge-base search over 20,000 articles, side by side with a plain `icontains` scan.

    .venv/bin/python -m bench.kb                          # a throwaway SQLite file
    .venv/bin/python -m bench.kb --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.kb --articles 5000          # a quicker run

The issue's target: `knowledge.selectors.article_search` p95 ≤ 50 ms over 20,000 articles, on
PostgreSQL (french configuration, GIN index) and on SQLite (FTS5). Each query is timed for a member
agent (visibility by audience, state and subscriptions) and for operator staff (every article),
with the 5 suggestions of a new request and the 20 results of the search page. The reference, in
the same run and over the same rows, is what a search without a full-text index does: the same
visible articles filtered by `title__icontains` or `body__icontains` on each word (any word),
20 first by title. Articles are generated with a fixed seed: French support vocabulary with
a topic per article (see `generate`), 80-200 words of Markdown each. A benchmark,
not a test: it always exits 0 and says MISSED next to a missed target.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bench.matrix import Line, print_table, setup_django, throwaway_database, verdict

TARGET_MS = 50.0
APPLICATIONS = 40
SUBSCRIBED = 20  # applications the member subscribes to

# What support articles talk about (the rarer words come from the generated syllables below).
VOCABULARY = [
    "imprimante", "impression", "scanner", "copieur", "toner", "cartouche", "bourrage", "papier", "pilote",
    "réseau", "wifi", "câble", "routeur", "serveur", "messagerie", "courriel", "boîte", "pièce", "jointe",
    "calendrier", "agenda", "partage", "dossier", "fichier", "sauvegarde", "restauration", "mot", "passe",
    "identifiant", "compte", "connexion", "authentification", "double", "facteur", "portail", "application",
    "navigateur", "certificat", "signature", "parapheur", "télétransmission", "acte", "délibération",
    "préfecture", "légalité", "contrôle", "bordereau", "mandat", "titre", "budget", "facture", "paiement",
    "fournisseur", "marché", "état", "civil", "naissance", "mariage", "décès", "livret", "famille",
    "recensement", "élection", "électeur", "liste", "bureau", "vote", "cimetière", "concession",
    "emplacement", "crèche", "inscription", "famille", "cantine", "périscolaire", "facturation", "usager",
    "demande", "formulaire", "ticket", "incident", "urgence", "priorité", "délai", "intervention",
    "technicien", "poste", "ordinateur", "portable", "écran", "clavier", "souris", "téléphone", "smartphone",
    "tablette", "mise", "jour", "version", "correctif", "installation", "licence", "logiciel", "éditeur",
    "contrat", "maintenance", "astreinte", "archive", "versement", "bordereau", "seda", "coffre",
    "numérique", "rgpd", "registre", "traitement", "consentement", "accessibilité", "rgaa", "contraste",
    "lenteur", "erreur", "message", "blocage", "redémarrage", "cache", "session", "expiration", "droit",
    "accès", "habilitation", "profil", "agent", "service", "direction", "mairie", "commune", "adhérent",
    "syndicat", "paramétrage", "modèle", "courrier", "export", "tableau", "statistique", "rapport",
    "requête", "import", "synchronisation", "annuaire", "ldap", "fédération",
]  # fmt: skip
FILLER = ["le", "la", "les", "de", "des", "du", "un", "une", "et", "à", "en", "pour", "par", "sur", "dans", "avec"]


def _rare_words(rng: random.Random) -> list[str]:
    syllables = ["ba", "co", "di", "fe", "gu", "la", "mo", "ni", "po", "ra", "si", "tu", "ve", "zo", "tri", "pla"]
    rare = {"".join(rng.choice(syllables) for _ in range(rng.randint(3, 4))) for _ in range(4000)}
    return sorted(rare - set(VOCABULARY))[:3000]


def generate(n: int, seed: int, applications: list[int]) -> list[dict[str, Any]]:
    """Each article is about a topic (three support words, repeated), mentions a few other support
    words, and is otherwise common words and a Zipf draw of 3,000 rarer terms: a support word is in
    about 8 % of the articles, as a knowledge base's vocabulary is spread over its subjects."""
    rng = random.Random(seed)
    support = list(dict.fromkeys(VOCABULARY))
    rare = _rare_words(rng)
    rare_weights = [1 / rank for rank in range(1, len(rare) + 1)]
    rows = []
    for i in range(n):
        topic = rng.sample(support, 3)
        length = rng.randint(80, 200)
        words = (
            topic * 3
            + rng.sample(support, 5)
            + rng.choices(FILLER, k=length // 3)
            + rng.choices(rare, weights=rare_weights, k=length - length // 3 - 14)
        )
        rng.shuffle(words)
        words = [w + "s" if rng.random() < 0.1 and not w.endswith(("s", "x")) else w for w in words]
        paragraphs = [" ".join(words[j : j + 40]).capitalize() + "." for j in range(0, len(words), 40)]
        title = topic + rng.sample(rare[:300], rng.randint(0, 3))
        rows.append(
            {
                "title": " ".join(title).capitalize()[:200],
                "body": "## Symptôme\n\n" + paragraphs[0] + "\n\n## Solution\n\n" + "\n\n".join(paragraphs[1:]),
                "application_id": rng.choice(applications) if rng.random() < 0.8 else None,
                "internal": rng.random() < 0.15,
                "draft": rng.random() < 0.05,
                "slug": f"article-{i:06d}",
            }
        )
    return rows


def queries(seed: int, count: int) -> list[str]:
    """What people type: one to four support words, sometimes a plural, sometimes a stop word."""
    rng = random.Random(seed + 1)
    typed = []
    for _ in range(count):
        words = rng.sample(VOCABULARY, rng.randint(1, 4))
        words = [w + "s" if rng.random() < 0.3 and not w.endswith(("s", "x")) else w for w in words]
        if rng.random() < 0.3:
            words.insert(1, rng.choice(["mon", "la", "ne", "de"]))
        typed.append(" ".join(words))
    return typed


def load(rows: list[dict[str, Any]], say: Callable[[str], None]) -> tuple[Any, Any]:
    from django.core.management import call_command
    from django.db import transaction

    from mutualis.accounts.models import Role, User
    from mutualis.catalog.models import Application, Domain, Subscription, SubscriptionStatus
    from mutualis.knowledge import search
    from mutualis.knowledge.models import Article, ArticleStatus, ArticleVersion, Audience
    from mutualis.members.models import Organisation, OrganisationKind

    call_command("migrate", verbosity=0)
    operator = Organisation.objects.create(name="Syndicat du banc", slug="operateur", kind=OrganisationKind.OPERATOR)
    member = Organisation.objects.create(name="Commune du banc", slug="commune", kind=OrganisationKind.COMMUNE)
    staff = User.objects.create(username="staff", role=Role.OPERATOR_STAFF, organisation=operator)
    agent = User.objects.create(username="agent", role=Role.MEMBER_AGENT, organisation=member)
    domain = Domain.objects.create(name="Domaine", slug="domaine", position=1)
    apps = Application.objects.bulk_create(
        [Application(slug=f"app-{i}", name=f"Application {i}", domain=domain, position=i) for i in range(APPLICATIONS)]
    )
    Subscription.objects.bulk_create(
        [
            Subscription(collectivity=member, application=a, status=SubscriptionStatus.PRODUCTION)
            for a in apps[:SUBSCRIBED]
        ]
    )
    app_ids = [a.pk for a in apps]
    started = time.perf_counter()
    with transaction.atomic():
        articles = Article.objects.bulk_create(
            [
                Article(
                    slug=r["slug"],
                    title=r["title"],
                    body=r["body"],
                    application_id=app_ids[r["application_id"] % len(app_ids)]
                    if r["application_id"] is not None
                    else None,
                    audience=Audience.INTERNAL if r["internal"] else Audience.PUBLIC,
                    status=ArticleStatus.DRAFT if r["draft"] else ArticleStatus.PUBLISHED,
                    author=staff,
                )
                for r in rows
            ],
            batch_size=2000,
        )
        ArticleVersion.objects.bulk_create(
            [ArticleVersion(article=a, number=1, title=a.title, body=a.body, author=staff) for a in articles],
            batch_size=2000,
        )
        indexed = search.index_rebuild()
    say(f"{len(articles):,} articles loaded and {indexed:,} indexed in {time.perf_counter() - started:.1f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return staff, agent


def reference(actor: Any, text: str, limit: int) -> list[int]:
    """The search a project without a full-text index writes: any word in the title or text."""
    from django.db.models import Q

    from mutualis.knowledge.models import Article
    from mutualis.knowledge.search import words_of

    condition = Q()
    for word in words_of(text):
        condition |= Q(title__icontains=word) | Q(body__icontains=word)
    return list(
        Article.objects.visible_to(actor)
        .published()
        .filter(condition)
        .order_by("title")
        .values_list("pk", flat=True)[:limit]
    )


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def run(args: argparse.Namespace, say: Callable[[str], None]) -> list[Line]:
    from mutualis.knowledge.selectors import article_search

    rows = generate(args.articles, args.seed, list(range(APPLICATIONS)))
    staff, agent = load(rows, say)
    typed = queries(args.seed, args.queries)
    cases = [
        ("member, 5 suggestions", agent, 5, True),
        ("member, search page (20)", agent, 20, True),
        ("staff, search page (20)", staff, 20, False),
    ]
    lines = []
    for label, actor, limit, published in cases:
        for text in typed[:3]:  # warm-up: connection, caches, first plans
            article_search(actor=actor, text=text, limit=limit, published_only=published)
        ours, theirs, found = [], [], 0
        for i, text in enumerate(typed):
            elapsed, result = timed(
                partial(article_search, actor=actor, text=text, limit=limit, published_only=published)
            )
            ours.append(elapsed)
            found += bool(result)
            if i < args.reference_queries:
                theirs.append(timed(partial(reference, actor, text, limit))[0])
        ours_p95, theirs_p95 = p95(ours), p95(theirs)
        lines.append(
            Line(
                f"{label}: p95",
                f"{ours_p95:.1f} ms",
                f"{theirs_p95:.1f} ms",
                f"{theirs_p95 / ours_p95:.0f}x",
                f"≤ {TARGET_MS:.0f} ms",
                verdict(ours_p95 <= TARGET_MS),
            )
        )
        lines.append(
            Line(f"{label}: median", f"{statistics.median(ours):.1f} ms", f"{statistics.median(theirs):.1f} ms")
        )
        lines.append(Line(f"{label}: queries with a result", f"{found}/{len(typed)}"))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kb", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL server; the bench creates and drops its own database")
    parser.add_argument("--database-name", default="mutualis_bench_kb", help="default: %(default)s")
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200, help="timed searches per case (default: %(default)s)")
    parser.add_argument(
        "--reference-queries", type=int, default=40, help="of which also timed as icontains (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.database_name in {"test", "postgres", "template0", "template1"} or not args.database_name.isidentifier():
        parser.error(f"refusing to create and drop the database {args.database_name!r}")

    def say(message: str) -> None:
        print(f"· {message}", flush=True)

    with throwaway_database(args.database_url, args.database_name) as where:
        setup_django()
        import django

        say(f"knowledge-base search — {where}, Django {django.get_version()}, Python {sys.version.split()[0]}")
        say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        lines = run(args, say)
    print()
    print_table(lines)
    missed = [line.figure for line in lines if line.result == "MISSED"]
    print()
    print(f"MISSED: {', '.join(missed)}" if missed else "Every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
