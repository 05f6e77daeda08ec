"""A payroll manager becomes a manager of one flow (« gestionnaire du flux »): the table is renamed,
every existing row gets the payslips flow (the only right it gave), and the uniqueness moves from
(member, user) to (member, flow, user)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0004_flow_token_page"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="payrollmanager", name="flows_payroll_manager_unique"),
        migrations.RenameModel(old_name="PayrollManager", new_name="FlowManager"),
        migrations.AddField(
            model_name="flowmanager",
            name="flow",
            field=models.CharField(
                choices=[
                    ("actes-generique", "actes (délibérations, arrêtés)"),
                    ("document-a-signer", "document à signer"),
                    ("rh-bulletin-salaire", "bulletins de paie"),
                    ("helios-generique", "Hélios (PES au comptable)"),
                ],
                default="rh-bulletin-salaire",  # every row so far is a payroll manager
                max_length=40,
                verbose_name="flux",
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="flowmanager",
            name="member",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="flow_managers",
                to="members.organisation",
                verbose_name="adhérent",
            ),
        ),
        migrations.AlterField(
            model_name="flowmanager",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="flow_rights",
                to=settings.AUTH_USER_MODEL,
                verbose_name="compte",
            ),
        ),
        migrations.AlterModelOptions(
            name="flowmanager",
            options={
                "ordering": ["member", "flow", "created_at", "pk"],
                "verbose_name": "gestionnaire du flux",
                "verbose_name_plural": "gestionnaires des flux",
            },
        ),
        migrations.AddConstraint(
            model_name="flowmanager",
            constraint=models.UniqueConstraint(fields=("member", "flow", "user"), name="flows_manager_unique"),
        ),
    ]
