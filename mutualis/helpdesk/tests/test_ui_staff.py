"""Operator staff pages: the queue, saved views, bulk actions, the ticket page with its clocks,
the forms acting on a ticket, attachments' limits, answer templates, and constant query counts."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mutualis.core.models import AuditEntry
from mutualis.helpdesk import services
from mutualis.helpdesk.enums import Action, Status
from mutualis.helpdesk.models import AnswerTemplate, Attachment, SavedView, Ticket
from mutualis.helpdesk.tests.ui_helpers import make_ticket
from mutualis.testing import factories as f

INDEX = "/assistance/"


def page(ticket):
    return reverse("helpdesk:ticket", args=[ticket.reference])


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# -- the queue ------------------------------------------------------------------------------------
def test_it_shows_staff_the_queue_of_every_member(client, world):
    own, foreign = make_ticket(world, title="Chez Alpha"), make_ticket(world, side="foreign", title="Chez Bravo")
    client.force_login(world.staff)

    body = client.get(INDEX).content.decode()

    assert "File des tickets" in body
    assert own.reference in body and foreign.reference in body


def test_it_filters_the_queue(client, world):
    app = f.ApplicationFactory(slug="etat-civil", name="État civil")
    make_ticket(world, title="Acte introuvable", application=app, urgency=5, impact=5)
    make_ticket(world, side="foreign", title="Compte bloqué", ticket_type="request")
    client.force_login(world.staff)

    def titles(**params):
        response = client.get(INDEX, params)
        return {t.title for t in response.context["page"]}

    assert titles() == {"Acte introuvable", "Compte bloqué"}
    assert titles(collectivity="bravo") == {"Compte bloqué"}
    assert titles(application="etat-civil") == {"Acte introuvable"}
    assert titles(priority="5") == {"Acte introuvable"}
    assert titles(ticket_type="request") == {"Compte bloqué"}
    assert titles(search="introuv") == {"Acte introuvable"}
    assert titles(status="assigned") == set()


def test_it_offers_the_saved_views_of_the_selector(client, world):
    mine = make_ticket(world, title="À moi")
    services.ticket_assign(actor=world.staff, ticket=mine, group=None, technician=world.staff)
    make_ticket(world, title="Personne")
    breached = make_ticket(world, title="En retard")
    Ticket.objects.filter(pk=breached.pk).update(ttr_breached=True)
    client.force_login(world.staff)

    def titles(view):
        return {t.title for t in client.get(INDEX, {"view": view}).context["page"]}

    assert titles("mine") == {"À moi"}
    assert titles("my_group") == {"À moi"}
    assert titles("unassigned") == {"Personne", "En retard"}
    assert titles("breached") == {"En retard"}
    assert titles("open") == {"À moi", "Personne", "En retard"}


def test_it_saves_lists_and_deletes_ones_own_views(client, world):
    client.force_login(world.staff)

    response = client.post(
        reverse("helpdesk:view_create"), {"name": "Bravo urgent", "query": "collectivity=bravo&priority=5"}
    )
    saved = SavedView.objects.get()
    assert saved.owner == world.staff and saved.query == "collectivity=bravo&priority=5"
    assert response["Location"] == INDEX + "?collectivity=bravo&priority=5"
    assert AuditEntry.objects.filter(object_repr="Bravo urgent", action="create").exists()
    assert "Bravo urgent" in client.get(INDEX).content.decode()

    again = client.post(reverse("helpdesk:view_create"), {"name": "Bravo urgent", "query": ""}, follow=True)
    assert "déjà une vue de ce nom" in again.content.decode()
    assert SavedView.objects.count() == 1

    client.force_login(world.admin)
    assert client.post(reverse("helpdesk:view_delete", args=[saved.pk])).status_code == 404
    assert "Bravo urgent" not in client.get(INDEX).content.decode()
    client.force_login(world.staff)
    assert client.post(reverse("helpdesk:view_delete", args=[saved.pk])).status_code == 302
    assert not SavedView.objects.exists()


# -- bulk actions -----------------------------------------------------------------------------------
def test_it_assigns_several_tickets_at_once(client, world):
    tickets = [make_ticket(world, title=f"T{n}") for n in range(3)]
    client.force_login(world.staff)

    response = client.post(reverse("helpdesk:bulk"), {
        "tickets": [t.reference for t in tickets[:2]], "operation": "assign", "technician": world.staff.pk,
    }, follow=True)  # fmt: skip

    assert any("2 ticket(s) mis à jour" in m for m in messages_of(response))
    statuses = dict(Ticket.objects.values_list("title", "status"))
    assert statuses == {"T0": Status.ASSIGNED, "T1": Status.ASSIGNED, "T2": Status.NEW}
    assert Ticket.objects.get(title="T0").transitions.get().action == Action.ASSIGN


def test_it_applies_a_bulk_status_change_and_names_the_refused_tickets(client, world):
    ok = make_ticket(world, title="ok")
    services.ticket_assign(actor=world.staff, ticket=ok, group=None, technician=world.staff)
    closed = make_ticket(world, title="clos")
    services.ticket_transition(actor=world.staff, ticket=closed, action=Action.SOLVE, comment="fait")
    services.ticket_transition(actor=world.staff, ticket=closed, action=Action.CLOSE)
    client.force_login(world.staff)

    response = client.post(reverse("helpdesk:bulk"), {
        "tickets": [ok.reference, closed.reference, "2099-999999"], "operation": "status",
        "action": "solve", "comment": "Corrigé par la mise à jour",
    }, follow=True)  # fmt: skip

    text = " ".join(messages_of(response))
    assert f"1 ticket(s) mis à jour : {ok.reference}" in text
    assert f"{closed.reference} : transition refusée" in text
    assert "2099-999999 : ticket introuvable" in text
    ok.refresh_from_db(), closed.refresh_from_db()
    assert ok.status == Status.SOLVED
    assert closed.status == Status.CLOSED


def test_it_requires_a_pending_reason_in_bulk_too(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)

    response = client.post(reverse("helpdesk:bulk"), {"tickets": [ticket.reference], "operation": "status",
                                                      "action": "wait"}, follow=True)  # fmt: skip

    assert "qui est attendu" in " ".join(messages_of(response))
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_it_asks_to_tick_a_ticket(client, world):
    client.force_login(world.staff)
    response = client.post(reverse("helpdesk:bulk"), {"operation": "assign", "technician": world.staff.pk}, follow=True)
    assert "Cochez au moins un ticket." in messages_of(response)


# -- the ticket page --------------------------------------------------------------------------------
def test_it_shows_the_timeline_with_private_notes_tasks_and_transitions(client, world):
    ticket = make_ticket(world)
    services.followup_add(actor=world.staff, ticket=ticket, body="Note interne", is_private=True)
    services.task_add(actor=world.staff, ticket=ticket, description="Diagnostic serveur", duration_seconds=1800)
    services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff)
    client.force_login(world.staff)

    body = client.get(page(ticket)).content.decode()

    assert "Note interne" in body and "note privée" in body
    assert "Diagnostic serveur" in body and "30 min" in body
    assert "attribuer" in body
    assert "Temps passé" in body


def page_clocks(response):
    """The page's own clocks (a panel beside the ticket may name its context's clocks too)."""
    return next(c["clocks"] for c in response.context if "sla_policy" in c)


def test_it_shows_the_clocks_running_paused_and_breached(client, world):
    ticket = make_ticket(world, blocking=True, urgency=5, impact=5)
    assert ticket.ttr_budget_s  # the default policy: blocking incidents in 2 business days
    client.force_login(world.staff)
    clocks = page_clocks(client.get(page(ticket)))
    assert [c["label"] for c in clocks] == ["prise en compte", "résolution"]
    assert clocks[1]["due"] == ticket.ttr_due_at

    services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.WAIT, pending_reason="vendor")
    response = client.get(page(ticket))
    assert page_clocks(response)[1]["paused"] is True
    assert "en pause (en attente)" in response.content.decode()

    Ticket.objects.filter(pk=ticket.pk).update(ttr_breached=True)
    assert "dépassé" in client.get(page(ticket)).content.decode()


def test_it_assigns_a_ticket_to_a_group_and_technician(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)

    client.post(reverse("helpdesk:assign", args=[ticket.reference]), {"group": world.staff.service_id,
                                                                       "technician": world.staff.pk})  # fmt: skip

    ticket.refresh_from_db()
    assert (ticket.group_id, ticket.technician, ticket.status) == (world.staff.service_id, world.staff, Status.ASSIGNED)


def test_it_refuses_an_empty_assignment(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)
    response = client.post(reverse("helpdesk:assign", args=[ticket.reference]), {})
    assert "choisissez un groupe ou un technicien" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_it_needs_a_reason_to_put_a_ticket_pending(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)
    url = reverse("helpdesk:transition", args=[ticket.reference])

    refused = client.post(url, {"action": "wait"}, follow=True)
    ticket.refresh_from_db()
    assert "qui est attendu" in refused.content.decode()
    assert ticket.status == Status.NEW

    client.post(url, {"action": "wait", "pending_reason": "requester", "comment": "Quel navigateur ?"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.pending_reason) == (Status.PENDING, "requester")


def test_it_keeps_a_transition_comment_private_when_asked(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)
    page_html = client.get(page(ticket)).content.decode()
    assert "Commentaire privé (invisible pour la collectivité)" in page_html
    url = reverse("helpdesk:transition", args=[ticket.reference])
    client.post(url, {"action": "wait", "pending_reason": "vendor", "comment": "Éditeur relancé", "is_private": "on"})
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING
    assert ticket.followups.get().is_private is True


def test_it_offers_only_the_allowed_actions(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)
    actions = client.get(page(ticket)).context["actions"]
    assert actions == ["assign", "take", "wait", "solve"]


def test_it_adds_a_private_followup(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)
    client.post(reverse("helpdesk:followup", args=[ticket.reference]), {"body": "entre nous", "is_private": "on"})
    assert ticket.followups.get().is_private is True


def test_it_fills_the_followup_from_an_answer_template(client, world):
    template = AnswerTemplate.objects.create(name="Redémarrage", body="Merci de **redémarrer** le poste.")
    ticket = make_ticket(world)
    client.force_login(world.staff)
    assert "Redémarrage" in client.get(page(ticket)).content.decode()

    fragment = client.get(reverse("helpdesk:answer_template_body"), {"template": template.pk}).content.decode()

    assert fragment.strip().startswith("<textarea")
    assert 'id="id_body"' in fragment
    assert "Merci de **redémarrer** le poste." in fragment


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "99999999999999999999999"])
def test_it_fills_nothing_from_an_answer_template_id_that_is_not_one(client, world, value):
    AnswerTemplate.objects.create(name="Redémarrage", body="Merci de redémarrer le poste.")
    client.force_login(world.staff)

    response = client.get(reverse("helpdesk:answer_template_body"), {"template": value})

    assert response.status_code == 200
    assert "redémarrer" not in response.content.decode()


def test_it_records_a_task_in_minutes(client, world):
    ticket = make_ticket(world)
    client.force_login(world.staff)
    client.post(reverse("helpdesk:task_create", args=[ticket.reference]), {"description": "Appel", "minutes": 45})
    assert ticket.tasks.get().duration_seconds == 45 * 60

    refused = client.post(reverse("helpdesk:task_create", args=[ticket.reference]), {"description": "x", "minutes": 0})
    assert refused.status_code == 200 and ticket.tasks.count() == 1


def test_it_requalifies_a_ticket(client, world):
    ticket = make_ticket(world, urgency=2, impact=2)
    client.force_login(world.staff)
    data = {"title": "Nouveau titre", "ticket_type": "request", "urgency": 5, "impact": 5, "blocking": "on",
            "vendor_reference": "ED-42"}  # fmt: skip

    client.post(reverse("helpdesk:requalify", args=[ticket.reference]), data)

    ticket.refresh_from_db()
    assert (ticket.title, ticket.ticket_type, ticket.priority, ticket.vendor_reference) == (
        "Nouveau titre", "request", 5, "ED-42")  # fmt: skip


def test_it_merges_a_duplicate_by_reference(client, world):
    kept, duplicate = make_ticket(world, title="Original"), make_ticket(world, title="Doublon")
    services.followup_add(actor=world.agent_a, ticket=duplicate, body="précision")
    client.force_login(world.staff)

    response = client.post(reverse("helpdesk:merge", args=[duplicate.reference]), {"into": kept.reference})

    assert response["Location"] == page(kept)
    duplicate.refresh_from_db()
    assert duplicate.merged_into == kept and duplicate.status == Status.CLOSED
    assert kept.followups.filter(body="précision").exists()
    assert duplicate.reference in client.get(page(kept)).content.decode()


def test_it_refuses_merging_into_an_unknown_or_foreign_ticket(client, world):
    duplicate, foreign = make_ticket(world), make_ticket(world, side="foreign")
    client.force_login(world.staff)
    url = reverse("helpdesk:merge", args=[duplicate.reference])

    assert "aucun ticket 2099-000001" in client.post(url, {"into": "2099-000001"}).content.decode()
    assert "même collectivité" in client.post(url, {"into": foreign.reference}).content.decode()
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None and duplicate.status == Status.NEW


# -- attachments ------------------------------------------------------------------------------------
def test_it_stores_and_serves_an_attachment_as_a_download(client, world, tmp_path, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                           "OPTIONS": {"location": tmp_path}}}  # fmt: skip
    ticket = make_ticket(world)
    client.force_login(world.staff)
    upload = SimpleUploadedFile("rapport.html", b"<script>alert(1)</script>", content_type="text/html")

    client.post(reverse("helpdesk:attachment_create", args=[ticket.reference]), {"attachments": [upload]})

    attachment = Attachment.objects.get()
    response = client.get(reverse("helpdesk:attachment", args=[ticket.reference, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_it_refuses_a_too_big_file_with_a_clear_message(client, world, settings):
    settings.HELPDESK_MAX_ATTACHMENT_BYTES = 1000
    ticket = make_ticket(world)
    client.force_login(world.staff)
    upload = SimpleUploadedFile("gros.pdf", b"%PDF" + b"x" * 2000, content_type="application/pdf")

    response = client.post(reverse("helpdesk:attachment_create", args=[ticket.reference]), {"attachments": [upload]},
                           follow=True)  # fmt: skip

    assert "« gros.pdf » pèse 2004 octets : la limite est 1000 octets" in " ".join(messages_of(response))
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(("name", "content"), [("outil.exe", b"MZ\x90\x00"), ("photo.jpg", b"MZ\x90\x00rest"),
                                               ("script.ps1", b"Write-Host")])  # fmt: skip
def test_it_refuses_executables_whatever_their_name(client, world, name, content):
    ticket = make_ticket(world)
    client.force_login(world.agent_a)
    upload = SimpleUploadedFile(name, content)

    response = client.post(reverse("helpdesk:followup", args=[ticket.reference]),
                           {"body": "voici", "attachments": [upload]})  # fmt: skip

    assert f"« {name} » : les exécutables sont refusés" in response.content.decode()
    assert not Attachment.objects.exists()
    assert not ticket.followups.exists()  # the whole followup is refused


def test_it_hides_a_private_notes_attachment_from_members(client, world):
    ticket = make_ticket(world)
    note = services.followup_add(actor=world.staff, ticket=ticket, body="interne", is_private=True,
                                 attachments=[SimpleUploadedFile("interne.txt", b"secret")])  # fmt: skip
    attachment = note.attachments.get()
    client.force_login(world.manager_a)
    assert client.get(reverse("helpdesk:attachment", args=[ticket.reference, attachment.pk])).status_code == 404
    client.force_login(world.staff)
    assert client.get(reverse("helpdesk:attachment", args=[ticket.reference, attachment.pk])).status_code == 200


# -- answer templates ---------------------------------------------------------------------------------
def test_it_manages_answer_templates_with_an_audit_trail(client, world):
    client.force_login(world.staff)

    client.post(reverse("helpdesk:answer_template_create"), {"name": "Accusé", "body": "Bien reçu."})
    template = AnswerTemplate.objects.get()
    client.post(reverse("helpdesk:answer_template_edit", args=[template.pk]), {"name": "Accusé", "body": "Reçu !"})
    template.refresh_from_db()
    assert template.body == "Reçu !"
    assert "Accusé" in client.get(reverse("helpdesk:answer_templates")).content.decode()
    client.post(reverse("helpdesk:answer_template_delete", args=[template.pk]))

    assert not AnswerTemplate.objects.exists()
    actions = list(AuditEntry.objects.filter(object_repr="Accusé").values_list("action", flat=True).order_by("id"))
    assert actions == ["create", "update", "delete"]


def test_it_refuses_a_duplicate_template_name(client, world):
    AnswerTemplate.objects.create(name="Accusé", body="x")
    client.force_login(world.staff)
    response = client.post(reverse("helpdesk:answer_template_create"), {"name": "Accusé", "body": "y"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert AnswerTemplate.objects.count() == 1


# -- query counts -------------------------------------------------------------------------------------
def _fill(world, n):
    apps = [f.ApplicationFactory() for _ in range(3)]
    for i in range(n):
        side = "own" if i % 2 else "foreign"
        ticket = make_ticket(world, side=side, title=f"T{i}", application=apps[i % 3], blocking=i % 3 == 0)
        if i % 4 == 0:
            services.ticket_assign(actor=world.staff, ticket=ticket, group=None, technician=world.staff)


def _queries(client, url):
    client.get(url)  # warm the per-process caches (content types, platform settings)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("url", [INDEX, INDEX + "?view=all&priority=3", INDEX + "?view=at_risk", INDEX + "?view=mine"])
def test_it_answers_the_queue_in_a_constant_number_of_queries(client, world, url):
    SavedView.objects.create(owner=world.staff, name="v", query="view=all")
    client.force_login(world.staff)
    _fill(world, 3)
    small = _queries(client, url)
    _fill(world, 30)
    assert _queries(client, url) == small


@pytest.mark.parametrize("who", ["staff", "manager_a"])
def test_it_answers_the_ticket_page_in_a_constant_number_of_queries(client, world, who):
    ticket = make_ticket(world, blocking=True)
    AnswerTemplate.objects.create(name="a", body="b")
    client.force_login(getattr(world, who))

    def grow(n):
        for i in range(n):
            services.followup_add(actor=world.staff, ticket=ticket, body=f"suivi {i}",
                                  attachments=[SimpleUploadedFile(f"f{i}.txt", b"x")])  # fmt: skip
            services.followup_add(actor=world.staff, ticket=ticket, body=f"privé {i}", is_private=True)
            services.task_add(actor=world.staff, ticket=ticket, description=f"tâche {i}", duration_seconds=60)
            ticket.watchers.add(f.UserFactory(organisation=world.member_a))
            make = make_ticket(world, title=f"doublon {i}")
            services.ticket_merge(actor=world.staff, duplicate=make, into=ticket)
        services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.WAIT, pending_reason="vendor")
        services.ticket_transition(actor=world.staff, ticket=ticket, action=Action.RESUME)

    grow(1)
    small = _queries(client, page(ticket))
    grow(5)
    assert _queries(client, page(ticket)) == small


def test_it_queries_the_member_list_a_constant_number_of_times(client, world):
    client.force_login(world.manager_a)
    _fill(world, 4)
    small = _queries(client, INDEX)
    _fill(world, 20)
    assert _queries(client, INDEX) == small


def test_it_keeps_the_due_date_column_meaningful(client, world):
    ticket = make_ticket(world, blocking=True)
    Ticket.objects.filter(pk=ticket.pk).update(ttr_due_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(world.staff)
    body = client.get(INDEX).content.decode()
    assert '<span class="badge sla-breached">dépassé</span>' in body  # late before the escalation job flags it
