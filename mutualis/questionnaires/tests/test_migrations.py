"""Migration 0001 relabels the helpdesk's content types as this app's, so the audit entries written
about request forms before the move still name their object (the migration itself, from a database
loaded with the previous code, was checked by hand on SQLite and PostgreSQL)."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.questionnaires.models import Questionnaire

initial = importlib.import_module("mutualis.questionnaires.migrations.0001_initial")
pytestmark = pytest.mark.django_db
EDITOR = SimpleNamespace(connection=connection)


def _audited(world):
    questionnaire = Questionnaire.objects.create(slug="badge", name="Badge")
    entry = audit_record(
        actor=world.staff, action=AuditAction.UPDATE, obj=questionnaire, changes={"name": ["Bage", "Badge"]}
    )
    return questionnaire, entry


def test_it_relabels_the_helpdesk_row_so_entries_still_resolve(world):
    questionnaire, entry = _audited(world)
    row = ContentType.objects.get_for_model(Questionnaire)
    # The database as the helpdesk left it: its row and its permissions' codenames.
    ContentType.objects.filter(pk=row.pk).update(app_label="helpdesk", model="requestform")
    for permission in Permission.objects.filter(content_type=row):
        permission.codename = permission.codename.replace("_questionnaire", "_requestform")
        permission.save(update_fields=["codename"])
    ContentType.objects.clear_cache()

    initial.move_content_types(apps, EDITOR)

    row.refresh_from_db()
    assert (row.app_label, row.model) == ("questionnaires", "questionnaire")
    entry.refresh_from_db()
    assert entry.content_type.get_object_for_this_type(pk=entry.object_id) == questionnaire
    assert set(Permission.objects.filter(content_type=row).values_list("codename", flat=True)) == {
        "add_questionnaire",
        "change_questionnaire",
        "delete_questionnaire",
        "view_questionnaire",
    }


def test_it_moves_entries_onto_this_apps_row_when_both_exist(world):
    questionnaire, entry = _audited(world)
    old = ContentType.objects.create(app_label="helpdesk", model="requestform")
    AuditEntry.objects.filter(pk=entry.pk).update(content_type=old)

    initial.move_content_types(apps, EDITOR)

    assert not ContentType.objects.filter(app_label="helpdesk", model="requestform").exists()
    entry.refresh_from_db()
    assert entry.content_type == ContentType.objects.get_for_model(Questionnaire)
    assert entry.content_type.get_object_for_this_type(pk=entry.object_id) == questionnaire


def test_it_changes_nothing_on_a_fresh_database():
    rows = list(ContentType.objects.order_by("pk").values_list("pk", "app_label", "model"))

    initial.move_content_types(apps, EDITOR)

    assert list(ContentType.objects.order_by("pk").values_list("pk", "app_label", "model")) == rows


def test_it_moves_them_back_when_the_migration_is_reversed(world):
    questionnaire, entry = _audited(world)

    initial.move_content_types_back(apps, EDITOR)
    ContentType.objects.clear_cache()

    row = ContentType.objects.get(pk=entry.content_type_id)
    assert (row.app_label, row.model) == ("helpdesk", "requestform")
    initial.move_content_types(apps, EDITOR)
    assert ContentType.objects.get_for_model(Questionnaire).pk == row.pk
