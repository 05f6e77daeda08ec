"""Loading the reference data set: complete, idempotent, and all-or-nothing on a bad file."""

import copy
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from mutualis.accounts.models import User
from mutualis.catalog.models import Application, SourceConfidence, Subscription
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.demo.loader import DEFAULT_FILE, DemoFileError, demo_counts, load_demo
from mutualis.members.models import Organisation

pytestmark = pytest.mark.django_db

REFERENCE = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
ROWS = [row for group in REFERENCE["deployment_table"]["groups"] for row in group["rows"]]


def test_it_loads_every_member_and_every_row_of_the_reference_file():
    counts = load_demo()

    assert counts == demo_counts()
    assert counts["members"] == 8 == len(REFERENCE["member_cities"])
    assert counts["applications"] == 39 == len(ROWS)
    assert set(Organisation.objects.members().values_list("slug", flat=True)) == {
        city["id"] for city in REFERENCE["member_cities"]
    }
    for row in ROWS:
        application = Application.objects.get(name=row["label_fr"])
        subscribers = Subscription.objects.filter(application=application).values_list("collectivity__slug", flat=True)
        assert sorted(subscribers) == sorted(row["cities"]), row["label_fr"]
        assert application.source_confidence == row["confidence"]
        assert application.source_reported_count == row["oui_count"]
    assert counts["subscriptions"] == sum(len(row["cities"]) for row in ROWS)


def test_it_changes_nothing_when_run_twice():
    first = load_demo()
    second = load_demo()
    assert first == second == demo_counts()


def test_it_logs_each_load_in_the_audit_log():
    load_demo()
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.via == "cli"
    assert entry.changes["applications"] == [None, 39]


def test_it_loads_through_the_command_and_prints_a_summary(capsys):
    call_command("load_demo")
    call_command("load_demo")
    out = capsys.readouterr().out
    assert out.count("demo loaded:") == 2
    assert "members 8" in out and "applications 39" in out
    assert demo_counts()["applications"] == 39


def test_it_creates_demo_accounts_that_can_log_in(client):
    load_demo()
    assert client.login(username="dsi-venissieux", password="Mutualis-demo-2026")
    assert User.objects.get(username="elu-venissieux").is_read_only


def break_missing_field(data):
    del data["deployment_table"]["groups"][0]["rows"][0]["label_fr"]
    return "/deployment_table/groups/0/rows/0", "field 'label_fr' is missing"


def break_wrong_type(data):
    data["deployment_table"]["groups"][1]["rows"][0]["oui_count"] = "quatre"
    return "/deployment_table/groups/1/rows/0", "field 'oui_count' should be int, got str"


def break_unknown_city(data):
    cities = data["deployment_table"]["groups"][0]["rows"][1]["cities"]
    cities.append("lyon")
    return (
        f"/deployment_table/groups/0/rows/1/cities/{len(cities) - 1}",
        "field 'cities' names an unknown member 'lyon'",
    )


def break_member_id(data):
    del data["member_cities"][2]["id"]
    return "/member_cities/2", "field 'id' is missing"


def break_confidence(data):
    data["deployment_table"]["groups"][0]["rows"][0]["confidence"] = "sure"
    return "/deployment_table/groups/0/rows/0", "field 'confidence' should be one of"


def break_groups_type(data):
    data["deployment_table"]["groups"] = 5
    return "/deployment_table", "field 'groups' should be list, got int"


def break_steering_committee_type(data):
    data["member_cities"][0]["steering_committee"] = 5
    return "/member_cities/0", "field 'steering_committee' should be list, got int"


def break_city_type(data):
    data["deployment_table"]["groups"][0]["rows"][0]["cities"] = [["corbas"]]
    return "/deployment_table/groups/0/rows/0/cities/0", "field 'cities' names an unknown member ['corbas']"


def break_facts_type(data):
    data["member_cities"][1]["figures_and_facts"] = [3]
    return "/member_cities/1/figures_and_facts/0", "field 'figures_and_facts' should be str"


BREAKERS = [
    break_missing_field,
    break_wrong_type,
    break_unknown_city,
    break_member_id,
    break_confidence,
    break_groups_type,
    break_steering_committee_type,
    break_city_type,
    break_facts_type,
]


def write_broken(tmp_path, breaker):
    data = copy.deepcopy(REFERENCE)
    where, message = breaker(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path, where, message


@pytest.mark.parametrize("breaker", BREAKERS)
@pytest.mark.parametrize("preloaded", [False, True], ids=["empty", "loaded"])
def test_it_refuses_a_malformed_file_naming_file_entry_and_field_and_writes_nothing(tmp_path, breaker, preloaded):
    if preloaded:
        load_demo()
    before = demo_counts()
    audit_before = AuditEntry.objects.count()
    path, where, message = write_broken(tmp_path, breaker)

    with pytest.raises(CommandError) as caught:
        call_command("load_demo", "--file", str(path))

    text = str(caught.value)
    assert "nothing written" in text
    assert f"{path}: entry {where}: {message}" in text
    assert demo_counts() == before
    assert AuditEntry.objects.count() == audit_before


def test_it_lists_every_problem_of_a_file_at_once(tmp_path):
    data = copy.deepcopy(REFERENCE)
    break_missing_field(data)
    break_wrong_type(data)
    path = tmp_path / "two-errors.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(DemoFileError) as caught:
        load_demo(path=path)

    assert "label_fr" in str(caught.value) and "oui_count" in str(caught.value)
    assert demo_counts()["organisations"] == 0


@pytest.mark.parametrize(("content", "fragment"), [("{ not json", "not valid JSON"), ("[]", "should be a JSON object")])
def test_it_refuses_a_file_that_is_not_a_json_object(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=fragment) as caught:
        call_command("load_demo", "--file", str(path))
    assert str(path) in str(caught.value)
    assert demo_counts()["organisations"] == 0


def test_it_names_a_missing_file(tmp_path):
    path = tmp_path / "absent.json"
    with pytest.raises(CommandError, match="file not found") as caught:
        call_command("load_demo", "--file", str(path))
    assert str(path) in str(caught.value)


def test_it_flags_applications_whose_source_attribution_is_uncertain(client):
    load_demo()
    uncertain = [row["label_fr"] for row in ROWS if row["confidence"] != SourceConfidence.CERTAIN]
    certain = next(row["label_fr"] for row in ROWS if row["confidence"] == SourceConfidence.CERTAIN)
    assert uncertain
    client.force_login(User.objects.get(username="support"))

    for name in uncertain:
        application = Application.objects.get(name=name)
        assert application.attribution_incomplete
        page = client.get(reverse("catalog:detail", kwargs={"slug": application.slug}))
        assert "attribution incomplète dans la source" in page.content.decode().lower(), name

    page = client.get(reverse("catalog:detail", kwargs={"slug": Application.objects.get(name=certain).slug}))
    assert page.status_code == 200
    assert "attribution incomplète dans la source" not in page.content.decode().lower()


def test_it_rolls_everything_back_when_loading_fails_midway(monkeypatch):
    empty = demo_counts()

    def explode(self):
        assert Organisation.objects.exists()  # members and catalogue were written before this step
        raise RuntimeError("disk full")

    monkeypatch.setattr("mutualis.demo.loader._Loader.load_governance", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        load_demo()

    assert demo_counts() == empty
    assert not AuditEntry.objects.exists()
