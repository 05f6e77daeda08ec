"""The helpdesk's mail for Prometheus (`/metriques/`): the outbox by state and the inbound mail by
outcome, two grouped queries whatever the number of rows. Registered with core's metrics from
HelpdeskConfig.ready (core sits below the helpdesk and never imports it)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Q
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from mutualis.helpdesk.mail_models import InboundMail, InboundOutcome
from mutualis.helpdesk.outbox_models import Notification, NotificationStatus


def mail_metrics() -> Iterator[Metric]:
    outbox = Notification.objects.aggregate(
        **{status.value: Count("pk", filter=Q(status=status)) for status in NotificationStatus},
        retrying=Count("pk", filter=Q(status=NotificationStatus.PENDING, tries__gt=0)),
    )
    states = GaugeMetricFamily(
        "mutualis_mail_outbox",
        "Notification mails by state (sent: delivered to the mail server; failed: refused until "
        "given up, shown to operator admins).",
        labels=["status"],
    )
    for status in NotificationStatus:
        states.add_metric([status.value], outbox[status.value])
    yield states
    yield GaugeMetricFamily(
        "mutualis_mail_retrying",
        "Notification mails the mail server refused at least once, waiting for their next try.",
        value=outbox["retrying"],
    )
    inbound = InboundMail.objects.aggregate(
        **{outcome.value: Count("pk", filter=Q(outcome=outcome)) for outcome in InboundOutcome}
    )
    received = GaugeMetricFamily(
        "mutualis_mail_inbound",
        "Messages read from the helpdesk mailbox by outcome (refused: no ticket or followup made).",
        labels=["outcome"],
    )
    for outcome in InboundOutcome:
        received.add_metric([outcome.value], inbound[outcome.value])
    yield received
