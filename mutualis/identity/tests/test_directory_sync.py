"""The HR sync: round trip, idempotence, rejections, the deactivation guard, bad files."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from mutualis.core.models import AuditEntry
from mutualis.identity.models import Agent, AgentStatus, OrganisationUnit
from mutualis.testing import factories as f

HEADER = "matricule;civilite;nom;prenom;mail;fonction;service;matricule_responsable;date_entree;date_sortie"
ROWS = [
    "A1;Mme;Dupont;Jeanne;jeanne.dupont@alpha.test;DRH;RH;;2020-01-02;",
    "A2;M.;Martin;Marc;marc.martin@alpha.test;Gestionnaire paie;RH;A1;02/03/2021;",
    "A3;Mme;Durand;Léa;lea.durand@alpha.test;Agent d'accueil;ACC;A1;;",
]


def _write(tmp_path, rows, name="rh.csv", header=HEADER, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def _sync(path, *extra, **kwargs):
    call_command("directory_sync", str(path), "--collectivity", "alpha", *extra, **kwargs)


@pytest.fixture
def units(world):
    for code, name in (("RH", "Ressources humaines"), ("ACC", "Accueil")):
        OrganisationUnit.objects.create(collectivity=world.member_a, code=code, name=name)


def test_it_round_trips_an_hr_export(world, units, tmp_path, capsys):
    _sync(_write(tmp_path, ROWS))
    assert "3 créé(s), 0 mis à jour, 0 désactivé(s), 0 inchangé(s), 0 rejeté(s)" in capsys.readouterr().out
    marc = Agent.objects.get(hr_id="A2")
    assert marc.manager.hr_id == "A1"
    assert marc.start_on == dt.date(2021, 3, 2)
    assert marc.department.code == "RH"

    account = f.UserFactory(username="lea", organisation=world.member_a)
    account.agent = Agent.objects.get(hr_id="A3")
    account.save()
    changed = [ROWS[0], ROWS[1].replace("Gestionnaire paie", "Responsable paie")]  # A3 left
    _sync(_write(tmp_path, changed), "--force")
    assert "0 créé(s), 1 mis à jour, 1 désactivé(s), 1 inchangé(s), 0 rejeté(s)" in capsys.readouterr().out
    assert Agent.objects.get(hr_id="A2").function == "Responsable paie"
    assert Agent.objects.get(hr_id="A3").status == AgentStatus.INACTIVE
    account.refresh_from_db()
    assert not account.is_active
    history = AuditEntry.objects.filter(object_id=str(marc.pk), content_type__model="agent")
    assert history.filter(changes__function=["Gestionnaire paie", "Responsable paie"]).exists()


def test_it_writes_nothing_the_second_time(world, units, tmp_path, capsys, django_assert_max_num_queries):
    path = _write(tmp_path, ROWS)
    _sync(path)
    entries = AuditEntry.objects.count()
    _sync(path)
    assert "0 créé(s), 0 mis à jour, 0 désactivé(s), 3 inchangé(s)" in capsys.readouterr().out
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize("size", [10, 400])
def test_it_writes_nothing_and_reads_a_fixed_number_of_queries_the_second_time(
    world, units, tmp_path, django_assert_max_num_queries, size
):
    """The second, identical sync compares in memory: its query count does not grow with the file."""
    rows = [ROWS[0]] + [
        f"B{n};M.;Nom{n};Prénom{n};agent{n}@alpha.test;Agent;{'RH' if n % 2 else 'ACC'};A1;2021-0{1 + n % 9}-15;"
        for n in range(size)
    ]
    path = _write(tmp_path, rows)
    _sync(path)
    assert Agent.objects.count() == size + 1
    entries = AuditEntry.objects.count()
    # 8 for the sync, 4 for the command's lock (its insert in a savepoint, its delete)
    with django_assert_max_num_queries(8 + 4) as captured:
        _sync(path)
    writes = ("INSERT", "UPDATE", "DELETE")
    sync_queries = [q["sql"] for q in captured.captured_queries if "core_commandlock" not in q["sql"]]
    assert not [sql for sql in sync_queries if sql.lstrip().upper().startswith(writes)]
    assert AuditEntry.objects.count() == entries


def test_it_deactivates_an_agent_past_its_end_date(world, units, tmp_path):
    _sync(_write(tmp_path, [*ROWS[:2], ROWS[2] + "2020-12-31"]))
    assert Agent.objects.get(hr_id="A3").status == AgentStatus.INACTIVE


def test_it_rejects_bad_rows_with_their_line_and_reason(world, units, tmp_path, capsys):
    rows = [
        ROWS[0],
        "A2;M.;Martin;Marc;pas-un-courriel;;RH;;;",
        "A4;;;Sans nom;;;;;;",
        "A5;;Inconnu;Service;;;NOPE;;;",
        "A6;;Double;Un;;;;;;",
        "A6;;Double;Deux;;;;;;",
    ]
    _sync(_write(tmp_path, rows))
    captured = capsys.readouterr()
    assert "ligne 3 (matricule A2) : courriel invalide : pas-un-courriel" in captured.err
    assert "ligne 4 (matricule A4) : nom ou prénom manquant" in captured.err
    assert "ligne 5 (matricule A5) : service inconnu : NOPE" in captured.err
    assert "ligne 6 (matricule A6) : matricule en double dans le fichier (aussi ligne 7)" in captured.err
    assert "1 créé(s)" in captured.out and "5 rejeté(s)" in captured.out


def test_it_does_not_deactivate_an_agent_whose_row_was_rejected(world, units, tmp_path):
    _sync(_write(tmp_path, ROWS))
    _sync(_write(tmp_path, [ROWS[0], ROWS[1], ROWS[2].replace("lea.durand@alpha.test", "faux@")]))
    assert Agent.objects.get(hr_id="A3").status == AgentStatus.ACTIVE


def test_it_refuses_a_file_deactivating_too_many_agents_unless_forced(world, units, tmp_path):
    _sync(_write(tmp_path, ROWS))
    truncated = _write(tmp_path, ROWS[:1])
    with pytest.raises(CommandError, match="désactiverait 2 agent"):
        _sync(truncated)
    assert Agent.objects.filter(status=AgentStatus.ACTIVE).count() == 3
    _sync(truncated, "--force")
    assert Agent.objects.filter(status=AgentStatus.ACTIVE).count() == 1


def test_it_names_the_missing_required_columns_and_writes_nothing(world, units, tmp_path):
    path = _write(tmp_path, ["A1;Dupont"], header="matricule;nom")
    with pytest.raises(CommandError, match="colonne.*absente.*prenom"):
        _sync(path)
    assert not Agent.objects.exists()


def test_it_refuses_a_file_in_the_wrong_encoding(world, units, tmp_path):
    path = _write(tmp_path, ROWS, encoding="cp1252")
    with pytest.raises(CommandError, match="pas encodé en utf-8"):
        _sync(path)
    assert not Agent.objects.exists()
    _sync(path, "--encoding", "cp1252")
    assert Agent.objects.get(hr_id="A3").first_name == "Léa"


def test_it_reads_another_hr_tools_headers_through_a_mapping(world, units, tmp_path):
    path = _write(tmp_path, ["9;Petit;Paul;paul@alpha.test"], header="Matricule agent,Nom usuel,Prénom,E-mail")
    path.write_text(path.read_text().replace(";", ","))
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"matricule": "Matricule agent", "nom": "Nom usuel", "mail": "E-mail"}))
    _sync(path, "--mapping", str(mapping))
    assert Agent.objects.get(hr_id="9").mail == "paul@alpha.test"


def test_it_reads_xlsx_and_a_units_file(world, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(";"))
    sheet.append(["X1", "Mme", "Blanc", "Ana", "ana@alpha.test", "Cheffe", "DGS", None, dt.date(2019, 9, 1), None])
    book.save(tmp_path / "rh.xlsx")
    units = tmp_path / "services.csv"
    units.write_text("code;libelle;parent\nDG;Direction générale;\nDGS;Secrétariat général;DG\n")
    _sync(tmp_path / "rh.xlsx", "--units", str(units))
    agent = Agent.objects.get(hr_id="X1")
    assert agent.start_on == dt.date(2019, 9, 1)
    assert agent.department.parent.code == "DG"


def test_it_simulates_with_dry_run(world, units, tmp_path, capsys):
    _sync(_write(tmp_path, ROWS), "--dry-run")
    assert "3 créé(s)" in capsys.readouterr().out
    assert not Agent.objects.exists()


# --- rows cut short, deactivations over 30 days (#11) -----------------------------------------


def test_it_rejects_a_row_with_fewer_fields_than_the_header_with_its_line(world, units, tmp_path, capsys):
    _sync(_write(tmp_path, ROWS))
    # A3's row lost its last fields (a truncated export): padded, it would read as "no manager,
    # no service" and overwrite the directory with blanks.
    _sync(_write(tmp_path, [ROWS[0], ROWS[1], "A3;Mme;Durand;Léa;lea.durand@alpha.test"]))

    captured = capsys.readouterr()
    assert "ligne 4 (matricule A3) : ligne incomplète : 5 champ(s) pour 10 colonnes" in captured.err
    lea = Agent.objects.get(hr_id="A3")
    assert lea.status == AgentStatus.ACTIVE
    assert lea.function == "Agent d'accueil" and lea.department.code == "ACC" and lea.manager.hr_id == "A1"


def test_it_reads_a_trailing_separator_in_the_header_as_no_column(world, units, tmp_path, capsys):
    _sync(_write(tmp_path, ROWS, header=HEADER + ";"))

    assert "3 créé(s)" in capsys.readouterr().out


def test_it_refuses_a_units_file_with_a_row_cut_short(world, tmp_path):
    units = tmp_path / "services.csv"
    units.write_text("code;libelle;parent\nDG;Direction générale;\nDGS\n")

    with pytest.raises(CommandError, match="ligne\\(s\\) incomplète\\(s\\) 3"):
        _sync(_write(tmp_path, []), "--units", str(units))
    assert not OrganisationUnit.objects.filter(collectivity=world.member_a).exists()


def _staff(n):
    return [f"S{i};;Nom{i};Prénom{i};;;;;;" for i in range(n)]


def test_it_refuses_successive_small_files_deactivating_a_quarter_of_the_staff(world, tmp_path, settings):
    settings.DIRECTORY_MAX_DEACTIVATION = 0.10
    everyone = _staff(40)
    _sync(_write(tmp_path, everyone))
    _sync(_write(tmp_path, everyone[3:]))  # 3 of 40: 7.5 %, allowed

    with pytest.raises(CommandError, match="désactiverait 3 agent.*en comptant les 3 désactivé"):
        _sync(_write(tmp_path, everyone[6:]))  # 3 more: 6 of 40 within 30 days, 15 %

    assert Agent.objects.filter(collectivity=world.member_a, status=AgentStatus.ACTIVE).count() == 37
    _sync(_write(tmp_path, everyone[6:]), "--force")
    assert Agent.objects.filter(collectivity=world.member_a, status=AgentStatus.ACTIVE).count() == 34


def test_it_forgets_deactivations_older_than_30_days(world, tmp_path, settings):
    settings.DIRECTORY_MAX_DEACTIVATION = 0.10
    everyone = _staff(40)
    _sync(_write(tmp_path, everyone))
    _sync(_write(tmp_path, everyone[3:]))
    AuditEntry.objects.filter(content_type__model="agent").update(created_at=timezone.now() - dt.timedelta(days=31))

    _sync(_write(tmp_path, everyone[6:]))  # 3 of 37 now: 8 %, allowed

    assert Agent.objects.filter(collectivity=world.member_a, status=AgentStatus.ACTIVE).count() == 34
