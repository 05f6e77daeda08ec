"""Default service-level policies, as GLPI users expect them: one per ticket type and priority
(1 « très basse » … 6 « majeure »), times to own in business hours and times to resolve in
business days on the default calendar, the blocking incidents' rule (resolved within 2 business
days, owned within the hour) the tightest of all.

Why a migration, like the calendar and the matrix of 0002: due dates are computed when a ticket
is opened, so a ticket filed before an admin thought of creating policies would never get any;
an operator gets them on a fresh install and edits them on the configuration pages. An install
that already defines policies of its own is left alone (only 0002's blocking rule counts as a
default)."""

from django.db import migrations

BLOCKING = "Incidents bloquants : résolus en 2 jours ouvrés"
LABELS = {1: "très basse", 2: "basse", 3: "moyenne", 4: "haute", 5: "très haute", 6: "majeure"}
# ticket type → priority → (time to own in business hours, time to resolve in business days)
DEFAULTS = {
    "incident": {6: (1, 3), 5: (2, 3), 4: (4, 5), 3: (8, 10), 2: (16, 15), 1: (16, 20)},
    "request": {6: (2, 5), 5: (4, 5), 4: (8, 10), 3: (8, 15), 2: (16, 20), 1: (16, 30)},
}
TYPE_NAMES = {"incident": "Incidents", "request": "Demandes"}


def create(apps, schema_editor):
    Calendar = apps.get_model("helpdesk", "Calendar")
    SlaPolicy = apps.get_model("helpdesk", "SlaPolicy")
    if SlaPolicy.objects.exclude(name=BLOCKING).exists():
        return  # the operator has its own policies
    calendar = Calendar.objects.filter(is_default=True).first()
    if calendar is None:
        return
    # 0002's rule resolves blocking incidents in 2 business days; to be the tightest it also
    # needs a time to own no longer than any priority's.
    SlaPolicy.objects.filter(name=BLOCKING, tto_value=None).update(tto_value=1, tto_unit="hours")
    for ticket_type, rows in DEFAULTS.items():
        for priority, (tto_hours, ttr_days) in rows.items():
            SlaPolicy.objects.get_or_create(
                name=f"{TYPE_NAMES[ticket_type]} de priorité {priority} ({LABELS[priority]})",
                defaults={
                    "ticket_type": ticket_type,
                    "priority": priority,
                    "blocking_only": False,
                    "calendar": calendar,
                    "tto_value": tto_hours,
                    "tto_unit": "hours",
                    "ttr_value": ttr_days,
                    "ttr_unit": "days",
                    "escalation_percents": "50,75,100",
                    "active": True,
                },
            )


def remove(apps, schema_editor):
    SlaPolicy = apps.get_model("helpdesk", "SlaPolicy")
    Ticket = apps.get_model("helpdesk", "Ticket")
    names = [
        f"{TYPE_NAMES[ticket_type]} de priorité {priority} ({LABELS[priority]})"
        for ticket_type, rows in DEFAULTS.items()
        for priority in rows
    ]
    SlaPolicy.objects.filter(name__in=names).exclude(
        pk__in=Ticket.objects.exclude(policy=None).values("policy_id")
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0008_policy_commitments_priority_major")]
    operations = [migrations.RunPython(create, remove)]
