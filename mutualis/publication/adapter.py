"""The publication step's adapter, served inside Mutualis (flows.engine.register_internal): submit puts
the act online and answers the publication's id, poll answers DONE at once with its receipt."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mutualis.flows import ports
from mutualis.flows.models import FlowDocument
from mutualis.publication import services
from mutualis.publication.models import PublicationLogEntry, PublishedAct


class PublicationAdapter:
    def skip_reason(self, document: FlowDocument) -> str:
        return services.skip_reason(document)

    def submit(self, document: FlowDocument, main: ports.FileToSend, *, idempotency_key: str) -> str:
        try:
            act = services.act_publish(document=document, content=main.content, file_name=main.name, now=timezone.now())
        except ValidationError as error:
            raise ports.UnrecoverableError(" ; ".join(error.messages)) from error
        return str(act.pk)

    def poll(self, remote_id: str) -> ports.Outcome:
        act = PublishedAct.objects.select_related("member").filter(pk=int(remote_id)).first()
        if act is None:
            raise ports.UnrecoverableError(f"publication {remote_id} introuvable")
        entry = PublicationLogEntry.objects.filter(act=act).order_by("seq").first()
        receipt = {
            "publication": act.pk,
            "member": act.member.slug,
            "number": act.number,
            "version": act.version,
            "published_at": act.published_at.isoformat(),
            "sha256": act.sha256,
            "size": act.size,
            "url": reverse("publication:act", args=[act.member.slug, act.pk]),
            "log_seq": entry.seq if entry else None,
            "log_digest": entry.digest if entry else None,
        }
        body = json.dumps(receipt, ensure_ascii=False, indent=2).encode()
        return ports.Outcome(
            ports.RemoteState.DONE,
            message=f"Acte en ligne (version {act.version}, SHA-256 {act.sha256}).",
            proofs={f"publication-{act.number}-v{act.version}.json": body},
        )
