"""Writes of the knowledge base: articles (each edit a new version, the search index kept in step),
publication, reads counted, usefulness votes and deflected tickets; every write audited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.core.audit import audit_record, diff, snapshot
from mutualis.core.models import AuditAction
from mutualis.core.tenancy import may_write, require_operator_staff, require_writer
from mutualis.knowledge import search
from mutualis.knowledge.models import Article, ArticleStatus, ArticleVersion, ArticleVote, DeflectedTicket

ARTICLE_FIELDS = ("title", "body", "application", "category", "audience")
# What the audit entry of an edit holds: the text itself is in the versions, not copied twice.
AUDITED_FIELDS = ("title", "application", "category", "audience", "status", "version", "published_at")
TYPED_MAX = 2000
# Paths of /connaissances/ that an article's slug must not take.
RESERVED_SLUGS = {"nouveau", "suggestions", "citer", "resolue"}


def _unique_slug(title: str) -> str:
    base = slugify(title)[:100] or "article"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Article.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _require_author(actor: User) -> None:
    require_operator_staff(actor)
    require_writer(actor)


def article_create(*, actor: User, data: Mapping[str, Any], publish: bool = False) -> Article:
    """A new article, version 1, as a draft unless `publish`."""
    _require_author(actor)
    unknown = set(data) - set(ARTICLE_FIELDS)
    if unknown:
        raise ValidationError(_("champs non modifiables : %(f)s") % {"f": ", ".join(sorted(unknown))})
    article = Article(**data, author=actor, version=1)
    if publish:
        article.status = ArticleStatus.PUBLISHED
        article.published_at = timezone.now()
    with transaction.atomic():
        article.slug = _unique_slug(article.title)
        article.full_clean()
        article.save(force_insert=True)
        ArticleVersion.objects.create(article=article, number=1, title=article.title, body=article.body, author=actor)
        search.index_articles([article])
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=article,
            changes=diff({}, snapshot(article, AUDITED_FIELDS)),
        )
    return article


def article_update(*, actor: User, article: Article, data: Mapping[str, Any]) -> Article:
    """Apply an edit: a change of title or text adds a version (the previous one stays readable);
    nothing changed, nothing written."""
    _require_author(actor)
    unknown = set(data) - set(ARTICLE_FIELDS)
    if unknown:
        raise ValidationError(_("champs non modifiables : %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        before = snapshot(locked, AUDITED_FIELDS)
        text_before = (locked.title, locked.body)
        for name, value in data.items():
            setattr(locked, name, value)
        text_changed = (locked.title, locked.body) != text_before
        if text_changed:
            locked.version += 1
        changes = diff(before, snapshot(locked, AUDITED_FIELDS))
        if not changes and not text_changed:
            return locked
        locked.full_clean()
        locked.save(update_fields=[*data, "version", "updated_at"])
        if text_changed:
            ArticleVersion.objects.create(
                article=locked, number=locked.version, title=locked.title, body=locked.body, author=actor
            )
            search.index_articles([locked])
            changes.setdefault("body", [f"v{locked.version - 1}", f"v{locked.version}"])
        audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=changes)
    return locked


def article_publish(*, actor: User, article: Article, published: bool) -> Article:
    """Publish an article (members see it) or take it back to a draft."""
    _require_author(actor)
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        status = ArticleStatus.PUBLISHED if published else ArticleStatus.DRAFT
        if locked.status == status:
            return locked
        before = snapshot(locked, AUDITED_FIELDS)
        locked.status = status
        if published:
            locked.published_at = timezone.now()
        locked.save(update_fields=["status", "published_at", "updated_at"])
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=locked, changes=diff(before, snapshot(locked, AUDITED_FIELDS))
        )
    return locked


def article_read(*, article: Article) -> None:
    """Count one reading, in the database (two readers at once are both counted)."""
    Article.objects.filter(pk=article.pk).update(read_count=F("read_count") + 1)


def article_vote(*, actor: User, article: Article, useful: bool) -> ArticleVote:
    """Record the account's answer to « cet article vous a-t-il été utile ? »; voting again
    replaces its answer (one per account)."""
    require_writer(actor)
    if not Article.objects.visible_to(actor).published().filter(pk=article.pk).exists():
        raise ValidationError(_("Cet article n'est pas publié."))
    with transaction.atomic():
        vote, created = ArticleVote.objects.select_for_update().get_or_create(
            article=article, user=actor, defaults={"useful": useful}
        )
        if not created and vote.useful == useful:
            return vote
        before = {} if created else {"useful": vote.useful}
        if not created:
            vote.useful = useful
            vote.save(update_fields=["useful", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            obj=vote,
            changes=diff(before, {"useful": useful}),
            organisation_id=actor.organisation_id,
        )
    return vote


def may_deflect(actor: User) -> bool:
    """Only a member's account files requests, so only it can avoid filing one."""
    return may_write(actor) and not actor.is_operator and actor.organisation_id is not None


def deflection_record(*, actor: User, article: Article, typed: str) -> DeflectedTicket:
    """« Ma question est résolue »: the request the agent was typing is not filed; count it."""
    if not may_deflect(actor):
        raise ValidationError(_("Seul un compte d'une collectivité adhérente dépose ou évite une demande."))
    if not Article.objects.visible_to(actor).published().filter(pk=article.pk).exists():
        raise ValidationError(_("Cet article n'est pas publié."))
    assert actor.organisation_id is not None  # may_deflect checked it
    with transaction.atomic():
        deflected = DeflectedTicket.objects.create(
            user=actor, organisation_id=actor.organisation_id, article=article, typed=(typed or "").strip()[:TYPED_MAX]
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=deflected,
            changes=diff({}, snapshot(deflected, ("article", "organisation"))),
            organisation_id=actor.organisation_id,
        )
    return deflected
