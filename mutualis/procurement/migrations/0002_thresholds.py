"""Reference thresholds of French public procurement, dated (data migration; no app code)."""

from decimal import Decimal

from django.db import migrations

# (kind, amount € HT, in force from, text)
THRESHOLDS = [
    ("eu_fournitures_services", "214000", "2020-01-01", "Règlement délégué (UE) 2019/1828"),
    ("eu_fournitures_services", "215000", "2022-01-01", "Règlement délégué (UE) 2021/1952"),
    ("eu_fournitures_services", "221000", "2024-01-01", "Règlement délégué (UE) 2023/2497"),
    ("eu_fournitures_services", "216000", "2026-01-01", "Règlements délégués (UE) de 2025"),
    ("eu_travaux", "5350000", "2020-01-01", "Règlement délégué (UE) 2019/1828"),
    ("eu_travaux", "5382000", "2022-01-01", "Règlement délégué (UE) 2021/1952"),
    ("eu_travaux", "5538000", "2024-01-01", "Règlement délégué (UE) 2023/2497"),
    ("eu_travaux", "5404000", "2026-01-01", "Règlements délégués (UE) de 2025"),
    ("dispense_publicite", "40000", "2020-01-01", "Code de la commande publique, art. R2122-8 (décret 2019-1344)"),
    ("publicite_boamp", "90000", "2019-04-01", "Code de la commande publique, art. R2131-12"),
]


def forwards(apps, schema_editor):
    Threshold = apps.get_model("procurement", "Threshold")
    for kind, amount, valid_from, source in THRESHOLDS:
        Threshold.objects.update_or_create(
            kind=kind, valid_from=valid_from, defaults={"amount_ht": Decimal(amount), "source": source}
        )


def backwards(apps, schema_editor):
    Threshold = apps.get_model("procurement", "Threshold")
    for kind, _amount, valid_from, _source in THRESHOLDS:
        Threshold.objects.filter(kind=kind, valid_from=valid_from).delete()


class Migration(migrations.Migration):
    dependencies = [("procurement", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
