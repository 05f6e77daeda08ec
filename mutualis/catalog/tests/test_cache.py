"""Applications by slug, kept per process yet fresh after every change."""

from __future__ import annotations

from django.core.cache import cache as django_cache

from mutualis.catalog import cache
from mutualis.catalog.models import Application
from mutualis.testing import factories as f


def test_it_reads_the_applications_once_per_version(db, django_assert_num_queries):
    application = f.ApplicationFactory(slug="gestion-courrier")
    cache.application_by_slug("gestion-courrier")
    with django_assert_num_queries(0):
        assert cache.application_by_slug("gestion-courrier") == application
        assert cache.application_by_slug("inconnue") is None
    django_cache.clear()  # the version token gone: read again
    with django_assert_num_queries(1):
        cache.application_by_slug("gestion-courrier")


def test_it_sees_a_new_application_a_renamed_slug_and_a_new_support_group_at_once(db):
    application = f.ApplicationFactory(slug="ancienne")
    assert cache.application_by_slug("ancienne") == application
    assert cache.application_by_slug("nouvelle") is None

    created = f.ApplicationFactory(slug="nouvelle")
    assert cache.application_by_slug("nouvelle") == created

    application.slug = "renommee"
    application.save()
    assert cache.application_by_slug("ancienne") is None
    assert cache.application_by_slug("renommee") == application

    group = f.OperatorServiceFactory(name="Applications")
    Application.objects.filter(pk=application.pk).update(support_group=group)  # no signal: an UPDATE
    group.name = "Support applicatif"  # any save of a service drops the kept applications
    group.save()
    assert cache.application_by_slug("renommee").support_group.name == "Support applicatif"


def test_it_forgets_a_deleted_application(db):
    application = f.ApplicationFactory(slug="supprimee")
    assert cache.application_by_slug("supprimee") is not None
    Application.objects.filter(pk=application.pk).first().delete()
    assert cache.application_by_slug("supprimee") is None
