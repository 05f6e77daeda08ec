"""The payslips' background work: one task per chunk of the month's file (flows/payslips.py)."""

from __future__ import annotations

from django_tasks import task

from mutualis.flows import payslips


@task()
def payslip_chunk(batch_id: int, index: int) -> int:
    """Cut, match and send one chunk of a batch; a second run creates and sends nothing again."""
    return payslips.payslip_chunk_process(batch_id, index)
