"""Every demo account is printed by `load_demo` and `make run`, and README's table lists them all."""

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from mutualis.accounts.models import User
from mutualis.demo.loader import DEFAULT_FILE, demo_accounts

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))


@pytest.mark.django_db
def test_it_prints_every_account_the_demo_creates(capsys):
    call_command("load_demo")
    out = capsys.readouterr().out

    created = set(User.objects.values_list("username", flat=True))
    printed = set(re.findall(r"^  (\S+)  ", out, flags=re.MULTILINE))
    assert printed == created
    assert {f"dsi-{city['id']}" for city in REFERENCE["member_cities"]} < printed
    assert {"admin", "support", "elu-venissieux"} < printed
    assert "Mutualis-demo-2026" in out


def test_it_lists_the_accounts_without_loading_anything(capsys):
    call_command("load_demo", "--accounts")
    out = capsys.readouterr().out
    assert all(f"  {account.username} " in out for account in demo_accounts(REFERENCE))


def test_it_prints_the_accounts_from_make_run():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "mutualis load_demo --accounts" in run


def test_it_lists_every_demo_account_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \| `Mutualis-demo-2026` \|", readme, flags=re.MULTILINE))
    assert listed == {account.username for account in demo_accounts(REFERENCE)}
