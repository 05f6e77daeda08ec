"""Pushing the directory to the slapd that up.sh starts, idempotently; the LDIF and the
LemonLDAP::NG fragment."""

from __future__ import annotations

import uuid

from django.core.management import call_command
from ldap3 import LEVEL, Connection, Server

from mutualis.identity.exports import directory_ldif, lemonldap_fragment
from mutualis.identity.models import Agent, AgentStatus, AttributeRelease
from mutualis.identity.tests.conftest import LDAP_ADMIN, LDAP_URL
from mutualis.testing import factories as f


def _entries(base):
    with Connection(Server(LDAP_URL), *LDAP_ADMIN, auto_bind=True) as c:
        c.search(base, "(objectClass=inetOrgPerson)", search_scope=LEVEL, attributes=["uid", "title", "sn"])
        return {str(e.uid): e.entry_attributes_as_dict for e in c.entries}


def test_it_pushes_the_directory_to_ldap_idempotently(llng, db, capsys):
    org = f.OrganisationFactory(name="Alpha", slug="alpha")
    kept = Agent.objects.create(collectivity=org, hr_id="1", last_name="Été", first_name="Zoé", function="DGS")
    leaver = Agent.objects.create(collectivity=org, hr_id="2", last_name="Part", first_name="Paul")
    base = f"ou=export-{uuid.uuid4().hex[:8]},dc=mutualis,dc=test"
    push = ["directory_export_ldap", "--base-dn", base, "--password", LDAP_ADMIN[1]]

    call_command(*push)
    assert "2 ajouté(s), 0 modifié(s), 0 retiré(s), 0 inchangé(s)" in capsys.readouterr().out
    call_command(*push)
    assert "0 ajouté(s), 0 modifié(s), 0 retiré(s), 2 inchangé(s)" in capsys.readouterr().out

    Agent.objects.filter(pk=kept.pk).update(function="Directrice générale")
    Agent.objects.filter(pk=leaver.pk).update(status=AgentStatus.INACTIVE)
    call_command(*push)
    assert "0 ajouté(s), 1 modifié(s), 1 retiré(s), 0 inchangé(s)" in capsys.readouterr().out
    entries = _entries(base)
    assert list(entries) == ["alpha.1"]
    assert entries["alpha.1"]["title"] == ["Directrice générale"]


def test_it_writes_ldif_and_the_lemonldap_fragment(db):
    org = f.OrganisationFactory(name="Alpha", slug="alpha")
    agent = Agent.objects.create(collectivity=org, hr_id="7", last_name="Été", first_name="Zoé", mail="z@alpha.test")
    app = f.ApplicationFactory(slug="parapheur")
    AttributeRelease.objects.create(application=app, attribute="email", purpose="notifications")
    AttributeRelease.objects.create(application=app, attribute="job_title", purpose="circuits de signature")

    ldif = directory_ldif([agent], base_dn="ou=people,dc=mutualis,dc=test")

    assert "dn: uid=alpha.7,ou=people,dc=mutualis,dc=test" in ldif
    assert "sn:: w4l0w6k=" in ldif  # non-ASCII values are base64
    assert lemonldap_fragment(AttributeRelease.objects.select_related("application")) == {
        "oidcRPMetaDataExportedVars": {"parapheur": {"email": "mail", "job_title": "title"}}
    }
