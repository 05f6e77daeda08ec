"""Identity: the agents directory from HR exports, single sign-on through LemonLDAP::NG, the portal."""

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "mutualis.identity"
    label = "identity"
    verbose_name = "Identité et annuaire"
