"""A service-level policy measures any number of the catalogue's commitments (it named at most
one); priorities go up to GLPI's 6 (« majeure »)."""

import django.core.validators
from django.db import migrations, models

PRIORITY_SCALE = [django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(6)]


def copy_commitment(apps, schema_editor):
    SlaPolicy = apps.get_model("helpdesk", "SlaPolicy")
    Through = SlaPolicy.commitments.through
    Through.objects.bulk_create(
        Through(slapolicy_id=policy_id, servicecommitment_id=commitment_id)
        for policy_id, commitment_id in SlaPolicy.objects.exclude(commitment=None).values_list("pk", "commitment_id")
    )


def copy_back(apps, schema_editor):
    SlaPolicy = apps.get_model("helpdesk", "SlaPolicy")
    for link in SlaPolicy.commitments.through.objects.order_by("pk"):
        SlaPolicy.objects.filter(pk=link.slapolicy_id).update(commitment_id=link.servicecommitment_id)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_application_url"),
        ("helpdesk", "0007_notification_outbox"),
    ]

    operations = [
        # The old key gives up its reverse name for the new relation while the data moves.
        migrations.AlterField(
            model_name="slapolicy",
            name="commitment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="catalog.servicecommitment",
                verbose_name="engagement de service",
            ),
        ),
        migrations.AddField(
            model_name="slapolicy",
            name="commitments",
            field=models.ManyToManyField(
                blank=True,
                related_name="sla_policies",
                to="catalog.servicecommitment",
                verbose_name="engagements de service mesurés",
            ),
        ),
        migrations.RunPython(copy_commitment, copy_back),
        migrations.RemoveField(model_name="slapolicy", name="commitment"),
        migrations.AlterField(
            model_name="prioritycell",
            name="priority",
            field=models.PositiveSmallIntegerField(validators=PRIORITY_SCALE, verbose_name="priorité"),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="priority",
            field=models.PositiveSmallIntegerField(
                blank=True, null=True, validators=PRIORITY_SCALE, verbose_name="priorité"
            ),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="priority",
            field=models.PositiveSmallIntegerField(default=3, validators=PRIORITY_SCALE, verbose_name="priorité"),
        ),
    ]
