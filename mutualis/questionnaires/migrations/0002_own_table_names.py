"""The questionnaires take this app's table, column and constraint names (helpdesk_requestform →
questionnaires_questionnaire, form_id → questionnaire_id, …): renames only, every row stays."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0011_request_forms_to_questionnaires"),
        ("questionnaires", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="question", name="form_question_key_unique"),
        migrations.RemoveConstraint(model_name="question", name="form_question_ticket_field_unique"),
        migrations.AlterModelTable(name="questionnaire", table=None),
        migrations.AlterModelTable(name="section", table=None),
        migrations.AlterModelTable(name="question", table=None),
        migrations.AlterField(
            model_name="section",
            name="questionnaire",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="sections",
                to="questionnaires.questionnaire",
            ),
        ),
        migrations.AlterField(
            model_name="question",
            name="questionnaire",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="questions",
                to="questionnaires.questionnaire",
            ),
        ),
        migrations.AddConstraint(
            model_name="question",
            constraint=models.UniqueConstraint(fields=("questionnaire", "key"), name="question_key_unique"),
        ),
        migrations.AddConstraint(
            model_name="question",
            constraint=models.UniqueConstraint(
                condition=models.Q(("ticket_field", ""), _negated=True),
                fields=("questionnaire", "ticket_field"),
                name="question_ticket_field_unique",
            ),
        ),
    ]
