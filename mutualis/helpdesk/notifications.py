"""Who hears about what happens to a ticket; mail leaves after the transaction commits, through
a background task (Django's tasks API) that renders and sends it."""

from __future__ import annotations

EVENTS = ("created", "assigned", "followup", "solved", "closed", "escalated", "reopened", "refused", "merged")
# What the member side (requester, watchers) hears about; escalations and refusals are the
# operator's business. Private followups never reach notify at all (services.followup_add).
MEMBER_EVENTS = {"created", "assigned", "followup", "solved", "closed", "reopened", "merged"}
OPERATOR_EVENTS = {"created", "assigned", "followup", "escalated", "reopened", "refused"}


def recipients(ticket, event: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Requester and watchers hear about everything public; the technician (or, without one, the
    group's staff) hears about what needs the operator. Inactive accounts hear nothing."""
    people = []
    if event in MEMBER_EVENTS and ticket.requester:
        people.append(ticket.requester)
    for watcher in ticket.watchers.all():
        if event in MEMBER_EVENTS or watcher.is_operator:
            people.append(watcher)
    if event in OPERATOR_EVENTS:
        if ticket.technician_id:
            people.append(ticket.technician)
        elif ticket.group_id:
            people.extend(ticket.group.staff.filter(is_active=True))
    return sorted({p.email.strip() for p in people if p and p.is_active and p.email and p.email.strip()})


def notify(ticket, event: str, *, summary: str = "") -> None:  # type: ignore[no-untyped-def]
    """Record `event`'s mail in the outbox and queue its sending; nothing leaves if the write
    rolls back (the row and, with the database backend, its job commit with the write), and it
    leaves once however often its task runs (mutualis/helpdesk/outbox.py)."""
    from mutualis.helpdesk import outbox  # outbox imports this module (recipients)

    assert event in EVENTS, event
    outbox.enqueue(outbox.notification_create(ticket=ticket, event=event, summary=summary))
