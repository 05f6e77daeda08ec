"""The reference operator's finance chapter (budget_5_years_principal, results_2022_principal,
restes_a_realiser_principal, budget_annexe_tno_2022 of the demo data set), loaded idempotently
by `load_demo` after the members and the catalogue.

Figures are loaded as the source prints them; where its tables disagree (the five-year totals
against the 2022 execution, the restes à réaliser against their parts, a carried-forward result
against the previous year's) the finance pages and the CLI report the gap as a warning."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.text import slugify

from mutualis.demo.errors import DemoFileError
from mutualis.finance.enums import BudgetKind, CarriedCode, Section, Side
from mutualis.finance.m57 import m57_ensure
from mutualis.finance.models import (
    Budget,
    BudgetYear,
    CarriedForward,
    Chapter,
    Cofinancing,
    CofinancingShare,
    ContributionCall,
    ContributionKey,
    ExecutionLine,
    RemainingCommitment,
    RemainingOperation,
    StatedTotal,
    TotalScope,
)
from mutualis.members.models import Organisation, OrganisationKind

# The five-year table's row labels and the M57 chapter each stands for.
CHAPTERS = {
    (Section.OPERATING, Side.EXPENSE): {
        "CHARGES A CARACTERES GENERAL": "011",
        "FRAIS DE PERSONNEL ET CHARGES ASSIMILEES": "012",
        "AUTRES CHARGES DE GESTION COURANTE": "65",
        "CHARGES FINANCIERES": "66",
        # A revenue label printed in the expense block (value 0): kept on the expense chapter 67.
        "PRODUITS EXCEPTIONNELS": "67",
        "DOTATIONS AUX PROVISIONS": "68",
        "OPERATIONS D'ORDRE DE TRANSFERT ENTRE SECTION": "042",
    },
    (Section.OPERATING, Side.REVENUE): {
        "ATTENUATIONS DE CHARGES": "013",
        "PRODUITS DES SCES, DU DOMAINE ET VENTES DIVERSES": "70",
        "DOTATIONS ET PARTICIPATIONS": "74",
        "REMBOURSEMENTS. SUBVENTIONS. PARTICIPATIONS": "74",
        "AUTRES PRODUITS DE GESTION COURANTE": "75",
        "PRODUITS EXCEPTIONNELS": "77",
        "RESULTAT DE FONCTIONNEMENT REPORTE": "002",
    },
    (Section.INVESTMENT, Side.EXPENSE): {
        "EMPRUNTS ET DETTES ASSIMILEES": "16",
        "IMMOBILISATIONS INCORPORELLES": "20",
        "IMMOBILISATIONS CORPORELLES": "21",
        "IMMOBILISATIONS EN COURS": "23",
        "OPERATIONS D'ORDRE DE TRANSFERT ENTRE SECTION": "040",
    },
    (Section.INVESTMENT, Side.REVENUE): {
        "DOTATIONS, FONDS DIVERS ET RESERVES": "10",
        "EMPRUNTS ET DETTES ASSIMILEES": "16",
        "IMMOBILISATIONS CORPORELLES": "21",
        "IMMOBILISATIONS EN COURS": "23",
        "OPERATIONS D'ORDRE DE TRANSFERT ENTRE SECTION": "040",
        "RESULTAT D'INVESTISSEMENT REPORTE": "001",
    },
}
SOURCE_5Y = "Rapport d'activité 2022, présentation détaillée du budget (euros entiers)"
SOURCE_2022 = "Rapport d'activité 2022, tableau « exécution du budget 2022 »"
DEMO_KEY = "applications-souscrites"


def _money(value: Any) -> Decimal:
    """A whole-euro figure or a {cents: …} entry of the data set, exactly."""
    if isinstance(value, dict):
        return Decimal(value["cents"]) / 100
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _operator() -> Organisation:
    operator = Organisation.objects.filter(kind=OrganisationKind.OPERATOR).first()
    if operator is None:
        raise DemoFileError("finance: the operator must be loaded before its budgets")
    return operator


def load_finance(data: dict[str, Any]) -> dict[str, int]:
    """Create or update the principal budget 2018–2022, its 2022 results and restes à réaliser,
    the TNO annex budget and its co-financing, and a demonstration contribution call."""
    operator = _operator()
    m57_ensure()
    chapters = {(c.section, c.code): c for c in Chapter.objects.all()}
    principal, _ = Budget.objects.update_or_create(
        organisation=operator, slug="principal", defaults={"name": "Budget principal", "kind": BudgetKind.PRINCIPAL}
    )
    five = data["budget_5_years_principal"]
    years: dict[int, BudgetYear] = {}
    for (section, side), mapping in CHAPTERS.items():
        block = five[section][side]
        for year_text, amount in block["total"].items():
            year = int(year_text)
            if year not in years:
                years[year], _ = BudgetYear.objects.update_or_create(
                    budget=principal, year=year, defaults={"source": SOURCE_5Y}
                )
                years[year].lines.all().delete()
            StatedTotal.objects.update_or_create(
                budget_year=years[year],
                section=section,
                side=side,
                scope=TotalScope.CUMULATIVE,
                defaults={"amount": _money(amount), "source": SOURCE_5Y},
            )
        for label, by_year in block["chapters"].items():
            if label not in mapping:
                raise DemoFileError(f"entry /budget_5_years_principal/{section}/{side}/chapters: unknown row {label!r}")
            chapter = chapters[(section, mapping[label])]
            ExecutionLine.objects.bulk_create(
                ExecutionLine(budget_year=years[int(y)], chapter=chapter, side=side, label=label, amount=_money(v))
                for y, v in by_year.items()
                if v is not None
            )
    _load_results_2022(data, years[2022])
    tno = _load_annex(data, operator)
    _load_contribution_call(five, years[2022])
    return {"budgets": 2, "budget_years": len(years) + 1, "tno_year": tno.pk}


def _load_results_2022(data: dict[str, Any], budget_year: BudgetYear) -> None:
    results = data["results_2022_principal"]
    budget_year.source = f"{SOURCE_5Y} ; {SOURCE_2022}"
    budget_year.save(update_fields=["source", "updated_at"])
    for section in Section.values:
        exercise = results[section]["exercice_2022"]
        for side in Side.values:
            StatedTotal.objects.update_or_create(
                budget_year=budget_year,
                section=section,
                side=side,
                scope=TotalScope.YEAR,
                defaults={"amount": _money(exercise[side]), "source": SOURCE_2022},
            )
    r002 = results["fonctionnement"]["resultat_anterieur_2021_reporte_R002"]["recettes"]
    r001 = results["investissement"]["resultat_anterieur_2021_reporte_R001"]["solde"]
    _carried(budget_year, Section.OPERATING, _money(r002))
    _carried(budget_year, Section.INVESTMENT, _money(r001))
    rar = results["investissement"]["restes_a_realiser_31_12_2022"]
    parts = data.get("restes_a_realiser_principal", {})
    for side in Side.values:
        item, _ = RemainingCommitment.objects.update_or_create(
            budget_year=budget_year,
            section=Section.INVESTMENT,
            side=side,
            defaults={
                "amount": _money(rar[side]),
                "mutualised_amount": _money(parts["parts_mutualisees"]["amount_eur"])
                if side == Side.EXPENSE and "parts_mutualisees" in parts
                else None,
                "personalised_amount": _money(parts["parts_personnalisees"]["amount_eur"])
                if side == Side.EXPENSE and "parts_personnalisees" in parts
                else None,
            },
        )
        if side == Side.EXPENSE:
            _operations(item, parts.get("main_operations", []))


def _carried(budget_year: BudgetYear, section: str, signed: Decimal) -> None:
    surplus, deficit = (
        (CarriedCode.R002, CarriedCode.D002) if section == Section.OPERATING else (CarriedCode.R001, CarriedCode.D001)
    )
    keep, drop = (surplus, deficit) if signed >= 0 else (deficit, surplus)
    CarriedForward.objects.filter(budget_year=budget_year, code=drop).delete()
    CarriedForward.objects.update_or_create(budget_year=budget_year, code=keep, defaults={"amount": abs(signed)})


def _operations(item: RemainingCommitment, operations: list[dict[str, Any]]) -> None:
    item.operations.all().delete()
    RemainingOperation.objects.bulk_create(
        RemainingOperation(commitment=item, label=op["label_fr"], amount=_money(op["amount_eur"])) for op in operations
    )


def _load_annex(data: dict[str, Any], operator: Organisation) -> BudgetYear:
    annex = data["budget_annexe_tno_2022"]
    budget, _ = Budget.objects.update_or_create(
        organisation=operator, slug="tno", defaults={"name": annex["name"], "kind": BudgetKind.ANNEX}
    )
    budget_year, _ = BudgetYear.objects.update_or_create(
        budget=budget, year=2022, defaults={"source": "Rapport d'activité 2022, budget annexe TNO"}
    )
    for section in Section.values:
        exercise = annex[section]["exercice_2022"]
        for side in Side.values:
            StatedTotal.objects.update_or_create(
                budget_year=budget_year,
                section=section,
                side=side,
                scope=TotalScope.YEAR,
                defaults={"amount": _money(exercise[side]), "source": "Budget annexe TNO 2022"},
            )
    _carried(budget_year, Section.OPERATING, _money(annex["fonctionnement"]["resultat_anterieur_2021_reporte_R002"]))
    _carried(budget_year, Section.INVESTMENT, _money(annex["investissement"]["resultat_anterieur_2021_reporte_R001"]))
    rar = annex["investissement"]["restes_a_realiser_31_12_2022"]
    for side in Side.values:
        if side not in rar:
            continue
        item, _ = RemainingCommitment.objects.update_or_create(
            budget_year=budget_year, section=Section.INVESTMENT, side=side, defaults={"amount": _money(rar[side])}
        )
        if side == Side.EXPENSE:
            _operations(item, annex.get("rar_main_operations", []))
    call = annex.get("cofinancing_2022_called_in_2023")
    if call:
        cofinancing, _ = Cofinancing.objects.update_or_create(
            budget_year=budget_year,
            defaults={
                "label": "Cofinancement des frais de fonctionnement TNO 2022",
                "amount": _money(call["total_eur"]),
                "called_in": 2023,
            },
        )
        sitiv = data.get("sitiv", {}).get("acronym")
        for index, share in enumerate(call["partners"]):
            name = share["partner"]
            partner = (
                operator
                if name == sitiv
                else Organisation.objects.filter(slug=slugify(name)).first()
                or Organisation.objects.create(slug=slugify(name), name=name, kind=OrganisationKind.PARTNER)
            )
            if partner is None:  # pragma: no cover - created above
                raise DemoFileError(f"entry /budget_annexe_tno_2022/cofinancing/partners/{index}: unknown partner")
            CofinancingShare.objects.update_or_create(
                cofinancing=cofinancing,
                partner=partner,
                defaults={"fixed_amount": _money(share["amount_eur"]), "percent": None},
            )
    return budget_year


def _load_contribution_call(five: dict[str, Any], budget_year: BudgetYear) -> None:
    key, _ = ContributionKey.objects.update_or_create(
        slug=DEMO_KEY,
        defaults={
            "name": "Applications souscrites",
            "population_weight": Decimal(0),
            "agents_weight": Decimal(0),
            "applications_weight": Decimal(100),
        },
    )
    participations = five["fonctionnement"]["recettes"]["chapters"]["REMBOURSEMENTS. SUBVENTIONS. PARTICIPATIONS"]
    ContributionCall.objects.update_or_create(
        budget_year=budget_year,
        defaults={
            "label": "Participations des adhérents 2022 (démonstration)",
            "mutualised_amount": _money(participations["2022"]),
            "key": key,
            "note": (
                "Montant : ligne « Remboursements, subventions, participations » du compte 2022. Le rapport ne "
                "publie ni la répartition entre adhérents ni de prix par application : la clé retenue ici "
                "(applications souscrites, 100 %) illustre le calcul."
            ),
        },
    )
