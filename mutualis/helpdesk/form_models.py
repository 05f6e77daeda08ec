"""Online request forms (what GLPI's Formcreator does): operator staff build a form of ordered
sections and questions; a member agent fills it and a ticket is created from the answers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.helpdesk.enums import TicketType
from mutualis.helpdesk.models import Category

__all__ = ["CHOICE_KINDS", "FormQuestion", "FormSection", "QuestionKind", "RequestForm"]

SCALE = [MinValueValidator(1), MaxValueValidator(5)]


class QuestionKind(models.TextChoices):
    TEXT = "text", _("texte court")
    LONG_TEXT = "long_text", _("texte long")
    NUMBER = "number", _("nombre")
    DATE = "date", _("date")
    CHOICE = "choice", _("choix unique")
    MULTIPLE_CHOICE = "multiple_choice", _("choix multiple")
    FILE = "file", _("fichier")


CHOICE_KINDS = (QuestionKind.CHOICE, QuestionKind.MULTIPLE_CHOICE)


class RequestForm(BaseModel):
    """A form of the "Nouvelle demande" catalogue and the ticket it creates."""

    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    catalogue_category = models.ForeignKey(
        Category,
        verbose_name=_("rubrique du catalogue"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="catalogue_forms",
    )
    active = models.BooleanField(_("publié"), default=False)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    ticket_type = models.CharField(
        _("type du ticket"), max_length=16, choices=TicketType.choices, default=TicketType.REQUEST
    )
    ticket_category = models.ForeignKey(
        Category,
        verbose_name=_("catégorie du ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ticket_forms",
        help_text=_("Vide : la rubrique du catalogue."),
    )
    application = models.ForeignKey(
        "catalog.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="request_forms",
    )
    urgency = models.PositiveSmallIntegerField(_("urgence"), default=3, validators=SCALE)
    group = models.ForeignKey(
        "members.OperatorService",
        verbose_name=_("groupe"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="request_forms",
    )
    title_template = models.CharField(
        _("modèle de titre"),
        max_length=250,
        blank=True,
        help_text=_(
            "Titre du ticket créé ; {identifiant} d'une question y met sa réponse. Vide : le nom du formulaire."
        ),
    )

    class Meta:
        verbose_name = _("formulaire de demande")
        verbose_name_plural = _("formulaires de demande")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class FormSection(BaseModel):
    form = models.ForeignKey(RequestForm, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(_("titre"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("section de formulaire")
        verbose_name_plural = _("sections de formulaire")
        ordering = ["form", "position", "id"]

    def __str__(self) -> str:
        return self.title


class FormQuestion(BaseModel):
    """One question; with a condition it is shown (and required, and kept) only when the earlier
    question `condition_question` was answered `condition_value`."""

    # The form is the section's, repeated so a question's key is unique within its form.
    form = models.ForeignKey(RequestForm, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(
        FormSection, verbose_name=_("section"), on_delete=models.CASCADE, related_name="questions"
    )
    key = models.SlugField(
        _("identifiant"),
        max_length=50,
        help_text=_("Lettres minuscules, chiffres et tirets ; sert au modèle de titre et à l'API."),
    )
    label = models.CharField(_("libellé"), max_length=250)
    kind = models.CharField(_("type"), max_length=16, choices=QuestionKind.choices, default=QuestionKind.TEXT)
    required = models.BooleanField(_("obligatoire"), default=False)
    help_text = models.CharField(_("aide"), max_length=300, blank=True)
    choices = models.TextField(_("choix"), blank=True, help_text=_("Un choix par ligne."))
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    condition_question = models.ForeignKey(
        "self",
        verbose_name=_("affichée seulement si la question"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dependents",
    )
    condition_value = models.CharField(_("a pour réponse"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("question de formulaire")
        verbose_name_plural = _("questions de formulaire")
        ordering = ["section__position", "section_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["form", "key"], name="form_question_key_unique")]

    def __str__(self) -> str:
        return self.label

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def _condition_loops(self) -> bool:
        seen, current = {self.pk}, self.condition_question
        while current is not None:
            if current.pk in seen:
                return True
            seen.add(current.pk)
            current = current.condition_question
        return False

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.kind in CHOICE_KINDS and not self.choice_list():
            errors["choices"] = _("indiquez au moins un choix, un par ligne")
        if self.kind not in CHOICE_KINDS and self.choices.strip():
            errors["choices"] = _("seules les questions à choix ont des choix")
        if self.section_id is not None and self.form_id is not None and self.section.form_id != self.form_id:
            errors["section"] = _("cette section appartient à un autre formulaire")
        other = self.condition_question if self.condition_question_id is not None else None
        if other is not None:
            if self.pk is not None and other.pk == self.pk:
                errors["condition_question"] = _("une question ne peut dépendre d'elle-même")
            elif other.form_id != self.form_id:
                errors["condition_question"] = _("la question de la condition doit être du même formulaire")
            elif self._condition_loops():
                errors["condition_question"] = _("ces conditions tournent en rond")
            elif other.kind == QuestionKind.FILE:
                errors["condition_question"] = _("une condition ne peut porter sur un fichier")
            elif not self.condition_value.strip():
                errors["condition_value"] = _("indiquez la réponse qui affiche cette question")
            elif other.kind in CHOICE_KINDS and self.condition_value.strip() not in other.choice_list():
                errors["condition_value"] = _("« %(value)s » n'est pas un des choix de « %(label)s »") % {
                    "value": self.condition_value,
                    "label": other.label,
                }
        elif self.condition_value.strip():
            errors["condition_question"] = _("choisissez la question dont dépend la réponse indiquée")
        if errors:
            raise ValidationError(errors)
