"""Writes on questionnaires (the online request forms): operator staff build them (questionnaires,
sections, questions, their order and conditions); a member agent's answers become a ticket through
`questionnaire_submit`, which files it with the helpdesk's `ticket_create`.

Building is for operator staff only (members get 404); every write is audited."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils.translation import gettext as _

from mutualis.accounts.models import User
from mutualis.catalog.models import Application
from mutualis.catalog.selectors import applications_subscribed
from mutualis.core.services import model_create, model_delete, model_update
from mutualis.core.tenancy import is_operator, may_write, require_operator_staff, require_writer
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Source
from mutualis.helpdesk.models import Category, Ticket
from mutualis.members.models import Organisation
from mutualis.questionnaires.models import (
    BLOCKING_NO,
    BLOCKING_YES,
    Question,
    QuestionKind,
    Questionnaire,
    Section,
    TicketField,
)

QUESTIONNAIRE_FIELDS = (
    "slug",
    "name",
    "description",
    "catalogue_category",
    "active",
    "position",
    "ticket_type",
    "ticket_category",
    "application",
    "urgency",
    "group",
    "title_template",
)
SECTION_FIELDS = ("title", "description", "position")
QUESTION_FIELDS = (
    "section",
    "key",
    "label",
    "kind",
    "required",
    "help_text",
    "choices",
    "position",
    "condition_question",
    "condition_value",
    "ticket_field",
)


def _builder(actor: User) -> None:
    require_operator_staff(actor)
    require_writer(actor)


def _next_position(qs: Any) -> int:
    return (qs.aggregate(top=Max("position"))["top"] or 0) + 1


# -- questionnaires -------------------------------------------------------------------------------
def questionnaire_create(*, actor: User, data: Mapping[str, Any]) -> Questionnaire:
    _builder(actor)
    return model_create(actor=actor, model=Questionnaire, data=_only(data, QUESTIONNAIRE_FIELDS))


def questionnaire_update(*, actor: User, questionnaire: Questionnaire, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    _builder(actor)
    _questionnaire, changes = model_update(actor=actor, instance=questionnaire, data=data, fields=QUESTIONNAIRE_FIELDS)
    return changes


def questionnaire_delete(*, actor: User, questionnaire: Questionnaire) -> None:
    """Questions and sections go with the questionnaire; the tickets it created keep their answers."""
    _builder(actor)
    with transaction.atomic():
        # Conditions point between questions (PROTECT): clear them before the cascade.
        Question.objects.filter(questionnaire=questionnaire).update(condition_question=None)
        model_delete(actor=actor, instance=questionnaire)


# -- sections -------------------------------------------------------------------------------------
def section_add(*, actor: User, questionnaire: Questionnaire, data: Mapping[str, Any]) -> Section:
    _builder(actor)
    values = _only(data, SECTION_FIELDS)
    if not values.get("position"):
        values["position"] = _next_position(questionnaire.sections.all())
    return model_create(actor=actor, model=Section, data={**values, "questionnaire": questionnaire})


def section_update(*, actor: User, section: Section, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    _builder(actor)
    _section, changes = model_update(actor=actor, instance=section, data=data, fields=SECTION_FIELDS)
    return changes


def section_delete(*, actor: User, section: Section) -> None:
    _builder(actor)
    outside = Question.objects.filter(condition_question__section=section).exclude(section=section)
    if outside.exists():
        raise ValidationError(
            _("des questions d'autres sections dépendent de celle-ci : %(labels)s")
            % {"labels": ", ".join(q.label for q in outside)}
        )
    with transaction.atomic():
        Question.objects.filter(section=section).update(condition_question=None)
        model_delete(actor=actor, instance=section)


# -- questions ------------------------------------------------------------------------------------
def question_add(*, actor: User, section: Section, data: Mapping[str, Any]) -> Question:
    _builder(actor)
    values = _only(data, QUESTION_FIELDS)
    values["section"] = section
    if not values.get("position"):
        values["position"] = _next_position(section.questions.all())
    return model_create(actor=actor, model=Question, data={**values, "questionnaire": section.questionnaire})


def question_update(*, actor: User, question: Question, data: Mapping[str, Any]) -> dict[str, list[Any]]:
    _builder(actor)
    _question, changes = model_update(actor=actor, instance=question, data=data, fields=QUESTION_FIELDS)
    return changes


def question_delete(*, actor: User, question: Question) -> None:
    _builder(actor)
    dependents = list(question.dependents.all())
    if dependents:
        raise ValidationError(
            _("d'autres questions ne s'affichent que selon celle-ci : %(labels)s")
            % {"labels": ", ".join(q.label for q in dependents)}
        )
    model_delete(actor=actor, instance=question)


def item_move(*, actor: User, item: Section | Question, direction: str) -> None:
    """Swap a section or question with its neighbour ("up" or "down"), renumbering its siblings
    1..n so equal positions left by earlier edits sort out."""
    _builder(actor)
    if direction not in {"up", "down"}:
        raise ValidationError(_("sens inconnu : %(value)s") % {"value": direction})
    siblings: list[Any]
    if isinstance(item, Section):
        siblings = list(Section.objects.filter(questionnaire_id=item.questionnaire_id).order_by("position", "id"))
    else:
        siblings = list(Question.objects.filter(section_id=item.section_id).order_by("position", "id"))
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == item.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    with transaction.atomic():
        for position, sibling in enumerate(siblings, start=1):
            if sibling.position != position:
                model_update(actor=actor, instance=sibling, data={"position": position}, fields=["position"])


def _only(data: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    unknown = set(data) - set(fields)
    if unknown:
        raise ValidationError(_("champs inconnus : %(f)s") % {"f": ", ".join(sorted(unknown))})
    return dict(data)


# -- answering ------------------------------------------------------------------------------------
def questions_of(questionnaire: Questionnaire) -> list[Question]:
    """The questionnaire's questions in display order (one query)."""
    return list(
        Question.objects.filter(questionnaire=questionnaire)
        .select_related("section", "condition_question")
        .order_by("section__position", "section_id", "position", "id")
    )


def is_shown(question: Question, answers: Mapping[str, Any], by_id: Mapping[int, Question]) -> bool:
    """A question without a condition is shown; with one, when the question it depends on is
    itself shown and was answered the expected value (one of the values, for a multiple choice)."""
    seen: set[int] = set()
    current = question
    while current.condition_question_id is not None:
        if current.pk in seen:  # a loop the builder should have refused: hide rather than hang
            return False
        seen.add(current.pk)
        parent = by_id.get(current.condition_question_id)
        if parent is None:
            return False
        value = answers.get(parent.key)
        expected = current.condition_value.strip()
        if isinstance(value, list | tuple):
            if expected not in [str(v) for v in value]:
                return False
        elif _as_text(value) != expected:
            return False
        current = parent
    return True


def visible_answers(questions: Iterable[Question], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the answers of shown questions only: a hidden question's answer is ignored."""
    questions = list(questions)
    by_id = {q.pk: q for q in questions}
    return {q.key: answers.get(q.key) for q in questions if is_shown(q, answers, by_id)}


def _level_labels() -> dict[str, str]:
    return {
        "5": _("5 — très haute"),
        "4": _("4 — haute"),
        "3": _("3 — moyenne"),
        "2": _("2 — basse"),
        "1": _("1 — très basse"),
    }


def application_scope(user: User) -> int | None:
    """Whose subscriptions a questionnaire's application question offers `user`: a member account's own
    collectivity, whatever its role (a read-only elected official reading the questionnaire included);
    None, the whole catalogue, for operator staff only, who belong to no collectivity."""
    return None if is_operator(user) else user.organisation_id


def question_choices(question: Question, *, collectivity_id: int | None) -> list[tuple[str, str]]:
    """(value, label) offered by a choice question. A question bound to the ticket's application
    offers the applications the collectivity subscribes to (every one in a builder's preview,
    where there is no collectivity); to its category, the categories; urgency and impact their
    scale; blocking yes or no."""
    field = question.ticket_field
    if field == TicketField.APPLICATION:
        return list(applications_subscribed(collectivity_id=collectivity_id).values_list("slug", "name"))
    if field == TicketField.CATEGORY:
        return list(Category.objects.order_by("position", "name").values_list("slug", "name"))
    if field in {TicketField.URGENCY, TicketField.IMPACT}:
        labels = _level_labels()
        return [(value, labels[value]) for value in question.choice_list()]
    if field == TicketField.BLOCKING:
        return [(BLOCKING_YES, _("Oui")), (BLOCKING_NO, _("Non"))]
    return [(choice, choice) for choice in question.choice_list()]


def _bound_value(question: Question, value: str, *, collectivity_id: int | None) -> tuple[Any, str]:
    """The ticket field's value named by a bound question's answer, and the label kept in the
    answers (the application's name rather than its slug)."""
    field = question.ticket_field
    if field == TicketField.APPLICATION:
        application = (
            Application.objects.select_related("support_group").filter(slug=value).first()
            if collectivity_id is None
            else applications_subscribed(collectivity_id=collectivity_id).filter(slug=value).first()
        )
        if application is None:
            raise ValidationError(
                _("« %(value)s » n'est pas une application à laquelle votre collectivité est abonnée")
                % {"value": value}
            )
        return application, application.name
    if field == TicketField.CATEGORY:
        category = Category.objects.select_related("default_group").filter(slug=value).first()
        if category is None:
            raise ValidationError(_("« %(value)s » n'est pas un des choix proposés") % {"value": value})
        return category, category.name
    if value not in question.choice_list():
        raise ValidationError(_("« %(value)s » n'est pas un des choix proposés") % {"value": value})
    if field == TicketField.BLOCKING:
        return value == BLOCKING_YES, value
    return int(value), _level_labels()[value]


def check_answers(
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    files: Mapping[str, UploadedFile] | None = None,
    *,
    collectivity_id: int | None = None,
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Validate typed answers (as a Django form's cleaned_data or a JSON body gives them) against
    the questions: hidden ones dropped, required only when shown, choices among those offered,
    files within the attachment limits. Returns the kept answers and files; raises
    ValidationError keyed by question key."""
    kept, kept_files, _fields = _checked(questionnaire, answers, files, collectivity_id=collectivity_id)
    return kept, kept_files


def _checked(
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    files: Mapping[str, UploadedFile] | None,
    *,
    collectivity_id: int | None,
) -> tuple[dict[str, Any], dict[str, UploadedFile], dict[str, Any]]:
    """check_answers, plus the ticket fields filled by the bound questions' answers."""
    questions = questions_of(questionnaire)
    files = dict(files or {})
    merged = {**answers, **{k: v for k, v in files.items() if v}}
    kept = visible_answers(questions, merged)
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    kept_files: dict[str, UploadedFile] = {}
    fields: dict[str, Any] = {}
    for question in questions:
        if question.key not in kept:
            continue
        value = kept[question.key]
        if _empty(value):
            if question.required:
                errors[question.key] = _("« %(label)s » est obligatoire") % {"label": question.label}
            continue
        try:
            if question.kind == QuestionKind.FILE:
                if not isinstance(value, UploadedFile):
                    raise ValidationError(_("un fichier est attendu"))
                try:
                    services.check_upload(value)
                except ValidationError as error:
                    raise ValidationError(" ".join(error.messages)) from None
                kept_files[question.key] = value
                clean[question.key] = value.name
            elif question.ticket_field:
                fields[question.ticket_field], clean[question.key] = _bound_value(
                    question, _as_text(value), collectivity_id=collectivity_id
                )
            else:
                clean[question.key] = _typed(question, value)
        except ValidationError as error:
            errors[question.key] = f"{question.label} : {' '.join(error.messages)}"
    unknown = set(answers) - {q.key for q in questions}
    if unknown:
        errors["__all__"] = _("questions inconnues : %(keys)s") % {"keys": ", ".join(sorted(unknown))}
    if errors:
        raise ValidationError(errors)
    return clean, kept_files, fields


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _typed(question: Question, value: Any) -> Any:
    """The JSON-ready value of an answer, checked for its question's type."""
    kind = question.kind
    if kind in {QuestionKind.TEXT, QuestionKind.LONG_TEXT}:
        text = str(value)
        if kind == QuestionKind.TEXT and len(text) > 500:
            raise ValidationError(_("500 caractères au plus"))
        return services.check_text(question.key, text, required=False)
    if kind == QuestionKind.NUMBER:
        try:
            number = Decimal(str(value).replace(",", ".").replace("\u202f", "").replace(" ", ""))
        except ArithmeticError:
            raise ValidationError(_("un nombre est attendu")) from None
        if not number.is_finite():
            raise ValidationError(_("un nombre est attendu"))
        return int(number) if number == number.to_integral_value() else str(number)
    if kind == QuestionKind.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValidationError(_("une date est attendue (AAAA-MM-JJ)")) from None
    if kind == QuestionKind.CHOICE:
        if str(value) not in question.choice_list():
            raise ValidationError(_("« %(value)s » n'est pas un des choix proposés") % {"value": value})
        return str(value)
    if kind == QuestionKind.MULTIPLE_CHOICE:
        values = [str(v) for v in (value if isinstance(value, list | tuple) else [value])]
        wrong = [v for v in values if v not in question.choice_list()]
        if wrong:
            raise ValidationError(_("« %(value)s » n'est pas un des choix proposés") % {"value": ", ".join(wrong)})
        return values
    raise ValidationError(_("type de question inconnu"))


PLACEHOLDER = re.compile(r"\{([a-z0-9_-]+)\}")


def render_title(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> str:
    """The title template with each {key} replaced by its answer (empty when hidden/unanswered)."""
    template = questionnaire.title_template.strip() or questionnaire.name
    keys = (
        set(Question.objects.filter(questionnaire=questionnaire).values_list("key", flat=True))
        if "{" in template
        else set()
    )

    def answer(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in keys:
            return match.group(0)
        value = answers.get(key)
        return ", ".join(map(str, value)) if isinstance(value, list) else _as_text(value)

    title = " ".join(PLACEHOLDER.sub(answer, template).split())
    return title[:250] or questionnaire.name


def render_description(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> str:
    """The answers as Markdown, section by section; hidden and unanswered questions left out."""
    lines = [_("Demande déposée avec le formulaire « %(name)s ».") % {"name": questionnaire.name}, ""]
    section_id = None
    for question in questions_of(questionnaire):
        if question.key not in answers:
            continue
        if question.section_id != section_id:
            section_id = question.section_id
            lines += [f"## {_md(question.section.title)}", ""]
        value = answers[question.key]
        if isinstance(value, list):
            lines.append(f"**{_md(question.label)}**")
            lines += [f"- {_md(v)}" for v in value]
        elif question.kind == QuestionKind.LONG_TEXT:
            lines.append(f"**{_md(question.label)}**")
            lines += [f"> {line}" if line else ">" for line in str(value).splitlines()]
        elif question.kind == QuestionKind.FILE:
            lines.append(f"**{_md(question.label)}** : {_md(value)} " + _("(en pièce jointe)"))
        else:
            lines.append(f"**{_md(question.label)}** : {_md(value)}")
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def _md(value: Any) -> str:
    """One line of text with Markdown's markup characters escaped (the renderer escapes HTML)."""
    text = " ".join(_as_text(value).split())
    return re.sub(r"([\\`*_\[\]#>|])", r"\\\1", text)


def may_submit(user: User) -> bool:
    """Whether `user` may file a request through a questionnaire: a member's account that may write.

    The catalogue and the questionnaire's page ask this before showing a form to fill;
    `questionnaire_submit` asks it again before filing, so no one fills in a form that would then be
    refused."""
    organisation = user.organisation
    return may_write(user) and organisation is not None and not organisation.is_operator


def require_submitter(user: User) -> Organisation:
    """The collectivity `user` files for, or PermissionDenied."""
    if not may_write(user):
        raise PermissionDenied(_("votre rôle est en lecture seule"))
    organisation = user.organisation
    if not may_submit(user) or organisation is None:
        raise PermissionDenied(_("seul un compte d'une collectivité adhérente dépose une demande"))
    return organisation


def questionnaire_submit(
    *,
    actor: User,
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    files: Mapping[str, UploadedFile] | None = None,
    now: dt.datetime | None = None,
    via: str = "web",
) -> Ticket:
    """A member's (or staff's, for a member) answers become a ticket with the questionnaire's type,
    category, application, urgency and group; file answers become its attachments. The answers
    of questions bound to a ticket field (application, blocking, urgency, impact, category)
    replace the questionnaire's defaults before the ticket is created, so its service levels use them."""
    if not questionnaire.active:
        raise Http404(_("formulaire introuvable"))
    collectivity = require_submitter(actor)
    kept, kept_files, bound = _checked(questionnaire, answers, files, collectivity_id=collectivity.pk)
    fields: dict[str, Any] = {
        "application": questionnaire.application,
        "category": questionnaire.ticket_category or questionnaire.catalogue_category,
        "urgency": questionnaire.urgency,
        **bound,
    }
    with transaction.atomic():
        ticket = services.ticket_create(
            actor=actor,
            collectivity=collectivity,
            requester=actor,
            ticket_type=questionnaire.ticket_type,
            title=render_title(questionnaire, kept),
            description=render_description(questionnaire, kept),
            group=questionnaire.group,
            source=Source.FORM,
            attachments=list(kept_files.values()),
            now=now,
            via=via,
            **fields,
        )
        # The ticket's record of the answers keeps its shape ("form": the questionnaire's slug).
        ticket.form_answers = {"form": questionnaire.slug, "answers": kept}
        Ticket.objects.filter(pk=ticket.pk).update(form_answers=ticket.form_answers)
    return ticket
