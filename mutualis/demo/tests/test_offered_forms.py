"""Nobody is offered a form they may not submit: every form a page shows posts without a 403."""

from __future__ import annotations

import json

import pytest

from mutualis.accounts.models import User
from mutualis.demo.generator import generate
from mutualis.demo.loader import DEFAULT_FILE, demo_accounts, load_demo
from mutualis.testing.crawl import crawl, route_of

pytestmark = pytest.mark.django_db

REFERENCE = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))


def test_it_offers_each_role_only_the_forms_it_may_submit(client):
    load_demo()
    generate(months=1, seed=42)
    refused: list[str] = []
    posted = 0
    for account in demo_accounts(REFERENCE):
        if account.username.startswith("dsi-") and account.username != "dsi-venissieux":
            continue
        client.force_login(User.objects.get(username=account.username))
        forms = {}
        for page in crawl(client, per_route=1):  # a form's route is what matters, not each object
            for form in page.forms:
                if form.method != "post" or route_of(form.action) is None:
                    continue
                forms.setdefault((route_of(form.action), tuple(sorted(dict(form.fields)))), form)
        for form in forms.values():
            response = client.post(form.action, form.data())
            posted += 1
            if response.status_code == 403:
                refused.append(f"{account.username}: {form.page} offers {form.action}, which answers 403")
        client.logout()
    assert posted > 20
    assert refused == []
