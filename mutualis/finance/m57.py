"""The M57 chapters (nomenclature by nature) imports refer to by code.

Migration 0002 seeds the same list (a data migration keeps its own copy); `m57_ensure` puts back
what a database flush removed, so the demo loader never depends on migration-time rows."""

from __future__ import annotations

from mutualis.finance.models import Chapter

F, INV = "fonctionnement", "investissement"
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
    (INV, "001", "Solde d'exécution de la section d'investissement reporté", CARRIED),
    (INV, "020", "Dépenses imprévues", REAL),
    (INV, "021", "Virement de la section de fonctionnement", ORDER),
    (INV, "024", "Produits des cessions d'immobilisations", REAL),
    (INV, "040", "Opérations d'ordre de transfert entre sections", ORDER),
    (INV, "041", "Opérations patrimoniales", ORDER),
    (INV, "10", "Dotations, fonds divers et réserves", REAL),
    (INV, "13", "Subventions d'investissement", REAL),
    (INV, "16", "Emprunts et dettes assimilées", REAL),
    (INV, "20", "Immobilisations incorporelles", REAL),
    (INV, "204", "Subventions d'équipement versées", REAL),
    (INV, "21", "Immobilisations corporelles", REAL),
    (INV, "22", "Immobilisations reçues en affectation", REAL),
    (INV, "23", "Immobilisations en cours", REAL),
    (INV, "26", "Participations et créances rattachées à des participations", REAL),
    (INV, "27", "Autres immobilisations financières", REAL),
    (INV, "45", "Opérations pour compte de tiers", REAL),
]


def m57_ensure() -> int:
    """Create the missing chapters; returns how many were created."""
    existing = set(Chapter.objects.values_list("section", "code"))
    missing = [
        Chapter(section=section, code=code, label=label, kind=kind)
        for section, code, label, kind in CHAPTERS
        if (section, code) not in existing
    ]
    Chapter.objects.bulk_create(missing)
    return len(missing)
