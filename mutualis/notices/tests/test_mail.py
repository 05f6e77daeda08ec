"""Mail to the affected members' contacts, through the task queue after the commit, to a real
local SMTP server: one message per member, nothing to a member the notice does not concern."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from mutualis.helpdesk.tests.mailservers import smtp_server_fixture  # noqa: F401 (fixture)
from mutualis.notices import services
from mutualis.notices.enums import Action
from mutualis.notices.tests.conftest import publish
from mutualis.testing import factories as f


def test_it_mails_the_affected_members_contacts_once_the_publication_commits(
    catalogue, smtp_server, django_capture_on_commit_callbacks
):
    world = catalogue.world
    with django_capture_on_commit_callbacks(execute=True):
        notice = publish(world, [catalogue.mail], starts_in=dt.timedelta(hours=2), in_progress=False)
        assert smtp_server.messages == []  # nothing leaves before the commit
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert sorted(sent.rcpt_tos) == ["dgs@alpha.test", "dsi@alpha.test"]
    assert smtp_server.to("dsi@bravo.test") == []  # B's subscription is withdrawn
    assert sent.subject == "[Incident majeur] Messagerie indisponible — nouvel avis"
    assert "L'opérateur vous informe d'un incident majeur qui concerne Alpha." in sent.text
    assert "Applications concernées : Messagerie" in sent.text
    assert "Plus d'envoi ni de réception." in sent.text  # the Markdown markers are gone in text
    assert "<strong>ni</strong>" in sent.html
    assert f"https://mutualis.test/avis/{notice.pk}/" in sent.text
    assert sent.message["Auto-Submitted"] == "auto-generated"


def test_it_shows_the_times_in_paris_time(catalogue, smtp_server, django_capture_on_commit_callbacks):
    world = catalogue.world
    with django_capture_on_commit_callbacks(execute=True):
        notice = publish(world, [catalogue.mail], in_progress=False)
        services.notice_edit(
            actor=world.staff,
            notice=notice,
            data={
                "starts_at": dt.datetime(2026, 7, 14, 18, 0, tzinfo=dt.UTC),
                "planned_end_at": dt.datetime(2026, 7, 14, 20, 30, tzinfo=dt.UTC),
            },
        )
        smtp_server.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.notice_message_add(actor=world.staff, notice=notice, body="Report d'une heure.")
    text = smtp_server.messages[0].text
    assert "Début : mardi 14 juillet 2026 à 20:00" in text  # 18:00 UTC is 20:00 in Paris in summer
    assert "Fin prévue : mardi 14 juillet 2026 à 22:30" in text


def test_it_mails_each_member_apart_on_each_update_and_at_the_end(
    catalogue, smtp_server, django_capture_on_commit_callbacks
):
    world = catalogue.world
    with django_capture_on_commit_callbacks(execute=True):
        notice = publish(world, [catalogue.mail, catalogue.finance])
    assert sorted(tuple(sorted(m.rcpt_tos)) for m in smtp_server.messages) == [
        ("dgs@alpha.test", "dsi@alpha.test"),
        ("dsi@bravo.test",),
    ]
    smtp_server.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.notice_message_add(actor=world.staff, notice=notice, body="Le correctif est **en test**.")
    assert len(smtp_server.messages) == 2
    assert all("point de situation" in m.subject for m in smtp_server.messages)
    assert all("Le correctif est en test." in m.text for m in smtp_server.messages)
    smtp_server.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.notice_transition(actor=world.staff, notice=notice, action=Action.END, message="Rétabli.")
    assert sorted(m.subject for m in smtp_server.messages) == ["[Incident majeur] Messagerie indisponible — fin"] * 2
    assert "L'incident majeur « Messagerie indisponible » est terminé." in smtp_server.messages[0].text


def test_it_sends_nothing_when_the_write_rolls_back(catalogue, smtp_server, django_capture_on_commit_callbacks):
    world = catalogue.world
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                publish(world, [catalogue.mail])
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
    assert callbacks == []
    assert smtp_server.messages == []


def test_it_mails_nobody_when_no_member_is_affected(catalogue, smtp_server, django_capture_on_commit_callbacks):
    world = catalogue.world
    unused = f.ApplicationFactory.create(slug="inutilisee", name="Inutilisée")
    with django_capture_on_commit_callbacks(execute=True):
        publish(world, [unused])
    assert smtp_server.messages == []
