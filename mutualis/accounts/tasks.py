"""The accounts app's background work, run by Django's tasks API (`mutualis db_worker`)."""

from __future__ import annotations

from django_tasks import task

from mutualis.accounts import services


@task()
def password_reset_mail(user_id: int) -> bool:
    """Mail one account its reset link. Out of the request, so neither the time a mail server
    takes nor its failure tells the asker whether the address has an account; the job holds the
    account's id only, the link's token is made here when the mail leaves."""
    return services.password_reset_mail_send(user_id=user_id)
