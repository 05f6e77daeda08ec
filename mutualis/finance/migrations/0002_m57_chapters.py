"""Seed the M57 chapters (nomenclature by nature) that imports refer to by code.

The list is inlined: data migrations never import app code."""

from django.db import migrations

F, I = "fonctionnement", "investissement"
REAL, ORDER, CARRIED = "reel", "ordre", "report"
CHAPTERS = [
    (F, "002", "Résultat de fonctionnement reporté", CARRIED),
    (F, "011", "Charges à caractère général", REAL),
    (F, "012", "Charges de personnel et frais assimilés", REAL),
    (F, "013", "Atténuations de charges", REAL),
    (F, "014", "Atténuations de produits", REAL),
    (F, "022", "Dépenses imprévues", REAL),
    (F, "023", "Virement à la section d'investissement", ORDER),
    (F, "042", "Opérations d'ordre de transfert entre sections", ORDER),
    (F, "043", "Opérations d'ordre à l'intérieur de la section de fonctionnement", ORDER),
    (F, "65", "Autres charges de gestion courante", REAL),
    (F, "66", "Charges financières", REAL),
    (F, "67", "Charges spécifiques", REAL),
    (F, "68", "Dotations aux amortissements, dépréciations et provisions", REAL),
    (F, "70", "Produits des services, du domaine et ventes diverses", REAL),
    (F, "73", "Impôts et taxes", REAL),
    (F, "731", "Fiscalité locale", REAL),
    (F, "74", "Dotations et participations", REAL),
    (F, "75", "Autres produits de gestion courante", REAL),
    (F, "76", "Produits financiers", REAL),
    (F, "77", "Produits spécifiques", REAL),
    (F, "78", "Reprises sur amortissements, dépréciations et provisions", REAL),
    (I, "001", "Solde d'exécution de la section d'investissement reporté", CARRIED),
    (I, "020", "Dépenses imprévues", REAL),
    (I, "021", "Virement de la section de fonctionnement", ORDER),
    (I, "024", "Produits des cessions d'immobilisations", REAL),
    (I, "040", "Opérations d'ordre de transfert entre sections", ORDER),
    (I, "041", "Opérations patrimoniales", ORDER),
    (I, "10", "Dotations, fonds divers et réserves", REAL),
    (I, "13", "Subventions d'investissement", REAL),
    (I, "16", "Emprunts et dettes assimilées", REAL),
    (I, "20", "Immobilisations incorporelles", REAL),
    (I, "204", "Subventions d'équipement versées", REAL),
    (I, "21", "Immobilisations corporelles", REAL),
    (I, "22", "Immobilisations reçues en affectation", REAL),
    (I, "23", "Immobilisations en cours", REAL),
    (I, "26", "Participations et créances rattachées à des participations", REAL),
    (I, "27", "Autres immobilisations financières", REAL),
    (I, "45", "Opérations pour compte de tiers", REAL),
]


def seed(apps, schema_editor):
    Chapter = apps.get_model("finance", "Chapter")
    for section, code, label, kind in CHAPTERS:
        Chapter.objects.update_or_create(section=section, code=code, defaults={"label": label, "kind": kind})


def unseed(apps, schema_editor):
    Chapter = apps.get_model("finance", "Chapter")
    for section, code, _label, _kind in CHAPTERS:
        Chapter.objects.filter(section=section, code=code).delete()


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
