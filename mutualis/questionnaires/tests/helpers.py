"""A small questionnaire (request form) built through the services, shared by the questionnaires' tests."""

from mutualis.helpdesk.models import Category
from mutualis.questionnaires import services


def build_questionnaire(world, *, slug="incident", active=True):
    """Sections "Incident" and "Détails"; `agents` shown and required only when `bloquant` is
    "Oui"; `logiciel` shown only when `domaines` includes "Logiciel"."""
    category = Category.objects.create(slug=f"cat-{slug}", name="Incidents", position=1)
    staff = world.staff
    questionnaire = services.questionnaire_create(
        actor=staff,
        data={
            "slug": slug,
            "name": "Incident sur une application",
            "catalogue_category": category,
            "active": active,
            "ticket_type": "incident",
            "urgency": 4,
            "group": staff.service,
            "title_template": "Incident : {resume}",
        },
    )
    first = services.section_add(actor=staff, questionnaire=questionnaire, data={"title": "Incident"})
    second = services.section_add(actor=staff, questionnaire=questionnaire, data={"title": "Détails"})
    add = services.question_add
    add(actor=staff, section=first, data={"key": "resume", "label": "Résumé", "kind": "text", "required": True})
    bloquant = add(
        actor=staff,
        section=first,
        data={"key": "bloquant", "label": "Bloquant ?", "kind": "choice", "required": True, "choices": "Oui\nNon"},
    )
    add(
        actor=staff,
        section=first,
        data={
            "key": "agents",
            "label": "Agents bloqués",
            "kind": "number",
            "required": True,
            "condition_question": bloquant,
            "condition_value": "Oui",
        },
    )
    domaines = add(
        actor=staff,
        section=second,
        data={"key": "domaines", "label": "Domaines", "kind": "multiple_choice", "choices": "Logiciel\nMatériel"},
    )
    add(
        actor=staff,
        section=second,
        data={
            "key": "logiciel",
            "label": "Quel logiciel ?",
            "kind": "text",
            "required": True,
            "condition_question": domaines,
            "condition_value": "Logiciel",
        },
    )
    add(actor=staff, section=second, data={"key": "depuis", "label": "Depuis le", "kind": "date"})
    add(actor=staff, section=second, data={"key": "details", "label": "Détails", "kind": "long_text"})
    add(actor=staff, section=second, data={"key": "capture", "label": "Capture", "kind": "file"})
    return questionnaire
