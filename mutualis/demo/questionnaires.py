"""The questionnaires' part of `load_demo`: the online request forms of the « Nouvelle demande »
catalogue, filed under the helpdesk's demo categories."""

from __future__ import annotations

from typing import Any

from mutualis.catalog.models import Application
from mutualis.helpdesk.enums import TicketType
from mutualis.helpdesk.models import Category
from mutualis.members.models import OperatorService
from mutualis.questionnaires.models import Question, QuestionKind, Questionnaire, Section, TicketField

K = QuestionKind
# Each questionnaire: its settings, then sections of questions
# (key, label, kind, required, help text, choices, (condition key, condition value)).
QUESTIONNAIRES: list[dict[str, Any]] = [
    {
        "slug": "creation-compte-agent",
        "name": "Création de compte agent",
        "description": "Pour un agent qui arrive : son compte unique (portail agent, messagerie) et ses accès.",
        "category": "comptes-acces",
        "ticket_type": TicketType.REQUEST,
        "application": "Portail Agent - LemonLDAP NG",
        "urgency": 3,
        "group": "relations-adherents",
        "title_template": "Création de compte : {prenom} {nom}",
        "sections": [
            (
                "L'agent",
                [
                    ("nom", "Nom", K.TEXT, True, "", [], None),
                    ("prenom", "Prénom", K.TEXT, True, "", [], None),
                    ("fonction", "Fonction", K.TEXT, True, "", [], None),
                    ("service", "Service ou direction", K.TEXT, True, "", [], None),
                    ("arrivee", "Date d'arrivée", K.DATE, True, "Le compte est prêt la veille.", [], None),
                ],
            ),
            (
                "Accès demandés",
                [
                    (
                        "acces",
                        "Accès",
                        K.MULTIPLE_CHOICE,
                        True,
                        "",
                        ["Messagerie", "Espace collaboratif (Nextcloud)", "Logiciel métier"],
                        None,
                    ),
                    (
                        "logiciel-metier",
                        "Quel logiciel métier, avec quels droits ?",
                        K.TEXT,
                        True,
                        "Par exemple : Concerto, consultation seulement.",
                        [],
                        ("acces", "Logiciel métier"),
                    ),
                    ("commentaire", "Précisions", K.LONG_TEXT, False, "", [], None),
                ],
            ),
        ],
    },
    {
        "slug": "incident-application",
        "name": "Incident sur une application",
        "description": "Une application ne fonctionne pas ou plus comme d'habitude.",
        "category": "incidents-applicatifs",
        "ticket_type": TicketType.INCIDENT,
        "application": None,
        "urgency": 4,
        "group": "systemes-information",
        "title_template": "Incident {application} : {resume}",
        # Answers that fill the ticket's fields: the application, and blocking for the service levels.
        "bindings": {"application": TicketField.APPLICATION, "bloquant": TicketField.BLOCKING},
        "sections": [
            (
                "L'incident",
                [
                    (
                        "application",
                        "Application concernée",
                        K.CHOICE,
                        True,
                        "Les applications auxquelles votre collectivité est abonnée.",
                        [],  # the member's subscriptions (bound below)
                        None,
                    ),
                    ("resume", "En une phrase", K.TEXT, True, "", [], None),
                    (
                        "description",
                        "Ce qui se passe",
                        K.LONG_TEXT,
                        True,
                        "Message d'erreur, étapes suivies.",
                        [],
                        None,
                    ),
                    # « Oui » / « Non » come from the binding to the ticket's blocking flag.
                    ("bloquant", "Le travail est-il bloqué ?", K.CHOICE, True, "", [], None),
                    ("agents", "Combien d'agents sont bloqués ?", K.NUMBER, True, "", [], ("bloquant", "Oui")),
                    ("capture", "Capture d'écran", K.FILE, False, "Image ou PDF, 10 Mo au plus.", [], None),
                ],
            ),
        ],
    },
    {
        "slug": "demande-installation",
        "name": "Demande d'installation",
        "description": "Installer un logiciel, un poste de travail ou une imprimante.",
        "category": "installations-materiel",
        "ticket_type": TicketType.REQUEST,
        "application": None,
        "urgency": 2,
        "group": "hebergement-proximite",
        "title_template": "Installation ({objet}) : {poste}",
        "sections": [
            (
                "L'installation",
                [
                    ("objet", "À installer", K.CHOICE, True, "", ["Logiciel", "Poste de travail", "Imprimante"], None),
                    ("logiciel", "Quel logiciel ?", K.TEXT, True, "", [], ("objet", "Logiciel")),
                    ("poste", "Poste ou lieu", K.TEXT, True, "Nom du poste, numéro d'inventaire ou bureau.", [], None),
                    ("date-souhaitee", "Date souhaitée", K.DATE, False, "", [], None),
                    ("justification", "Pourquoi ?", K.LONG_TEXT, False, "", [], None),
                ],
            ),
        ],
    },
]


def load_questionnaires(data: dict[str, Any]) -> None:
    """Create or update the demo questionnaires (after the helpdesk's categories, which they file under)."""
    categories = {c.slug: c for c in Category.objects.all()}
    groups = {s.slug: s for s in OperatorService.objects.all()}
    for position, spec in enumerate(QUESTIONNAIRES, start=1):
        application = Application.objects.filter(name=spec["application"]).first() if spec["application"] else None
        questionnaire, _ = Questionnaire.objects.update_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "catalogue_category": categories.get(spec["category"]),
                "active": True,
                "position": position,
                "ticket_type": spec["ticket_type"],
                "application": application,
                "urgency": spec["urgency"],
                "group": groups.get(spec["group"]),
                "title_template": spec["title_template"],
            },
        )
        questions: dict[str, Question] = {}
        conditions: list[tuple[Question, tuple[str, str]]] = []
        for s_position, (title, items) in enumerate(spec["sections"], start=1):
            section, _ = Section.objects.update_or_create(
                questionnaire=questionnaire, title=title, defaults={"position": s_position}
            )
            for q_position, (key, label, kind, required, help_text, choices, condition) in enumerate(items, start=1):
                question, _ = Question.objects.update_or_create(
                    questionnaire=questionnaire,
                    key=key,
                    defaults={
                        "section": section,
                        "label": label,
                        "kind": kind,
                        "required": required,
                        "help_text": help_text,
                        "choices": "\n".join(choices),
                        "position": q_position,
                        "ticket_field": spec.get("bindings", {}).get(key, ""),
                    },
                )
                questions[key] = question
                if condition:
                    conditions.append((question, condition))
        for question, (key, value) in conditions:
            Question.objects.filter(pk=question.pk).update(condition_question=questions[key], condition_value=value)
