"""What the GLPI import remembers between runs: each GLPI row it wrote (with a fingerprint of the
source row, so a later run rewrites only what changed), where each GLPI table was read up to
(the checkpoint a run resumes from), and each run with its counts and its report."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    RUNNING = "running", _("en cours")
    DONE = "done", _("terminée")
    FAILED = "failed", _("interrompue")


class ImportRun(models.Model):
    """One `glpi_import` run: its counts and the report printed at its end (also kept here, so the
    first monthly report after the switch can be checked against it)."""

    started_at = models.DateTimeField(_("commencée le"))
    finished_at = models.DateTimeField(_("finie le"), null=True, blank=True)
    status = models.CharField(_("état"), max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    source = models.CharField(_("base GLPI"), max_length=300)
    counts = models.JSONField(_("décomptes"), default=dict, blank=True)
    report = models.TextField(_("rapport"), blank=True)

    class Meta:
        verbose_name = _("reprise GLPI")
        verbose_name_plural = _("reprises GLPI")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at.isoformat()}"


class ImportRecord(models.Model):
    """A GLPI row written into Mutualis: which table and id, the Mutualis object it became, the
    GLPI ticket it belongs to, and the fingerprint (SHA-1 of the source row's columns; for a
    ticket, of the ticket with all its rows) it was written from."""

    table = models.CharField(_("table GLPI"), max_length=40)
    glpi_id = models.BigIntegerField(_("identifiant GLPI"))
    ticket_glpi_id = models.BigIntegerField(_("ticket GLPI"))
    object_id = models.BigIntegerField(_("objet Mutualis"), null=True, blank=True)
    fingerprint = models.CharField(_("empreinte"), max_length=40)
    imported_at = models.DateTimeField(_("importée le"))
    # For a ticket: what the models cannot hold but a person must still see (the requester's
    # address of an anonymous GLPI requester, the GLPI names of people matched to no account).
    extra = models.JSONField(_("compléments"), null=True, blank=True)

    class Meta:
        verbose_name = _("ligne GLPI reprise")
        verbose_name_plural = _("lignes GLPI reprises")
        # A document serving two tickets is written (and recorded) once per ticket.
        constraints = [
            models.UniqueConstraint(fields=["table", "glpi_id", "ticket_glpi_id"], name="glpi_record_unique")
        ]
        indexes = [models.Index(fields=["table", "ticket_glpi_id"]), models.Index(fields=["table", "object_id"])]

    def __str__(self) -> str:
        return f"{self.table}#{self.glpi_id}"


class Checkpoint(models.Model):
    """How far a GLPI table was read: the last (date_mod, id) written, as GLPI stores them."""

    table = models.CharField(_("table GLPI"), max_length=40, primary_key=True)
    date_mod = models.CharField(_("dernière date de modification"), max_length=32)
    last_id = models.BigIntegerField(_("dernier identifiant"))
    updated_at = models.DateTimeField(_("avancé le"))

    class Meta:
        verbose_name = _("point de reprise GLPI")
        verbose_name_plural = _("points de reprise GLPI")

    def __str__(self) -> str:
        return f"{self.table} {self.date_mod} #{self.last_id}"
