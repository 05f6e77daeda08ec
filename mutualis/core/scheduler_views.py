"""The scheduler's page for operator admins (/systeme/planification/): each periodic job, its
last run and next one, the recent failures, the scheduler processes; a job paused or resumed, a
failed period run again."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mutualis.core.actors import signed_in_actor
from mutualis.core.models import ScheduledRun
from mutualis.core.scheduler import job_get, schedule_overview, scheduled_job_pause, scheduled_run_retry
from mutualis.core.tenancy import require_operator_admin


@login_required
def scheduler_page(request: HttpRequest) -> HttpResponse:
    overview = schedule_overview(actor=request.user)
    return render(request, "core/scheduler.html", {"overview": overview})


@login_required
@require_POST
def scheduler_job_pause(request: HttpRequest, name: str) -> HttpResponse:
    actor = signed_in_actor(request.user)
    require_operator_admin(actor)
    job = job_get(name)
    if actor is None or job is None:
        raise Http404("tâche inconnue")
    paused = request.POST.get("paused") == "1"
    scheduled_job_pause(actor=actor, name=name, paused=paused)
    if paused:
        messages.success(request, _("La tâche « %(name)s » est suspendue.") % {"name": name})
    else:
        messages.success(
            request, _("La tâche « %(name)s » reprend ; ses périodes manquées seront rattrapées.") % {"name": name}
        )
    return redirect("core:scheduler")


@login_required
@require_POST
def scheduler_run_retry(request: HttpRequest, name: str) -> HttpResponse:
    actor = signed_in_actor(request.user)
    require_operator_admin(actor)
    try:
        due_at = dt.datetime.fromisoformat(request.POST.get("due", ""))
    except ValueError:
        raise Http404("échéance illisible") from None
    if actor is None or due_at.tzinfo is None:
        raise Http404("échéance illisible")
    try:
        run = scheduled_run_retry(actor=actor, job=name, due_at=due_at)
    except ScheduledRun.DoesNotExist:
        raise Http404("exécution inconnue") from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("La période de « %(name)s » sera exécutée de nouveau au prochain passage.") % {"name": run.job}
        )
    return redirect("core:scheduler")
