"""Document flows: a member's connector instances and bindings, its documents, their files and log."""

from __future__ import annotations

from typing import Any, Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.core.tenancy import TenantQuerySet
from mutualis.flows.enums import FlowType, Port, State
from mutualis.members.models import Organisation


class ConnectorInstanceQuerySet(TenantQuerySet["ConnectorInstance"]):
    tenant_field = "member"


class ConnectorInstance(BaseModel):
    """A member's account on a remote service (its S²low certificate, its i-Parapheur tenant…).

    `config` holds the plain settings; `secrets` the secret ones, encrypted with Fernet (flows/secrets.py):
    the database row never holds a password, a key or a certificate in clear."""

    member = models.ForeignKey(
        Organisation, verbose_name=_("adhérent"), on_delete=models.PROTECT, related_name="connector_instances"
    )
    kind = models.CharField(_("type de connecteur"), max_length=40)
    label = models.CharField(_("libellé"), max_length=120)
    config = models.JSONField(_("paramètres"), default=dict, blank=True)
    secrets = models.TextField(_("secrets chiffrés"), blank=True)
    last_check_at = models.DateTimeField(_("dernier test"), null=True, blank=True)
    last_check_ok = models.BooleanField(_("dernier test réussi"), null=True, blank=True)
    last_check_message = models.TextField(_("résultat du dernier test"), blank=True)

    objects = ConnectorInstanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("connecteur")
        verbose_name_plural = _("connecteurs")
        ordering = ["member", "label"]
        constraints = [models.UniqueConstraint(fields=["member", "label"], name="flows_connector_label")]

    def __str__(self) -> str:
        return self.label


class FlowBindingQuerySet(TenantQuerySet["FlowBinding"]):
    tenant_field = "member"


class FlowBinding(BaseModel):
    """Which of its connector instances a member's flow uses for a port (Pastell's flux_entite)."""

    member = models.ForeignKey(
        Organisation, verbose_name=_("adhérent"), on_delete=models.CASCADE, related_name="flow_bindings"
    )
    flow = models.CharField(_("flux"), max_length=40, choices=FlowType.choices)
    port = models.CharField(_("étape"), max_length=20, choices=Port.choices)
    instance = models.ForeignKey(
        ConnectorInstance, verbose_name=_("connecteur"), on_delete=models.PROTECT, related_name="bindings"
    )

    objects = FlowBindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("association de connecteur")
        verbose_name_plural = _("associations de connecteurs")
        constraints = [models.UniqueConstraint(fields=["member", "flow", "port"], name="flows_binding_unique")]


class FlowDocumentQuerySet(TenantQuerySet["FlowDocument"]):
    tenant_field = "member"

    def visible_to(self, user: Any) -> Self:
        # Payslips and PES files are personal data: among a member's accounts, only the managers of
        # their flow see them (flows/rights.py).
        from mutualis.flows.rights import hide_restricted

        return hide_restricted(super().visible_to(user), user)


class FlowDocument(BaseModel):
    """A document going through a flow. Its state is its last action (flows/enums.py's table); the
    engine's bookkeeping (tries, next try, lock) sits beside it so one UPDATE claims the document."""

    member = models.ForeignKey(
        Organisation, verbose_name=_("adhérent"), on_delete=models.PROTECT, related_name="flow_documents"
    )
    flow = models.CharField(_("flux"), max_length=40, choices=FlowType.choices)
    state = models.CharField(_("état"), max_length=40, choices=State.choices, default=State.CREATION)
    steps = models.JSONField(_("étapes choisies"), default=list)
    # Typed columns for what pages list and filter; the rest of the form in `fields`.
    number = models.CharField(_("numéro"), max_length=15, blank=True)
    subject = models.CharField(_("objet"), max_length=500)
    nature = models.PositiveSmallIntegerField(_("nature de l'acte"), null=True, blank=True)
    decision_date = models.DateField(_("date de décision"), null=True, blank=True)
    fields = models.JSONField(_("autres champs"), default=dict, blank=True)
    signature_remote_id = models.CharField(_("identifiant de signature"), max_length=200, blank=True)
    transmission_remote_id = models.CharField(_("identifiant de transmission"), max_length=200, blank=True)
    archive_remote_id = models.CharField(_("identifiant d'archivage"), max_length=200, blank=True)
    mailsec_remote_id = models.CharField(_("identifiant du courrier sécurisé"), max_length=200, blank=True)
    publication_remote_id = models.CharField(_("identifiant de publication"), max_length=200, blank=True)
    # Engine bookkeeping.
    tries = models.PositiveSmallIntegerField(_("essais"), default=0)
    next_try_at = models.DateTimeField(_("prochain essai"), null=True, blank=True, db_index=True)
    locked_by = models.CharField(_("verrouillé par"), max_length=64, blank=True)
    locked_until = models.DateTimeField(_("verrouillé jusqu'à"), null=True, blank=True)
    resume_state = models.CharField(_("état de reprise"), max_length=40, blank=True)
    error_message = models.TextField(_("raison de l'erreur"), blank=True)
    last_message = models.TextField(_("dernier message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("déposé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = FlowDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["member", "flow", "state"], name="flows_doc_member_state")]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "number"],
                condition=models.Q(flow=FlowType.ACTE) & ~models.Q(number=""),
                name="flows_act_number_unique",
            )
        ]

    def __str__(self) -> str:
        return self.number or self.subject[:60] or f"document {self.pk}"

    def remote_id(self, port: str) -> str:
        return str(getattr(self, f"{port}_remote_id"))


def flow_file_path(instance: FlowFile, filename: str) -> str:
    return f"flows/{instance.document.member_id}/{instance.document_id}/{filename}"


class FileRole(models.TextChoices):
    MAIN = "main", _("document principal")
    ATTACHMENT = "attachment", _("annexe")
    SIGNED = "signed", _("document signé")
    BORDEREAU = "bordereau", _("bordereau de signature")
    ARACTE = "aracte", _("accusé de réception de la préfecture")
    STAMPED = "stamped", _("acte tamponné")
    PES_ACQUIT = "pes-acquit", _("acquittement du comptable (PES_ACQUIT)")
    PROOF = "proof", _("preuve")
    ARCHIVE_TRANSFER = "archive-transfer", _("bordereau de versement (SEDA)")
    ARCHIVE_REPLY = "archive-reply", _("réponse de l'archive")


class FlowFileQuerySet(TenantQuerySet["FlowFile"]):
    tenant_field = "document__member"

    def visible_to(self, user: Any) -> Self:
        from mutualis.flows.rights import hide_restricted

        return hide_restricted(super().visible_to(user), user, via="document__")


class FlowFile(BaseModel):
    document = models.ForeignKey(FlowDocument, on_delete=models.CASCADE, related_name="files")
    role = models.CharField(_("rôle"), max_length=20, choices=FileRole.choices)
    step = models.CharField(_("étape"), max_length=20, blank=True)
    name = models.CharField(_("nom"), max_length=255)
    file = models.FileField(_("fichier"), upload_to=flow_file_path, max_length=300)
    size = models.PositiveBigIntegerField(_("taille"), default=0)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    # The @CTES typology code of an act's piece (99_DE…).
    typology = models.CharField(_("typologie"), max_length=10, blank=True)

    objects = FlowFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("fichier")
        verbose_name_plural = _("fichiers")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class ActionLogQuerySet(TenantQuerySet["ActionLog"]):
    tenant_field = "document__member"

    def visible_to(self, user: Any) -> Self:
        from mutualis.flows.rights import hide_restricted

        return hide_restricted(super().visible_to(user), user, via="document__")


class ActionLog(models.Model):
    """Append-only: who did what to a document, from which state to which, with the remote id."""

    document = models.ForeignKey(FlowDocument, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(_("le"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("par"), null=True, blank=True, on_delete=models.SET_NULL
    )
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("depuis"), max_length=40, blank=True)
    to_state = models.CharField(_("vers"), max_length=40, blank=True)
    remote_id = models.CharField(_("identifiant distant"), max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True)

    objects = ActionLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("journal des actions")
        ordering = ["pk"]  # append-only: insertion order is the order things happened

    def __str__(self) -> str:
        return f"{self.action} {self.at}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("the action log is append-only")
        super().save(*args, **kwargs)


class ActClassificationQuerySet(TenantQuerySet["ActClassification"]):
    tenant_field = "member"


class ActClassification(BaseModel):
    """One code of a member's classification of acts, imported from the prefecture's RetourClassification."""

    member = models.ForeignKey(
        Organisation, verbose_name=_("adhérent"), on_delete=models.CASCADE, related_name="act_classification"
    )
    version = models.DateField(_("version"))
    code = models.CharField(_("code"), max_length=20)
    label = models.CharField(_("libellé"), max_length=300)

    objects = ActClassificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("matière de la classification")
        verbose_name_plural = _("classification des actes")
        ordering = ["member", "code"]
        constraints = [models.UniqueConstraint(fields=["member", "code"], name="flows_classification_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class FlowTokenQuerySet(TenantQuerySet["FlowToken"]):
    tenant_field = "member"


class FlowToken(BaseModel):
    """An API token scoped to one member and one flow, for a business application's service account.
    Only a SHA-256 digest of the secret is kept, as for personal tokens (accounts.ApiToken)."""

    member = models.ForeignKey(Organisation, verbose_name=_("adhérent"), on_delete=models.CASCADE, related_name="+")
    flow = models.CharField(_("flux"), max_length=40, choices=FlowType.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("compte de service"), on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(_("nom"), max_length=100)
    prefix = models.CharField(_("préfixe"), max_length=12, db_index=True)
    digest = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    # Empty when the command made it (run on the server, by nobody the application knows).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("créé par"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Whether the application still uses it, not when each request came: written at most once a
    # minute (services.flow_token_authenticate), so a busy application costs no write per request.
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)

    objects = FlowTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("jeton de flux")
        verbose_name_plural = _("jetons de flux")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


# The secure mail's, the payslips' and the flow managers' models, in modules of their own.
from mutualis.flows.mailsec_models import SecureMail  # noqa: E402, F401
from mutualis.flows.payslip_models import Payslip, PayslipBatch  # noqa: E402, F401
from mutualis.flows.rights import FlowManager  # noqa: E402, F401
