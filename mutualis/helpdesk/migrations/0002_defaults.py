"""A fresh install's defaults: the support calendar (Mon–Fri 08:30–12:30, 13:30–17:30,
Europe/Paris, French public holidays), GLPI's default priority matrix, and the reference
operator's commitment that blocking incidents are solved within 2 business days."""

import datetime as dt

from django.db import migrations

# GLPI's default priority matrix: urgency → {impact: priority}.
MATRIX = {
    5: {5: 5, 4: 5, 3: 5, 2: 4, 1: 4},
    4: {5: 5, 4: 4, 3: 4, 2: 3, 1: 3},
    3: {5: 5, 4: 4, 3: 3, 2: 2, 1: 2},
    2: {5: 4, 4: 3, 3: 2, 2: 2, 1: 1},
    1: {5: 4, 4: 3, 3: 2, 2: 1, 1: 1},
}


def create(apps, schema_editor):
    Calendar = apps.get_model("helpdesk", "Calendar")
    OpeningInterval = apps.get_model("helpdesk", "OpeningInterval")
    PriorityCell = apps.get_model("helpdesk", "PriorityCell")
    SlaPolicy = apps.get_model("helpdesk", "SlaPolicy")
    calendar, created = Calendar.objects.get_or_create(
        slug="standard",
        defaults={"name": "Horaires du support", "timezone": "Europe/Paris", "use_french_holidays": True, "is_default": True},
    )
    if created:
        OpeningInterval.objects.bulk_create(
            OpeningInterval(calendar=calendar, weekday=day, start=start, end=end)
            for day in range(5)
            for start, end in ((dt.time(8, 30), dt.time(12, 30)), (dt.time(13, 30), dt.time(17, 30)))
        )
    for urgency, row in MATRIX.items():
        for impact, priority in row.items():
            PriorityCell.objects.get_or_create(urgency=urgency, impact=impact, defaults={"priority": priority})
    SlaPolicy.objects.get_or_create(
        name="Incidents bloquants : résolus en 2 jours ouvrés",
        defaults={
            "ticket_type": "incident", "blocking_only": True, "calendar": calendar,
            "tto_value": None, "tto_unit": "hours", "ttr_value": 2, "ttr_unit": "days",
            "escalation_percents": "50,75,100", "active": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
