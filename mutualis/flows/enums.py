"""The flows' vocabulary and THE transition table of each document type (the only way a state changes).

A document's state is its last action, as in Pastell (`document_entite.last_action`), and the action
names are Pastell's (actes-generique, document-a-signer), so an operator who ran Pastell reads the
same words (Hélios's four states are Mutualis's: the prefecture's words would mislead an
accountant). Each flow is an ordered list of steps; a document chooses which optional steps it goes
through, and the table is generated from the steps: a step starts from the creation or from the end
of any earlier step (the steps between were not chosen).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class FlowType(models.TextChoices):
    ACTE = "actes-generique", _("actes (délibérations, arrêtés)")
    DOCUMENT_A_SIGNER = "document-a-signer", _("document à signer")
    PAYSLIP = "rh-bulletin-salaire", _("bulletins de paie")
    HELIOS = "helios-generique", _("Hélios (PES au comptable)")


class Port(models.TextChoices):
    SIGNATURE = "signature", _("signature")
    TRANSMISSION = "transmission", _("transmission à la préfecture")
    ARCHIVE = "archive", _("archivage")
    MAILSEC = "mailsec", _("courrier sécurisé")
    # Served inside Mutualis (the publication app registers its adapter, engine.register_internal).
    PUBLICATION = "publication", _("publication des actes")


class StepName(models.TextChoices):
    SIGNATURE = "signature", _("signature")
    TRANSMISSION = "transmission", _("transmission à la préfecture")
    PUBLICATION = "publication", _("publication")
    ARCHIVE = "archive", _("archivage électronique")
    MAILSEC = "mailsec", _("courrier sécurisé")
    HELIOS = "helios", _("transmission au comptable (Hélios)")


class State(models.TextChoices):
    CREATION = "creation", _("créé")
    SEND_IPARAPHEUR = "send-iparapheur", _("envoyé à la signature")
    RECU_IPARAPHEUR = "recu-iparapheur", _("signé")
    REJET_IPARAPHEUR = "rejet-iparapheur", _("signature refusée")
    ERREUR_IPARAPHEUR = "erreur-verif-iparapheur", _("erreur de signature")
    SEND_TDT = "send-tdt", _("transmis à la préfecture")
    ACQUITER_TDT = "acquiter-tdt", _("acquitté par la préfecture")
    REJET_TDT = "rejet-tdt", _("refusé par la préfecture")
    ERREUR_TDT = "tdt-error", _("erreur de transmission")
    SEND_HELIOS = "send-helios", _("transmis au comptable")
    ACQUITER_HELIOS = "acquiter-helios", _("acquitté par le comptable")
    REJET_HELIOS = "rejet-helios", _("refusé par le comptable")
    ERREUR_HELIOS = "erreur-helios", _("erreur de transmission Hélios")
    SEND_MAILSEC = "send-mailsec", _("envoyé par courrier sécurisé")
    RECEPTION = "reception", _("reçu par le destinataire")
    NON_RECU = "non-recu", _("non reçu")
    ERREUR_MAILSEC = "erreur-mailsec", _("erreur d'envoi du courrier")
    SEND_PUBLICATION = "send-publication", _("en cours de publication")
    PUBLICATION_OK = "publication-ok", _("publié")
    REJET_PUBLICATION = "rejet-publication", _("publication refusée")
    ERREUR_PUBLICATION = "erreur-publication", _("erreur de publication")
    SEND_ARCHIVE = "send-archive", _("versé à l'archive")
    ACCEPTER_SAE = "accepter-sae", _("archivé")
    REJET_SAE = "rejet-sae", _("refusé par l'archive")
    ERREUR_SAE = "erreur-envoie-sae", _("erreur d'archivage")
    TERMINE = "termine", _("terminé")
    ANNULATION = "annulation", _("annulé")


class Action(models.TextChoices):
    """What the log records; a state-changing action has the name of the state it leads to."""

    CREATION = "creation", _("création")
    SEND_IPARAPHEUR = "send-iparapheur", _("envoi à la signature")
    RECU_IPARAPHEUR = "recu-iparapheur", _("dossier signé")
    REJET_IPARAPHEUR = "rejet-iparapheur", _("signature refusée")
    ERREUR_IPARAPHEUR = "erreur-verif-iparapheur", _("erreur de signature")
    SEND_TDT = "send-tdt", _("transmission à la préfecture")
    ACQUITER_TDT = "acquiter-tdt", _("accusé de réception de la préfecture")
    REJET_TDT = "rejet-tdt", _("refus de la préfecture")
    ERREUR_TDT = "tdt-error", _("erreur de transmission")
    SEND_HELIOS = "send-helios", _("transmission au comptable (Hélios)")
    ACQUITER_HELIOS = "acquiter-helios", _("acquittement du comptable (PES_ACQUIT)")
    REJET_HELIOS = "rejet-helios", _("refus du comptable (PES_ACQUIT)")
    ERREUR_HELIOS = "erreur-helios", _("erreur de transmission Hélios")
    SEND_MAILSEC = "send-mailsec", _("envoi par courrier sécurisé")
    RECEPTION = "reception", _("téléchargé par le destinataire")
    NON_RECU = "non-recu", _("non reçu après les relances")
    ERREUR_MAILSEC = "erreur-mailsec", _("erreur d'envoi du courrier")
    SEND_PUBLICATION = "send-publication", _("mise en ligne de l'acte")
    PUBLICATION_OK = "publication-ok", _("acte publié")
    REJET_PUBLICATION = "rejet-publication", _("publication refusée")
    ERREUR_PUBLICATION = "erreur-publication", _("erreur de publication")
    SEND_ARCHIVE = "send-archive", _("versement à l'archive")
    ACCEPTER_SAE = "accepter-sae", _("versement accepté")
    REJET_SAE = "rejet-sae", _("versement refusé")
    ERREUR_SAE = "erreur-envoie-sae", _("erreur d'archivage")
    TERMINE = "termine", _("fin du flux")
    ANNULATION = "annulation", _("annulation")
    # These two keep the state: a failed call that will be tried again, and a retry asked by a person.
    NOUVEL_ESSAI = "nouvel-essai", _("échec, nouvel essai prévu")
    REPRISE = "reprise", _("reprise après erreur")
    SKIPPED = "etape-non-disponible", _("étape non disponible")


@dataclass(frozen=True)
class Step:
    """One step of a flow: the port it calls and the states it leads to."""

    name: str
    port: str | None  # None: the step exists in the flow but has no engine yet
    sent: str
    done: str
    rejected: str
    error: str
    # Whether the protocol lets a pending remote object be withdrawn (As@lae has no withdrawal).
    cancellable: bool = True


SIGNATURE = Step(
    StepName.SIGNATURE,
    Port.SIGNATURE,
    State.SEND_IPARAPHEUR,
    State.RECU_IPARAPHEUR,
    State.REJET_IPARAPHEUR,
    State.ERREUR_IPARAPHEUR,
)
TRANSMISSION = Step(
    StepName.TRANSMISSION, Port.TRANSMISSION, State.SEND_TDT, State.ACQUITER_TDT, State.REJET_TDT, State.ERREUR_TDT
)
# Hélios: the PES Aller goes to the Treasury through the member's S²low account (its Hélios module);
# S²low offers no withdrawal of a PES once posted.
HELIOS = Step(
    StepName.HELIOS,
    Port.TRANSMISSION,
    State.SEND_HELIOS,
    State.ACQUITER_HELIOS,
    State.REJET_HELIOS,
    State.ERREUR_HELIOS,
    cancellable=False,
)
# Publication of acts (décret 2021-1311) on the member's public pages, inside Mutualis (publication app):
# put online once, never withdrawn by the flow (a correction is a new version).
PUBLICATION = Step(
    StepName.PUBLICATION,
    Port.PUBLICATION,
    State.SEND_PUBLICATION,
    State.PUBLICATION_OK,
    State.REJET_PUBLICATION,
    State.ERREUR_PUBLICATION,
    cancellable=False,
)
ARCHIVE = Step(
    StepName.ARCHIVE,
    Port.ARCHIVE,
    State.SEND_ARCHIVE,
    State.ACCEPTER_SAE,
    State.REJET_SAE,
    State.ERREUR_SAE,
    cancellable=False,
)

# The payslips (Pastell's rh-bulletin-salaire): each payslip chooses the secure mail, the month's batch
# the archive (one transfer per batch, flows/payslips.py).
MAILSEC = Step(
    StepName.MAILSEC, Port.MAILSEC, State.SEND_MAILSEC, State.RECEPTION, State.NON_RECU, State.ERREUR_MAILSEC
)

FLOW_STEPS: dict[str, tuple[Step, ...]] = {
    FlowType.ACTE: (SIGNATURE, TRANSMISSION, PUBLICATION, ARCHIVE),
    FlowType.DOCUMENT_A_SIGNER: (SIGNATURE, ARCHIVE),
    FlowType.PAYSLIP: (MAILSEC, ARCHIVE),
    FlowType.HELIOS: (HELIOS, ARCHIVE),
}
AVAILABLE_STEPS = frozenset(s.name for steps in FLOW_STEPS.values() for s in steps if s.port is not None)

FINAL_STATES = frozenset(
    {
        State.TERMINE,
        State.ANNULATION,
        State.REJET_IPARAPHEUR,
        State.REJET_TDT,
        State.REJET_SAE,
        State.NON_RECU,
        State.REJET_HELIOS,
        State.REJET_PUBLICATION,
    }
)
ERROR_STATES = frozenset(
    {
        State.ERREUR_IPARAPHEUR,
        State.ERREUR_TDT,
        State.ERREUR_SAE,
        State.ERREUR_MAILSEC,
        State.ERREUR_HELIOS,
        State.ERREUR_PUBLICATION,
    }
)
WAITING_STATES = frozenset(
    {
        State.SEND_IPARAPHEUR,
        State.SEND_TDT,
        State.SEND_ARCHIVE,
        State.SEND_MAILSEC,
        State.SEND_HELIOS,
        State.SEND_PUBLICATION,
    }
)


class By(models.TextChoices):
    PERSON = "person", _("personne")
    SYSTEM = "system", _("moteur")


@dataclass(frozen=True)
class Transition:
    flow: str
    action: str
    source: str
    target: str
    by: str


def _flow_transitions(flow: str, steps: tuple[Step, ...]) -> list[Transition]:
    rows: list[Transition] = []
    starts: list[str] = [State.CREATION]
    for step in steps:
        if step.port is None:
            continue
        for source in starts:
            rows.append(Transition(flow, step.sent, source, step.sent, By.SYSTEM))
            # A submission refused for good (a missing setting, a malformed act) fails the step.
            rows.append(Transition(flow, step.error, source, step.error, By.SYSTEM))
        for outcome in (step.done, step.rejected, step.error):
            rows.append(Transition(flow, outcome, step.sent, outcome, By.SYSTEM))
        if step.cancellable:
            rows.append(Transition(flow, State.ANNULATION, step.sent, State.ANNULATION, By.PERSON))
        starts.append(step.done)
    for source in starts:
        rows.append(Transition(flow, State.TERMINE, source, State.TERMINE, By.SYSTEM))
        rows.append(Transition(flow, State.ANNULATION, source, State.ANNULATION, By.PERSON))
    for step in steps:
        if step.port is not None:
            rows.append(Transition(flow, State.ANNULATION, step.error, State.ANNULATION, By.PERSON))
    return rows


TRANSITIONS: tuple[Transition, ...] = tuple(
    t for flow, steps in FLOW_STEPS.items() for t in _flow_transitions(flow, steps)
)
TRANSITION_TABLE: dict[tuple[str, str, str], Transition] = {(t.flow, t.action, t.source): t for t in TRANSITIONS}


def step_of_state(flow: str, state: str) -> Step | None:
    """The step a waiting, rejected or failed state belongs to."""
    for step in FLOW_STEPS[flow]:
        if step.port is not None and state in {step.sent, step.done, step.rejected, step.error}:
            return step
    return None
