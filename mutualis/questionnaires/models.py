"""Questionnaires, the online request forms (what GLPI's Formcreator does): operator staff build a
questionnaire of ordered sections and questions; a member agent fills it in and a ticket is created
from the answers. The UI calls them « formulaires de demande »; in the code "form" is a Django form."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from mutualis.core.models import BaseModel
from mutualis.helpdesk.enums import TicketType
from mutualis.helpdesk.models import Category

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


class TicketField(models.TextChoices):
    """The ticket field a question's answer fills. Its choices come from the ticket, not from the
    builder: the application from the member's subscriptions, the category from the categories,
    urgency and impact from their scale, blocking from yes or no. The service levels read these
    fields, so a bound answer reaches the ticket before its due dates are computed."""

    APPLICATION = "application", _("application")
    BLOCKING = "blocking", _("bloquant")
    URGENCY = "urgency", _("urgence")
    IMPACT = "impact", _("impact")
    CATEGORY = "category", _("catégorie")


# The answers of a question bound to `blocking` (kept in French: a condition compares them).
BLOCKING_YES, BLOCKING_NO = "Oui", "Non"
# Fields whose choices are fixed (the same for every member): a condition may name one of them.
STATIC_CHOICES = {TicketField.BLOCKING, TicketField.URGENCY, TicketField.IMPACT}


class Questionnaire(BaseModel):
    """A request form of the "Nouvelle demande" catalogue and the ticket it creates."""

    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    name = models.CharField(_("nom"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    catalogue_category = models.ForeignKey(
        Category,
        verbose_name=_("rubrique du catalogue"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="catalogue_questionnaires",
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
        related_name="ticket_questionnaires",
        help_text=_("Vide : la rubrique du catalogue."),
    )
    application = models.ForeignKey(
        "catalog.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questionnaires",
    )
    urgency = models.PositiveSmallIntegerField(_("urgence"), default=3, validators=SCALE)
    group = models.ForeignKey(
        "members.OperatorService",
        verbose_name=_("groupe"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questionnaires",
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


class Section(BaseModel):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(_("titre"), max_length=150)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)

    class Meta:
        verbose_name = _("section de formulaire")
        verbose_name_plural = _("sections de formulaire")
        ordering = ["questionnaire", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Question(BaseModel):
    """One question; with a condition it is shown (and required, and kept) only when the earlier
    question `condition_question` was answered `condition_value`."""

    # The questionnaire is the section's, repeated so a question's key is unique within its questionnaire.
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="questions")
    section = models.ForeignKey(Section, verbose_name=_("section"), on_delete=models.CASCADE, related_name="questions")
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
    ticket_field = models.CharField(
        _("renseigne le champ du ticket"),
        max_length=16,
        choices=TicketField.choices,
        blank=True,
        help_text=_(
            "La réponse devient ce champ du ticket (et compte pour ses délais) ; question à choix unique "
            "dont les choix viennent du ticket : pour l'application, celles auxquelles la collectivité est abonnée."
        ),
    )

    class Meta:
        verbose_name = _("question de formulaire")
        verbose_name_plural = _("questions de formulaire")
        ordering = ["section__position", "section_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "key"], name="question_key_unique"),
            models.UniqueConstraint(
                fields=["questionnaire", "ticket_field"],
                condition=~models.Q(ticket_field=""),
                name="question_ticket_field_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def choice_list(self) -> list[str]:
        """The values offered; a bound question's fixed ones, or none when they depend on the
        member (application) or on the configuration (category): see services.question_choices."""
        if self.ticket_field == TicketField.BLOCKING:
            return [BLOCKING_YES, BLOCKING_NO]
        if self.ticket_field in {TicketField.URGENCY, TicketField.IMPACT}:
            return [str(level) for level in range(5, 0, -1)]
        if self.ticket_field:
            return []
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
        if self.ticket_field:
            if self.kind != QuestionKind.CHOICE:
                errors["kind"] = _("une question qui renseigne un champ du ticket est à choix unique")
            elif self.choices.strip():
                errors["choices"] = _(
                    "les choix d'une question qui renseigne un champ du ticket viennent du ticket : laissez-les vides"
                )
            twin = (
                Question.objects.filter(questionnaire_id=self.questionnaire_id, ticket_field=self.ticket_field)
                .exclude(pk=self.pk)
                .first()
            )
            if twin is not None:
                errors["ticket_field"] = _("« %(label)s » renseigne déjà ce champ du ticket") % {"label": twin.label}
        elif self.kind in CHOICE_KINDS and not self.choice_list():
            errors["choices"] = _("indiquez au moins un choix, un par ligne")
        if self.kind not in CHOICE_KINDS and self.choices.strip():
            errors["choices"] = _("seules les questions à choix ont des choix")
        if (
            self.section_id is not None
            and self.questionnaire_id is not None
            and self.section.questionnaire_id != self.questionnaire_id
        ):
            errors["section"] = _("cette section appartient à un autre formulaire")
        other = self.condition_question if self.condition_question_id is not None else None
        if other is not None:
            if self.pk is not None and other.pk == self.pk:
                errors["condition_question"] = _("une question ne peut dépendre d'elle-même")
            elif other.questionnaire_id != self.questionnaire_id:
                errors["condition_question"] = _("la question de la condition doit être du même formulaire")
            elif self._condition_loops():
                errors["condition_question"] = _("ces conditions tournent en rond")
            elif other.kind == QuestionKind.FILE:
                errors["condition_question"] = _("une condition ne peut porter sur un fichier")
            elif not self.condition_value.strip():
                errors["condition_value"] = _("indiquez la réponse qui affiche cette question")
            elif (
                other.kind in CHOICE_KINDS
                and (not other.ticket_field or other.ticket_field in STATIC_CHOICES)
                and self.condition_value.strip() not in other.choice_list()
            ):
                errors["condition_value"] = _("« %(value)s » n'est pas un des choix de « %(label)s »") % {
                    "value": self.condition_value,
                    "label": other.label,
                }
        elif self.condition_value.strip():
            errors["condition_question"] = _("choisissez la question dont dépend la réponse indiquée")
        if errors:
            raise ValidationError(errors)
