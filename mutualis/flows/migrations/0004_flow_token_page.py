"""Flow tokens get a page: who created each one and when an application last used it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("flows", "0003_helios"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="flowtoken",
            options={
                "ordering": ["-created_at", "-pk"],
                "verbose_name": "jeton de flux",
                "verbose_name_plural": "jetons de flux",
            },
        ),
        migrations.AddField(
            model_name="flowtoken",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="créé par",
            ),
        ),
        migrations.AddField(
            model_name="flowtoken",
            name="last_used_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="dernière utilisation"),
        ),
    ]
