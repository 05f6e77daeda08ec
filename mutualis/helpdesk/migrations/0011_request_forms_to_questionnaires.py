"""The request forms now belong to the questionnaires app (its 0001 declares them on these very
tables): the helpdesk forgets them in its state only; no table is dropped."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0010_inbound_mail"),
        ("questionnaires", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="FormQuestion"),
                migrations.DeleteModel(name="FormSection"),
                migrations.DeleteModel(name="RequestForm"),
            ],
        ),
    ]
