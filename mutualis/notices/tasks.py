"""The notices' background work, run by Django's tasks API (`mutualis db_worker` in production)."""

from __future__ import annotations

from django_tasks import task

from mutualis.notices import mail


@task()
def notice_mail(update_id: int) -> int:
    """Mail one line of a notice's timeline to the affected members' contacts."""
    return mail.update_deliver(update_id)
