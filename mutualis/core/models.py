"""Base model and the audit log that every write through a service feeds."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
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
    BACKUP = "backup", _("sauvegarde")
    RESTORE = "restore", _("restauration")


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


class SchedulerProcess(models.Model):
    """A `mutualis scheduler` process: when it started and when it last completed a tick.

    One row per process (its holder, host:pid:nonce); `core.scheduler.last_tick()` reads the latest
    tick over all of them, which the health check reports."""

    holder = models.CharField(_("processus"), max_length=200, primary_key=True)
    host = models.CharField(_("hôte"), max_length=150)
    pid = models.PositiveIntegerField(_("pid"))
    started_at = models.DateTimeField(_("démarré le"))
    last_tick_at = models.DateTimeField(_("dernier passage"), null=True, blank=True, db_index=True)
    stopped_at = models.DateTimeField(_("arrêté le"), null=True, blank=True)

    class Meta:
        verbose_name = _("processus de planification")
        verbose_name_plural = _("processus de planification")

    def __str__(self) -> str:
        return self.holder


class RunOutcome(models.TextChoices):
    RUNNING = "running", _("en cours")
    SUCCESS = "success", _("réussie")
    FAILURE = "failure", _("en échec")
    # the command's own lock was held by a run started by hand: the period is tried again
    LOCKED = "locked", _("différée")


class ScheduledRun(models.Model):
    """One period of one scheduled job: claimed by the scheduler that inserts it first.

    The unique constraint on (job, due_at) is what makes a period run once across machines: of two
    schedulers inserting the same period, one gets an IntegrityError and moves on."""

    job = models.CharField(_("tâche"), max_length=100)
    due_at = models.DateTimeField(_("échéance"))
    started_at = models.DateTimeField(_("début"))
    finished_at = models.DateTimeField(_("fin"), null=True, blank=True)
    outcome = models.CharField(_("résultat"), max_length=16, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    output = models.TextField(_("sortie"), blank=True)
    error = models.TextField(_("erreur"), blank=True)
    host = models.CharField(_("hôte"), max_length=200)

    class Meta:
        verbose_name = _("exécution planifiée")
        verbose_name_plural = _("exécutions planifiées")
        constraints = [models.UniqueConstraint(fields=["job", "due_at"], name="core_scheduledrun_once_per_period")]
        indexes = [models.Index(fields=["job", "-due_at"], name="core_schedrun_job_due")]

    def __str__(self) -> str:
        return f"{self.job} {local_datetime(self.due_at, 'Y-m-d H:i')}"

    @property
    def duration(self) -> dt.timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None


class ScheduledJobState(models.Model):
    """What an operator admin changed about a scheduled job (paused or not); absent means active."""

    job = models.CharField(_("tâche"), max_length=100, primary_key=True)
    paused = models.BooleanField(_("suspendue"), default=False)
    changed_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("état d'une tâche planifiée")
        verbose_name_plural = _("états des tâches planifiées")

    def __str__(self) -> str:
        return self.job


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on a creating API call, with what the call created.

    A client whose connection was cut after the server committed cannot tell whether its
    ticket was written; sent again with the same key, the call answers with the ticket of the
    first one instead of creating a second (core.idempotency). Kept KEEP_HOURS hours."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("compte"), on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(_("opération"), max_length=50)
    key = models.CharField(_("clé"), max_length=200)
    request_sha256 = models.CharField(_("empreinte de la requête"), max_length=64)
    result = models.CharField(_("objet créé"), max_length=100)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("clé d'idempotence")
        verbose_name_plural = _("clés d'idempotence")
        constraints = [models.UniqueConstraint(fields=["account", "scope", "key"], name="core_idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} → {self.result}"
