"""Open data: the DECP 2.0.3 export validates against the official schema, the official
examples import and export back equal, and a bad file is refused naming the path."""

import copy
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from jsonschema import Draft7Validator

from mutualis.catalog.models import Vendor
from mutualis.procurement import decp, services
from mutualis.procurement.exports_decp import decp_export
from mutualis.procurement.models import Contract
from mutualis.procurement.tests.conftest import BUYER_SIRET, HOLDER_SIRET
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
# CI has the shared reference material beside the clone (../shared), as on development machines.
SHARED_SCHEMA = Path(__file__).parents[3] / ".." / "shared" / "schemas" / "decp" / "schema_decp_v2.0.3.json"
EXAMPLES = ["marches_avec_modifications.json", "marches_concessions.json"]


@pytest.fixture(scope="module")
def official_schema():
    if not SHARED_SCHEMA.exists():
        pytest.skip(f"official schema not found at {SHARED_SCHEMA}")
    return json.loads(SHARED_SCHEMA.read_text(encoding="utf-8"))


def test_it_ships_an_unchanged_copy_of_the_official_schema(official_schema):
    assert decp.schema() == official_schema
    assert (decp.SCHEMA_PATH.parent / "LICENSE").exists()


def test_it_exports_a_year_valid_against_the_official_schema(world, make_contract, buyer, official_schema):
    make_contract(code="2024M01")
    lotted = make_contract(code="2024M02", max_amount_ht=Decimal("641666"), new_holders=[])
    holder = f.VendorFactory(name="WATCHA", siret=HOLDER_SIRET)
    services.lot_add(
        actor=world.staff, contract=lotted, number=1, object="Watcha", amount_ht=Decimal("320833"), holder=holder
    )
    services.lot_add(
        actor=world.staff, contract=lotted, number=2, object="Doc", amount_ht=Decimal("320833"), holder=holder
    )
    make_contract(code="2024M03", max_amount_ht=Decimal("39999.99"))  # below the threshold
    make_contract(code="2023M01", notified_on=dt.date(2023, 5, 2), starts_on=dt.date(2023, 5, 2))  # other year

    export = decp_export(year=2024, today=dt.date(2025, 1, 15))

    assert list(Draft7Validator(official_schema).iter_errors(export.document)) == []
    entries = {e["id"]: e for e in export.document["marches"]["marche"]}
    assert sorted(entries) == ["2024M01", "2024M02-L1", "2024M02-L2"]
    first = entries["2024M01"]
    assert first["acheteur"] == {"id": BUYER_SIRET}
    assert first["dureeMois"] == 48  # one year, renewable three times
    assert first["montant"] == 150000
    assert first["procedure"] == "Procédure adaptée"
    assert first["techniques"] == {"technique": ["Accord-cadre"]}
    assert first["titulaires"] == [{"titulaire": {"typeIdentifiant": "SIRET", "id": HOLDER_SIRET}}]
    assert first["datePublicationDonnees"] == "2025-01-15"
    assert entries["2024M02-L1"]["montant"] == 320833
    assert export.skipped == {}


def test_it_honours_the_configured_threshold(world, make_contract, buyer, settings):
    make_contract(code="2024M01", max_amount_ht=Decimal("30000"))
    settings.DECP_THRESHOLD = 25000

    assert [e["id"] for e in decp_export(year=2024).document["marches"]["marche"]] == ["2024M01"]


def test_it_leaves_out_incomplete_contracts_and_says_why(world, make_contract, buyer, official_schema):
    make_contract(code="2024M01", cpv_code="", decp_details={})

    export = decp_export(year=2024)

    assert export.document == {"marches": {"marche": []}}
    assert list(Draft7Validator(official_schema).iter_errors(export.document)) == []
    assert "code CPV" in export.skipped["2024M01"]
    assert "nombre d'offres reçues (offresRecues)" in export.skipped["2024M01"]


def test_it_writes_the_export_on_standard_output(world, make_contract, buyer, official_schema):
    make_contract()
    out, err = io.StringIO(), io.StringIO()

    call_command("procurement_export_decp", "--year", "2024", stdout=out, stderr=err)

    document = json.loads(out.getvalue())
    assert [e["id"] for e in document["marches"]["marche"]] == ["2024M01"]
    assert list(Draft7Validator(official_schema).iter_errors(document)) == []
    assert "1 entrée(s) publiée(s)" in err.getvalue()


@pytest.mark.parametrize("name", EXAMPLES)
def test_it_imports_the_official_example_and_exports_it_back_equal(world, name, official_schema):
    original = json.loads((DATA / name).read_text(encoding="utf-8"))
    entries = original["marches"]["marche"]

    call_command("procurement_import_decp", str(DATA / name), stdout=io.StringIO(), stderr=io.StringIO())

    assert Contract.objects.count() == len(entries)
    year = int(entries[0]["dateNotification"][:4])
    export = decp_export(year=year, threshold=Decimal(0))
    assert list(Draft7Validator(official_schema).iter_errors(export.document)) == []
    assert decp.normalised(export.document["marches"]["marche"]) == decp.normalised(entries)


def test_it_maps_the_example_onto_the_register(world):
    services.decp_import(actor=world.staff, content=(DATA / EXAMPLES[0]).read_bytes())

    contract = Contract.objects.get(code="TEST2022")
    assert contract.max_amount_ht == Decimal("575000")
    assert contract.cpv_code == "45000000-7"
    assert contract.procedure == "aoo"
    assert contract.notified_on == dt.date(2024, 5, 15)
    assert contract.holders.get().siret == "55204599900869"
    assert contract.decp_details["modifications"][0]["modification"]["montant"] == 123457.87


def test_it_imports_the_same_file_twice_without_duplicates(world):
    content = (DATA / EXAMPLES[0]).read_bytes()
    services.decp_import(actor=world.staff, content=content)

    result = services.decp_import(actor=world.staff, content=content)

    assert result.updated == ["TEST2022", "TEST2022Bis"] and result.created == []
    assert Contract.objects.count() == 2
    assert Vendor.objects.filter(siret="55204599900869").count() == 1


def _broken(mutate):
    document = json.loads((DATA / EXAMPLES[0]).read_text(encoding="utf-8"))
    mutate(document)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["marches"]["marche"][1].update(codeCPV="4500"), "$.marches.marche[1].codeCPV"),
        (lambda d: d["marches"]["marche"][0].pop("montant"), "$.marches.marche[0] : 'montant' is a required property"),
        (lambda d: d["marches"]["marche"][0].update(montant=-5), "$.marches.marche[0].montant"),
        (lambda d: d["marches"]["marche"][0]["acheteur"].update(id="123"), "$.marches.marche[0].acheteur.id"),
        (
            lambda d: d["marches"]["marche"][0]["titulaires"][0]["titulaire"].update(id="55204599900868"),
            "$.marches.marche[0].titulaires[0].titulaire.id : SIRET '55204599900868' invalide",
        ),
    ],
)
def test_it_refuses_a_file_failing_the_schema_naming_the_path_and_writes_nothing(world, mutate, expected):
    with pytest.raises(ValidationError) as error:
        services.decp_import(actor=world.staff, content=_broken(mutate), source="bad.json")

    assert any(expected in message for message in error.value.messages), error.value.messages
    assert not Contract.objects.exists() and not Vendor.objects.exists()


def test_it_reports_unreadable_json_with_its_position(world):
    with pytest.raises(ValidationError, match="JSON illisible \\(ligne 1"):
        services.decp_import(actor=world.staff, content=b'{"marches": ', source="cut.json")


def test_the_import_command_fails_cleanly_on_a_bad_file(world, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(_broken(lambda d: d["marches"]["marche"][0].update(codeCPV="x")), encoding="utf-8")

    with pytest.raises(CommandError, match=r"\$\.marches\.marche\[0\]\.codeCPV"):
        call_command("procurement_import_decp", str(path))
    assert not Contract.objects.exists()


def test_it_keeps_non_siret_holders_verbatim(world, official_schema):
    document = json.loads((DATA / EXAMPLES[0]).read_text(encoding="utf-8"))
    entry = copy.deepcopy(document["marches"]["marche"][0])
    entry["titulaires"] = [{"titulaire": {"typeIdentifiant": "TVA", "id": "FR40303265045"}}]
    document["marches"]["marche"] = [entry]

    services.decp_import(actor=world.staff, content=json.dumps(document))

    export = decp_export(year=2024, threshold=Decimal(0))
    assert decp.normalised(export.document["marches"]["marche"]) == decp.normalised([entry])
