"""Articles of the knowledge base, their versions and usefulness votes, and the requests they
answered before a ticket was filed (deflected tickets)."""

from __future__ import annotations

from typing import Self

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.catalog.models import ACTIVE_STATUSES, Subscription
from mutualis.core.actors import Visitor, signed_in_actor
from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet


class Audience(models.TextChoices):
    PUBLIC = "public", _("public aux adhérents")
    INTERNAL = "internal", _("interne")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("brouillon")
    PUBLISHED = "published", _("publié")


class ArticleQuerySet(TenantQuerySet["Article"]):
    """Articles belong to no member; what a member reads follows the audience, the state and the
    member's subscriptions, so this gate replaces the organisation filter of `TenantQuerySet`."""

    tenant_field = ""

    def visible_to(self, user: Visitor | None) -> Self:
        """Operator staff read every article, drafts and internal ones included; a member's
        account the published public articles that are general (no application) or about an
        application its organisation subscribes to (deploying or in production); nobody else
        anything."""
        actor = signed_in_actor(user)
        if actor is None:
            return self.none()
        if actor.is_operator:
            return self
        if actor.organisation_id is None:
            return self.none()
        subscribed = Subscription.objects.filter(
            collectivity_id=actor.organisation_id, status__in=ACTIVE_STATUSES
        ).values("application_id")
        return self.filter(
            models.Q(application__isnull=True) | models.Q(application_id__in=subscribed),
            status=ArticleStatus.PUBLISHED,
            audience=Audience.PUBLIC,
        )

    def published(self) -> Self:
        return self.filter(status=ArticleStatus.PUBLISHED)


class Article(BaseModel):
    slug = models.SlugField(_("identifiant"), max_length=120, unique=True)
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("texte"), help_text=_("En Markdown : titres (##), listes, liens, tableaux."))
    application = models.ForeignKey(
        "catalog.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        help_text=_("Vide : un article général, pour tous les adhérents."),
    )
    category = models.ForeignKey(
        "helpdesk.Category",
        verbose_name=_("catégorie"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
    )
    audience = models.CharField(_("public"), max_length=16, choices=Audience.choices, default=Audience.PUBLIC)
    status = models.CharField(_("état"), max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    version = models.PositiveIntegerField(_("version"), default=1)
    published_at = models.DateTimeField(_("publié le"), null=True, blank=True)
    read_count = models.PositiveIntegerField(_("lectures"), default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # PostgreSQL's French full-text vector (title weighted A, text B), written by the service
    # that writes the article; SQLite leaves it empty and searches its FTS5 table instead.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["title"]
        indexes = [models.Index(fields=["status", "audience", "application"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleVersion(models.Model):
    """The text of an article as saved at one edit: every edit adds one, none is rewritten."""

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("texte"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("enregistrée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("version d'article")
        verbose_name_plural = _("versions d'article")
        ordering = ["article", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="one_article_version_number")]

    def __str__(self) -> str:
        return f"{self.article} v{self.number}"


class ArticleVote(BaseModel):
    """« Cet article vous a-t-il été utile ? »: one answer per account, which it may change."""

    article = models.ForeignKey(Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("compte"), on_delete=models.CASCADE, related_name="+"
    )
    useful = models.BooleanField(_("utile"))

    class Meta:
        verbose_name = _("vote d'utilité")
        verbose_name_plural = _("votes d'utilité")
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="one_vote_per_account")]

    def __str__(self) -> str:
        return f"{self.article} : {'oui' if self.useful else 'non'}"


class DeflectionQuerySet(TenantQuerySet["DeflectedTicket"]):
    tenant_field = "organisation"


class DeflectedTicket(models.Model):
    """A request not filed: the agent read a suggested article and said « ma question est
    résolue ». What was typed is kept so the support team sees which questions articles answer."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("compte"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    organisation = models.ForeignKey(
        "members.Organisation", verbose_name=_("adhérent"), on_delete=models.PROTECT, related_name="+"
    )
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.PROTECT, related_name="deflections"
    )
    typed = models.TextField(_("texte saisi"), blank=True)
    created_at = models.DateTimeField(_("le"), auto_now_add=True, db_index=True)

    objects = DeflectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("demande évitée")
        verbose_name_plural = _("demandes évitées")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.organisation} : {self.article}"
