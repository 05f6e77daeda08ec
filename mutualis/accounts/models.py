"""An account belongs to exactly one organisation and has one role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel


class Role(models.TextChoices):
    OPERATOR_ADMIN = "operator_admin", _("administrateur de l'opérateur")
    OPERATOR_STAFF = "operator_staff", _("agent de l'opérateur")
    MEMBER_MANAGER = "member_manager", _("responsable adhérent (DSI, DGS)")
    MEMBER_AGENT = "member_agent", _("agent adhérent")
    ELECTED = "elected", _("élu (lecture seule)")


OPERATOR_ROLES = {Role.OPERATOR_ADMIN, Role.OPERATOR_STAFF}


class User(AbstractUser):
    organisation = models.ForeignKey(
        "members.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    role = models.CharField(_("rôle"), max_length=32, choices=Role.choices, default=Role.MEMBER_AGENT)
    service = models.ForeignKey(
        "members.OperatorService",
        verbose_name=_("service de l'opérateur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )
    # The directory entry behind a named account; single sign-on refuses an account without one.
    agent = models.OneToOneField(
        "identity.Agent",
        verbose_name=_("agent de l'annuaire"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account",
    )

    class Meta:
        verbose_name = _("compte")
        verbose_name_plural = _("comptes")

    @property
    def is_operator(self) -> bool:
        """Operator staff see every member's data; superusers count as operator admins."""
        return self.is_superuser or self.role in OPERATOR_ROLES

    @property
    def is_operator_admin(self) -> bool:
        return self.is_superuser or self.role == Role.OPERATOR_ADMIN

    @property
    def is_member_manager(self) -> bool:
        return self.role == Role.MEMBER_MANAGER

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.ELECTED and not self.is_superuser

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.get_username()


class ApiToken(BaseModel):
    """A personal API token. Only a SHA-256 digest of the secret is kept: the secret is random and
    long, so a fast hash suffices and a request pays no password key-stretching."""

    user = models.ForeignKey(User, verbose_name=_("compte"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=100)
    prefix = models.CharField(_("préfixe"), max_length=12, db_index=True)
    digest = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
