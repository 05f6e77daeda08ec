"""Writes on the catalogue: subscriptions' rules and who may write."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from mutualis.catalog import services
from mutualis.catalog.models import Application, Subscription, SubscriptionStatus
from mutualis.core.models import AuditAction, AuditEntry
from mutualis.testing import factories as f

pytestmark = pytest.mark.django_db


def counts():
    return Subscription.objects.count(), Application.objects.count(), AuditEntry.objects.count()


def test_it_subscribes_a_member_and_logs_it(world):
    application = f.ApplicationFactory()

    subscription = services.subscription_create(
        actor=world.staff,
        data={"collectivity": world.member_a, "application": application, "status": SubscriptionStatus.PLANNED},
    )

    assert Subscription.objects.get() == subscription
    entry = AuditEntry.objects.get(action=AuditAction.CREATE)
    assert entry.organisation_id == world.member_a.pk
    assert entry.changes["application"] == [None, application.pk]
    assert entry.changes["status"] == [None, "planned"]


def test_it_refuses_a_second_subscription_for_the_same_pair_and_writes_nothing(world):
    existing = f.SubscriptionFactory(collectivity=world.member_a, status=SubscriptionStatus.PLANNED)
    before = counts()

    with pytest.raises(ValidationError) as caught:
        services.subscription_create(
            actor=world.staff,
            data={"collectivity": world.member_a, "application": existing.application, "status": "production"},
        )

    message = " ".join(caught.value.message_dict["application"])
    assert f"Alpha est déjà abonnée à {existing.application.name}" in message
    assert "modifiez l'abonnement existant" in message
    assert counts() == before
    existing.refresh_from_db()
    assert existing.status == SubscriptionStatus.PLANNED


def test_it_refuses_a_subscription_ending_before_it_starts(world):
    application = f.ApplicationFactory()
    before = counts()

    with pytest.raises(ValidationError) as caught:
        services.subscription_create(
            actor=world.staff,
            data={
                "collectivity": world.member_a,
                "application": application,
                "started_on": dt.date(2024, 3, 1),
                "ended_on": dt.date(2024, 2, 1),
            },
        )

    assert "précède" in " ".join(caught.value.message_dict["ended_on"])
    assert counts() == before


def test_it_refuses_an_update_ending_before_the_start_and_keeps_the_row(world):
    subscription = f.SubscriptionFactory(collectivity=world.member_a, started_on=dt.date(2024, 3, 1))
    before = counts()

    with pytest.raises(ValidationError):
        services.subscription_update(
            actor=world.staff, subscription=subscription, data={"ended_on": dt.date(2023, 1, 1)}
        )

    assert counts() == before
    assert Subscription.objects.get(pk=subscription.pk).ended_on is None


def test_it_logs_a_subscription_status_change(world):
    subscription = f.SubscriptionFactory(collectivity=world.member_a, status=SubscriptionStatus.DEPLOYING)

    changes = services.subscription_update(
        actor=world.admin, subscription=subscription, data={"status": SubscriptionStatus.PRODUCTION}
    )

    assert changes == {"status": ["deploying", "production"]}
    assert AuditEntry.objects.get(action=AuditAction.UPDATE).changes == changes


def test_it_refuses_fields_a_subscription_update_may_not_touch(world):
    subscription = f.SubscriptionFactory(collectivity=world.member_a)
    with pytest.raises(ValidationError) as caught:
        services.subscription_update(
            actor=world.staff, subscription=subscription, data={"collectivity": world.member_b}
        )
    assert "collectivity" in str(caught.value)
    assert Subscription.objects.get(pk=subscription.pk).collectivity == world.member_a


def test_it_refuses_to_subscribe_the_operator(world):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        services.subscription_create(
            actor=world.staff, data={"collectivity": world.operator, "application": f.ApplicationFactory()}
        )
    assert "collectivity" in caught.value.message_dict
    assert counts()[0] == before[0]


@pytest.mark.parametrize("who", ["manager_a", "agent_a", "elected_a", "manager_b"])
def test_it_answers_404_to_member_accounts_writing_the_catalogue(world, who):
    actor = getattr(world, who)
    application = f.ApplicationFactory()
    subscription = f.SubscriptionFactory(collectivity=world.member_a)
    domain = f.DomainFactory()
    before = counts()

    with pytest.raises(Http404):
        services.subscription_create(actor=actor, data={"collectivity": world.member_a, "application": application})
    with pytest.raises(Http404):
        services.subscription_update(actor=actor, subscription=subscription, data={"status": "withdrawn"})
    with pytest.raises(Http404):
        services.application_create(actor=actor, data={"slug": "x", "name": "X", "domain": domain})
    with pytest.raises(Http404):
        services.application_update(actor=actor, application=application, data={"name": "X"})

    assert counts() == before


def test_it_creates_and_updates_an_application_with_an_audit_trail(world):
    domain = f.DomainFactory()
    application = services.application_create(
        actor=world.staff, data={"slug": "gestion-courrier", "name": "Gestion du courrier", "domain": domain}
    )
    changes = services.application_update(actor=world.staff, application=application, data={"licence": "libre"})

    assert changes == {"licence": ["inconnue", "libre"]}
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE]
