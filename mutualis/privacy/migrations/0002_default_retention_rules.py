"""The default retention rules (docs/privacy.md says why each duration): written once, then the
operator's data protection officer changes them on /donnees-personnelles/conservation/."""

from django.db import migrations
from django.utils import timezone

# Copied, not imported: a data migration never imports app code.
DEFAULTS = {
    "closed_tickets": 60,
    "inactive_agents": 12,
    "login_traces": 12,
    "inbound_mail": 12,
    "sessions": 0,
}


def forwards(apps, schema_editor):
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    now = timezone.now()
    for kind, months in DEFAULTS.items():
        RetentionRule.objects.get_or_create(
            kind=kind, defaults={"months": months, "enabled": True, "created_at": now, "updated_at": now}
        )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_retention_and_requests")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
