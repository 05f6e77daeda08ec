"""The WSGI application gunicorn serves in the helpdesk benchmark: the whole project, plus the
ceiling endpoint — a bare Django view that performs only the inserts a ticket creation makes (the
ticket row, the audit row, the task row), through the same middleware, settings and server.

    gunicorn --workers 2 bench.hd_wsgi:application   (environment set by bench.helpdesk)"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

from django.urls import include, path

CEILING_URL = "/bench/plafond/tickets/"
_numbers = itertools.count(1)


def ceiling_create(request: Any) -> Any:
    """Parse the JSON body, insert the three rows in one transaction, answer 201 with the id."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.http import HttpResponse, JsonResponse
    from django.utils import timezone

    from mutualis.core.models import AuditAction, AuditEntry
    from mutualis.helpdesk.models import Ticket

    if request.method != "POST":
        return HttpResponse(status=405)
    data = json.loads(request.body)
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(
            reference=f"B{os.getpid()}-{next(_numbers)}",
            ticket_type=data["ticket_type"],
            collectivity_id=data["collectivity_id"],
            requester_id=data["requester_id"],
            application_id=data["application_id"],
            title=data["title"],
            description=data["description"],
            urgency=data["urgency"],
            impact=data["impact"],
            calendar_id=data["calendar_id"],
            opened_at=now,
        )
        AuditEntry.objects.create(
            actor_id=data["requester_id"],
            actor_label="bench",
            action=AuditAction.CREATE,
            content_type=ContentType.objects.get_for_model(Ticket),
            object_id=str(ticket.pk),
            object_repr=ticket.title,
            changes={"title": [None, ticket.title]},
            organisation_id=data["collectivity_id"],
            via="api",
        )
        if _task_model() is not None:
            _task_model().objects.create(
                args_kwargs={"args": [ticket.pk, "created"], "kwargs": {}},
                task_path="mutualis.helpdesk.tasks.send_notification",
                queue_name="default",
                backend_name="default",
                run_after=now,
                exception_class_path="",
                traceback="",
            )
    return JsonResponse({"id": ticket.pk}, status=201)


def _task_model() -> Any:
    """django-tasks' database backend's table, when the project has installed it."""
    from django.apps import apps

    if not apps.is_installed("django_tasks_db"):
        return None
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult


def has_task_table() -> bool:
    return _task_model() is not None


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":
        from django.views.decorators.csrf import csrf_exempt

        return [
            path(CEILING_URL.lstrip("/"), csrf_exempt(ceiling_create)),
            path("", include("config.urls")),
        ]
    raise AttributeError(name)


def _application() -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    wsgi = get_wsgi_application()
    settings.ROOT_URLCONF = "bench.hd_wsgi"
    return wsgi


if os.environ.get("MUTUALIS_BENCH_WSGI") == "1":
    application = _application()
