"""factory_boy factories for the domain models."""

from __future__ import annotations

from typing import Any

import factory

from mutualis.accounts.models import Role, User
from mutualis.catalog.models import Application, Domain, ServiceCommitment, Subscription, SubscriptionStatus, Vendor
from mutualis.governance.models import Body, BodyKind, Mandate, MandateRole, Person
from mutualis.lib.identifiers import luhn_complete
from mutualis.members.models import Contact, OperatorService, Organisation, OrganisationKind

PASSWORD = "pass-for-tests-1234"


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Commune {n:03d}")
    slug = factory.Sequence(lambda n: f"commune-{n:03d}")
    kind = OrganisationKind.COMMUNE
    insee_code = factory.Sequence(lambda n: f"69{n % 1000:03d}")
    siren = factory.Sequence(lambda n: luhn_complete(f"2169{n % 10000:04d}"))
    population = factory.Sequence(lambda n: 1000 + n)


class OperatorFactory(OrganisationFactory):
    # factory_boy lets a subclass replace an inherited declaration (a Sequence) with a fixed value;
    # mypy sees the redefinition as an incompatible override of a class attribute.
    name = "Syndicat de test"  # type: ignore[assignment]
    slug = "operateur"  # type: ignore[assignment]
    kind = OrganisationKind.OPERATOR
    insee_code = ""  # type: ignore[assignment]


class OperatorServiceFactory(factory.django.DjangoModelFactory[OperatorService]):
    class Meta:
        model = OperatorService
        django_get_or_create = ("slug",)

    organisation = factory.SubFactory(OperatorFactory)
    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.Sequence(lambda n: f"Service {n}")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organisation = factory.SubFactory(OrganisationFactory)
    full_name = factory.Sequence(lambda n: f"Personne {n}")
    function = "DSI"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.MEMBER_AGENT
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create:
            obj.save()


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"domaine-{n:03d}")
    name = factory.Sequence(lambda n: f"Domaine {n:03d}")
    position = factory.Sequence(lambda n: n)


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"editeur-{n}")
    name = factory.Sequence(lambda n: f"Éditeur {n}")


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"application-{n:03d}")
    name = factory.Sequence(lambda n: f"Application {n:03d}")
    domain = factory.SubFactory(DomainFactory)
    position = factory.Sequence(lambda n: n)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    collectivity = factory.SubFactory(OrganisationFactory)
    application = factory.SubFactory(ApplicationFactory)
    status = SubscriptionStatus.PRODUCTION


class ServiceCommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceCommitment
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"engagement-{n}")
    name = factory.Sequence(lambda n: f"Engagement {n}")


class BodyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Body
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"instance-{n}")
    name = factory.Sequence(lambda n: f"Instance {n}")
    kind = BodyKind.BUREAU


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"personne-{n}")
    full_name = factory.Sequence(lambda n: f"Personne {n}")


class MandateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mandate

    person = factory.SubFactory(PersonFactory)
    body = factory.SubFactory(BodyFactory)
    role = MandateRole.MEMBER
