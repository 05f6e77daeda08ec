"""The flows' background work, run by Django's tasks API (`mutualis db_worker` in production)."""

from __future__ import annotations

from django_tasks import task

from mutualis.flows import engine


@task()
def advance(document_id: int) -> str:
    """Do what is due on one document (flows/engine.py); a second run at the same time does nothing."""
    return engine.document_advance(document_id)


@task()
def sweep() -> int:
    """Advance every document whose next try or poll is due; returns how many were run."""
    ran = 0
    for document_id in engine.due_documents(now=engine.timezone.now()):
        engine.document_advance(document_id)
        ran += 1
    return ran
