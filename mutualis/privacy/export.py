"""A person's data as a readable document: the export's sections with French titles and headers,
built from the same data as the JSON file."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext_lazy as _

SECTION_LABELS = {
    "account": _("Compte"),
    "api_tokens": _("Jetons d'API"),
    "second_factor_devices": _("Appareils de double authentification"),
    "directory_entry": _("Fiche de l'annuaire"),
    "tickets_requested": _("Demandes faites"),
    "tickets_watched": _("Demandes suivies en observateur"),
    "tickets_assigned": _("Demandes attribuées (technicien)"),
    "followups_written": _("Suivis écrits"),
    "tasks_recorded": _("Tâches saisies"),
    "attachments_uploaded": _("Pièces jointes déposées"),
    "mail_received": _("Courriels reçus de la personne"),
    "member_contacts": _("Fiches de contact d'adhérent"),
    "mandates_matched_by_name": _("Mandats d'une personne du même nom"),
    "audit_log": _("Journal d'audit (actions de la personne et sur ses fiches)"),
    "requests": _("Demandes sur ses données"),
}

# What an erasure's counts name (PrivacyRequest.counts), for the register.
ERASURE_LABELS = {
    "ticket": _("demandes (textes)"),
    "followup": _("suivis"),
    "tickettask": _("tâches"),
    "transitionlog": _("changements de statut"),
    "notification": _("notifications"),
    "inboundmail": _("courriels reçus"),
    "api_tokens_revoked": _("jetons d'API révoqués"),
    "second_factor_devices": _("appareils de double authentification"),
    "member_contacts": _("fiches de contact"),
    "governance_persons": _("personnes des instances"),
    "audit_entries": _("entrées du journal réécrites"),
}


def count_rows(counts: dict[str, int]) -> list[tuple[str, int]]:
    """A request's non-zero counts with their French names."""
    labels = {**SECTION_LABELS, **ERASURE_LABELS}
    return [(str(labels.get(key, key)), n) for key, n in counts.items() if n]


FIELD_LABELS = {
    "username": _("identifiant"),
    "first_name": _("prénom"),
    "last_name": _("nom"),
    "email": _("courriel"),
    "mail": _("courriel"),
    "role": _("rôle"),
    "organisation": _("organisation"),
    "operator_service": _("service de l'opérateur"),
    "active": _("actif"),
    "joined_at": _("créé le"),
    "last_login_at": _("dernière connexion"),
    "name": _("nom"),
    "prefix": _("préfixe"),
    "created_at": _("créé le"),
    "last_used_at": _("dernière utilisation"),
    "revoked_at": _("révoqué le"),
    "confirmed": _("confirmé"),
    "collectivity": _("collectivité"),
    "hr_id": _("matricule"),
    "civility": _("civilité"),
    "login": _("identifiant de connexion"),
    "function": _("fonction"),
    "department": _("service"),
    "manager": _("responsable"),
    "start_on": _("début"),
    "end_on": _("fin"),
    "status": _("statut"),
    "reference": _("référence"),
    "title": _("titre"),
    "description": _("description"),
    "application": _("application"),
    "opened_at": _("ouverte le"),
    "closed_at": _("close le"),
    "satisfaction": _("satisfaction"),
    "satisfaction_comment": _("commentaire de satisfaction"),
    "form_answers": _("réponses au formulaire"),
    "ticket": _("demande"),
    "written_at": _("écrit le"),
    "private": _("privé"),
    "body": _("message"),
    "done_on": _("réalisée le"),
    "duration_seconds": _("durée (secondes)"),
    "size": _("taille (octets)"),
    "uploaded_at": _("déposée le"),
    "received_at": _("reçu le"),
    "sender": _("expéditeur"),
    "subject": _("objet"),
    "outcome": _("issue"),
    "full_name": _("nom"),
    "phone": _("téléphone"),
    "person": _("personne"),
    "body_name": _("instance"),
    "at": _("date"),
    "author": _("auteur"),
    "action": _("action"),
    "object_type": _("type d'objet"),
    "object": _("objet"),
    "changes": _("changements"),
    "via": _("canal"),
    "kind": _("demande"),
    "counts": _("décompte"),
}


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("oui") if value else _("non"))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _label(key: str) -> str:
    return str(FIELD_LABELS.get(key, key))


def export_sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """[{title, facts | headers and rows | items | empty}], in the export's order."""
    sections = []
    for key, value in data.items():
        if key not in SECTION_LABELS:
            continue
        section: dict[str, Any] = {"key": key, "title": SECTION_LABELS[key]}
        if isinstance(value, dict):
            section["facts"] = [(_label(k), _text(v)) for k, v in value.items()]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            keys = list(value[0])
            section["headers"] = [_label(k) for k in keys]
            section["rows"] = [[_text(row.get(k)) for k in keys] for row in value]
        elif isinstance(value, list) and value:
            section["items"] = [_text(item) for item in value]
        else:
            section["empty"] = True
        sections.append(section)
    return sections
