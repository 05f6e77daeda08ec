"""Reads of notices, always through the tenancy gate: the list and its filters, one notice, the
members affected (from the catalogue's subscriptions), the banner's notices, the calendar feed's."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from mutualis.accounts.models import User
from mutualis.catalog.models import ACTIVE_STATUSES, Application
from mutualis.core.tenancy import is_operator, may_write
from mutualis.members.models import Organisation
from mutualis.notices.enums import State
from mutualis.notices.models import CalendarToken, Notice, NoticeTicket

# The banner shows a notice this long before it starts.
BANNER_AHEAD = dt.timedelta(hours=48)


def notice_list(
    *,
    actor: User,
    state: str | None = None,
    kind: str | None = None,
    application: str | None = None,
    organisation: Organisation | None = None,
) -> QuerySet[Notice]:
    """The notices `actor` may read, newest start first, filtered; `organisation` keeps those
    about that member's applications."""
    notices = Notice.objects.visible_to(actor)
    if state:
        notices = notices.filter(state=state)
    if kind:
        notices = notices.filter(kind=kind)
    if application:
        notices = notices.filter(applications__slug=application)
    if organisation is not None:
        notices = notices.concerning(organisation.pk)
    return notices.prefetch_related(Prefetch("applications", queryset=Application.objects.order_by("name")))


def notice_get(*, actor: User, pk: int) -> Notice:
    """One notice `actor` may read, or 404."""
    return Notice.objects.get_visible(actor, pk=pk)


def affected_members(*, notice: Notice) -> QuerySet[Organisation]:
    """Members with one of the notice's applications in deployment or in production: computed
    from the subscriptions each time, never typed, so a new subscription counts at once."""
    return (
        Organisation.objects.filter(
            subscriptions__application__notices=notice, subscriptions__status__in=ACTIVE_STATUSES
        )
        .distinct()
        .order_by("name")
    )


def affected_applications(*, notice: Notice, organisation_id: int) -> list[Application]:
    """The notice's applications that `organisation_id` uses (what the member page names)."""
    return list(
        notice.applications.filter(
            subscriptions__collectivity_id=organisation_id, subscriptions__status__in=ACTIVE_STATUSES
        )
        .distinct()
        .order_by("name")
    )


def banner_notices(*, actor: User, dismissed: Iterable[int] = (), now: dt.datetime | None = None) -> list[Notice]:
    """What the banner shows `actor`: notices in progress or starting within 48 hours, about its
    member's applications (every one for operator staff), less those it dismissed."""
    now = now or timezone.now()
    notices = (
        Notice.objects.visible_to(actor)
        .filter(state__in=(State.PLANNED, State.IN_PROGRESS))
        .exclude(state=State.PLANNED, starts_at__gt=now + BANNER_AHEAD)
        .exclude(pk__in=list(dismissed))
        .order_by("starts_at", "pk")
    )
    return list(notices.prefetch_related("applications")[:5])


def home_notices(*, actor: User, now: dt.datetime | None = None) -> list[Notice]:
    """The home page's list: current and coming notices, then those ended in the last 7 days."""
    now = now or timezone.now()
    notices = Notice.objects.visible_to(actor).exclude(state=State.CANCELLED)
    notices = notices.exclude(state=State.ENDED, ended_at__lt=now - dt.timedelta(days=7))
    return list(notices.order_by("state", "starts_at").prefetch_related("applications")[:8])


def linked_tickets(*, actor: User, notice: Notice) -> QuerySet[NoticeTicket]:
    """The tickets linked to the notice that `actor` may read (operator staff: all of them)."""
    return (
        NoticeTicket.objects.visible_to(actor)
        .filter(notice=notice)
        .select_related("ticket", "ticket__collectivity")
        .order_by("ticket__reference")
    )


def linked_ticket_get(*, actor: User, notice: Notice, pk: int) -> NoticeTicket:
    """One link of the notice's, among the tickets `actor` may read, or 404."""
    return NoticeTicket.objects.select_related("ticket").get_visible(actor, pk=pk, notice=notice)


def ticket_notices(*, actor: User, ticket_id: int) -> QuerySet[Notice]:
    """The major incidents a ticket is linked to, for the staff ticket page."""
    return Notice.objects.visible_to(actor).filter(ticket_links__ticket_id=ticket_id).order_by("-starts_at")


def feed_notices(*, user: User) -> QuerySet[Notice]:
    """The calendar feed's events: every notice about the account's member (all for operator
    staff) but the cancelled ones, which the feed still carries as CANCELLED for a while so a
    client that had the event removes it."""
    since = timezone.now() - dt.timedelta(days=180)
    return (
        Notice.objects.visible_to(user)
        .filter(planned_end_at__gte=since)
        .prefetch_related("applications")
        .order_by("starts_at", "pk")
    )


def calendar_token_active(*, user: User) -> CalendarToken | None:
    return CalendarToken.objects.filter(user=user, revoked_at__isnull=True).first()


def calendar_token_user(*, secret: str) -> User | None:
    """The active account whose live token is `secret`, or None (unknown, revoked, inactive)."""
    digest = hashlib.sha256(secret.encode()).hexdigest()
    token = (
        CalendarToken.objects.filter(digest=digest, revoked_at__isnull=True, user__is_active=True)
        .select_related("user")
        .first()
    )
    if token is None:
        return None
    CalendarToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def staff_may_write(user: User) -> bool:
    """Whether the notice pages offer `user` their forms: operator staff who may write."""
    return is_operator(user) and may_write(user)
