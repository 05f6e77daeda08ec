"""Base model and the audit log that every write through a service feeds."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.timefmt import local_datetime


class BaseModel(models.Model):
    """Timestamps every table carries; writes go through services, never through save() hooks."""

    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        abstract = True


class AuditAction(models.TextChoices):
    CREATE = "create", _("création")
    UPDATE = "update", _("modification")
    DELETE = "delete", _("suppression")
    LOGIN = "login", _("connexion")
    LOGOUT = "logout", _("déconnexion")
    IMPORT = "import", _("import")
    TOKEN_CREATE = "token_create", _("jeton créé")
    TOKEN_REVOKE = "token_revoke", _("jeton révoqué")
    LOGIN_FAILED = "login_failed", _("échec de connexion")
    PASSWORD_RESET_REQUEST = "password_reset_request", _("réinitialisation de mot de passe demandée")
    PASSWORD_RESET = "password_reset", _("mot de passe réinitialisé")


class AuditEntry(models.Model):
    """Who did what to which object, with the fields' values before and after. Append-only."""

    created_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text so the entry still says who acted after the account is gone.
    actor_label = models.CharField(_("auteur (libellé)"), max_length=200)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices, db_index=True)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("type d'objet"), null=True, blank=True, on_delete=models.PROTECT
    )
    object_id = models.CharField(_("identifiant"), max_length=64, blank=True)
    object_repr = models.CharField(_("objet"), max_length=300, blank=True)
    # {field: [before, after]}; for a creation before is null, for a deletion after is null.
    changes = models.JSONField(_("changements"), default=dict, blank=True)
    organisation = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("organisation concernée"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    via = models.CharField(_("canal"), max_length=16, default="web")

    class Meta:
        verbose_name = _("entrée du journal")
        verbose_name_plural = _("journal d'audit")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{local_datetime(self.created_at, 'Y-m-d H:i')} {self.actor_label} {self.action} {self.object_repr}"


class CommandLock(models.Model):
    """A batch command's run in progress: one row per lock name while a run holds it.

    A row rather than a PostgreSQL advisory lock: the same design on SQLite (the embedded mode) and
    PostgreSQL, visible to an operator (`SELECT * FROM core_commandlock`), and held across the
    command's own transactions without pinning a session (a connection pooler in transaction mode
    would lose a session lock). A run that dies leaves its row until `expires_at`; a live run
    renews it while it works."""

    name = models.CharField(_("nom"), max_length=150, primary_key=True)
    holder = models.CharField(_("détenteur"), max_length=200)
    acquired_at = models.DateTimeField(_("pris le"))
    expires_at = models.DateTimeField(_("expire le"))

    class Meta:
        verbose_name = _("verrou de commande")
        verbose_name_plural = _("verrous de commande")

    def __str__(self) -> str:
        return f"{self.name} ({self.holder})"
