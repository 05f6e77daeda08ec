"""The demo's document flows: a few members get connectors pointing to the local servers
(`mutualis flows_localservers`), bound to the acts, documents-to-sign and Hélios flows, so an act uploaded
in the demo goes to signature, to the prefecture and to the archive for real (over loopback). The
first of them also reads an existing Pastell (the local one's entity 2) on its « Pastell » page."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mutualis.flows.adapters.base import POLL_SECONDS
from mutualis.flows.enums import FlowType, Port
from mutualis.flows.localservers import asalae, iparapheur, pastell
from mutualis.flows.localservers.launcher import demo_url
from mutualis.flows.localservers.s2low import make_certificates
from mutualis.flows.models import ConnectorInstance, FlowBinding
from mutualis.flows.secrets import encrypt
from mutualis.members.models import Organisation

DEMO_MEMBERS = 3
# The local Pastell's entity whose documents the first demo member's Pastell page shows.
DEMO_PASTELL_ENTITY = "2"
# The local servers answer in seconds: the demo's connectors poll them every 5 s, not every 5–30 min.
DEMO_POLL_SECONDS = "5"


# Which flows each demo connector serves: the S²low account sends acts and PES files (Hélios).
DEMO_FLOWS = {
    Port.SIGNATURE: (FlowType.ACTE, FlowType.DOCUMENT_A_SIGNER),
    Port.TRANSMISSION: (FlowType.ACTE, FlowType.HELIOS),
    Port.ARCHIVE: (FlowType.ACTE, FlowType.DOCUMENT_A_SIGNER, FlowType.HELIOS),
}


def _department(insee_code: str) -> str:
    if insee_code.startswith("97"):
        return insee_code[:3]
    return "0" + insee_code[:2]


def load_flows_demo(*, members: int = DEMO_MEMBERS, ports: dict[str, int] | None = None) -> int:
    """Connectors for the first `members` communes with a SIREN and an INSEE code; idempotent.
    Returns how many connectors exist for them afterwards. `ports`: the servers' ports when not the
    demo's fixed ones (tests)."""
    chosen = list(
        Organisation.objects.members()
        .filter(kind="commune")
        .exclude(siren="")
        .exclude(insee_code="")
        .order_by("name")[:members]
    )
    if not chosen:
        return 0
    # A real client certificate for the S²low connectors (the demo's S²low is plain HTTP and does
    # not ask for it; the connector's settings want one, as a real S²low does).
    with tempfile.TemporaryDirectory() as directory:
        certificates = make_certificates(Path(directory))
    count = 0
    for member in chosen:
        if not member.department:
            member.department = _department(member.insee_code)
            member.arrondissement = member.arrondissement or "1"
            member.save(update_fields=["department", "arrondissement", "updated_at"])
        connectors = (
            (
                "iparapheur",
                Port.SIGNATURE,
                "i-Parapheur (démo)",
                {
                    "url": demo_url("iparapheur", ports),
                    "realm": "api",
                    "client_id": iparapheur.DEMO_CLIENT_ID,
                    "username": iparapheur.DEMO_USERNAME,
                    "tenant_id": "tenant-1",
                    "desk_id": "desk-1",
                    "type": "ACTES",
                    "subtype": "Délibération",
                    POLL_SECONDS: DEMO_POLL_SECONDS,
                },
                {"password": iparapheur.DEMO_PASSWORD},
            ),
            (
                "s2low",
                Port.TRANSMISSION,
                "S²low (démo)",
                {"url": demo_url("s2low", ports), POLL_SECONDS: DEMO_POLL_SECONDS},
                {"certificate": certificates.client_cert_pem, "private_key": certificates.client_key_pem},
            ),
            (
                "asalae",
                Port.ARCHIVE,
                "As@lae (démo)",
                {
                    "url": demo_url("asalae", ports),
                    "login": asalae.DEMO_LOGIN,
                    "transferring_agency": member.siren,
                    POLL_SECONDS: DEMO_POLL_SECONDS,
                },
                {"password": asalae.DEMO_PASSWORD},
            ),
        )
        for kind, port, label, config, secret in connectors:
            instance, created = ConnectorInstance.objects.get_or_create(
                member=member, label=label, defaults={"kind": kind, "config": config, "secrets": encrypt(secret)}
            )
            count += 1
            for flow in DEMO_FLOWS[port]:
                FlowBinding.objects.get_or_create(member=member, flow=flow, port=port, defaults={"instance": instance})
    # Supervision only: no flow is bound to it, its page reads the local Pastell's documents.
    ConnectorInstance.objects.get_or_create(
        member=chosen[0],
        label="Pastell (démo)",
        defaults={
            "kind": "pastell",
            "config": {
                "url": demo_url("pastell", ports),
                "login": pastell.DEMO_LOGIN,
                "entity_id": DEMO_PASTELL_ENTITY,
            },
            "secrets": encrypt({"password": pastell.DEMO_PASSWORD}),
        },
    )
    return count + 1
