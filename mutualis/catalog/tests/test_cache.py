"""Applications by slug, kept as frozen values in Django's cache, fresh after every change the
catalogue's services make, the same for every process that shares the cache."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest
from django.core.cache import cache as django_cache

from mutualis.catalog import cache, services
from mutualis.catalog.models import Application
from mutualis.core.reference_data import ReferenceData
from mutualis.testing import factories as f


def test_it_reads_the_applications_once_per_generation(db, django_assert_num_queries):
    application = f.ApplicationFactory(slug="gestion-courrier")
    cache.applications_changed()  # the factory writes around the services
    cache.application_by_slug("gestion-courrier")
    with django_assert_num_queries(0):
        assert cache.application_by_slug("gestion-courrier").id == application.pk
        assert cache.application_by_slug("inconnue") is None
    django_cache.clear()  # the generation token gone: read again
    with django_assert_num_queries(1):
        cache.application_by_slug("gestion-courrier")


def test_it_sees_what_the_services_write_at_once(world):
    domain = f.DomainFactory()
    assert cache.application_by_slug("nouvelle") is None

    created = services.application_create(actor=world.staff, data={"slug": "nouvelle", "name": "N", "domain": domain})
    assert cache.application_by_slug("nouvelle") == cache.ApplicationRef(
        id=created.pk, slug="nouvelle", name="N", support_group_id=None
    )

    group = f.OperatorServiceFactory(name="Applications")
    services.application_update(actor=world.staff, application=created, data={"name": "Neuve", "support_group": group})
    ref = cache.application_by_slug("nouvelle")
    assert (ref.name, ref.support_group_id, str(ref)) == ("Neuve", group.pk, "Neuve")


def test_two_processes_agree_after_a_service_writes(world):
    # Two readers sharing Django's cache stand for two processes sharing Redis.
    first, second = (ReferenceData("catalog:applications", cache._load) for _ in range(2))
    application = services.application_create(
        actor=world.staff, data={"slug": "courrier", "name": "Courrier", "domain": f.DomainFactory()}
    )
    assert [a.name for a in first.get()] == [a.name for a in second.get()] == ["Courrier"]

    services.application_update(actor=world.staff, application=application, data={"name": "Courrier entrant"})

    assert [a.name for a in first.get()] == [a.name for a in second.get()] == ["Courrier entrant"]


def test_a_write_around_the_services_waits_for_applications_changed(db):
    application = f.ApplicationFactory(slug="ancienne", name="Ancienne")
    cache.applications_changed()
    assert cache.application_by_slug("ancienne").name == "Ancienne"
    Application.objects.filter(pk=application.pk).update(name="Renommée")  # no service, no signal
    assert cache.application_by_slug("ancienne").name == "Ancienne"

    cache.applications_changed()  # what the demo loader and the bulk loads call

    assert cache.application_by_slug("ancienne").name == "Renommée"


def test_the_kept_value_is_frozen(db):
    f.ApplicationFactory(slug="figee")
    cache.applications_changed()
    ref = cache.application_by_slug("figee")
    with pytest.raises(FrozenInstanceError):
        ref.name = "autre"  # type: ignore[misc]
    assert isinstance(cache._applications.get(), tuple)
